"""The interface every Hamming-space index shares, and the bookkeeping around its kernels.

An index holds ``n`` codes (an ``(n, w)`` uint64 array, most significant word first) with an
int64 id each. A structure is built once over its codes; ``add`` puts new codes in a small
pending buffer that is scanned by brute force, and ``remove`` marks entries dead in a mask. When
either grows past a fraction of the index the structure is rebuilt over the live codes, so every
answer stays exact while updates stay cheap.

Results are arrays: ``range_search`` returns ``(ids, distances)`` sorted by distance (bits), then
id; the batch forms return ``(lims, ids, distances)`` with the hits of query ``i`` in
``[lims[i], lims[i+1])``, the layout FAISS uses for range search.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ClassVar

import numpy as np

from pixdex.index import storage

Hits = tuple[np.ndarray, np.ndarray, np.ndarray]
"""``(lims, ids, distances)`` of a batch of queries."""

PENDING_FRACTION = 1 / 16
"""Rebuild once the pending (brute-force scanned) buffer exceeds this fraction of the index."""
PENDING_MINIMUM = 4096
"""... but never for fewer pending codes than this: scanning them costs microseconds."""
DEAD_FRACTION = 1 / 4
"""Rebuild once this fraction of the built entries has been removed."""
PARALLEL_MINIMUM = 8
"""Batches smaller than this run in the caller's thread: thread hand-off costs ~0.1 ms."""


def worker_count() -> int:
    """Cores this process may use (batch searches run one chunk of queries per core)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def as_codes(codes: np.ndarray, words: int | None = None) -> np.ndarray:
    """Validate and return codes as a C-contiguous ``(n, w)`` uint64 array."""
    array = np.asarray(codes)
    if array.dtype != np.uint64:
        if not np.issubdtype(array.dtype, np.integer) or (array.size and array.min() < 0):
            raise TypeError(f"codes must be uint64 words, got dtype {array.dtype}")
        array = array.astype(np.uint64)
    if array.ndim != 2 or array.shape[1] == 0:
        raise ValueError(f"codes must be an (n, w) array of uint64 words, got shape {array.shape}")
    if words is not None and array.shape[1] != words:
        raise ValueError(f"codes have {array.shape[1]} words per code, the index has {words}")
    return np.ascontiguousarray(array)


def as_columns(codes: np.ndarray) -> np.ndarray:
    """Codes ``(n, w)`` as the word-major ``(w, n)`` array the scans read (a free view of the same
    memory for 64-bit codes, a copy otherwise)."""
    return np.ascontiguousarray(codes.T)


def as_ids(ids: np.ndarray | None, count: int, first: int = 0) -> np.ndarray:
    """Validate ids as an int64 vector of length ``count``; default ``first .. first+count-1``."""
    if ids is None:
        return np.arange(first, first + count, dtype=np.int64)
    array = np.ascontiguousarray(np.asarray(ids), dtype=np.int64).ravel()
    if array.shape[0] != count:
        raise ValueError(f"{array.shape[0]} ids for {count} codes")
    return array


def as_queries(queries: np.ndarray, words: int) -> np.ndarray:
    """Queries as ``(nq, w)`` uint64; a single ``(w,)`` code becomes one row."""
    array = np.asarray(queries)
    if array.ndim == 1:
        array = array[np.newaxis, :]
    return as_codes(array, words)


def concat_hits(parts: list[Hits]) -> Hits:
    """Join the hits of consecutive query chunks into one ``(lims, ids, distances)``."""
    if len(parts) == 1:
        return parts[0]
    lims = [np.zeros(1, dtype=np.int64)]
    offset = 0
    for part_lims, part_ids, _ in parts:
        lims.append(part_lims[1:] + offset)
        offset += part_ids.shape[0]
    return (
        np.concatenate(lims),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
    )


def in_parallel(search: Callable[[np.ndarray], Hits], queries: np.ndarray) -> Hits:
    """Run a nogil kernel over chunks of ``queries``, one chunk per core."""
    workers = worker_count()
    if queries.shape[0] < PARALLEL_MINIMUM or workers == 1:
        return search(queries)
    # More chunks than cores balances queries whose hit counts differ a lot.
    chunks = np.array_split(queries, min(queries.shape[0], 4 * workers))
    with ThreadPoolExecutor(workers) as pool:
        return concat_hits(list(pool.map(search, chunks)))


class HammingIndex:
    """Exact Hamming-distance search over packed codes with int64 ids (abstract).

    Subclasses build their structure in ``_build`` and answer ``_search_built``; this class owns
    ids, updates, batching, k-NN, persistence and memory accounting.
    """

    kind: ClassVar[str]

    def __init__(self, codes: np.ndarray, ids: np.ndarray | None = None) -> None:
        codes = as_codes(codes)
        self.words = codes.shape[1]
        self.bits = 64 * self.words
        self._alive = np.zeros(0, dtype=np.uint8)
        self._dead = 0
        self._pending_codes = np.zeros((0, self.words), dtype=np.uint64)
        self._pending_ids = np.zeros(0, dtype=np.int64)
        self._build(codes, as_ids(ids, codes.shape[0]))

    # --- what a structure provides -------------------------------------------------------------

    def _build(self, codes: np.ndarray, ids: np.ndarray) -> None:
        raise NotImplementedError

    def _entries(self) -> tuple[np.ndarray, np.ndarray]:
        """Built ``(codes, ids)`` in entry order: the order ``_alive`` refers to."""
        raise NotImplementedError

    def _search_built(self, queries: np.ndarray, radius: int) -> Hits:
        """Range search over the built entries, skipping dead ones, hits sorted."""
        raise NotImplementedError

    def _arrays(self) -> dict[str, np.ndarray]:
        """The arrays that make up the built structure (saved to disk, counted in nbytes)."""
        raise NotImplementedError

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        """Adopt arrays written by ``_arrays`` (the inverse of saving)."""
        raise NotImplementedError

    # --- size and updates ----------------------------------------------------------------------

    def __len__(self) -> int:
        return self._built_count() - self._dead + self._pending_ids.shape[0]

    def _built_count(self) -> int:
        return self._entries()[1].shape[0]

    @property
    def nbytes(self) -> int:
        """Memory held by the index's arrays, in bytes."""
        arrays = [*self._arrays().values(), self._alive, self._pending_codes, self._pending_ids]
        return int(sum(a.nbytes for a in arrays))

    def add(self, codes: np.ndarray, ids: np.ndarray | None = None) -> None:
        """Insert codes; ``ids`` default to consecutive values after the largest id held."""
        codes = as_codes(codes, self.words)
        if ids is None:
            held = self.ids()
            first = int(held.max()) + 1 if held.size else 0
            ids = as_ids(None, codes.shape[0], first)
        else:
            ids = as_ids(ids, codes.shape[0])
        self._pending_codes = np.concatenate([self._pending_codes, codes])
        self._pending_ids = np.concatenate([self._pending_ids, ids])
        limit = max(PENDING_MINIMUM, PENDING_FRACTION * self._built_count())
        if self._pending_ids.shape[0] > limit:
            self.compact()

    def remove(self, ids: np.ndarray | list[int] | int) -> int:
        """Delete every entry whose id is in ``ids``; returns how many entries went."""
        doomed = np.atleast_1d(np.asarray(ids, dtype=np.int64))
        removed = 0
        keep = ~np.isin(self._pending_ids, doomed)
        removed += int((~keep).sum())
        self._pending_codes = self._pending_codes[keep]
        self._pending_ids = self._pending_ids[keep]
        built_ids = self._entries()[1]
        hit = np.isin(built_ids, doomed)
        if self._alive.shape[0]:
            hit &= self._alive.astype(bool)
        newly_dead = int(hit.sum())
        if newly_dead:
            if not self._alive.shape[0]:
                self._alive = np.ones(built_ids.shape[0], dtype=np.uint8)
            self._alive[hit] = 0
            self._dead += newly_dead
            removed += newly_dead
            if self._dead > DEAD_FRACTION * built_ids.shape[0]:
                self.compact()
        return removed

    def compact(self) -> None:
        """Rebuild the structure over the live codes, emptying the pending buffer."""
        if not self._dead and not self._pending_ids.shape[0]:
            return
        codes, ids = self.codes(), self.ids()
        self._alive = np.zeros(0, dtype=np.uint8)
        self._dead = 0
        self._pending_codes = np.zeros((0, self.words), dtype=np.uint64)
        self._pending_ids = np.zeros(0, dtype=np.int64)
        self._build(codes, ids)

    def codes(self) -> np.ndarray:
        """The live codes, in the same order as ``ids()``."""
        codes, _ = self._entries()
        if self._alive.shape[0]:
            codes = codes[self._alive.astype(bool)]
        return np.concatenate([codes, self._pending_codes])

    def ids(self) -> np.ndarray:
        """The live ids, in the same order as ``codes()``."""
        _, ids = self._entries()
        if self._alive.shape[0]:
            ids = ids[self._alive.astype(bool)]
        return np.concatenate([ids, self._pending_ids])

    # --- search --------------------------------------------------------------------------------

    def _search_chunk(self, queries: np.ndarray, radius: int) -> Hits:
        hits = self._search_built(queries, radius)
        if self._pending_ids.shape[0]:
            from pixdex.index import kernels  # numba: only once codes were added after the build

            extra = kernels.scan_range(
                as_columns(self._pending_codes),
                self._pending_ids,
                self._alive[:0],
                queries,
                radius,
            )
            lims = hits[0] + extra[0]
            ids = np.empty(lims[-1], dtype=np.int64)
            dists = np.empty(lims[-1], dtype=np.int32)
            for q in range(queries.shape[0]):
                a = hits[1][hits[0][q] : hits[0][q + 1]], hits[2][hits[0][q] : hits[0][q + 1]]
                b = extra[1][extra[0][q] : extra[0][q + 1]], extra[2][extra[0][q] : extra[0][q + 1]]
                ids[lims[q] : lims[q + 1]] = np.concatenate([a[0], b[0]])
                dists[lims[q] : lims[q + 1]] = np.concatenate([a[1], b[1]])
            kernels.sort_hits(lims, ids, dists, self.bits)
            hits = (lims, ids, dists)
        return hits

    def range_search(self, query: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
        """Ids and distances (bits) of every code within ``radius`` bits of one query ``(w,)``.

        Sorted by distance, then id. ``radius`` ≥ the code length returns every code.
        """
        queries = as_queries(query, self.words)
        if queries.shape[0] != 1:
            raise ValueError(f"range_search takes one query, got {queries.shape[0]}")
        _, ids, dists = self._search_chunk(queries, self._clip(radius))
        return ids, dists

    def range_search_batch(self, queries: np.ndarray, radius: int) -> Hits:
        """Range search for each row of ``queries`` ``(nq, w)``, on every core.

        Returns ``(lims, ids, distances)``: query ``i``'s hits are ``[lims[i], lims[i+1])``.
        """
        queries = as_queries(queries, self.words)
        radius = self._clip(radius)
        return in_parallel(lambda chunk: self._search_chunk(chunk, radius), queries)

    def knn(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest codes to one query: ``(ids, distances)``, ties broken by id.

        Fewer than ``k`` come back only when the index holds fewer than ``k`` codes.
        """
        ids, dists = self.knn_batch(query, k)
        found = min(k, len(self))
        return ids[0, :found], dists[0, :found]

    def knn_batch(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """k-NN for each row of ``queries``: ``(ids, distances)``, each ``(nq, k)``.

        Rows are padded with id -1 and distance -1 when the index holds fewer than ``k`` codes.
        Exact: a range search at a growing radius until it holds ``k`` hits, then the first ``k``
        in (distance, id) order.
        """
        if k < 0:
            raise ValueError(f"k must be non-negative, got {k}")
        queries = as_queries(queries, self.words)
        out_ids = np.full((queries.shape[0], k), -1, dtype=np.int64)
        out_dists = np.full((queries.shape[0], k), -1, dtype=np.int32)
        wanted = min(k, len(self))
        todo = np.arange(queries.shape[0]) if wanted else np.zeros(0, dtype=np.int64)
        radius = 0
        while todo.size:
            lims, ids, dists = self.range_search_batch(queries[todo], radius)
            counts = np.diff(lims)
            done = (counts >= wanted) | (radius >= self.bits)
            for row in np.flatnonzero(done):
                lo = lims[row]
                out_ids[todo[row], :wanted] = ids[lo : lo + wanted]
                out_dists[todo[row], :wanted] = dists[lo : lo + wanted]
            todo = todo[~done]
            radius = min(self.bits, 2 * radius + 2)
        return out_ids, out_dists

    def _clip(self, radius: int) -> int:
        radius = int(radius)
        if radius < 0:
            raise ValueError(f"radius must be non-negative bits, got {radius}")
        return min(radius, self.bits)

    # --- persistence ---------------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write the index to an uncompressed ``.npz`` (no pickle), folding pending updates in."""
        self.compact()
        storage.save(path, self.kind, self.words, self._arrays())

    @classmethod
    def load(cls, path: str | Path) -> HammingIndex:
        """Read an index written by ``save``; raises ValueError if the file holds another kind."""
        kind, words, arrays = storage.load(path)
        if kind != cls.kind:
            raise ValueError(f"{path} holds a {kind} index, not a {cls.kind}")
        return cls._from_arrays(words, arrays)

    @classmethod
    def _from_arrays(cls, words: int, arrays: dict[str, np.ndarray]) -> HammingIndex:
        index = cls.__new__(cls)
        index.words = words
        index.bits = 64 * words
        index._alive = np.zeros(0, dtype=np.uint8)
        index._dead = 0
        index._pending_codes = np.zeros((0, words), dtype=np.uint64)
        index._pending_ids = np.zeros(0, dtype=np.int64)
        index._restore(arrays)
        return index
