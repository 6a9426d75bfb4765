"""``pixdex index`` and ``pixdex dupes --move-to`` killed with SIGKILL at random instants.

Used by ``tests/test_kill_anywhere.py`` (a few instants) and ``python -m benchmarks kill``
(twenty), on a catalog of either backend (a location: an SQLite file's path or a PostgreSQL URI).
Each run is a real ``pixdex`` process; SIGKILL leaves it no handler, no ``finally``, no flush. What
must hold afterwards:

- index: after every kill the catalog passes an integrity check (``integrity``), and after a last
  run to completion its rows equal, byte for byte, those of one uninterrupted run over the same
  files (``catalog_rows``: every table but ``meta``, every column but ``indexed_at``);
- dupes: after every kill each file is at its old place or its new one, never both, never
  neither; the journal holds a "move" line for every file that left its place; ``undo`` puts
  every file back and the catalog's rows are what they were (but ``id``, which a restored row
  gets anew, and ``indexed_at``). The undo runs in this process: a second start-up of the
  command line would only cost time.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from pixdex.catalog import Catalog
from pixdex.catalog.actions import journal_path
from pixdex.catalog.uri import is_postgres

PIXDEX = [sys.executable, "-m", "pixdex.cli"]

_POSTGRES_ROWS = {
    "files": """
        SELECT f.id, f.path, f.size, f.mtime_ns, f.digest, f.width, f.height, f.format, f.error,
               s.signature
        FROM pixdex.files AS f LEFT JOIN pixdex.signatures AS s ON s.file_id = f.id
        ORDER BY f.path
    """,
    "hashes": """
        SELECT f.path, h.algorithm, h.bits, h.value, h.quality, h.file_id
        FROM pixdex.hashes AS h JOIN pixdex.files AS f ON f.id = h.file_id
        ORDER BY f.path, h.algorithm
    """,
    "algorithms": "SELECT name, bits FROM pixdex.algorithms ORDER BY name",
}
"""The rows ``catalog_rows`` reads from a PostgreSQL catalog: SQLite's, column for column (the
signature has a table of its own there)."""


def catalog_rows(db: str | Path, *, ids: bool = True) -> dict[str, list[tuple]]:
    """Every row of the catalog's tables but ``meta`` (its random catalog id and write counter),
    without ``indexed_at``, as raw bytes; with ``ids=False`` rows are keyed by path instead.

    A PostgreSQL catalog's ids are replaced by their rank (1 for the lowest): PostgreSQL draws
    them from a sequence, and a value drawn by a transaction that never committed (a killed
    batch) is not given back, so a resumed catalog's ids may skip numbers. Ranks still say that
    every file has the place in the order of ids, and every hash the file, it has in the
    uninterrupted run's catalog."""
    if is_postgres(db):
        return _ranked(_postgres_rows(str(db)), ids=ids)
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as raw:
        raw.text_factory = bytes
        files = raw.execute(
            "SELECT id, path, size, mtime_ns, digest, width, height, format, error, signature "
            "FROM files ORDER BY path"
        ).fetchall()
        hashes = raw.execute(
            "SELECT f.path, h.algorithm, h.bits, h.value, h.quality, h.file_id "
            "FROM hashes AS h JOIN files AS f ON f.id = h.file_id ORDER BY f.path, h.algorithm"
        ).fetchall()
        algorithms = raw.execute("SELECT name, bits FROM algorithms ORDER BY name").fetchall()
    if not ids:
        files = [row[1:] for row in files]
        hashes = [row[:-1] for row in hashes]
    return {"files": files, "hashes": hashes, "algorithms": algorithms}


def _postgres_rows(uri: str) -> dict[str, list[tuple]]:
    with psycopg.connect(uri) as raw:
        return {table: raw.execute(query).fetchall() for table, query in _POSTGRES_ROWS.items()}


def _ranked(rows: dict[str, list[tuple]], *, ids: bool) -> dict[str, list[tuple]]:
    """``catalog_rows``' rows of a PostgreSQL catalog, ids replaced by their ranks (or dropped)."""
    rank = {file_id: n for n, file_id in enumerate(sorted(r[0] for r in rows["files"]), 1)}
    if ids:
        files = [(rank[r[0]], *r[1:]) for r in rows["files"]]
        hashes = [(*r[:-1], rank[r[-1]]) for r in rows["hashes"]]
    else:
        files = [r[1:] for r in rows["files"]]
        hashes = [r[:-1] for r in rows["hashes"]]
    return {"files": files, "hashes": hashes, "algorithms": rows["algorithms"]}


def integrity(db: str | Path) -> str:
    """ "ok", or what is wrong: SQLite's own integrity check of the file; for a PostgreSQL
    catalog (whose server keeps its own files whole), that no hashed file lacks its hashes or
    its signature, i.e. no batch was stored in part."""
    if is_postgres(db):
        return _postgres_integrity(str(db))
    if not Path(db).exists():
        return "ok"  # killed before it was created
    with closing(sqlite3.connect(db)) as raw:
        return raw.execute("PRAGMA integrity_check").fetchone()[0]


def _postgres_integrity(uri: str) -> str:
    with psycopg.connect(uri) as raw:
        if raw.execute("SELECT to_regclass('pixdex.meta')").fetchone() == (None,):
            return "ok"  # killed before the schema was created (in one transaction)
        (partial,) = raw.execute(
            """
            SELECT count(*) FROM pixdex.files AS f
            WHERE f.error IS NULL AND (
                NOT EXISTS (SELECT FROM pixdex.hashes AS h WHERE h.file_id = f.id)
                OR NOT EXISTS (SELECT FROM pixdex.signatures AS s WHERE s.file_id = f.id))
            """
        ).fetchone()
    return "ok" if partial == 0 else f"{partial} hashed files without their hashes or signature"


def journal(db: str | Path) -> Path:
    """The journal of ``dupes`` actions of the catalog at ``db``: beside an SQLite file, in the
    cache folder for a PostgreSQL catalog."""
    with Catalog(db, create=False) as catalog:
        return journal_path(catalog.path)


def local_folder(db: str | Path) -> Path:
    """The folder of the catalog's local files (saved search indexes, journal)."""
    return journal(db).parent


@dataclass
class Kills:
    """What happened to the killed runs: how many were killed mid-run (the others had ended
    before their instant came), and the instants, in seconds after the start."""

    killed: int = 0
    instants: list[float] = field(default_factory=list)


def run_to_end(*args: str | Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run([*PIXDEX, *map(str, args)], capture_output=True, text=True, check=False)
    return time.perf_counter() - started, done


def kill_at(args: list[str | Path], instant: float) -> bool:
    """Start ``pixdex ARGS``, SIGKILL it ``instant`` seconds later; True if it was still running."""
    process = subprocess.Popen(
        [*PIXDEX, *map(str, args)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        process.wait(timeout=instant)
        return False  # it ended first
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return True


def index_killed(
    folder: Path, db: str | Path, kills: int, rng: random.Random, span: float
) -> Kills:
    """``kills`` runs of ``pixdex index FOLDER`` (batches of 3 files), each killed at an instant
    drawn from [0, ``span``] seconds; each checked for integrity."""
    done = Kills()
    for _ in range(kills):
        instant = rng.uniform(0.0, span)
        done.instants.append(round(instant, 3))
        done.killed += kill_at(["index", folder, "--db", db, "--batch-size", "3"], instant)
        assert integrity(db) == "ok"
    return done


def places(originals: list[str], root: Path, moved_to: Path) -> dict[str, str]:
    """Where each original file is: "old", "new", "both" or "neither"."""
    found = {}
    for path in originals:
        old = os.path.lexists(path)
        new = os.path.lexists(moved_to / Path(path).relative_to(root))
        found[path] = {(True, False): "old", (False, True): "new"}.get(
            (old, new), "both" if old else "neither"
        )
    return found


def journal_lines(db: str | Path) -> list[dict]:
    path = journal(db)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def dupes_moving(db: str | Path, moved_to: Path, kill_after: float | None) -> tuple[float, bool]:
    """Run ``pixdex dupes --move-to``; once its first move is journaled, wait ``kill_after``
    seconds and SIGKILL it (None: let it end). Returns the seconds from its first move to its
    kill, or to its last journal line, and whether it was killed."""
    path = journal(db)

    def size() -> int:
        return path.stat().st_size if path.exists() else 0

    before = size()
    process = subprocess.Popen(
        [*PIXDEX, "dupes", "--db", str(db), "--move-to", str(moved_to)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    killed = False
    try:
        while process.poll() is None and size() <= before:
            time.sleep(0.002)  # until the first move is journaled (bounded by the run itself)
        moving = last = time.perf_counter()
        if kill_after is None:
            grown = size()
            while process.poll() is None:  # the moving phase ends with its last journal line
                time.sleep(0.002)
                if size() != grown:
                    grown, last = size(), time.perf_counter()
        else:
            try:
                process.wait(timeout=kill_after)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
                process.wait()
                killed = True
            last = time.perf_counter()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert killed or process.returncode == 0
    return last - moving, killed


def dupes_killed(
    root: Path,
    originals: list[str],
    db: str | Path,
    moved_to: Path,
    rng: random.Random,
    span: float,
) -> bool:
    """One ``pixdex dupes --move-to`` run killed ``[0, span]`` seconds after its first move;
    checks every file's place against the journal, then ``pixdex undo``. True if the kill came
    before the run ended."""
    before = len(journal_lines(db))
    _, killed = dupes_moving(db, moved_to, rng.uniform(0.0, span))
    where = places(originals, root, moved_to)
    assert set(where.values()) <= {"old", "new"}, where
    run = journal_lines(db)[before:]
    journaled = {e["path"] for e in run if e["action"] == "move"}
    done = {e["path"] for e in run if e["action"] == "done"}
    left = {path for path, place in where.items() if place == "new"}
    assert left <= journaled  # the journal names every file that left its place
    assert done <= left  # and each "done" one did
    assert len(journaled - done) <= 1  # at most the one in flight at the kill is in doubt
    with Catalog(db, create=False) as catalog:  # what `pixdex undo` does, without its start-up
        assert catalog.undo().failed == ()
    assert set(places(originals, root, moved_to).values()) == {"old"}
    return killed
