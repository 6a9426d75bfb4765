"""The storage contract, run on every backend (SQLite, PostgreSQL): round trips of real hashes,
atomic batches, generations, folder ranges, signatures. Then what only SQLite has: its file, WAL,
migrations of older catalogs.

PostgreSQL's own schema, concurrency and connection handling are in test_catalog_postgres.py.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest
from folders import photo_folder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import pixdex.catalog.sqlite
import pixdex.catalog.sqlite_access
from pixdex.catalog import Catalog, CatalogError, FileRecord, SQLiteStore, Store
from pixdex.catalog.location import open_store
from pixdex.catalog.schema import MIGRATIONS, SCHEMA_VERSION
from pixdex.catalog.store import hash_to_blob
from pixdex.decode import decode_image
from pixdex.hashing import ALGORITHMS, LOW_QUALITY, Hash
from pixdex.pipeline import file_digest, hash_image
from pixdex.signature import (
    SIGNATURE_BYTES,
    SIGNATURE_VERSION,
    signature,
    signature_array,
    signatures_in_order,
)


def dhash_of(path: Path) -> Hash:
    with Image.open(path) as image:
        return ALGORITHMS["dhash"].compute(image.convert("RGB"), 8)


def record_of(path: Path, **hashes: Hash) -> FileRecord:
    info = path.stat()
    return FileRecord(str(path), info.st_size, info.st_mtime_ns, hashes=hashes)


@pytest.fixture
def store(location: str):
    """A new, empty store on each backend in turn."""
    opened = open_store(location)
    yield opened
    opened.close()


def test_hashes_of_real_photos_round_trip_through_codes_and_lookup(
    store: Store, photo_paths: list[Path]
) -> None:
    hashes = [dhash_of(p) for p in photo_paths]
    store.write([record_of(p, dhash=h) for p, h in zip(photo_paths, hashes, strict=True)])

    ids, codes, bits = store.codes("dhash")
    assert bits == 64 and codes.shape == (len(photo_paths), 1) and codes.dtype == np.uint64
    found = store.lookup(ids.tolist(), "dhash")
    by_path = {found[i].path: (code, found[i].hash) for i, code in zip(ids, codes, strict=True)}
    for path, expected in zip(photo_paths, hashes, strict=True):
        code, stored = by_path[str(path)]
        assert stored == expected and stored.quality == expected.quality
        assert np.array_equal(code, expected.words)


def test_multi_word_hashes_round_trip(store: Store, photo_paths: list[Path]) -> None:
    # A 16 × 16 dHash is 256 bits: four words, most significant first.
    with Image.open(photo_paths[0]) as image:
        wide = ALGORITHMS["dhash"].compute(image.convert("RGB"), 16)
    store.write([record_of(photo_paths[0], dhash=wide)])
    ids, codes, bits = store.codes("dhash")
    assert bits == 256 and codes.shape == (1, 4)
    assert np.array_equal(codes[0], wide.words)
    assert store.lookup(ids.tolist(), "dhash")[int(ids[0])].hash == wide


def test_codes_come_by_ascending_file_id_after_rewrites(
    store: Store, photo_paths: list[Path]
) -> None:
    store.write([record_of(p, dhash=dhash_of(p)) for p in photo_paths])
    # Rewritten rows move to the end of PostgreSQL's table: the order must not follow them.
    store.write([record_of(p, dhash=dhash_of(p)) for p in photo_paths[:3]])
    ids, codes, _ = store.codes("dhash")
    assert list(ids) == sorted(ids) and len(ids) == len(photo_paths)
    by_id = store.lookup(ids.tolist(), "dhash")
    assert [by_id[i].hash.words[0] for i in ids.tolist()] == list(codes[:, 0])


def test_rewriting_a_path_replaces_its_hashes_and_bumps_the_generation(
    store: Store, photo_paths: list[Path]
) -> None:
    first, second = photo_paths[:2]
    start = store.generation()
    store.write([record_of(first, dhash=dhash_of(first))])
    after_first = store.generation()
    replaced = FileRecord(str(first), 1, 2, hashes={"dhash": dhash_of(second)})
    store.write([replaced])
    assert start < after_first < store.generation()

    ids, codes, _ = store.codes("dhash")
    assert len(ids) == 1 and np.array_equal(codes[0], dhash_of(second).words)
    state = store.states(str(first.parent))[str(first)]
    assert (state.size, state.mtime_ns, state.algorithms) == (1, 2, frozenset({"dhash"}))


def test_a_hash_of_another_length_rolls_back_the_whole_batch(
    store: Store, photo_paths: list[Path]
) -> None:
    store.write([record_of(photo_paths[0], dhash=dhash_of(photo_paths[0]))])
    generation = store.generation()
    with Image.open(photo_paths[2]) as image:
        wide = ALGORITHMS["dhash"].compute(image.convert("RGB"), 16)
    batch = [
        record_of(photo_paths[1], dhash=dhash_of(photo_paths[1])),
        record_of(photo_paths[2], dhash=wide),
    ]
    with pytest.raises(CatalogError, match="256-bit dhash hash"):
        store.write(batch)
    assert store.generation() == generation
    assert list(store.states(str(photo_paths[0].parent))) == [str(photo_paths[0])]


def test_remove_drops_files_and_their_hashes(store: Store, photo_paths: list[Path]) -> None:
    store.write([record_of(p, dhash=dhash_of(p)) for p in photo_paths[:3]])
    generation = store.generation()
    assert store.remove([str(photo_paths[0]), "/nowhere/else.png"]) == 1
    assert store.generation() == generation + 1
    ids, _, _ = store.codes("dhash")
    assert sorted(s.path for s in store.lookup(ids.tolist(), "dhash").values()) == sorted(
        str(p) for p in photo_paths[1:3]
    )
    assert store.remove(["/nowhere/else.png"]) == 0
    assert store.generation() == generation + 1  # nothing changed, no new generation


def test_failures_are_stored_and_counted(store: Store, photo_paths: list[Path]) -> None:
    broken = FileRecord("/photos/broken.jpg", 10, 1, error="truncated file")
    store.write([broken, record_of(photo_paths[0], dhash=dhash_of(photo_paths[0]))])
    assert store.failures() == [("/photos/broken.jpg", "truncated file")]
    stats = store.stats()
    assert (stats.files, stats.failures) == (2, 1)
    assert [(a.algorithm, a.bits, a.count) for a in stats.algorithms] == [("dhash", 64, 1)]
    assert stats.bytes_on_disk > 0
    state = store.states("/photos")["/photos/broken.jpg"]
    assert state.error == "truncated file" and state.algorithms == frozenset()


def test_codes_leave_out_low_quality_hashes_on_request(
    store: Store, photo_paths: list[Path]
) -> None:
    blank = Image.new("RGB", (64, 48), (200, 200, 200))
    flat = ALGORITHMS["dhash"].compute(blank, 8)
    assert flat.quality < LOW_QUALITY  # a flat grey picture has no structure
    photo = dhash_of(photo_paths[0])
    assert photo.quality >= LOW_QUALITY
    store.write(
        [
            FileRecord("/x/blank.png", 1, 1, hashes={"dhash": flat}),
            record_of(photo_paths[0], dhash=photo),
        ]
    )
    assert len(store.codes("dhash")[0]) == 2
    ids, codes, _ = store.codes("dhash", LOW_QUALITY)
    assert len(ids) == 1 and np.array_equal(codes[0], photo.words)
    assert store.stats().algorithms[0].low_quality == 1


def test_an_unknown_algorithm_has_no_codes(store: Store) -> None:
    ids, codes, bits = store.codes("phash")
    assert (len(ids), codes.shape[0], bits) == (0, 0, 0)


names = st.text(alphabet="ab/-.0", min_size=1, max_size=6).filter(
    lambda s: not s.startswith("/") and "//" not in s and not s.endswith("/")
)


roots = itertools.count()
"""Each example writes under a root of its own: the examples share one store."""


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(folder=names, paths=st.lists(names, min_size=1, max_size=12, unique=True))
def test_states_of_a_folder_are_exactly_the_paths_inside_it(
    store: Store, folder: str, paths: list[str]
) -> None:
    # Names like "a", "a-b", "a.b", "a0" sort around "a/": the range query must not mix them up
    # (in PostgreSQL whatever the database's locale: paths compare by code point there too).
    root = f"/r{next(roots)}/"
    store.write([FileRecord(root + p, 1, 1) for p in paths])
    inside = set(store.states(root + folder))
    expected = {root + p for p in paths if p.startswith(folder + "/") or p == folder}
    assert inside == expected


def test_indexing_stores_each_pictures_signature(
    location: str, tmp_path: Path, photo_paths: list[Path]
) -> None:
    folder = tmp_path / "photos"
    photo_folder(folder, photo_paths[:3])
    with Catalog(location) as catalog:
        catalog.index([folder], workers=1)
        paths = sorted(str(p) for p in folder.iterdir())
        ids = [catalog.files_at(paths)[p].file_id for p in paths]
    with open_store(location) as reopened:
        # Unknown ids first: the files' rows then come in a later read of the stores' chunks.
        unknown = list(range(10**9, 10**9 + 20_000))
        read = reopened.signatures([*unknown, *ids, ids[0]])
        records = reopened.records(ids)
    assert not read[: len(unknown)].any()  # unknown ids: rows of zeros
    stored = read[len(unknown) :]
    for row, (path, file_id) in enumerate(zip(paths, ids, strict=True)):
        with Image.open(path) as image:
            expected = signature(decode_image(image, min_side=288).image)
        assert stored[row].tobytes() == expected == records[file_id].signature
    assert stored.shape == (len(ids) + 1, SIGNATURE_BYTES)
    assert stored[-1].tobytes() == records[ids[0]].signature  # an id asked for twice


def test_a_signature_of_an_older_version_is_made_again_by_the_next_index_run(
    location: str, tmp_path: Path, photo_paths: list[Path]
) -> None:
    # Version 1 had no size bytes (its planes lie two bytes off): a store keeps such a signature
    # (an undo of an older run restores one) as none, and the next run decodes the file again.
    folder = tmp_path / "photos"
    photo_folder(folder, photo_paths[:2])
    paths = sorted(str(p) for p in folder.iterdir())
    with Catalog(location) as catalog:
        catalog.index([folder], workers=1)
        file_id = catalog.files_at(paths)[paths[0]].file_id
    with open_store(location) as store:
        record = store.records([file_id])[file_id]
        older = bytes([SIGNATURE_VERSION - 1]) + record.signature[3:]
        store.write([dataclasses.replace(record, signature=older)])
        assert not store.signatures([file_id]).any()
        assert not store.states(str(folder))[paths[0]].signature
        assert store.states(str(folder))[paths[1]].signature
    with Catalog(location) as catalog:
        report = catalog.index([folder], workers=1)
        file_id = catalog.files_at(paths)[paths[0]].file_id
    assert (report.changed, report.unchanged) == (1, 1)
    with open_store(location) as store:
        assert store.signatures([file_id])[0].tobytes() == record.signature


# -- SQLite only -----------------------------------------------------------------------------------


def test_new_catalog_is_wal_with_the_current_schema_version(tmp_path: Path) -> None:
    SQLiteStore(tmp_path / "c.db").close()
    db = sqlite3.connect(tmp_path / "c.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    assert int(version) == SCHEMA_VERSION
    SQLiteStore(tmp_path / "other.db").close()
    with SQLiteStore(tmp_path / "c.db") as first, SQLiteStore(tmp_path / "other.db") as second:
        assert re.fullmatch("[0-9a-f]{16}", first.catalog_id())
        assert first.catalog_id() != second.catalog_id()


def test_a_catalog_of_the_previous_schema_version_is_migrated_and_keeps_its_rows(
    tmp_path: Path, photo_paths: list[Path]
) -> None:
    # Version 1, written as the pixdex of that version wrote it: no catalog id.
    folder = tmp_path / "photos"
    folder.mkdir()
    photos = [Path(shutil.copy(p, folder / p.name)) for p in photo_paths[:5]]
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    for statement in MIGRATIONS[0]:
        old.execute(statement)
    old.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '1')")
    old.execute("INSERT INTO algorithms (name, bits) VALUES ('dhash', 64)")
    for photo in photos:
        info, code = photo.stat(), hash_image(photo)
        with Image.open(photo) as image:
            size, kind = image.size, image.format
        (file_id,) = old.execute(
            "INSERT INTO files (path, size, mtime_ns, digest, width, height, format, indexed_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 0) RETURNING id",
            (str(photo), info.st_size, info.st_mtime_ns, file_digest(photo), *size, kind),
        ).fetchone()
        old.execute(
            "INSERT INTO hashes (algorithm, file_id, bits, value, quality) VALUES (?, ?, ?, ?, ?)",
            ("dhash", file_id, 64, hash_to_blob(code), code.quality),
        )
    broken = str(folder / "broken.jpg")
    old.execute(
        "INSERT INTO files (path, size, mtime_ns, error, indexed_at) VALUES (?, 3, 1, ?, 0)",
        (broken, "truncated file"),
    )
    old.commit()
    old.close()

    with Catalog(path, create=False) as catalog:
        stored = catalog.files_at([str(p) for p in photos])
        for photo in photos:
            with Image.open(photo) as image:
                expected = (photo.stat().st_size, file_digest(photo), image.size)
            row = stored[str(photo)]
            assert (row.size, row.digest, (row.width, row.height)) == expected
            found = catalog.search(photo, max_distance=0).matches
            assert str(photo) in {m.path for m in found}
        assert catalog.info().failures == ((broken, "truncated file"),)
        # Schema 1 had no content signatures: the next run reads each file once more to make
        # them, the run after it reads nothing.
        report = catalog.index([folder], workers=1)
        assert (report.changed, report.failed, report.unchanged) == (len(photos), (), 0)
        report = catalog.index([folder], workers=1)
        assert (report.hashed, report.unchanged) == (0, len(photos))
    with closing(sqlite3.connect(path)) as db:
        meta = dict(db.execute("SELECT key, value FROM meta"))
    assert meta["schema_version"] == str(SCHEMA_VERSION)
    assert re.fullmatch("[0-9a-f]{16}", meta["catalog_id"])
    with SQLiteStore(path) as reopened:
        assert reopened.catalog_id() == meta["catalog_id"]  # drawn once, not on every open


def test_version_1_signatures_get_their_pictures_size_in_place_when_migrated(
    tmp_path: Path, photo_paths: list[Path]
) -> None:
    # A schema-3 catalog holds version-1 signatures (no size bytes); migration 4 inserts each
    # row's width and height, capped, so nothing has to be decoded again.
    folder = tmp_path / "photos"
    photo_folder(folder, photo_paths[:2])
    Image.open(photo_paths[2]).convert("RGB").resize((40, 20)).save(folder / "banner.png")
    path = tmp_path / "c.db"
    with Catalog(path) as catalog:
        catalog.index([folder], workers=1)
    with closing(sqlite3.connect(path)) as db:
        current = dict(db.execute("SELECT path, signature FROM files").fetchall())
        for name, value in current.items():
            db.execute("UPDATE files SET signature = ? WHERE path = ?", (b"\x01" + value[3:], name))
        db.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
        db.commit()
    with Catalog(path, create=False) as catalog:
        report = catalog.index([folder], workers=1)
    assert (report.changed, report.unchanged) == (0, 3)
    with closing(sqlite3.connect(path)) as db:
        migrated = dict(db.execute("SELECT path, signature FROM files").fetchall())
        version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    assert migrated == current and int(version) == SCHEMA_VERSION
    assert current[str(folder / "banner.png")][:3] == bytes([SIGNATURE_VERSION, 40, 20])


def test_refuses_a_missing_catalog_when_not_creating(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no catalog here"):
        SQLiteStore(tmp_path / "missing.db", create=False)
    assert not (tmp_path / "missing.db").exists()


def test_refuses_files_that_are_not_catalogs(tmp_path: Path, photo_paths: list[Path]) -> None:
    with pytest.raises(CatalogError, match="not a pixdex catalog"):
        SQLiteStore(photo_paths[0], create=False)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)")
    with pytest.raises(CatalogError, match="not a pixdex catalog"):
        SQLiteStore(other)


def test_refuses_a_catalog_from_a_newer_pixdex(tmp_path: Path) -> None:
    SQLiteStore(tmp_path / "c.db").close()
    with sqlite3.connect(tmp_path / "c.db") as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (SCHEMA_VERSION + 1,))
    with pytest.raises(CatalogError, match="newer"):
        SQLiteStore(tmp_path / "c.db")


@pytest.mark.parametrize("hash_size", [8, 16])
def test_sqlite_codes_read_in_several_pieces_equal_one_read(
    tmp_path: Path, photo_paths: list[Path], monkeypatch: pytest.MonkeyPatch, hash_size: int
) -> None:
    # Reads go _CODES_PER_READ rows at a time; three at a time must give the same arrays.
    def hashed(path: Path) -> Hash:
        with Image.open(path) as image:
            return ALGORITHMS["dhash"].compute(image.convert("RGB"), hash_size)

    with SQLiteStore(tmp_path / "c.db") as store:
        store.write([record_of(p, dhash=hashed(p)) for p in photo_paths])
        whole = store.codes("dhash")
        monkeypatch.setattr(pixdex.catalog.sqlite, "_CODES_PER_READ", 3)
        pieces = store.codes("dhash")
    assert len(whole[0]) == len(photo_paths) > 3
    assert np.array_equal(whole[0], pieces[0]) and np.array_equal(whole[1], pieces[1])
    assert list(whole[0]) == sorted(whole[0]) and whole[2] == pieces[2] == hash_size**2


def page_size(path: Path) -> int:
    with closing(sqlite3.connect(path)) as db:
        return db.execute("PRAGMA page_size").fetchone()[0]


def test_a_new_catalog_has_large_pages_and_an_older_one_keeps_its_own(
    tmp_path: Path, photo_paths: list[Path]
) -> None:
    folder = tmp_path / "photos"
    photo_folder(folder, photo_paths[:3])
    new = tmp_path / "new.db"
    with Catalog(new) as catalog:
        catalog.index([folder], workers=1)
    assert page_size(new) == pixdex.catalog.sqlite_access.PAGE_SIZE
    # A catalog made with SQLite's default pages, as earlier versions made them, stays as it is.
    old = tmp_path / "old.db"
    shutil.copy(new, old)
    with closing(sqlite3.connect(old)) as db:
        db.execute("PRAGMA journal_mode = DELETE")
        db.execute("PRAGMA page_size = 4096")
        db.execute("VACUUM")
    shutil.copy(photo_paths[3], folder / photo_paths[3].name)
    with Catalog(old) as catalog:
        report = catalog.index([folder], workers=1)
        assert report.new == 1
        assert len(catalog.search(folder / photo_paths[3].name).matches) >= 1
    assert page_size(old) == 4096


def test_signatures_read_in_any_order_land_in_their_rows(photo_paths: list[Path]) -> None:
    # What both stores do with the rows they read: thousands of signatures arrive in the store's
    # order, in several copies at once, and each must land in the row of its id as asked.
    own = [signature(decode_image(path, min_side=288).image) for path in photo_paths[:4]]
    other_version = bytes([SIGNATURE_VERSION + 1]) + own[0][1:]
    stored = {file_id: own[file_id % 4] for file_id in range(10_000)}
    stored[7] = other_version  # read as no signature
    stored[8] = None
    asked = [int(i) for i in np.random.default_rng(3).permutation(12_000)[:9_000]] + [5, 5]
    rows = sorted(stored.items(), reverse=True)  # not the order asked
    expected = signature_array([stored.get(i) for i in asked])
    assert np.array_equal(signatures_in_order(asked, rows), expected)
    assert expected[asked.index(5)].tobytes() == own[1] and expected[-1].tobytes() == own[1]
