"""Compiled primitives shared by every index: popcount, code distance, hit buffers, hit sorting.

Kernels are numba ``njit(cache=True, nogil=True)``: the first call compiles (a few seconds,
then cached on disk beside the module), and ``nogil`` lets batch searches run one chunk of queries
per core from plain Python threads. Codes are ``(n, w)`` uint64 rows, most significant word first.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from pixdex.jit import njit


@intrinsic
def popcount(typingctx, value):
    """Set bits of a uint64, compiled to the CPU's popcnt instruction (LLVM ``ctpop``).

    Typed as int64 so comparisons with signed radii stay integer (numba compares uint64 with
    int64 through float64).
    """
    signature = types.int64(types.uint64)

    def codegen(context, builder, sig, args):
        ctpop = builder.module.declare_intrinsic("llvm.ctpop", [ir.IntType(64)])
        return builder.call(ctpop, args)

    return signature, codegen


@njit(cache=True, nogil=True, inline="always")
def code_distance(codes, row, query):
    """Hamming distance (bits) between ``codes[row]`` and ``query`` ``(w,)``."""
    total = 0
    for word in range(query.shape[0]):
        total += popcount(codes[row, word] ^ query[word])
    return total


@njit(cache=True, nogil=True)
def grow(ids, dists):
    """Double the capacity of a hit buffer (ids, distances), keeping its contents."""
    bigger_ids = np.empty(2 * ids.shape[0] + 16, dtype=ids.dtype)
    bigger_dists = np.empty(2 * ids.shape[0] + 16, dtype=dists.dtype)
    bigger_ids[: ids.shape[0]] = ids
    bigger_dists[: ids.shape[0]] = dists
    return bigger_ids, bigger_dists


@njit(cache=True, nogil=True)
def sort_hits(lims, ids, dists, max_distance):
    """Sort each query's hits ``[lims[i], lims[i+1])`` in place by distance, then by id.

    A stable sort by id followed by a stable counting sort on the distance (at most
    ``max_distance + 1`` values): linear in the hits after the id sort.
    """
    counts = np.zeros(max_distance + 2, dtype=np.int64)
    for query in range(lims.shape[0] - 1):
        lo, hi = lims[query], lims[query + 1]
        if hi - lo < 2:
            continue
        order = np.argsort(ids[lo:hi], kind="mergesort")
        seg_ids = ids[lo:hi][order]
        seg_dists = dists[lo:hi][order]
        counts[:] = 0
        for d in seg_dists:
            counts[d + 1] += 1
        for d in range(1, max_distance + 2):
            counts[d] += counts[d - 1]
        for j in range(hi - lo):
            slot = lo + counts[seg_dists[j]]
            counts[seg_dists[j]] += 1
            ids[slot] = seg_ids[j]
            dists[slot] = seg_dists[j]


SCAN_BLOCK = 1024
"""Rows per scan block: a vectorised pass computes a block's distances, a second pass collects
the hits only when there are some (an in-loop append would stop LLVM vectorising)."""


@njit(cache=True, nogil=True)
def scan_range(columns, ids, alive, queries, radius):
    """All codes within ``radius`` bits of each query, by brute force.

    ``columns`` is the codes transposed, ``(w, n)`` C order (see ``base.as_columns``); ``alive`` a
    uint8 mask of live rows, or
    empty when every row is live. Returns ``(lims, hit_ids, hit_dists)``: the hits of query ``i``
    are ``[lims[i], lims[i+1])``, sorted by distance then id.
    """
    lims = np.zeros(queries.shape[0] + 1, dtype=np.int64)
    out_ids = np.empty(4 * SCAN_BLOCK, dtype=np.int64)
    out_dists = np.empty(4 * SCAN_BLOCK, dtype=np.int32)
    count = 0
    for query in range(queries.shape[0]):
        out_ids, out_dists, count = scan_one(
            columns, ids, alive, queries[query], radius, out_ids, out_dists, count
        )
        lims[query + 1] = count
    out_ids = out_ids[:count].copy()
    out_dists = out_dists[:count].copy()
    sort_hits(lims, out_ids, out_dists, 64 * queries.shape[1])
    return lims, out_ids, out_dists


@njit(cache=True, nogil=True)
def scan_one(columns, ids, alive, q, radius, out_ids, out_dists, count):
    """Append every live code within ``radius`` bits of ``q`` to the hit buffer (unsorted).

    Returns the buffer (grown when needed) and its new count. Each block's distances go to a small
    buffer in one vectorised pass; only blocks with hits are then walked to collect them.
    """
    n = ids.shape[0]
    masked = alive.shape[0] > 0
    block_dists = np.empty(SCAN_BLOCK, dtype=np.int32)
    for start in range(0, n, SCAN_BLOCK):
        stop = min(n, start + SCAN_BLOCK)
        hits = block_distances(columns, q, radius, start, stop, block_dists)
        if hits == 0:
            continue
        while count + hits > out_ids.shape[0]:
            out_ids, out_dists = grow(out_ids, out_dists)
        for j in range(stop - start):
            if block_dists[j] <= radius and (not masked or alive[start + j]):
                out_ids[count] = ids[start + j]
                out_dists[count] = block_dists[j]
                count += 1
    return out_ids, out_dists, count


@njit(cache=True, nogil=True, inline="always")
def block_distances(columns, q, radius, start, stop, block_dists):
    """Distances of rows ``start .. stop-1`` to ``q`` into ``block_dists``; returns how many are
    within ``radius``. Word-major columns give every word its own contiguous stream, so LLVM
    vectorises the loop (for 256-bit codes ~2× faster than row-major rows); 64- and 256-bit codes
    are spelt out because a loop over words would stop it."""
    words = q.shape[0]
    hits = 0
    if words == 1:
        q0 = q[0]
        col0 = columns[0, start:stop]
        for j in range(stop - start):
            d = popcount(col0[j] ^ q0)
            block_dists[j] = d
            hits += d <= radius
    elif words == 4:
        q0, q1, q2, q3 = q[0], q[1], q[2], q[3]
        col0, col1 = columns[0, start:stop], columns[1, start:stop]
        col2, col3 = columns[2, start:stop], columns[3, start:stop]
        for j in range(stop - start):
            d = popcount(col0[j] ^ q0) + popcount(col1[j] ^ q1)
            d += popcount(col2[j] ^ q2) + popcount(col3[j] ^ q3)
            block_dists[j] = d
            hits += d <= radius
    else:
        for j in range(stop - start):
            d = 0
            for word in range(words):
                d += popcount(columns[word, start + j] ^ q[word])
            block_dists[j] = d
            hits += d <= radius
    return hits
