"""``LinearScan``: XOR and popcount against every code — the ground truth, and the fastest
structure for small sets (no build, no memory beyond the codes and ids).

The codes are held word-major, ``(w, n)``: word ``k`` of every code is one contiguous array, which
the compiled scan streams through with vector instructions. ``codes()`` gives them back as
``(n, w)``. Small searches run in plain numpy, so the compiled kernel (and numba) is imported only
by the first search large enough to use it."""

from __future__ import annotations

import numpy as np

from pixdex.index.base import HammingIndex, Hits, as_columns

NUMPY_SCAN_WORK = 32_768
"""Codes × queries up to which a search runs in numpy instead of the compiled kernel. Per query
numpy takes ~25 µs over 10,000 64-bit codes and ~50 µs over 32,768 (~150 µs for 256-bit codes),
the compiled scan 6 and 14 µs (34 µs); but a new process pays ~0.7 s before the compiled scan's
first answer (importing numba 0.35 s, loading the kernel from numba's cache 0.35 s). So one query
against any scan ``build_index`` makes (below 32,768 codes) runs in numpy, and a one-shot
``pixdex search`` on a catalog of that size answers at once; batches and larger sets use the
compiled scan (see BENCHMARKS.md)."""


def numpy_scan_range(
    columns: np.ndarray, ids: np.ndarray, alive: np.ndarray, queries: np.ndarray, radius: int
) -> Hits:
    """``kernels.scan_range`` in plain numpy (same arguments, same sorted hits)."""
    lims = np.zeros(queries.shape[0] + 1, dtype=np.int64)
    # Seeded with empty arrays so that zero queries give empty hits of the kernel's dtypes.
    found_ids, found_dists = [ids[:0]], [np.zeros(0, dtype=np.int32)]
    live = alive.astype(bool) if alive.size else None
    for row, query in enumerate(queries):
        distances = np.zeros(columns.shape[1], dtype=np.int32)
        for word in range(columns.shape[0]):
            distances += np.bitwise_count(columns[word] ^ query[word])
        near = distances <= radius
        if live is not None:
            near &= live
        hit_ids, hit_dists = ids[near], distances[near]
        order = np.lexsort((hit_ids, hit_dists))
        found_ids.append(hit_ids[order])
        found_dists.append(hit_dists[order])
        lims[row + 1] = lims[row] + order.shape[0]
    return lims, np.concatenate(found_ids), np.concatenate(found_dists)


class LinearScan(HammingIndex):
    """Brute-force exact search: one compiled pass over the codes per query (~1 ns per code)."""

    kind = "scan"

    def _build(self, codes: np.ndarray, ids: np.ndarray) -> None:
        self._columns = as_columns(codes)
        self._ids = ids

    def _entries(self) -> tuple[np.ndarray, np.ndarray]:
        return self._columns.T, self._ids

    def _search_built(self, queries: np.ndarray, radius: int) -> Hits:
        if self._columns.shape[1] * queries.shape[0] <= NUMPY_SCAN_WORK:
            return numpy_scan_range(self._columns, self._ids, self._alive, queries, radius)
        from pixdex.index import kernels

        return kernels.scan_range(self._columns, self._ids, self._alive, queries, radius)

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"columns": self._columns, "ids": self._ids}

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        self._columns = np.ascontiguousarray(arrays["columns"])
        self._ids = np.ascontiguousarray(arrays["ids"])
