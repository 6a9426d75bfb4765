"""What only the PostgreSQL catalog has: its schema and migrations, many writers at once, URIs and
passwords, local files in the cache folder. (The storage contract and everything above it run on
both backends: test_catalog_store.py, test_catalog.py, test_cli.py, test_dupes.py,
test_server_api.py, test_catalog_crash.py.)"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import numpy as np
import psycopg
import pytest
from fastapi.testclient import TestClient
from PIL import Image

import pixdex.catalog.postgres
from pixdex.catalog import Catalog, CatalogError, FileRecord
from pixdex.catalog.actions import journal_path
from pixdex.catalog.location import cache_home, display_name, local_files, open_store
from pixdex.catalog.postgres import CatalogPool, PostgresStore
from pixdex.catalog.postgres_schema import MIGRATIONS, SCHEMA_VERSION
from pixdex.catalog.uri import is_postgres, redact, scrub
from pixdex.hashing import Hash
from pixdex.server import create_app

PIXDEX = [sys.executable, "-m", "pixdex.cli"]

SECRET = "s3cr3t-Pw"
"""A password no output may contain."""


@pytest.fixture
def uri(postgres) -> str:
    """A new, empty database of the session's server."""
    made = postgres.create_database()
    yield made
    postgres.drop_database(made)


def photo_tree(root: Path, photo_paths: list[Path]) -> Path:
    """``root/{a,b,c,d}``, each holding hard links to every photo, and a broken file in ``a``."""
    for part in "abcd":
        (root / part).mkdir(parents=True)
        for photo in photo_paths:
            os.link(photo, root / part / photo.name)
    (root / "a" / "broken.jpg").write_bytes(photo_paths[4].read_bytes()[:300])
    return root


def catalog_rows(location: str) -> dict[str, FileRecord]:
    """Every file record of a catalog, by path: what two catalogs must agree on (ids and
    indexing times aside)."""
    with open_store(location, create=False) as store:
        paths = list(store.states("/"))
        ids = [f.file_id for f in store.files_by_path(paths).values()]
        return {record.path: record for record in store.records(ids).values()}


# -- URIs and passwords -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("postgresql://alice:pw@db:5432/photos", "postgresql://alice@db:5432/photos"),
        ("postgres://alice@db/photos?password=pw&sslmode=require", "postgres://alice@db/photos?sslmode=require"),
        ("postgresql://a:p%40ss@h1:1,h2:2/d", "postgresql://a@h1:1,h2:2/d"),
        ("postgresql:///photos?host=/run/postgresql", "postgresql:///photos?host=/run/postgresql"),
    ],
)  # fmt: skip
def test_uris_are_shown_without_their_password(given: str, shown: str) -> None:
    assert is_postgres(given) and redact(given) == shown == display_name(given)
    assert not is_postgres(Path("postgresql://h/d")) and not is_postgres("pixdex.db")


def test_messages_scrub_a_password_written_in_the_uri() -> None:
    uri = "postgresql://alice:p%40ss@db/photos?password=other"
    assert scrub('password "p@ss" or p%40ss or other\n rejected', uri) == (
        'password "***" or *** or *** rejected'
    )


def test_passwords_come_from_libpq_and_never_appear_in_output(
    postgres, tmp_path: Path, photo_paths: list[Path]
) -> None:
    postgres.add_user("alice", SECRET)
    database = postgres.create_database(owner="alice")
    written = database.replace("postgresql://postgres@", f"postgresql://alice:{SECRET}@")
    from_env = database.replace("postgresql://postgres@", "postgresql://alice@")
    wrong = database.replace("postgresql://postgres@", "postgresql://alice:nope@")
    folder = tmp_path / "photos"
    folder.mkdir()
    for photo in photo_paths[:3]:
        shutil.copy(photo, folder)

    def pixdex(*args: str, db: str, password: str | None = None) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k != "PGPASSWORD"}
        env |= {"PIXDEX_DB": db, "PGPASSFILE": str(tmp_path / "none")}
        if password is not None:
            env["PGPASSWORD"] = password
        command = [*PIXDEX, *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, check=False)

    runs = [
        pixdex("index", str(folder), "--workers", "1", db=written),
        pixdex("info", db=from_env, password=SECRET),
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr
    assert redact(written) in runs[0].stdout and f"catalog:  {redact(written)}" in runs[1].stdout
    refused = [pixdex("info", db=wrong), pixdex("info", db=from_env)]
    for run in refused:
        assert run.returncode == 2 and "Traceback" not in run.stderr
        assert len(run.stderr.strip().splitlines()) == 1 and "alice" in run.stderr
    assert "password authentication failed" in refused[0].stderr
    for run in runs + refused:
        assert SECRET not in run.stdout + run.stderr and "nope" not in run.stdout + run.stderr
    # The server's stats name the catalog too.
    with TestClient(create_app(written)) as client:
        assert client.get("/api/stats").json()["catalog"] == redact(written)
    postgres.drop_database(database)


def test_connection_failures_are_catalog_errors_naming_the_catalog(tmp_path: Path) -> None:
    nowhere = f"postgresql://bob:{SECRET}@/photos?host={tmp_path}&port=5432"
    with pytest.raises(CatalogError) as refused:
        Catalog(nowhere)
    message = str(refused.value)
    assert message.startswith(f"{redact(nowhere)}: cannot connect") and SECRET not in message
    with pytest.raises(CatalogError, match="not a PostgreSQL URI"):
        Catalog("postgresql://h/d?nosuchparameter=1")


def test_without_psycopg_the_message_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now raises ImportError
    monkeypatch.delitem(sys.modules, "pixdex.catalog.postgres", raising=False)
    monkeypatch.delattr(pixdex.catalog, "postgres", raising=False)
    with pytest.raises(CatalogError, match=re.escape("pip install 'pixdex[postgres]'")) as refused:
        Catalog(f"postgresql://alice:{SECRET}@db/photos")
    assert str(refused.value).startswith("postgresql://alice@db/photos: ")


# -- schema ------------------------------------------------------------------------------------


def test_a_new_database_gets_the_schema_once_even_when_opened_by_many_at_once(
    postgres, uri: str
) -> None:
    opened: list[str] = []

    def open_one() -> None:
        with PostgresStore(uri) as store:
            opened.append(store.catalog_id())

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(opened) == 4 and len(set(opened)) == 1 and re.fullmatch("[0-9a-f]{16}", opened[0])
    with psycopg.connect(uri) as reader:
        meta = dict(reader.execute("SELECT key, value FROM pixdex.meta").fetchall())
    assert meta["schema_version"] == str(SCHEMA_VERSION) and meta["generation"] == "0"
    other = postgres.create_database()
    with PostgresStore(other) as second:
        assert second.catalog_id() != opened[0]
    postgres.drop_database(other)


def test_databases_without_a_catalog_or_with_a_newer_one_are_refused(postgres, uri: str) -> None:
    with pytest.raises(CatalogError, match="no catalog here"):
        Catalog(uri, create=False)
    with psycopg.connect(uri, autocommit=True) as admin:
        assert admin.execute("SELECT to_regnamespace('pixdex')").fetchone() == (None,)
        admin.execute("CREATE SCHEMA pixdex")
        with pytest.raises(CatalogError, match="not a pixdex catalog"):
            PostgresStore(uri)
        admin.execute("DROP SCHEMA pixdex")
        PostgresStore(uri).close()
        admin.execute(
            "UPDATE pixdex.meta SET value = %s WHERE key = 'schema_version'",
            (str(SCHEMA_VERSION + 1),),
        )
    with pytest.raises(CatalogError, match="newer"):
        PostgresStore(uri)


def test_a_schema_1_catalog_is_migrated_to_byte_paths_and_keeps_every_row(
    uri: str, tmp_path: Path, photo_paths: list[Path]
) -> None:
    # Schema 1 made as the pixdex of that version made it (paths as text), holding the rows an
    # index run writes: copied from an SQLite catalog of the same files, ids included.
    folder = photo_tree(tmp_path / "photos", photo_paths[:5])
    shutil.copy(photo_paths[6], folder / "a" / "été.png")  # valid UTF-8, not ASCII
    reference = tmp_path / "reference.db"
    with Catalog(reference) as catalog:
        catalog.index([folder], workers=1)
    with closing(sqlite3.connect(reference)) as source, psycopg.connect(uri) as old:
        for statement in MIGRATIONS[0]:
            old.execute(statement)
        old.execute("INSERT INTO pixdex.meta (key, value) VALUES ('schema_version', '1')")
        copies = {
            "files (id, path, size, mtime_ns, digest, width, height, format, error, indexed_at)": (
                "SELECT id, path, size, mtime_ns, digest, width, height, format, error, "
                "indexed_at FROM files"
            ),
            "hashes (algorithm, file_id, bits, value, quality)": "SELECT * FROM hashes",
            "signatures (file_id, signature)": "SELECT id, signature FROM files "
            "WHERE signature IS NOT NULL",
            "algorithms (name, bits)": "SELECT name, bits FROM algorithms",
        }
        for table, query in copies.items():
            rows = source.execute(query).fetchall()
            marks = ", ".join(["%s"] * len(rows[0]))
            old.cursor().executemany(f"INSERT INTO pixdex.{table} VALUES ({marks})", rows)
        old.execute(  # the ids as PostgreSQL itself would have drawn them
            "SELECT setval(pg_get_serial_sequence('pixdex.files', 'id'), max(id)) FROM pixdex.files"
        )
        assert old.execute("SELECT pg_typeof(path)::text FROM pixdex.files").fetchone() == ("text",)

    with Catalog(uri, create=False) as catalog:
        assert catalog_rows(uri) == catalog_rows(str(reference))
        again = catalog.index([folder], workers=1)
        assert (again.new, again.changed, again.unchanged) == (0, 0, 22)  # each row matched
        shutil.copy(photo_paths[7], folder / "b" / os.fsdecode(b"caf\xe9.png"))
        added = catalog.index([folder], workers=1)
        assert (added.new, added.unchanged) == (1, 22)
        found = catalog.search(folder / "a" / "été.png", max_distance=0).matches
        assert str(folder / "a" / "été.png") in {m.path for m in found}
    with psycopg.connect(uri) as reader:
        meta = dict(reader.execute("SELECT key, value FROM pixdex.meta").fetchall())
        names = {row[0] for row in reader.execute("SELECT path FROM pixdex.files")}
    assert meta["schema_version"] == str(SCHEMA_VERSION) == "3"
    assert os.fsencode(folder / "a" / "été.png") in names
    assert os.fsencode(folder) + b"/b/caf\xe9.png" in names


def test_version_1_signatures_get_their_pictures_size_in_place_when_migrated(
    uri: str, tmp_path: Path, photo_paths: list[Path]
) -> None:
    # Schema 2 held version-1 signatures (no size bytes); migration 3 inserts each file's width
    # and height, capped, so nothing has to be decoded again.
    folder = photo_tree(tmp_path / "photos", photo_paths[:5])
    Image.open(photo_paths[5]).convert("RGB").resize((40, 20)).save(folder / "banner.png")
    with Catalog(uri) as catalog:
        catalog.index([folder], workers=1)
    query = (
        "SELECT f.path, s.signature FROM pixdex.files f "
        "JOIN pixdex.signatures s ON s.file_id = f.id"
    )
    with psycopg.connect(uri) as old:
        current = dict(old.execute(query).fetchall())
        old.execute(
            "UPDATE pixdex.signatures SET signature = '\\x01'::bytea || substr(signature, 4)"
        )
        old.execute("UPDATE pixdex.meta SET value = '2' WHERE key = 'schema_version'")
    with Catalog(uri, create=False) as catalog:
        report = catalog.index([folder], workers=1)
    assert (report.new, report.changed) == (0, 0)  # nothing decoded again
    with psycopg.connect(uri) as reader:
        migrated = dict(reader.execute(query).fetchall())
    assert migrated == current
    assert current[os.fsencode(folder / "banner.png")][:3] == bytes([2, 40, 20])


def test_a_schema_1_catalog_read_only_to_its_reader_is_refused_in_one_line(uri: str) -> None:
    with psycopg.connect(uri) as old:
        for statement in MIGRATIONS[0]:
            old.execute(statement)
        old.execute("INSERT INTO pixdex.meta (key, value) VALUES ('schema_version', '1')")
    read_only = f"{uri}&options=-c%20default_transaction_read_only%3Don"
    with pytest.raises(CatalogError, match="must be migrated to 3, and the catalog is read-only"):
        PostgresStore(read_only, create=False)
    PostgresStore(uri, create=False).close()  # a role that can write migrates it
    PostgresStore(read_only, create=False).close()  # and then it opens for reading


def test_codes_read_in_many_page_ranges_equal_one_read(uri: str, monkeypatch) -> None:
    rng = np.random.default_rng(7)
    values = rng.integers(0, 2**63, 3000).tolist()
    records = [
        FileRecord(f"/r/{i:05d}.jpg", 1, 1, hashes={"dhash": Hash(v, 64, "dhash", i % 101)})
        for i, v in enumerate(values)
    ]
    with PostgresStore(uri) as store:
        store.write(records[1500:])
        store.write(records[:1500])  # later ids, earlier pages: storage order is not id order
        store.write(records[::7])  # rewritten rows move to the end of the table
        whole = store.codes("dhash", 30)
        monkeypatch.setattr(pixdex.catalog.postgres, "PAGES_PER_READ", 1)
        pieces = store.codes("dhash", 30)
        by_id = store.lookup(whole[0].tolist(), "dhash")
    assert np.array_equal(whole[0], pieces[0]) and np.array_equal(whole[1], pieces[1])
    assert list(whole[0]) == sorted(whole[0]) and whole[2] == pieces[2] == 64
    expected = sorted((i, int(h.hash)) for i, h in by_id.items() if h.hash.quality >= 30)
    assert [(i, int(c)) for i, c in zip(whole[0], whole[1][:, 0], strict=True)] == expected
    assert len(expected) == sum(i % 101 >= 30 for i in range(3000))


# -- many writers --------------------------------------------------------------------------------


def test_concurrent_writers_of_overlapping_batches_lose_nothing_and_count_every_write(
    uri: str,
) -> None:
    """Eight threads, each with its own connection, write overlapping batches in different
    orders: every path once, with the last-written hashes of one writer whole, and the generation
    moved exactly once per write."""
    writers, batches, paths = 8, 12, [f"/shared/{i:03d}.jpg" for i in range(60)]
    with PostgresStore(uri) as store:
        start = store.generation()

    def write(writer: int) -> None:
        with PostgresStore(uri) as store:
            for batch in range(batches):
                chosen = paths[(writer * 7 + batch * 5) % 60 :][:25][:: 1 if writer % 2 else -1]
                code = Hash(writer << 8 | batch, 64, "dhash", 100)
                store.write([FileRecord(p, 1, writer, hashes={"dhash": code}) for p in chosen])

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with PostgresStore(uri) as store:
        assert store.generation() == start + writers * batches
        states = store.states("/shared")
        ids, _, _ = store.codes("dhash")
        records = store.records(ids.tolist())
    assert len(ids) == len(states) == len(set(states))
    for record in records.values():
        # mtime_ns names the writer of the row; its hash must be that writer's too.
        assert int(record.hashes["dhash"]) >> 8 == record.mtime_ns


def test_four_index_processes_on_overlapping_folders_equal_one_indexer(
    postgres, tmp_path: Path, photo_paths: list[Path]
) -> None:
    root = photo_tree(tmp_path / "tree", photo_paths)
    shared, alone = postgres.create_database(), str(tmp_path / "alone.db")
    folders = [["a", "b"], ["b", "c"], ["c", "d", "a"], ["."]]
    options = ["--workers", "1", "--batch-size", "3"]
    runs = [
        subprocess.Popen(
            [*PIXDEX, "index", *(str(root / f) for f in chosen), "--db", shared, *options],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for chosen in folders
    ]
    for run in runs:
        assert run.wait() == 0, run.stderr.read()
    with Catalog(alone) as catalog:
        catalog.index([root], workers=1)

    together, single = catalog_rows(shared), catalog_rows(alone)
    assert len(single) == 4 * len(photo_paths) + 1
    assert together == single  # every path once, every field, hash and signature equal
    with Catalog(shared, create=False) as catalog:
        assert catalog.info().stats.files == len(single)
        again = catalog.index([root], workers=1)
    assert (again.hashed, again.unchanged) == (0, len(single))
    postgres.drop_database(shared)


def test_a_pooled_store_follows_writes_through_the_change_feed(uri: str) -> None:
    pool = CatalogPool(uri)
    code = Hash(5, 64, "dhash", 100)
    try:
        with PostgresStore(uri) as writer, PostgresStore(uri, pool=pool) as reader:
            start = reader.generation()
            assert reader.algorithms() == {} and reader.generation() == start
            announced = pool.changes.count()
            writer.write([FileRecord("/x/a.jpg", 1, 1, hashes={"dhash": code})])
            while pool.changes.count() == announced:  # delivered when the write committed
                time.sleep(0.001)
            assert reader.generation() == start + 1 and reader.algorithms() == {"dhash": 64}
            pool.changes.close()  # a broken feed: the reader asks every time
            writer.remove(["/x/a.jpg"])
            assert reader.generation() == start + 2
    finally:
        pool.close()


# -- local files -----------------------------------------------------------------------------------


def test_saved_indexes_and_the_journal_live_in_the_cache_folder(
    uri: str, tmp_path: Path, photo_paths: list[Path]
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(photo_paths[0], folder / "a.png")
    shutil.copy(photo_paths[0], folder / "b.png")
    with Catalog(uri) as catalog:
        catalog.index([folder], algorithms=["dhash"], workers=1)
        catalog.remove_duplicates(catalog.duplicates(), move_to=tmp_path / "moved")
        catalog_id = catalog._store.catalog_id()
        here = cache_home() / "pixdex" / catalog_id
        assert catalog.path == here / "catalog" == local_files(uri, catalog._store)
        assert journal_path(catalog.path).is_file()
        assert catalog.undo().restored
        assert len(catalog.search(folder / "a.png").matches) == 2  # the index of generation 3
    files = {p.name for p in here.iterdir()}
    assert files == {"catalog.journal.jsonl", f"catalog.{catalog_id}.dhash-all.g3.idx"}
    assert cache_home() != Path.home() / ".cache"  # the session's own, not the user's
