"""File names that are not valid UTF-8: indexed, stored, searched, listed and acted on.

Real files are created with byte names (Latin-1 'é' as the lone byte 0xE9, a stray 0xFF) among
ordinary ones, and catalogued on each backend (an SQLite file, a PostgreSQL database). The first
``index`` runs in a subprocess with a strict UTF-8 stdout (``PYTHONIOENCODING=utf-8:strict``, what
a UTF-8 terminal gives); the other commands run in process through typer's runner, whose stdout is
strict UTF-8 too. A name printed without care would end in a traceback.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import psycopg
import pytest
from conftest import new_location
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from pixdex.catalog import Catalog, FileRecord
from pixdex.catalog.location import open_store
from pixdex.catalog.uri import is_postgres
from pixdex.cli import app
from pixdex.names import from_bytes, printable, printable_data, printable_json, to_bytes
from pixdex.server.app import create_app

CAFE = b"caf\xe9.png"  # Latin-1, not UTF-8
COPY = b"copy\xff.png"
BROKEN = b"broken\xe9.jpg"
FOLDER = b"album\xe9"


def run(*args: str | os.PathLike, db: str):
    """``pixdex ARGS`` in this process (stdout strict UTF-8); the runner's result."""
    result = CliRunner().invoke(app, [*map(os.fsdecode, args), "--db", str(db)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def pixdex(*args: str | os.PathLike, db: str) -> subprocess.CompletedProcess[str]:
    """``pixdex ARGS`` in a subprocess with a strict UTF-8 stdout; its output decoded as UTF-8
    (it must be)."""
    env = {**os.environ, "PIXDEX_DB": str(db), "PYTHONIOENCODING": "utf-8:strict"}
    done = subprocess.run(
        [sys.executable, "-m", "pixdex.cli", *map(os.fsdecode, args)],
        capture_output=True,
        env=env,
        check=False,
    )
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode("utf-8"), done.stderr.decode("utf-8")
    )


@pytest.fixture(scope="module")
def library(
    request: pytest.FixtureRequest, backend: str, tmp_path_factory, photo_paths: list[Path]
) -> tuple[Path, str]:
    """(folder, catalog location on ``backend``): real photos, two of them (byte-identical) and a
    truncated JPEG under names that are not UTF-8, one in a sub-folder whose own name is not
    UTF-8 either."""
    root = tmp_path_factory.mktemp("names")
    folder = root / "photos"
    (folder / from_bytes(FOLDER)).mkdir(parents=True)
    for photo in photo_paths[:3]:
        shutil.copy(photo, folder / photo.name)
    shutil.copy(photo_paths[3], folder / from_bytes(CAFE))
    shutil.copy(photo_paths[3], folder / from_bytes(FOLDER) / from_bytes(COPY))
    (folder / from_bytes(BROKEN)).write_bytes(photo_paths[4].read_bytes()[:300])
    db = new_location(request, backend, root)
    done = pixdex("index", folder, "--workers", "1", db=db)
    assert done.returncode == 0, done.stderr
    assert "5 new, 0 changed, 0 unchanged, 1 failed" in done.stdout
    assert f"failed: {folder}/broken\\xe9.jpg: truncated" in done.stdout
    return folder, db


def stored_paths(db: str) -> set[bytes]:
    """Every path of the catalog's files as the database holds it, read without pixdex."""
    if is_postgres(db):
        with psycopg.connect(db) as raw:
            return {row[0] for row in raw.execute("SELECT path FROM pixdex.files")}
    with closing(sqlite3.connect(db)) as raw:
        raw.text_factory = bytes
        return {row[0] for row in raw.execute("SELECT path FROM files")}


def test_names_are_stored_with_their_exact_bytes(library) -> None:
    folder, db = library
    stored = stored_paths(db)
    base = os.fsencode(folder)
    assert {base + b"/" + CAFE, base + b"/" + FOLDER + b"/" + COPY, base + b"/" + BROKEN} <= stored
    again = run("index", folder, "--workers", "1", db=db)
    assert "0 new, 0 changed, 6 unchanged" in again.output  # each name matched its row


def test_search_prints_the_names_escaped_in_text_json_and_html(library, tmp_path) -> None:
    folder, db = library
    query = folder / from_bytes(CAFE)
    text = run("search", query, db=db)
    assert text.exit_code == 0, text.output
    assert text.stdout.startswith(f"{folder}/caf\\xe9.png  dhash")
    assert f"{folder}/album\\xe9/copy\\xff.png" in text.stdout
    lines = run("search", query, "--json", db=db).stdout.splitlines()
    found = {m["path"] for m in json.loads(lines[0])["matches"]}
    assert found == {f"{folder}/caf\\xe9.png", f"{folder}/album\\xe9/copy\\xff.png"}
    page = tmp_path / "search.html"
    assert run("search", query, "--report", page, db=db).exit_code == 0
    assert "album\\xe9/copy\\xff.png" in page.read_text(encoding="utf-8")


def test_info_and_dupes_list_them_in_every_output(library, tmp_path) -> None:
    folder, db = library
    info = run("info", db=db)
    assert f"  {folder}/broken\\xe9.jpg: truncated" in info.stdout
    listing = run("dupes", db=db).stdout
    assert f"{folder}/caf\\xe9.png" in listing and "album\\xe9/copy\\xff.png" in listing
    group = json.loads(run("dupes", "--json", db=db).stdout.splitlines()[0])
    assert group["keeper"].endswith("\\xe9.png") or group["keeper"].endswith("\\xff.png")
    table = tmp_path / "dupes.csv"
    assert run("dupes", "--csv", table, db=db).exit_code == 0
    with open(table, encoding="utf-8", newline="") as handle:
        paths = {row["path"] for row in csv.DictReader(handle)}
    assert paths == {f"{folder}/caf\\xe9.png", f"{folder}/album\\xe9/copy\\xff.png"}


def test_dupes_move_and_undo_act_on_the_real_files(library, tmp_path) -> None:
    folder, db = library
    before = sorted(os.listdir(os.fsencode(folder)))
    moved_to = tmp_path / "moved"
    done = run("dupes", "--move-to", moved_to, db=db)
    assert done.exit_code == 0, done.output
    assert "1 moved, 0 deleted, 0 skipped" in done.stdout
    moved = [os.path.relpath(Path(d, f), moved_to) for d, _, fs in os.walk(moved_to) for f in fs]
    assert len(moved) == 1 and to_bytes(moved[0]) in (CAFE, FOLDER + b"/" + COPY)
    undone = run("undo", db=db)
    assert undone.exit_code == 0, undone.output
    assert "1 restored, 0 failed" in undone.stdout
    assert sorted(os.listdir(os.fsencode(folder))) == before
    assert os.listdir(os.fsencode(folder / from_bytes(FOLDER))) == [COPY]


def test_the_http_api_answers_valid_utf8_json_for_them(library) -> None:
    folder, db = library
    with Catalog(db, create=False) as catalog:
        target = catalog.files_at([str(folder / from_bytes(CAFE))])
    (file_id,) = (f.file_id for f in target.values())
    with TestClient(create_app(db)) as client:
        image = client.get(f"/api/images/{file_id}")
        assert image.status_code == 200 and image.json()["path"] == f"{folder}/caf\\xe9.png"
        thumbnail = client.get(f"/api/images/{file_id}/thumbnail")
        assert thumbnail.status_code == 200 and thumbnail.content[:2] == b"\xff\xd8"
        original = client.get(f"/api/images/{file_id}/file")
        assert original.status_code == 200
        assert original.content == (folder / from_bytes(CAFE)).read_bytes()
        upload = client.post(
            "/api/search", content=original.content, headers={"content-type": "image/png"}
        )
        assert upload.status_code == 200
        found = {m["path"] for m in upload.json()["matches"]}
        assert f"{folder}/album\\xe9/copy\\xff.png" in found
        groups = client.get("/api/duplicates").json()["groups"]
        assert any(m["path"].endswith("copy\\xff.png") for g in groups for m in g["members"])


def test_the_store_keeps_a_folder_range_of_undecodable_names_apart(location: str) -> None:
    inside = from_bytes(b"/a/x\xe9/" + CAFE)
    records = [FileRecord(p, 1, 2) for p in (inside, "/a/x/b.png", from_bytes(b"/a/x\xe90.png"))]
    with open_store(location) as store:
        store.write(records)
        assert set(store.states(from_bytes(b"/a/x\xe9"))) == {inside}
        assert set(store.files_by_path([inside])) == {inside}
        assert store.remove([inside]) == 1
        assert len(store.states("/a")) == 2


def test_a_name_that_reads_like_an_escape_is_another_file(location: str) -> None:
    real = from_bytes(b"/n/caf\xe9.png")
    lookalike = "/n/caf\\xe9.png"  # a literal backslash, x, e, 9: what `real` is shown as
    with open_store(location) as store:
        store.write([FileRecord(real, 1, 2), FileRecord(lookalike, 3, 4)])
        found = store.files_by_path([real, lookalike])
        assert {path: stored.size for path, stored in found.items()} == {real: 1, lookalike: 3}
        assert store.remove([real]) == 1
        assert set(store.states("/n")) == {lookalike}


def test_printable_leaves_valid_names_alone_and_escapes_undecodable_bytes() -> None:
    assert printable("/photos/été/ok.png") == "/photos/été/ok.png"
    assert printable(from_bytes(b"/p/caf\xe9\xff.png")) == "/p/caf\\xe9\\xff.png"
    assert printable_data({"a": [from_bytes(CAFE), 1, None]}) == {"a": ["caf\\xe9.png", 1, None]}
    assert to_bytes(from_bytes(b"\xe9\xff")) == b"\xe9\xff"


@pytest.mark.parametrize(
    "name",
    [
        "/photos/plain.png",
        "/photos/été/😀.png",
        from_bytes(b"/p/caf\xe9.png"),
        "/a/\udcff",
        "/a/\\udcff.png",  # a backslash, then "udcff": reads like an escape, is none
    ],
)
def test_json_text_is_that_of_the_printable_data(name: str) -> None:
    # The fast path (no walk when nothing needs escaping) writes the same text as the walk, for
    # plain names, names outside ASCII and outside the BMP, undecodable bytes and a name that
    # reads like an escape, keys included.
    value = {"keeper": name, "members": [{"path": name, "size": 1}, (name, None, 2.5)], name: True}
    text = printable_json(value)
    assert text == json.dumps(printable_data(value))
    text.encode("utf-8")  # always valid UTF-8
