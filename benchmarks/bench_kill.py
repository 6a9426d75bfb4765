"""Issue 16: ``pixdex index`` and ``dupes --move-to`` killed with SIGKILL at twenty instants.

    python -m benchmarks kill

What ``tests/test_kill_anywhere.py`` does with a few instants, with twenty of each, on a larger
library (the 14 scikit-image photographs, 6 hard links each, and 40 hostile files from
``tests/hostile_corpus.py``), instants drawn from a fixed seed, on an SQLite catalog and then on a
PostgreSQL one (a private PostgreSQL 15 server with its default, durable settings; skipped when
PostgreSQL 15 is not installed):

- index: twenty runs of ``pixdex index`` (batches of 3 files) each killed at an instant drawn
  from [0, one uninterrupted run's time], each followed by an integrity check
  (``tests/kill_runs.integrity``); a last run to completion; then the catalog's rows compared,
  byte for byte, with the uninterrupted run's (``tests/kill_runs.catalog_rows``);
- dupes: twenty runs of ``pixdex dupes --move-to``, each killed at an instant drawn from its
  moving phase, each followed by the check that every file is at its old or its new place and
  named in the journal, and by ``undo``; then the catalog's rows compared with the rows before.
"""

from __future__ import annotations

import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from benchmarks import postgres_cluster
from benchmarks.corpus import CACHE

TESTS = Path(__file__).resolve().parent.parent / "tests"
KILLS = 20


def main() -> None:
    sys.path.insert(0, str(TESTS))
    from conftest import PHOTOS, SKIMAGE_DATA

    photos = [SKIMAGE_DATA / name for name in PHOTOS]
    work = Path(tempfile.mkdtemp(prefix="bench-kill-", dir=CACHE))
    try:
        print("--- SQLite")
        names = iter(("reference.db", "killed.db", "dupes.db"))
        measure(photos, work / "sqlite", lambda: str(work / "sqlite" / next(names)))
        if not postgres_cluster.available():
            print(f"--- PostgreSQL: skipped, PostgreSQL 15 is not in {postgres_cluster.BIN}")
            return
        os.environ["XDG_CACHE_HOME"] = str(work / "cache")  # the catalogs' journals, indexes
        with postgres_cluster.PostgresCluster.start(durable=True) as cluster:
            print("--- PostgreSQL 15 (private server on a Unix socket, default settings)")
            measure(photos, work / "postgres", cluster.create_database)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(photos: list[Path], work: Path, new_catalog: Callable[[], str]) -> None:
    """The index and dupes measurements in ``work``, each catalog a ``new_catalog()``."""
    from kill_runs import (
        catalog_rows,
        dupes_killed,
        dupes_moving,
        index_killed,
        integrity,
        run_to_end,
    )
    from test_kill_anywhere import library

    from pixdex.catalog import Catalog
    from pixdex.catalog.uri import is_postgres

    work.mkdir()
    folder = library(work, photos, copies=6, hostile=40)
    files = sum(1 for p in folder.rglob("*") if p.is_file())
    reference = new_catalog()
    seconds, done = run_to_end("index", folder, "--db", reference, "--batch-size", "3")
    assert done.returncode == 0, done.stderr
    print(f"index: {files} files, one uninterrupted run {seconds:.1f} s")
    db = new_catalog()
    started = time.perf_counter()
    kills = index_killed(folder, db, KILLS, random.Random(16), span=seconds)
    _, resumed = run_to_end("index", folder, "--db", db, "--batch-size", "3")
    assert resumed.returncode == 0, resumed.stderr
    same = catalog_rows(db) == catalog_rows(reference)
    print(
        f"  {KILLS} runs killed at random instants ({kills.killed} mid-run, the others had "
        f"ended), then one to completion: integrity {integrity(db)}, rows equal to the "
        f"uninterrupted run's: {same} ({time.perf_counter() - started:.0f} s in all)"
    )
    if is_postgres(db):
        with psycopg.connect(db) as raw:
            (skipped,) = raw.execute("SELECT max(id) - count(*) FROM pixdex.files").fetchone()
        print(f"  ids drawn by killed batches and never used (compared by rank): {skipped}")
    print(f"  instants (s): {kills.instants}")

    (work / "dupes").mkdir()
    dupes_folder = library(work / "dupes", photos, copies=6, hostile=0)
    originals = sorted(str(p) for p in dupes_folder.iterdir())
    dupes_db = new_catalog()
    with Catalog(dupes_db) as catalog:
        catalog.index([dupes_folder])
    before = catalog_rows(dupes_db, ids=False)
    moved_to = work / "moved"
    span, _ = dupes_moving(dupes_db, moved_to, kill_after=None)
    with Catalog(dupes_db, create=False) as catalog:
        catalog.undo()
    print(f"dupes --move-to: {len(originals) - len(photos)} moves, {span:.2f} s of moving")
    rng = random.Random(16)
    killed = sum(
        dupes_killed(dupes_folder, originals, dupes_db, moved_to, rng, span) for _ in range(KILLS)
    )
    same = catalog_rows(dupes_db, ids=False) == before
    print(
        f"  {KILLS} runs killed while moving ({killed} mid-run): every file at its old or new "
        f"place and journaled, each time; after undo the catalog's rows as before: {same}"
    )
