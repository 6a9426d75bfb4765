"""The storage interface behind ``Catalog``: the few operations a backend must offer.

``Catalog`` (walking, hashing, the search index) is written against ``Store`` only: SQLite
(``sqlite.py``) and PostgreSQL (``postgres.py``) implement these methods, and ``location.py``
picks one for a catalog location. Records cross the interface as plain frozen dataclasses and
numpy arrays.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from pixdex.hashing import Hash


@dataclass(frozen=True, slots=True)
class FileRecord:
    """What indexing learned about one file: its hashes by algorithm, or the error that stopped it.

    ``size`` is in bytes and ``mtime_ns`` in nanoseconds since the epoch: together they decide
    whether the file changed since it was recorded. ``signature`` is the picture's content
    signature (``pixdex.signature``), what the matching rule verifies hash candidates with.
    """

    path: str
    size: int
    mtime_ns: int
    digest: str | None = None
    width: int | None = None
    height: int | None = None
    format: str | None = None
    error: str | None = None
    hashes: Mapping[str, Hash] = field(default_factory=dict)
    signature: bytes | None = None


@dataclass(frozen=True, slots=True)
class FileState:
    """The part of a stored file an incremental run compares against the file system (and
    against what it is asked to store: the algorithms, the signature). ``signature``: whether it
    has one (stores keep only signatures of the current version: ``signature.stored_form``)."""

    size: int
    mtime_ns: int
    algorithms: frozenset[str]
    error: str | None
    signature: bool = False


@dataclass(frozen=True, slots=True)
class StoredHash:
    """One stored hash with the path of its file: what a search result shows."""

    file_id: int
    path: str
    hash: Hash


@dataclass(frozen=True, slots=True)
class StoredFile:
    """One catalogued file as the store knows it, addressed by its id (what the server serves).

    ``size`` is in bytes, ``mtime_ns`` in nanoseconds since the epoch, ``width`` and ``height``
    in pixels (None for a file that failed to hash, whose ``error`` says why).
    """

    file_id: int
    path: str
    size: int
    mtime_ns: int
    digest: str | None
    width: int | None
    height: int | None
    format: str | None
    error: str | None


@dataclass(frozen=True, slots=True)
class AlgorithmStats:
    """How many hashes one algorithm has in a store, and how many of them are degenerate."""

    algorithm: str
    bits: int
    count: int
    low_quality: int


@dataclass(frozen=True, slots=True)
class StoreStats:
    """Counts and sizes for ``pixdex info``. ``bytes_on_disk`` counts the store's own files only."""

    files: int
    failures: int
    algorithms: tuple[AlgorithmStats, ...]
    bytes_on_disk: int


class Store(Protocol):
    """A persistent map from file paths to ``FileRecord`` with a write generation counter.

    Every write (``write``, ``remove``) is atomic and durable once it returns, and bumps
    ``generation()`` when it changed anything: caches built from the stored hashes compare
    generations to know they are stale.
    """

    def catalog_id(self) -> str:
        """A random name drawn when the store was created, never reused: what files kept beside
        the store (saved search indexes) check to know they were made for this store."""
        ...

    def generation(self) -> int:
        """A counter that grows with every write that changed the stored hashes or files."""
        ...

    def states(self, folder: str) -> dict[str, FileState]:
        """The stored state of every file whose path lies under ``folder`` (an absolute path)."""
        ...

    def write(self, records: Sequence[FileRecord]) -> None:
        """Insert or replace these files (matched by path) and their hashes in one transaction.

        Raises ``CatalogError`` when the store cannot be written (read-only, a full disk), at
        once for a store known to be read-only even when ``records`` is empty: what callers
        about to do long work call first."""
        ...

    def remove(self, paths: Iterable[str]) -> int:
        """Forget these files and their hashes in one transaction; returns how many were known."""
        ...

    def algorithms(self) -> dict[str, int]:
        """The hash length in bits of each algorithm the store holds hashes of, by name."""
        ...

    def codes(self, algorithm: str, min_quality: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
        """All hashes of ``algorithm`` with ``quality >= min_quality``, for building an index.

        Returns ``(ids, codes, bits)``: ``ids`` an ``(n,)`` int64 array of file ids, ``codes`` the
        ``(n, w)`` uint64 array of their hashes in the same order, ``bits`` the hash length (0 and
        empty arrays when the store has no hash of that algorithm).
        """
        ...

    def lookup(self, ids: Sequence[int], algorithm: str) -> dict[int, StoredHash]:
        """Path and ``algorithm`` hash of each file id (ids not found are left out)."""
        ...

    def signatures(self, ids: Sequence[int]) -> np.ndarray:
        """The content signatures of these file ids as an ``(len(ids), SIGNATURE_BYTES)`` uint8
        array in the same order; a row of zeros for an id without one (unknown, failed, or
        indexed before signatures existed or with an older version's)."""
        ...

    def files_by_id(self, ids: Sequence[int]) -> dict[int, StoredFile]:
        """The stored file of each id (ids not found are left out)."""
        ...

    def files_by_path(self, paths: Sequence[str]) -> dict[str, StoredFile]:
        """The stored file at each path (paths not catalogued are left out)."""
        ...

    def records(self, ids: Sequence[int]) -> dict[int, FileRecord]:
        """The full stored record (with every algorithm's hash) of each file id; ids not found
        are left out. What duplicate finding shows per file and what an undo writes back."""
        ...

    def digest_groups(self) -> list[list[int]]:
        """Ids of the hashed files sharing a content digest (byte-identical files), one list per
        digest held by two or more files, each list ascending."""
        ...

    def failures(self) -> list[tuple[str, str]]:
        """``(path, error)`` of every file that could not be hashed, by path."""
        ...

    def stats(self) -> StoreStats:
        """Counts of files, failures and hashes per algorithm, and the bytes used on disk."""
        ...

    def close(self) -> None:
        """Release the connection; the store is unusable afterwards."""
        ...


# The stored forms every backend shares, so their rows and queries agree byte for byte.


def hash_to_blob(value: Hash) -> bytes:
    """The stored form of a hash: its uint64 words, big-endian, most significant word first."""
    return value.words.astype(">u8").tobytes()


def blob_to_hash(blob: bytes, bits: int, algorithm: str, quality: int) -> Hash:
    """The inverse of :func:`hash_to_blob`."""
    return Hash(int.from_bytes(blob, "big"), bits, algorithm, quality)


def folder_range(folder: str) -> tuple[str, str]:
    """Bounds ``lo <= path < hi`` of every path strictly inside ``folder``.

    ``hi`` replaces the trailing separator with the next character ('/' + 1 is '0'), so the range
    query uses the unique index on ``path`` instead of a ``LIKE`` scan. It assumes paths compare
    by code point, as SQLite's BINARY collation and PostgreSQL's "C" collation compare them.
    """
    prefix = folder.rstrip("/") + "/"
    return prefix, prefix[:-1] + chr(ord("/") + 1)
