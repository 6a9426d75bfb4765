"""All pairs of codes within a Hamming radius: the self-join behind duplicate finding.

``pairs_within(codes, ids, radius)`` returns every unordered pair of rows at most ``radius`` bits
apart, exactly, in compiled passes on every core. Comparing all ``n²/2`` pairs is hopeless at a
million codes, so the join uses multi-index blocking (the generalised pigeonhole principle behind
multi-index hashing): split each code into ``m`` disjoint substrings and give substring ``k`` a
radius ``s_k`` with ``Σ (s_k + 1) > radius``. Two codes within ``radius`` then agree on some
substring ``k`` to within ``s_k`` bits, since otherwise their distance would be at least
``Σ (s_k + 1)``. For each substring the codes are bucketed by its value (a counting sort into a
direct-address table); each bucket is joined with the buckets of every key within ``s_k`` bits
of its own, comparing only the codes found there, block against block. A pair is reported from
the first substring that finds it and from one bucket pair only, so it comes out once without a
global de-duplication.

The number of substrings is chosen by a cost model (probes versus candidate comparisons on
uniform codes); for tiny inputs or radii too wide for blocking to pay, an all-pairs pass is
used instead. Both paths run as ``nogil`` numba kernels on chunks of rows from a thread pool.
"""

from __future__ import annotations

import itertools
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from pixdex.compiled_cache import cached_kernels, refresh_on_change
from pixdex.index import kernels
from pixdex.index.base import as_codes, as_ids, worker_count
from pixdex.index.kernels import popcount
from pixdex.jit import njit

MAX_KEY_BITS = 22
"""Widest substring, in bits: its direct-address bucket table has ``2**22 + 1`` int64 offsets
(32 MiB), the most worth spending on one table."""

PROBE_COST = 3.0
"""Cost of probing one bucket (a random read of the offset table) in units of one candidate
comparison (an XOR and popcount of a code in a contiguous bucket). Tuned on the first version of
the join, which probed once per code and mask: on 1M clustered 64-bit codes at 8 bits, 4
substrings (188 probes and ~1,400 candidates per code) ran 1.6× faster than 5 (57 probes, ~3,500
candidates). The bucket-pair join probes once per pair of buckets, so the model now overstates
probes; not re-tuned yet."""

CHUNKS_PER_WORKER = 16
"""Row chunks per worker thread: clustered data makes some chunks far costlier than others, so
many small chunks on a shared queue keep both cores busy to the end."""

BRUTE_FORCE_ROWS = 2048
"""Below this many codes the all-pairs pass is faster than building bucket tables."""


@dataclass(frozen=True)
class BlockingPlan:
    """How the blocked join splits codes: substring ``k`` is the ``widths[k]`` bits starting at
    bit ``starts[k]`` (0 is the least significant bit of the code as an integer), probed within
    ``slack[k]`` bits. ``cost`` is the model's estimate, in candidate comparisons."""

    starts: np.ndarray
    widths: np.ndarray
    slack: np.ndarray
    cost: float


def pairs_within(
    codes: np.ndarray,
    ids: np.ndarray | None,
    radius: int,
    *,
    workers: int | None = None,
    blocking: bool | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every unordered pair of codes at most ``radius`` bits apart.

    ``codes`` is an ``(n, w)`` uint64 array (see ``pixdex.bits``), ``ids`` an ``(n,)`` int64
    array (default ``0 .. n-1``). Returns ``(left_ids, right_ids, distances)``: int64, int64 and
    int32 arrays with one entry per pair, where ``left`` comes from the earlier row, so a pair is
    listed once and a row is never paired with itself (two rows with equal codes are a pair at
    distance 0). The pairs come in no particular order.

    ``workers`` threads share the work (default: one per core). ``blocking`` forces the blocked
    join (True) or the all-pairs pass (False); by default the cost model picks.
    """
    codes = as_codes(codes)
    ids = as_ids(ids, codes.shape[0])
    if radius < 0:
        raise ValueError(f"the radius must be ≥ 0 bits, got {radius}")
    n, words = codes.shape
    radius = min(radius, 64 * words)
    threads = workers or worker_count()
    if n < 2:
        return _empty()
    if blocking is None and n < BRUTE_FORCE_ROWS:
        blocking = False  # without planning: the plan costs milliseconds, the pass less
    plan = None if blocking is False else blocking_plan(n, _used_bits(codes), radius)
    if blocking is None:
        blocking = plan.cost < n * (n - 1) / 2.0
    if blocking:
        left, right, dists = _blocked(codes, radius, plan, threads)
    else:
        left, right, dists = _run_chunks(
            threads,
            _row_spans(threads, n),
            lambda lo, hi: _collect(_brute_force_rows, (codes, radius), lo, hi),
        )
    return ids[left], ids[right], dists


def blocking_plan(n: int, bits: int, radius: int) -> BlockingPlan:
    """The cheapest substring split for ``n`` codes of ``bits`` bits at ``radius``.

    With ``m`` substrings the slacks sum to ``radius - m + 1``, the least that keeps the join
    exact. The cost counts probes, candidate comparisons on uniform codes and building the tables.
    """
    best = None
    for m in range(1, min(radius + 1, bits) + 1):
        spare = radius - m + 1
        slack = np.full(m, spare // m, dtype=np.int64)
        slack[: spare % m] += 1
        for key_bits in range(1, MAX_KEY_BITS + 1):
            # The substrings need not cover every bit: the pigeonhole argument holds on any
            # subset, and narrower keys mean smaller tables.
            covered = min(bits, m * key_bits)
            widths = np.full(m, covered // m, dtype=np.int64)
            widths[: covered % m] += 1
            cost = 0.0
            for width, s in zip(widths.tolist(), slack.tolist(), strict=True):
                probes = sum(math.comb(width, t) for t in range(s + 1))
                cost += 2.0**width + n * probes * (PROBE_COST + n / 2.0 ** (width + 1))
            if best is None or cost < best.cost:
                starts = np.concatenate(([0], np.cumsum(widths)[:-1])).astype(np.int64)
                best = BlockingPlan(starts, widths, slack, cost)
    return best


def _used_bits(codes: np.ndarray) -> int:
    """Bits up to the highest one set in any code: a hash shorter than its words leaves the top
    of word 0 zero, and a substring there would put every code in one bucket."""
    union = np.bitwise_or.reduce(codes, axis=0)
    for word, value in enumerate(union.tolist()):
        if value:
            return 64 * (codes.shape[1] - word - 1) + int(value).bit_length()
    return 1


def flip_masks(width: int, slack: int) -> np.ndarray:
    """Every ``width``-bit XOR mask with at most ``slack`` bits set, fewest bits first (int64:
    keys are at most ``MAX_KEY_BITS`` wide)."""
    masks = [0]
    for count in range(1, slack + 1):
        for positions in itertools.combinations(range(width), count):
            masks.append(sum(1 << p for p in positions))
    return np.asarray(masks, dtype=np.int64)


def _empty() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32)


def _run_chunks(
    threads: int, spans: list[tuple[int, int]], kernel
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run ``kernel(lo, hi)`` over ``spans`` on ``threads`` threads; concatenate in span order."""
    if threads == 1:
        parts = [kernel(lo, hi) for lo, hi in spans]
    else:
        with ThreadPoolExecutor(threads) as pool:
            parts = list(pool.map(lambda span: kernel(*span), spans))
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))


def _row_spans(threads: int, n: int) -> list[tuple[int, int]]:
    """About ``CHUNKS_PER_WORKER`` spans of rows per thread."""
    chunks = max(1, min(n, threads * CHUNKS_PER_WORKER))
    return list(itertools.pairwise(np.linspace(0, n, chunks + 1).astype(np.int64).tolist()))


def _collect(kernel, arguments, lo, hi):
    """Run a pair kernel over rows ``lo .. hi-1``, growing its output buffers as it asks.

    The kernels stop at a row when the buffers are full rather than growing them inside the hot
    loop (reallocating there keeps numba from keeping the buffers in registers: ~20× slower).
    """
    capacity = 4096
    left = np.empty(capacity, np.int64)
    right = np.empty(capacity, np.int64)
    dist = np.empty(capacity, np.int32)
    count = 0
    while lo < hi:
        lo, count = kernel(*arguments, lo, hi, left, right, dist, count)
        if lo < hi:
            capacity *= 2
            left, right, dist = (np.resize(a, capacity) for a in (left, right, dist))
    return left[:count], right[:count], dist[:count]


def _blocked(codes, radius, plan, threads):
    """The blocked join: one substring at a time, so only one bucket table is alive at once."""
    n = codes.shape[0]
    parts = []
    starts, widths, slack = plan.starts, plan.widths, plan.slack
    for k in range(starts.shape[0]):
        keys = substring_keys(codes, starts[k], widths[k])
        offsets, order = _bucket_table(keys, int(widths[k]))
        sorted_codes = codes[order]
        masks = flip_masks(int(widths[k]), int(slack[k]))
        arguments = (sorted_codes, order, offsets, masks, starts, widths, slack, k, radius)
        # Chunks of bucket values holding about equal numbers of codes.
        row_edges = np.linspace(0, n, threads * CHUNKS_PER_WORKER + 1).astype(np.int64)
        edges = np.unique(np.searchsorted(offsets, row_edges, side="right") - 1)
        edges[0], edges[-1] = 0, offsets.shape[0] - 1
        parts.append(
            _run_chunks(
                threads,
                list(itertools.pairwise(edges.tolist())),
                lambda lo, hi, a=arguments: _collect(_probe_buckets, a, lo, hi),
            )
        )
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))


@njit(cache=True, nogil=True, inline="always")
def _extract(codes, row, start, width):
    """Bits ``start .. start+width-1`` (from the least significant bit) of ``codes[row]``."""
    words = codes.shape[1]
    word = words - 1 - start // 64
    shift = start % 64
    value = codes[row, word] >> np.uint64(shift)
    if shift + width > 64:
        value |= codes[row, word - 1] << np.uint64(64 - shift)
    return value & ((np.uint64(1) << np.uint64(width)) - np.uint64(1))


@njit(cache=True, nogil=True)
def substring_keys(codes, start, width):
    """Bits ``start .. start+width-1`` (from the least significant bit) of every code, as uint64
    (the sharded self-join of ``pixdex.distributed`` partitions codes by them too)."""
    keys = np.empty(codes.shape[0], dtype=np.uint64)
    for row in range(codes.shape[0]):
        keys[row] = _extract(codes, row, start, width)
    return keys


@njit(cache=True, nogil=True)
def _bucket_table(keys, width):
    """Counting sort of rows by key: ``order`` lists rows by key (rows ascending within a key),
    and the rows with key ``v`` are ``order[offsets[v]:offsets[v+1]]``."""
    offsets = np.zeros((1 << width) + 1, dtype=np.int64)
    for key in keys:
        offsets[key + 1] += 1
    for value in range(1 << width):
        offsets[value + 1] += offsets[value]
    fill = offsets[:-1].copy()
    order = np.empty(keys.shape[0], dtype=np.int64)
    for row in range(keys.shape[0]):
        order[fill[keys[row]]] = row
        fill[keys[row]] += 1
    return offsets, order


@njit(cache=True, nogil=True, inline="always")
def _row_distance(a, i, b, j):
    total = 0
    for word in range(a.shape[1]):
        total += popcount(a[i, word] ^ b[j, word])
    return total


@njit(cache=True, nogil=True, inline="always")
def _found_earlier(codes, i, j, starts, widths, slack, k):
    """Whether a substring before ``k`` already brings rows ``i`` and ``j`` within its slack:
    then that substring's pass reports the pair, and this one must not."""
    for t in range(k):
        x = _extract(codes, i, starts[t], widths[t]) ^ _extract(codes, j, starts[t], widths[t])
        if popcount(x) <= slack[t]:
            return True
    return False


@njit(cache=True, nogil=True)
def _probe_buckets(
    codes, order, offsets, masks, starts, widths, slack, k, radius, lo, hi, left, right, dist, count
):
    """Pairs found through substring ``k`` from the buckets of key values ``lo .. hi-1``.

    ``codes`` are sorted by the substring's key (``order[pos]`` is the row at ``pos``). Each
    non-empty bucket is joined with itself and with every bucket whose key is within the slack
    and higher, so a bucket pair is probed once rather than once per row and its codes are
    compared block against block. Pairs go into the buffers from ``count`` on; returns
    ``(value, count)``: ``value == hi`` when done, or the first bucket not done when the buffers
    filled up (its pairs discarded).
    """
    capacity = left.shape[0]
    for value in range(lo, hi):
        first, end = offsets[value], offsets[value + 1]
        if first == end:
            continue
        done = count
        for mask in masks:
            other = value ^ mask
            if other < value:
                continue  # that bucket pair is joined from the other side
            other_first, other_end = offsets[other], offsets[other + 1]
            for pos in range(first, end):
                # Within one bucket, each pair once: only later positions.
                for near in range(pos + 1 if other == value else other_first, other_end):
                    d = _row_distance(codes, pos, codes, near)
                    if d <= radius and not _found_earlier(
                        codes, pos, near, starts, widths, slack, k
                    ):
                        if count == capacity:
                            return value, done
                        left[count] = min(order[pos], order[near])
                        right[count] = max(order[pos], order[near])
                        dist[count] = d
                        count += 1
    return hi, count


@njit(cache=True, nogil=True)
def _brute_force_rows(codes, radius, lo, hi, left, right, dist, count):
    """Pairs ``(i, j)`` with ``lo <= i < hi`` and ``i < j``, comparing every pair; buffers and
    return value as in :func:`_probe_buckets`."""
    capacity = left.shape[0]
    for i in range(lo, hi):
        done = count
        for j in range(i + 1, codes.shape[0]):
            d = _row_distance(codes, i, codes, j)
            if d <= radius:
                if count == capacity:
                    return i, done
                left[count] = i
                right[count] = j
                dist[count] = d
                count += 1
    return hi, count


# The kernels compile pixdex.index.kernels' popcount into themselves.
refresh_on_change(cached_kernels(globals()), kernels)
