"""``VPTree``: a vantage-point tree over the distinct codes, stored as flat arrays.

Layout: the distinct codes are permuted so that every subtree is a contiguous range
``[lo, hi)`` of rows. The vantage point of a range is its first row ``lo``; the rest is split at
``mid = lo + 1 + (hi - lo - 1) // 2`` after sorting it by distance to the vantage point, so the
inner half holds the nearer codes and the tree is perfectly balanced whatever the ties (Hamming
distances take only ``bits + 1`` values, so a split at a distance threshold would degenerate).
Per vantage row the tree keeps two bounds, in bits: ``inner_max`` (the farthest inner code) and
``outer_min`` (the nearest outer code); ranges of at most ``LEAF_SIZE`` rows are leaf buckets,
scanned directly. Children are found from ``lo`` and ``hi`` alone, so there are no node objects
and no pointers; a search walks the tree with an explicit stack in one compiled loop.

Duplicate codes are stored once: ``starts[p] .. starts[p+1]`` are the entries (ids) sharing the
code in row ``p``, so a cluster of identical hashes costs one distance computation.

Build: one counting sort per level, O(n log n) distance computations in all.
"""

from __future__ import annotations

import numpy as np

from pixdex.compiled_cache import cached_kernels, refresh_on_change
from pixdex.index import kernels
from pixdex.index.base import HammingIndex, Hits
from pixdex.index.kernels import code_distance, grow, sort_hits
from pixdex.jit import njit

LEAF_SIZE = 24
"""Rows a leaf bucket holds at most: below this, scanning beats the tree's bookkeeping."""
VANTAGE_CANDIDATES = 5
"""Candidates tried per node; the one whose distances to a sample spread widest wins."""
VANTAGE_SAMPLE = 48
"""Rows in the sample a vantage candidate is judged on."""
STACK_DEPTH = 128
"""Capacity of the search stack: at most one pending range per level, and the tree is
balanced (depth ≈ log2(n / LEAF_SIZE), under 40 for any n that fits in memory)."""


class VPTree(HammingIndex):
    """Exact range and k-NN search by a balanced, array-based vantage-point tree.

    Prunes well on spread-out codes at small radii; on dense clusters at large radii it visits
    most leaves and a :class:`~pixdex.index.scan.LinearScan` is as fast.
    """

    kind = "vptree"

    def _build(self, codes: np.ndarray, ids: np.ndarray) -> None:
        distinct, inverse = unique_rows(codes)
        tree_codes = np.ascontiguousarray(distinct)
        rows = np.arange(distinct.shape[0], dtype=np.int64)
        inner_max = np.zeros(distinct.shape[0], dtype=np.int16)
        outer_min = np.zeros(distinct.shape[0], dtype=np.int16)
        build_tree(tree_codes, rows, inner_max, outer_min, LEAF_SIZE, 0x5EED)
        # rows[p] is the distinct code now at tree row p; put each entry under its tree row.
        tree_row = np.empty_like(rows)
        tree_row[rows] = np.arange(rows.shape[0])
        entry_row = tree_row[inverse]
        order = np.argsort(entry_row, kind="stable")
        self._codes = tree_codes
        self._inner_max = inner_max
        self._outer_min = outer_min
        self._ids = ids[order]
        self._starts = np.zeros(distinct.shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(entry_row, minlength=distinct.shape[0]), out=self._starts[1:])

    def _entries(self) -> tuple[np.ndarray, np.ndarray]:
        return np.repeat(self._codes, np.diff(self._starts), axis=0), self._ids

    def _built_count(self) -> int:
        return self._ids.shape[0]

    def _search_built(self, queries: np.ndarray, radius: int) -> Hits:
        return tree_range(
            self._codes,
            self._inner_max,
            self._outer_min,
            self._starts,
            self._ids,
            self._alive,
            queries,
            radius,
            LEAF_SIZE,
        )

    def _arrays(self) -> dict[str, np.ndarray]:
        return {
            "codes": self._codes,
            "inner_max": self._inner_max,
            "outer_min": self._outer_min,
            "starts": self._starts,
            "ids": self._ids,
        }

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        self._codes = np.ascontiguousarray(arrays["codes"])
        self._inner_max = np.ascontiguousarray(arrays["inner_max"])
        self._outer_min = np.ascontiguousarray(arrays["outer_min"])
        self._starts = np.ascontiguousarray(arrays["starts"])
        self._ids = np.ascontiguousarray(arrays["ids"])


def unique_rows(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of ``codes`` and, per input row, the index of its distinct row."""
    if codes.shape[1] == 1:
        distinct, inverse = np.unique(codes[:, 0], return_inverse=True)
        return distinct.reshape(-1, 1), inverse.ravel().astype(np.int64)
    distinct, inverse = np.unique(codes, axis=0, return_inverse=True)
    return distinct, inverse.ravel().astype(np.int64)


@njit(cache=True, nogil=True)
def build_tree(codes, rows, inner_max, outer_min, leaf_size, seed):
    """Permute ``codes`` (and ``rows`` with them) in place into vantage-point tree order.

    Fills ``inner_max[lo]`` and ``outer_min[lo]`` for every internal range ``[lo, hi)``.
    """
    np.random.seed(seed)
    n, words = codes.shape
    bits = 64 * words
    dists = np.empty(n, dtype=np.int64)
    spare_codes = np.empty_like(codes)
    spare_rows = np.empty_like(rows)
    counts = np.empty(bits + 2, dtype=np.int64)
    stack = np.empty((STACK_DEPTH, 2), dtype=np.int64)
    stack[0, 0], stack[0, 1] = 0, n
    depth = 1
    while depth:
        depth -= 1
        lo, hi = stack[depth, 0], stack[depth, 1]
        if hi - lo <= leaf_size:
            continue
        vantage = choose_vantage(codes, lo, hi)
        swap_rows(codes, rows, lo, vantage)
        # Counting sort of lo+1 .. hi-1 by distance to the vantage point.
        counts[:] = 0
        for row in range(lo + 1, hi):
            d = code_distance(codes, row, codes[lo])
            dists[row] = d
            counts[d + 1] += 1
        for d in range(1, bits + 2):
            counts[d] += counts[d - 1]
        for row in range(lo + 1, hi):
            slot = lo + 1 + counts[dists[row]]
            counts[dists[row]] += 1
            spare_codes[slot] = codes[row]
            spare_rows[slot] = rows[row]
        codes[lo + 1 : hi] = spare_codes[lo + 1 : hi]
        rows[lo + 1 : hi] = spare_rows[lo + 1 : hi]
        mid = lo + 1 + (hi - lo - 1) // 2
        inner_max[lo] = code_distance(codes, mid - 1, codes[lo])
        outer_min[lo] = code_distance(codes, mid, codes[lo])
        stack[depth, 0], stack[depth, 1] = mid, hi
        stack[depth + 1, 0], stack[depth + 1, 1] = lo + 1, mid
        depth += 2


@njit(cache=True, nogil=True)
def choose_vantage(codes, lo, hi):
    """The row in ``[lo, hi)`` (of a few random ones) whose distances to a random sample of the
    range vary most: a vantage point that separates the range well."""
    best, best_spread = lo, -1.0
    for _ in range(VANTAGE_CANDIDATES):
        candidate = np.random.randint(lo, hi)
        total, squares = 0.0, 0.0
        for _ in range(VANTAGE_SAMPLE):
            d = code_distance(codes, np.random.randint(lo, hi), codes[candidate])
            total += d
            squares += d * d
        spread = squares - total * total / VANTAGE_SAMPLE
        if spread > best_spread:
            best, best_spread = candidate, spread
    return best


@njit(cache=True, nogil=True, inline="always")
def swap_rows(codes, rows, a, b):
    for word in range(codes.shape[1]):
        codes[a, word], codes[b, word] = codes[b, word], codes[a, word]
    rows[a], rows[b] = rows[b], rows[a]


@njit(cache=True, nogil=True)
def tree_range(codes, inner_max, outer_min, starts, ids, alive, queries, radius, leaf_size):
    """Range search of each query down the tree; ``(lims, ids, dists)`` sorted per query."""
    n = codes.shape[0]
    masked = alive.shape[0] > 0
    lims = np.zeros(queries.shape[0] + 1, dtype=np.int64)
    out_ids = np.empty(1024, dtype=np.int64)
    out_dists = np.empty(1024, dtype=np.int32)
    count = 0
    stack = np.empty((STACK_DEPTH, 2), dtype=np.int64)
    for query in range(queries.shape[0]):
        q = queries[query]
        depth = 0
        if n:
            stack[0, 0], stack[0, 1] = 0, n
            depth = 1
        while depth:
            depth -= 1
            lo, hi = stack[depth, 0], stack[depth, 1]
            if hi - lo <= leaf_size:
                for row in range(lo, hi):
                    d = code_distance(codes, row, q)
                    if d <= radius:
                        out_ids, out_dists, count = emit(
                            starts, ids, alive, masked, row, d, out_ids, out_dists, count
                        )
                continue
            d = code_distance(codes, lo, q)
            if d <= radius:
                out_ids, out_dists, count = emit(
                    starts, ids, alive, masked, lo, d, out_ids, out_dists, count
                )
            mid = lo + 1 + (hi - lo - 1) // 2
            # Triangle inequality: a code x within radius of q has |d(q,v) - d(x,v)| <= radius.
            if d + radius >= outer_min[lo]:
                stack[depth, 0], stack[depth, 1] = mid, hi
                depth += 1
            if d - radius <= inner_max[lo]:
                stack[depth, 0], stack[depth, 1] = lo + 1, mid
                depth += 1
        lims[query + 1] = count
    out_ids = out_ids[:count].copy()
    out_dists = out_dists[:count].copy()
    sort_hits(lims, out_ids, out_dists, 64 * queries.shape[1])
    return lims, out_ids, out_dists


@njit(cache=True, nogil=True, inline="always")
def emit(starts, ids, alive, masked, row, d, out_ids, out_dists, count):
    """Append the live entries sharing the code in ``row``, at distance ``d``."""
    while count + starts[row + 1] - starts[row] > out_ids.shape[0]:
        out_ids, out_dists = grow(out_ids, out_dists)
    for entry in range(starts[row], starts[row + 1]):
        if not masked or alive[entry]:
            out_ids[count] = ids[entry]
            out_dists[count] = d
            count += 1
    return out_ids, out_dists, count


# The kernels compile the distance kernels of pixdex.index.kernels into themselves.
refresh_on_change(cached_kernels(globals()), kernels)
