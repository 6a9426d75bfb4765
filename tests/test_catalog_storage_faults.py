"""A catalog on a disk that fills up, and a catalog that cannot be written.

Real file systems, mounted by the test (it runs as root, as CI does): a 24 MiB tmpfs nearly
filled by a filler file, and a read-only bind mount of a folder holding a catalog. A PostgreSQL
catalog is read-only to a role with the SELECT right only, or with read-only transactions (the
session fixture's private server). ``pixdex``
runs as a user runs it, in a subprocess, so its exit status and output are the real ones (in
this process through typer's runner where a real process adds nothing but its start-up time).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import psycopg
import pytest
from conftest import new_location
from fastapi.testclient import TestClient
from folders import photo_folder
from PIL import Image
from typer.testing import CliRunner

from pixdex.catalog import Catalog, CatalogError
from pixdex.catalog.location import open_store
from pixdex.cli import app
from pixdex.server.app import create_app

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting file systems needs root")

FREE_KIB = 1024
"""Space left on the tmpfs for the catalog: several committed batches of five files (each commit
writes a few 16 KiB pages to the WAL), not all of them."""


def pixdex(*args: str | os.PathLike) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pixdex.cli", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )


def in_process(*args: str | os.PathLike) -> subprocess.CompletedProcess[str]:
    """``pixdex ARGS`` through typer's runner, as a completed process (stderr apart)."""
    result = CliRunner().invoke(app, [*map(str, args)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


@contextlib.contextmanager
def mounted(*args: str | os.PathLike) -> Iterator[None]:
    """``mount ARGS`` for the duration of the block; the last argument is the mount point."""
    subprocess.run(["mount", *map(str, args)], check=True)
    try:
        yield
    finally:
        subprocess.run(["umount", str(args[-1])], check=True)


def small_photos(photo_paths: list[Path], folder: Path, variants: int) -> list[Path]:
    """``variants`` crops of each real photo, 96 pixels a side: quick to hash."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for photo in photo_paths:
        with Image.open(photo) as image:
            picture = image.convert("RGB")
        for number in range(variants):
            box = (number * 4, number * 3, picture.width - number * 2, picture.height - number)
            path = folder / f"{photo.stem}-{number}.png"
            picture.crop(box).resize((96, 96)).save(path)
            written.append(path)
    return written


def assert_one_line_error(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("pixdex:")]
    assert len(errors) == 1, done.stderr
    assert all(word in errors[0] for word in words), errors[0]


def test_a_full_disk_stops_indexing_with_one_line_and_the_catalog_still_searches(
    tmp_path: Path, photo_paths: list[Path]
) -> None:
    photos = small_photos(photo_paths, tmp_path / "photos", variants=10)
    disk = tmp_path / "disk"
    disk.mkdir()
    db = disk / "pixdex.db"
    with mounted("-t", "tmpfs", "-o", "size=24m", "tmpfs", disk):
        total_kib = os.statvfs(disk).f_blocks * os.statvfs(disk).f_frsize // 1024
        subprocess.run(["fallocate", "-l", f"{total_kib - FREE_KIB}k", disk / "filler"], check=True)
        done = pixdex(
            "index", tmp_path / "photos", "--db", db, "--batch-size", "5", "--workers", "1"
        )
        assert_one_line_error(done, "the disk is full", "run again to resume")

        with closing(sqlite3.connect(db)) as check:
            assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        with Catalog(db, create=False) as catalog:  # the disk still full
            stored = catalog.info().images
            assert 0 < stored < len(photos)
            first = catalog.search(photos[0], rule=None)
            assert [m.path for m in first.matches][:1] == [str(photos[0])]
        assert in_process("search", photos[0], "--db", db).returncode == 0
        assert not list(disk.glob("*.partial"))  # no half-written search index left

        (disk / "filler").unlink()
        again = in_process("index", tmp_path / "photos", "--db", db, "--workers", "1")
        assert again.returncode == 0, again.stderr
        assert f"{stored} unchanged" in again.stdout
        with Catalog(db, create=False) as catalog:
            assert catalog.info().images == len(photos)


READ_ONLY = {
    "sqlite": "a read-only bind mount of its folder",
    "postgres-select": "a role with only the SELECT right",
    "postgres-read-only": "a role whose transactions are read-only",
}
"""The ways a catalog is read-only in ``read_only_catalog``, by name."""

READER = "pixdex_reader"
"""The PostgreSQL role of ``READ_ONLY``'s PostgreSQL cases (made once per server)."""


@pytest.fixture(params=READ_ONLY)
def read_only_catalog(
    request: pytest.FixtureRequest, tmp_path: Path, photo_paths: list[Path]
) -> Iterator[tuple[str, Path]]:
    """(catalog location, photo folder): a catalog of real photos (two byte-identical) that
    cannot be written, each of the ways ``READ_ONLY`` names."""
    folder = tmp_path / "photos"
    photo_folder(folder, photo_paths[:4])
    shutil.copy(photo_paths[0], folder / "copy.png")
    writable = tmp_path / "catalog"
    writable.mkdir()
    location = new_location(request, request.param.split("-")[0], writable)
    with Catalog(location) as catalog:
        catalog.index([folder], workers=1)
    if request.param == "sqlite":
        view = tmp_path / "read-only"
        view.mkdir()
        with mounted("--bind", writable, view):
            subprocess.run(["mount", "-o", "remount,ro,bind", view], check=True)
            yield str(view / "pixdex.db"), folder
    elif request.param == "postgres-select":
        yield reader_of(request.getfixturevalue("postgres"), location), folder
    else:
        yield f"{location}&options=-c%20default_transaction_read_only%3Don", folder


def reader_of(cluster, location: str) -> str:
    """The URI of ``location`` for ``READER``, given the SELECT right on its catalog only."""
    with psycopg.connect(location, autocommit=True) as admin:
        if not admin.execute("SELECT FROM pg_roles WHERE rolname = %s", (READER,)).fetchall():
            admin.execute(f"CREATE ROLE {READER} LOGIN")
        admin.execute(f"GRANT USAGE ON SCHEMA pixdex TO {READER}")
        admin.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA pixdex TO {READER}")
    return cluster.uri(cluster.database(location), user=READER)


def test_a_read_only_catalog_is_searched_and_refuses_writes_in_one_line(
    read_only_catalog, photo_paths: list[Path]
) -> None:
    db, folder = read_only_catalog
    found = in_process("search", photo_paths[0], "--db", db)
    assert found.returncode == 0, found.stderr
    assert str(folder / "copy.png") in found.stdout
    assert in_process("info", "--db", db).returncode == 0
    assert "1 group, 2 files" in in_process("dupes", "--db", db).stdout

    with open_store(db, create=False) as store, pytest.raises(CatalogError, match="read-only"):
        store.write([])  # at once, as `index` asks before it hashes anything
    shutil.copy(photo_paths[5], folder / "new.png")
    assert_one_line_error(in_process("index", folder, "--db", db), "read-only")
    before = sorted(os.listdir(folder))
    moved = pixdex("dupes", "--db", db, "--move-to", folder.parent / "moved")
    assert_one_line_error(moved, "read-only")
    assert sorted(os.listdir(folder)) == before


def test_a_read_only_catalog_is_served(read_only_catalog, photo_paths: list[Path]) -> None:
    db, folder = read_only_catalog
    with TestClient(create_app(db)) as client:
        upload = client.post(
            "/api/search",
            content=photo_paths[0].read_bytes(),
            headers={"content-type": "image/png"},
        )
        assert upload.status_code == 200
        matches = upload.json()["matches"]
        assert {m["path"] for m in matches} >= {str(folder / "copy.png")}
        thumbnail = client.get(f"/api/images/{matches[0]['id']}/thumbnail")
        assert thumbnail.status_code == 200
        assert client.get("/api/duplicates").json()["total_groups"] == 1


def test_a_read_only_catalog_with_its_wal_files_beside_it_opens(
    tmp_path: Path, photo_paths: list[Path]
) -> None:
    """A copy taken while a writer had it open: the committed rows sit in the -wal file."""
    folder = tmp_path / "photos"
    small_photos(photo_paths[:3], folder, variants=2)
    live = tmp_path / "live"
    live.mkdir()
    with Catalog(live / "pixdex.db") as catalog:
        catalog.index([folder], workers=1)
        assert (live / "pixdex.db-wal").stat().st_size > 0
        frozen = tmp_path / "frozen"
        shutil.copytree(live, frozen)
    view = tmp_path / "view"
    view.mkdir()
    with mounted("--bind", frozen, view):
        subprocess.run(["mount", "-o", "remount,ro,bind", view], check=True)
        with Catalog(view / "pixdex.db", create=False) as catalog:
            assert catalog.info().images == 6


def test_duplicates_moved_to_another_file_system_come_back_with_undo(
    tmp_path: Path, photo_paths: list[Path]
) -> None:
    """Across file systems a move is a copy, a rename into place and a removal (no file is ever
    half-written under its name); undo brings the files back the same way."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for photo in photo_paths[:3]:
        shutil.copy(photo, folder / photo.name)
        shutil.copy(photo, folder / f"copy-{photo.name}")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with (
        mounted("-t", "tmpfs", "-o", "size=24m", "tmpfs", elsewhere),
        Catalog(tmp_path / "pixdex.db") as catalog,
    ):
        catalog.index([folder], workers=1)
        done = catalog.remove_duplicates(catalog.duplicates(), move_to=elsewhere / "dupes")
        assert len(done.moved) == 3 and done.skipped == ()
        for _, target in done.moved:
            assert Path(target).read_bytes() == before[Path(target).name]
        assert not list(elsewhere.rglob("*.pixdex-partial"))
        assert catalog.undo().failed == ()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
