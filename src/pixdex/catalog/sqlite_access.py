"""Opening an SQLite catalog read-write, or read-only when it cannot be written, and SQLite's
errors as one line a user can act on.

A catalog on a read-only mount, in a folder the user may not write, or whose file is read-only,
can still be searched and served: it is opened with SQLite's ``mode=ro``, and with
``immutable=1`` when even that fails (a WAL-mode database needs its ``-shm`` file, which a
read-only folder cannot hold; ``immutable`` reads the main file alone, which is complete after
the last writer closed it cleanly). Writing to it is refused with a ``CatalogError``.

A full disk, a read-only file or an I/O error met while writing becomes a ``CatalogError`` that
names the catalog and what to do; SQLite has already rolled the failed transaction back, so the
catalog keeps every batch committed before it and opens and searches as before.
"""

from __future__ import annotations

import functools
import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

from pixdex.catalog.errors import CatalogError

TEXT = functools.partial(str, encoding="utf-8", errors="surrogateescape")
"""How TEXT comes back from SQLite: UTF-8, with the bytes of a file name that is not valid UTF-8
as surrogate escapes, exactly as ``os.fsdecode`` made the name (see ``pixdex.names``)."""

BUSY_TIMEOUT_MS = 30_000
"""How long a write waits for another process's write transaction to end, in milliseconds."""

PAGE_SIZE = 16384
"""Bytes per database page of a new catalog. A file's row is about 1.7 KB, most of it the
1,539-byte content signature: a 4 KiB page holds two and wastes a fifth of itself, a 16 KiB page
holds nine (the hard corpus's catalog: 2,272 → 2,103 bytes per file)."""

# SQLite's primary result codes (extended codes carry them in their low byte).
_READONLY, _IOERR, _FULL, _CANTOPEN, _NOTADB = 8, 10, 13, 14, 26


def writable(path: Path) -> bool:
    """Whether a catalog at ``path`` can be written: the file (if it exists) and its folder,
    which holds the WAL and shared-memory files beside it. ``os.access`` also answers False on a
    read-only mount, for root too."""
    folder_ok = os.access(path.parent, os.W_OK | os.X_OK)
    return folder_ok and (not path.exists() or os.access(path, os.W_OK))


def connect(path: Path, *, read_only: bool) -> sqlite3.Connection:
    """An autocommit connection to the catalog at ``path`` (every write opens its own explicit
    transaction); ``read_only`` opens it for reading only (see the module docstring)."""
    if read_only:
        db = _connect_read_only(path)
    else:
        db = sqlite3.connect(path, isolation_level=None)
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # Only a new, empty catalog takes it (before WAL mode); an existing one keeps its own.
        db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
    db.text_factory = TEXT
    db.execute("PRAGMA foreign_keys = ON")
    return db


def _connect_read_only(path: Path) -> sqlite3.Connection:
    uri = "file:" + quote(os.fsencode(path.absolute()))
    db = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        # No -shm file beside it and no way to create one: read the main file alone.
        db.close()
        db = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return db


def explain(path: Path, error: sqlite3.Error, doing: str) -> CatalogError:
    """``error``, met while ``doing`` (e.g. "storing 500 files"), as a one-line CatalogError."""
    code = (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF
    if code == _FULL:
        return CatalogError(
            f"{path}: the disk is full: stopped while {doing}; what was committed before is "
            "kept. Free some space and run again to resume"
        )
    if code == _READONLY:
        return read_only_error(path)
    if code == _NOTADB:
        return CatalogError(f"{path}: not a pixdex catalog ({error})")
    if code == _CANTOPEN:
        return CatalogError(f"{path}: cannot open the catalog file ({error})")
    if code == _IOERR:
        return CatalogError(f"{path}: the disk failed while {doing} ({error}); run again")
    return CatalogError(f"{path}: SQLite error while {doing} ({error})")


def read_only_error(path: Path) -> CatalogError:
    """The refusal to write a read-only catalog."""
    return CatalogError(
        f"{path}: the catalog is read-only (its file, folder or file system): it can be "
        "searched and served, not changed"
    )
