"""``pixdex index`` and ``dupes --move-to`` killed with SIGKILL at random instants: nothing lost.

A few instants here, drawn from a fixed seed (``python -m benchmarks kill`` draws twenty), on each
backend (fewer on PostgreSQL, whose runs are slower to start); see ``tests/kill_runs.py`` for what
is checked after each kill.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest
from conftest import new_location
from hostile_corpus import build
from kill_runs import (
    catalog_rows,
    dupes_killed,
    dupes_moving,
    index_killed,
    integrity,
    local_folder,
    run_to_end,
)

from pixdex.catalog import Catalog

KILLS = {"sqlite": 5, "postgres": 3}
DUPES_KILLS = {"sqlite": 3, "postgres": 2}
COPIES = 3
"""Hard links per photograph: with a few hostile files, 50 files in batches of 3."""


def library(root: Path, photo_paths: list[Path], copies: int, hostile: int) -> Path:
    folder = root / "library"
    folder.mkdir()
    for photo in photo_paths:
        first = folder / f"00-{photo.name}"
        shutil.copy(photo, first)
        for copy in range(1, copies):
            os.link(first, folder / f"{copy:02d}-{photo.name}")
    if hostile:
        build(folder / "hostile", photo_paths, hostile, seed=7)
    return folder


def catalog_at(request: pytest.FixtureRequest, backend: str, folder: Path) -> str:
    """A new catalog location on ``backend``, its SQLite file (if any) in ``folder``."""
    folder.mkdir()
    return new_location(request, backend, folder)


def test_index_killed_anywhere_then_resumed_ends_as_one_uninterrupted_run(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, photo_paths: list[Path]
) -> None:
    folder = library(tmp_path, photo_paths, COPIES, hostile=8)
    reference = catalog_at(request, backend, tmp_path / "reference")
    seconds, done = run_to_end("index", folder, "--db", reference, "--batch-size", "3")
    assert done.returncode == 0, done.stderr

    db = catalog_at(request, backend, tmp_path / "killed")
    kills = index_killed(folder, db, KILLS[backend], random.Random(16), span=seconds)
    assert kills.killed >= 1, kills
    _, resumed = run_to_end("index", folder, "--db", db, "--batch-size", "3")
    assert resumed.returncode == 0, resumed.stderr
    assert integrity(db) == "ok"
    assert catalog_rows(db) == catalog_rows(reference)
    assert not list(local_folder(db).glob("*.partial"))  # no half-written search index


def test_dupes_move_killed_anywhere_leaves_each_file_in_one_place_and_undo_restores_all(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, photo_paths: list[Path]
) -> None:
    folder = library(tmp_path, photo_paths, copies=6, hostile=0)
    originals = sorted(str(p) for p in folder.iterdir())
    db = catalog_at(request, backend, tmp_path / "catalog")
    with Catalog(db) as catalog:
        catalog.index([folder])
    before = catalog_rows(db, ids=False)
    moved_to = tmp_path / "moved"
    seconds, _ = dupes_moving(db, moved_to, kill_after=None)  # how long its moves take
    assert sum(1 for _ in moved_to.rglob("*.*")) == len(photo_paths) * 5
    _, undone = run_to_end("undo", "--db", db)
    assert undone.returncode == 0, undone.stderr
    assert catalog_rows(db, ids=False) == before

    rng = random.Random(16)
    killed = [
        dupes_killed(folder, originals, db, moved_to, rng, span=seconds)
        for _ in range(DUPES_KILLS[backend])
    ]
    assert any(killed)
    assert catalog_rows(db, ids=False) == before
