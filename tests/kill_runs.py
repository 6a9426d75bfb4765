"""``pixdex index`` and ``pixdex dupes --move-to`` killed with SIGKILL at random instants.

Used by ``tests/test_kill_anywhere.py`` (a few instants) and ``python -m benchmarks kill``
(twenty). Each run is a real ``pixdex`` process; SIGKILL leaves it no handler, no ``finally``,
no flush. What must hold afterwards:

- index: after every kill the catalog passes SQLite's integrity check, and after a last run to
  completion its rows equal, byte for byte, those of one uninterrupted run over the same files
  (``catalog_rows``: every table but ``meta``, every column but ``indexed_at``);
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

from pixdex.catalog import Catalog

PIXDEX = [sys.executable, "-m", "pixdex.cli"]


def catalog_rows(db: Path, *, ids: bool = True) -> dict[str, list[tuple]]:
    """Every row of the catalog's tables but ``meta`` (its random catalog id and write counter),
    without ``indexed_at``, as raw bytes; with ``ids=False`` rows are keyed by path instead."""
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


def integrity(db: Path) -> str:
    if not db.exists():
        return "ok"  # killed before it was created
    with closing(sqlite3.connect(db)) as raw:
        return raw.execute("PRAGMA integrity_check").fetchone()[0]


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


def index_killed(folder: Path, db: Path, kills: int, rng: random.Random, span: float) -> Kills:
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


def journal_lines(db: Path) -> list[dict]:
    journal = db.with_name(f"{db.name}.journal.jsonl")
    if not journal.exists():
        return []
    return [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]


def dupes_moving(db: Path, moved_to: Path, kill_after: float | None) -> tuple[float, bool]:
    """Run ``pixdex dupes --move-to``; once its first move is journaled, wait ``kill_after``
    seconds and SIGKILL it (None: let it end). Returns the seconds from its first move to its
    kill, or to its last journal line, and whether it was killed."""
    journal = db.with_name(f"{db.name}.journal.jsonl")

    def size() -> int:
        return journal.stat().st_size if journal.exists() else 0

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
    root: Path, originals: list[str], db: Path, moved_to: Path, rng: random.Random, span: float
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
