"""``sharded_pairs_within``: the exact self-join of ``pixdex.index.pairs_within`` across the
workers of a Dask cluster.

Pigeonhole: split the code's bits into ``D + 1`` disjoint substrings; two codes at most ``D``
bits apart differ in at most ``D`` bits, so they agree exactly on at least one substring. Every
code is therefore sent ``D + 1`` times, once per substring ``k``, to the partition chosen by a
hash of ``(k, the code's value of substring k)``: two codes within ``D`` meet in the partition
of every substring they agree on. A partition's worker groups its codes by ``(k, value)`` and
joins each group with ``pairs_within`` at radius ``D`` (the group's codes agree on substring
``k``, so those bits are dropped first, which leaves the local join's blocking its best plan).
A pair is kept only from the lowest substring it agrees on, so it is reported once, with no
de-duplication across workers.

Work: each code takes part in ``D + 1`` group joins, each over a ``2^-width`` slice of the codes,
and the codes cross the network ``D + 1`` times; in exchange the join spreads over every worker
and no machine holds more than its partitions.
"""

from __future__ import annotations

import operator

import numpy as np
from distributed import Client

from pixdex.catalog.engine import Pairs
from pixdex.distributed.sharded import NoWorkersError
from pixdex.index.base import as_codes, as_ids

MAX_SUBSTRING_BITS = 32
"""Widest substring: a key of 32 bits already tells codes apart, and the bit extraction of
``pixdex.index.selfjoin`` takes substrings of at most 64 bits."""

SMALL_GROUP = 512
"""Groups of fewer codes are joined by comparing all their pairs in numpy, all such groups of a
size at once: thousands of tiny groups (clustered codes, a small catalog) would otherwise cost a
call to the local join each."""

MIX = np.uint64(0x9E3779B97F4A7C15)
"""Odd multiplier (2^64 / golden ratio) that spreads ``(substring, value)`` keys over partitions."""


def sharded_pairs_within(
    client: Client,
    codes: np.ndarray,
    ids: np.ndarray | None,
    radius: int,
    *,
    partitions: int | None = None,
) -> Pairs:
    """Every unordered pair of codes at most ``radius`` bits apart, joined on the workers of the
    Dask ``client``'s cluster: the same pairs as ``pixdex.index.pairs_within`` (``left`` from the
    earlier row, a row never paired with itself, pairs in no particular order).

    ``partitions`` (default: one per worker thread) is how many parts the routed codes are split
    into; each is joined by one task on one thread (the cluster's threads are the parallelism).
    Raises ``NoWorkersError`` when the cluster has no worker.
    """
    codes = as_codes(codes)
    ids = as_ids(ids, codes.shape[0])
    if radius < 0:
        raise ValueError(f"the radius must be ≥ 0 bits, got {radius}")
    bits = 64 * codes.shape[1]
    radius = min(int(radius), bits)
    if codes.shape[0] < 2:
        return _empty()
    workers = client.nthreads()  # asked of the scheduler: scheduler_info() is a cached copy
    if not workers:
        raise NoWorkersError(f"the Dask cluster at {client.scheduler.address} has no worker")
    count = partitions or sum(workers.values())
    starts, widths = substrings(bits, radius + 1)
    bounds = np.linspace(0, codes.shape[0], len(workers) + 1).astype(np.int64)
    chunks = client.scatter(
        [codes[bounds[i] : bounds[i + 1]] for i in range(len(workers))], hash=False
    )
    routed = [
        client.submit(route, chunk, int(bounds[i]), starts, widths, count, pure=False)
        for i, chunk in enumerate(chunks)
    ]
    joined = [
        client.submit(
            join_partition,
            [client.submit(operator.getitem, part, p) for part in routed],
            starts,
            widths,
            radius,
            pure=False,
        )
        for p in range(count)
    ]
    left, right, dists = (np.concatenate(a) for a in zip(*client.gather(joined), strict=True))
    return ids[left], ids[right], dists


def substrings(bits: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` disjoint substrings of the low bits of ``bits``-bit codes, as ``(starts,
    widths)`` (bit 0 is the least significant): as wide as ``MAX_SUBSTRING_BITS``, widths
    differing by at most one, 0 when ``count > bits``. The pigeonhole argument holds on any
    disjoint substrings, whether or not they cover every bit."""
    covered = min(bits, count * MAX_SUBSTRING_BITS)
    widths = np.full(count, covered // count, dtype=np.int64)
    widths[: covered % count] += 1
    starts = np.concatenate(([0], np.cumsum(widths)[:-1])).astype(np.int64)
    return starts, widths


def route(
    codes: np.ndarray, first: int, starts: np.ndarray, widths: np.ndarray, partitions: int
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Send rows ``first ..`` (``codes``) to their partitions, once per substring: for each
    partition, ``(codes, rows, substring)`` of the copies it receives."""
    from pixdex.index.selfjoin import substring_keys

    n = codes.shape[0]
    destination = np.empty((starts.shape[0], n), dtype=np.int64)
    for k in range(starts.shape[0]):
        keys = substring_keys(codes, starts[k], widths[k])
        mixed = (keys ^ np.uint64(k << 48)) * MIX
        destination[k] = ((mixed >> np.uint64(32)) % np.uint64(partitions)).astype(np.int64)
    destination = destination.ravel()
    order = np.argsort(destination, kind="stable")  # substring-major, then row: k = pos // n
    edges = np.concatenate(([0], np.cumsum(np.bincount(destination, minlength=partitions))))
    out = []
    for p in range(partitions):
        copies = order[edges[p] : edges[p + 1]]
        rows = copies % n
        out.append((codes[rows], rows + first, (copies // n).astype(np.int16)))
    return out


def join_partition(
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    starts: np.ndarray,
    widths: np.ndarray,
    radius: int,
) -> Pairs:
    """The pairs within ``radius`` among one partition's copies (``route``'s outputs for it), as
    global rows ``(lower, higher, distance)``: each group of copies that agree on substring
    ``k`` is joined, and a pair agreeing on an earlier substring is left to that one."""
    from pixdex.index.selfjoin import substring_keys

    codes = np.concatenate([p[0] for p in parts])
    rows = np.concatenate([p[1] for p in parts])
    substring = np.concatenate([p[2] for p in parts])
    found = [_empty()]
    for k in np.unique(substring).tolist():
        mine = np.flatnonzero(substring == k)
        keys = substring_keys(codes[mine], starts[k], widths[k])
        order = np.argsort(keys, kind="stable")
        mine = mine[order]
        edges = np.concatenate(([0], np.flatnonzero(np.diff(keys[order])) + 1, [mine.shape[0]]))
        a, b, dists = _group_pairs(codes[mine], edges, int(starts[k]), int(widths[k]), radius)
        earlier = np.zeros(a.shape[0], dtype=bool)
        for t in range(k):
            earlier |= substring_keys(codes[mine[a]], starts[t], widths[t]) == substring_keys(
                codes[mine[b]], starts[t], widths[t]
            )
        left, right = rows[mine[a[~earlier]]], rows[mine[b[~earlier]]]
        found.append((np.minimum(left, right), np.maximum(left, right), dists[~earlier]))
    return tuple(np.concatenate([f[i] for f in found]) for i in range(3))


def _group_pairs(
    codes: np.ndarray, edges: np.ndarray, start: int, width: int, radius: int
) -> Pairs:
    """Pairs within ``radius`` inside each group ``codes[edges[g]:edges[g+1]]`` (codes that agree
    on bits ``start .. start+width-1``), as positions in ``codes``. Small groups are compared all
    pairs at once in numpy; large ones go to ``pairs_within`` without the shared bits."""
    from pixdex.index.selfjoin import pairs_within

    sizes = np.diff(edges)
    found = [_empty()]
    for size in np.unique(sizes[(sizes >= 2) & (sizes < SMALL_GROUP)]).tolist():
        first = edges[:-1][sizes == size]
        i, j = np.triu_indices(size, 1)
        a, b = (first[:, None] + i).ravel(), (first[:, None] + j).ravel()
        dists = np.bitwise_count(codes[a] ^ codes[b]).sum(axis=1, dtype=np.int32)
        near = dists <= radius
        found.append((a[near], b[near], dists[near]))
    for first, size in zip(
        edges[:-1][sizes >= SMALL_GROUP].tolist(), sizes[sizes >= SMALL_GROUP].tolist(), strict=True
    ):
        a, b, dists = pairs_within(
            without_bits(codes[first : first + size], start, width), None, radius, workers=1
        )
        found.append((a + first, b + first, dists))
    return tuple(np.concatenate([f[i] for f in found]) for i in range(3))


def without_bits(codes: np.ndarray, start: int, width: int) -> np.ndarray:
    """``codes`` with bits ``start .. start+width-1`` removed: the bits above move down and the
    top ``width`` bits become 0. Distances between codes that agree on the removed bits stay the
    same, and the local join sees only bits that vary."""
    if width == 0:
        return codes
    n, words = codes.shape
    total = 64 * words
    unpacked = np.unpackbits(codes.astype(">u8").view(np.uint8).reshape(n, 8 * words), axis=1)
    kept = np.ones(total, dtype=bool)
    kept[total - start - width : total - start] = False  # column j holds bit total - 1 - j
    shifted = np.zeros_like(unpacked)
    shifted[:, width:] = unpacked[:, kept]
    return np.packbits(shifted, axis=1).view(">u8").astype(np.uint64).reshape(n, words)


def _empty() -> Pairs:
    return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32)
