"""``kill -9`` in the middle of ``pixdex index``: committed batches survive, the next run resumes;
on every backend (an SQLite file, a PostgreSQL database).

The indexer runs as a real ``pixdex index`` process over real photographs, one batch per two
files. The test watches the catalog for committed rows, freezes the process (SIGSTOP) once a
few batches are in, so that what is committed can be read without a race, then kills it with
SIGKILL: no handler runs, no ``finally``, nothing is flushed. (A PostgreSQL writer's server
session may still be finishing what the process sent before it froze: the test waits for it to
go idle before it reads. After the kill, the server rolls back the session's open transaction.)
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import psycopg

from pixdex.catalog import Catalog
from pixdex.catalog.uri import is_postgres

BATCH = 2
"""Files per committed batch: small, so the run commits many times before it could finish."""

COPIES = 30
"""Hard links per photograph: 420 files, seconds of hashing, against the 3 batches (6 files, tens
of milliseconds) the test waits for before it stops the run."""

WAIT_FOR = 3 * BATCH


def committed_rows(db: str) -> dict[str | bytes, tuple]:
    """Every committed file row of ``db`` with its hashes and signature, by path (its stored
    bytes on PostgreSQL), as a reader sees it (a reader sees only committed transactions); empty
    until the writer has created the schema."""
    if is_postgres(db):
        return _postgres_rows(db)
    if not Path(db).exists():
        return {}
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as reader:
        try:
            rows = reader.execute(
                """
                SELECT f.path, f.id, f.size, f.mtime_ns, f.digest, f.width, f.height, f.error,
                       f.indexed_at, group_concat(h.algorithm || hex(h.value) || h.quality),
                       f.signature
                FROM files AS f LEFT JOIN hashes AS h ON h.file_id = f.id
                GROUP BY f.id
                """
            ).fetchall()
        except sqlite3.OperationalError:  # no table yet, or the file is still being created
            return {}
    return {path: tuple(rest) for path, *rest in rows}


def _postgres_rows(db: str) -> dict[bytes, tuple]:
    with psycopg.connect(db, autocommit=True) as reader:
        try:
            rows = reader.execute(
                """
                SELECT f.path, f.id, f.size, f.mtime_ns, f.digest, f.width, f.height, f.error,
                       f.indexed_at,
                       string_agg(h.algorithm || encode(h.value, 'hex') || h.quality, ','),
                       s.signature
                FROM pixdex.files AS f LEFT JOIN pixdex.hashes AS h ON h.file_id = f.id
                LEFT JOIN pixdex.signatures AS s ON s.file_id = f.id
                GROUP BY f.id, s.signature
                """
            ).fetchall()
        except psycopg.errors.UndefinedTable:  # the writer has not created the schema yet
            return {}
    return {path: tuple(rest) for path, *rest in rows}


def settled(db: str) -> None:
    """Return once the frozen writer's PostgreSQL session has done all it was sent: no session
    of the database is running a statement, other than one waiting for the client (a COPY cut
    short), twice in a row 0.2 s apart. Nothing to wait for with SQLite: the writer is the
    process itself."""
    if not is_postgres(db):
        return
    busy = """
        SELECT count(*) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'
          AND wait_event IS DISTINCT FROM 'ClientRead'
    """
    with psycopg.connect(db, autocommit=True) as watcher:
        quiet = 0
        while quiet < 2:
            quiet = quiet + 1 if watcher.execute(busy).fetchone()[0] == 0 else 0
            time.sleep(0.2)


def test_kill_9_mid_run_keeps_the_committed_batches_and_the_next_run_resumes(
    tmp_path: Path, photo_paths: list[Path], location: str
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    for photo in photo_paths:
        first = folder / f"00-{photo.name}"
        shutil.copy(photo, first)
        for copy in range(1, COPIES):
            os.link(first, folder / f"{copy:02d}-{photo.name}")
    total = len(photo_paths) * COPIES
    db = location
    command = [sys.executable, "-m", "pixdex.cli", "index", str(folder), "--db", db]
    log = tmp_path / "index.log"
    with open(log, "wb") as output:
        indexer = subprocess.Popen(
            [*command, "--batch-size", str(BATCH), "--workers", "1"],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        # Bounded by the run itself: it ends when enough is committed or when the run does.
        while indexer.poll() is None and len(committed_rows(db)) < WAIT_FOR:
            time.sleep(0.005)
        indexer.send_signal(signal.SIGSTOP)
        settled(db)
        snapshot = committed_rows(db)
    finally:
        indexer.kill()  # SIGKILL; nothing if the run has ended
        indexer.wait()
    assert indexer.returncode == -signal.SIGKILL, (
        f"the run ended (status {indexer.returncode}) before it could be killed: "
        f"raise COPIES or lower BATCH\n{log.read_text()}"
    )
    assert WAIT_FOR <= len(snapshot) < total
    assert len(snapshot) % BATCH == 0  # whole batches only: a batch is one transaction

    if not is_postgres(db):
        with closing(sqlite3.connect(db)) as check:
            assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert committed_rows(db) == snapshot  # exactly the committed rows, intact

    with Catalog(db, create=False) as catalog:
        report = catalog.index([folder])
        assert (report.new, report.changed, report.failed) == (total - len(snapshot), 0, ())
        assert report.unchanged == len(snapshot)  # nothing committed was hashed again
        assert catalog.info().images == total
    after = committed_rows(db)
    assert len(after) == total
    assert {path: after[path] for path in snapshot} == snapshot  # not rewritten either
