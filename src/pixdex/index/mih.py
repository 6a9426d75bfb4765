"""``MultiIndexHash``: multi-index hashing (Norouzi, Punjani & Fleet, CVPR 2012), exact.

Each ``bits``-bit code is cut into ``m`` consecutive substrings of ``bits / m`` bits (the first
``bits % m`` one bit longer). Pigeonhole: if two codes differ in at most ``r`` bits, then with
``r = t·m + a`` (``0 ≤ a < m``) one of the first ``a + 1`` substrings differs in at most ``t``
bits or one of the others in at most ``t - 1``. So a range search looks up, in one table per
substring, every substring value within that many bits of the query's, and verifies the codes it
finds against the full radius.

Tables are direct-addressed: table ``j`` is a counting sort of the entries by substring ``j``,
``members[j]`` (entry numbers, uint32) with ``offsets`` (uint32) giving each substring value's
bucket, so a probe is two array reads and no hashing. A candidate found in several tables is
reported once: only by the first table whose probe radius it is within. When the probes or
candidates of a query approach the cost of reading every code, the query falls back to a linear
scan (dense clusters at large radii do that), so MIH is never much slower than a scan.
"""

from __future__ import annotations

import math

import numpy as np

from pixdex.compiled_cache import cached_kernels, refresh_on_change
from pixdex.index import kernels
from pixdex.index.base import HammingIndex, Hits, as_columns
from pixdex.index.kernels import code_distance, grow, popcount, scan_one, sort_hits
from pixdex.jit import njit

MAX_SUBSTRING_BITS = 24
"""Longest substring: a table of 2^24 + 1 uint32 offsets is 64 MiB."""
MIN_SUBSTRING_BITS = 8
"""Shortest substring worth a table."""
SCAN_COST_RATIO = 8
"""Verifying one candidate (a random read) costs about as much as scanning this many codes
sequentially; a query whose candidates exceed ``n / SCAN_COST_RATIO`` is answered by a scan."""
PROBE_COST_RATIO = 256
"""Likewise for probes: a probe is a random read of two offsets, a cache miss in a large table."""


def default_tables(n: int, bits: int) -> int:
    """Number of substrings ``m`` for ``n`` codes of ``bits`` bits.

    Norouzi et al. take substrings of about ``log2 n`` bits, so a bucket holds about one code of
    a uniform set; clustered real hashes make buckets fuller, which longer substrings offset.
    """
    length = min(MAX_SUBSTRING_BITS, max(MIN_SUBSTRING_BITS, round(math.log2(max(n, 2)))))
    return max(1, math.ceil(bits / length))


class MultiIndexHash(HammingIndex):
    """Exact range and k-NN search by multi-index hashing over ``tables`` substrings.

    ``tables`` defaults to :func:`default_tables` of the size at build time (and again at each
    rebuild after updates). ``scan_fallback=False`` probes the tables whatever the cost, to
    measure (or test) multi-index hashing on its own; it is not saved.
    """

    kind = "mih"

    def __init__(
        self,
        codes: np.ndarray,
        ids: np.ndarray | None = None,
        tables: int | None = None,
        scan_fallback: bool = True,
    ) -> None:
        self._requested_tables = tables
        self.scan_fallback = scan_fallback
        super().__init__(codes, ids)

    def _build(self, codes: np.ndarray, ids: np.ndarray) -> None:
        n, words = codes.shape
        if n >= 2**32:
            raise ValueError(f"MultiIndexHash holds fewer than 2^32 codes, got {n}")
        bits = 64 * words
        tables = self._requested_tables or default_tables(n, bits)
        if not 1 <= tables <= bits or -(-bits // tables) > MAX_SUBSTRING_BITS:
            raise ValueError(
                f"{tables} tables cut {bits}-bit codes into substrings longer than"
                f" {MAX_SUBSTRING_BITS} bits or shorter than 1"
            )
        lengths = np.full(tables, bits // tables, dtype=np.int64)
        lengths[: bits % tables] += 1
        firsts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        bases = np.concatenate([[0], np.cumsum((1 << lengths) + 1)]).astype(np.int64)
        # Entries are kept in the order of table 0's buckets, so table 0 needs no members.
        order = np.argsort(substring_keys(codes, firsts[0], lengths[0]), kind="stable")
        codes, ids = np.ascontiguousarray(codes[order]), ids[order]
        offsets = np.zeros(bases[-1], dtype=np.uint32)
        members = np.empty((tables - 1, n), dtype=np.uint32)
        lead_words = np.empty((tables - 1, n), dtype=np.uint64)
        build_tables(codes, firsts, lengths, bases, offsets, members, lead_words)
        self._codes, self._ids = codes, ids
        self._columns = as_columns(codes)
        self._firsts, self._lengths, self._bases = firsts, lengths, bases
        self._offsets, self._members, self._lead_words = offsets, members, lead_words

    @property
    def tables(self) -> int:
        """Number of substrings (and tables) ``m``."""
        return self._lengths.shape[0]

    @property
    def nbytes(self) -> int:
        """Memory held, in bytes; for codes longer than one word that includes the word-major copy
        the scan fallback reads (for 64-bit codes it is a view of the codes)."""
        copy = self._columns.nbytes if self.words > 1 else 0
        return super().nbytes + copy

    def _entries(self) -> tuple[np.ndarray, np.ndarray]:
        return self._codes, self._ids

    def _search_built(self, queries: np.ndarray, radius: int) -> Hits:
        return mih_range(
            self._codes,
            self._columns,
            self._ids,
            self._alive,
            self._firsts,
            self._lengths,
            self._bases,
            self._offsets,
            self._members,
            self._lead_words,
            queries,
            radius,
            self.scan_fallback,
        )

    def _arrays(self) -> dict[str, np.ndarray]:
        return {
            "codes": self._codes,
            "ids": self._ids,
            "firsts": self._firsts,
            "lengths": self._lengths,
            "bases": self._bases,
            "offsets": self._offsets,
            "members": self._members,
            "lead_words": self._lead_words,
        }

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        for name, array in arrays.items():
            setattr(self, f"_{name}", np.ascontiguousarray(array))
        self._columns = as_columns(self._codes)
        self._requested_tables = self.tables
        self.scan_fallback = True


@njit(cache=True, nogil=True, inline="always")
def substring(code, first, length):
    """Bits ``first .. first+length-1`` of a code (bit 0 = most significant of word 0), as int64.

    ``length`` ≤ 32, so a substring spans at most two words.
    """
    word = first >> 6
    offset = first & 63
    if offset + length <= 64:
        value = code[word] >> np.uint64(64 - offset - length)
    else:
        tail = offset + length - 64
        value = (code[word] << np.uint64(tail)) | (code[word + 1] >> np.uint64(64 - tail))
    return np.int64(value & np.uint64((1 << length) - 1))


@njit(cache=True, nogil=True)
def substring_keys(codes, first, length):
    """Substring ``first .. first+length-1`` of every code, as int64 keys."""
    keys = np.empty(codes.shape[0], dtype=np.int64)
    for row in range(codes.shape[0]):
        keys[row] = substring(codes[row], first, length)
    return keys


@njit(cache=True, nogil=True)
def build_tables(codes, firsts, lengths, bases, offsets, members, lead_words):
    """Counting-sort the entries by each substring: fills ``offsets`` for every table, and
    ``members`` and ``lead_words`` for tables 1.. (table 0 is the entry order itself).

    ``lead_words[j - 1]`` holds each member's first code word in bucket order, so verifying a
    candidate reads memory sequentially instead of jumping to its row (for 64-bit codes that word
    is the whole code).
    """
    n = codes.shape[0]
    for table in range(lengths.shape[0]):
        base = bases[table]
        keys = substring_keys(codes, firsts[table], lengths[table])
        for row in range(n):
            offsets[base + keys[row] + 1] += 1
        for value in range(1, (1 << lengths[table]) + 1):
            offsets[base + value] += offsets[base + value - 1]
        if table == 0:
            continue
        # offsets[base + v] is now the start of bucket v; advance a copy while filling.
        cursor = offsets[base : base + (1 << lengths[table])].astype(np.int64)
        for row in range(n):
            slot = cursor[keys[row]]
            members[table - 1, slot] = row
            lead_words[table - 1, slot] = codes[row, 0]
            cursor[keys[row]] += 1


@njit(cache=True, nogil=True)
def mih_range(
    codes,
    columns,
    ids,
    alive,
    firsts,
    lengths,
    bases,
    offsets,
    members,
    lead_words,
    queries,
    radius,
    scan_fallback,
):
    """Range search of each query by probing the tables; ``(lims, ids, dists)`` sorted.

    ``columns`` is ``codes`` word-major, ``(w, n)``, for the scan fallback.

    With ``scan_fallback``, a query whose probes or candidates would cost more than a linear scan
    is answered by the scan.
    """
    n = codes.shape[0]
    tables = lengths.shape[0]
    lims = np.zeros(queries.shape[0] + 1, dtype=np.int64)
    out_ids = np.empty(1024, dtype=np.int64)
    out_dists = np.empty(1024, dtype=np.int32)
    count = 0
    # Pigeonhole radii: radius = t·m + a, the first a+1 tables at t bits, the others at t-1.
    table_radius = np.empty(tables, dtype=np.int64)
    for table in range(tables):
        table_radius[table] = radius // tables - (table > radius % tables)
    probes = 0
    for table in range(tables):
        for flips in range(min(table_radius[table], lengths[table]) + 1):
            probes += binomial(lengths[table], flips)
    query_keys = np.empty(tables, dtype=np.int64)
    for query in range(queries.shape[0]):
        q = queries[query]
        start = count
        done = False
        if not scan_fallback or probes * PROBE_COST_RATIO < n:
            for table in range(tables):
                query_keys[table] = substring(q, firsts[table], lengths[table])
            out_ids, out_dists, count, done = probe_tables(
                codes,
                ids,
                alive,
                firsts,
                lengths,
                bases,
                offsets,
                members,
                lead_words,
                q,
                radius,
                table_radius,
                query_keys,
                n // SCAN_COST_RATIO if scan_fallback else n * tables,
                out_ids,
                out_dists,
                count,
            )
        if not done:
            out_ids, out_dists, count = scan_one(
                columns, ids, alive, q, radius, out_ids, out_dists, start
            )
        lims[query + 1] = count
    out_ids = out_ids[:count].copy()
    out_dists = out_dists[:count].copy()
    sort_hits(lims, out_ids, out_dists, 64 * queries.shape[1])
    return lims, out_ids, out_dists


@njit(cache=True, nogil=True)
def probe_tables(
    codes,
    ids,
    alive,
    firsts,
    lengths,
    bases,
    offsets,
    members,
    lead_words,
    q,
    radius,
    table_radius,
    query_keys,
    budget,
    out_ids,
    out_dists,
    count,
):
    """Append the hits of one query found through the tables.

    Gives up (returns ``done`` False) once more than ``budget`` candidates were verified, so the
    caller can scan instead.
    """
    masked = alive.shape[0] > 0
    words = codes.shape[1]
    verified = 0
    for table in range(lengths.shape[0]):
        length = lengths[table]
        base = bases[table]
        key = query_keys[table]
        for flips in range(min(table_radius[table], length) + 1):
            # Every length-bit mask with `flips` bits set, in increasing order (Gosper's hack).
            mask = (1 << flips) - 1
            while mask < (1 << length):
                value = base + (key ^ mask)
                lo, hi = np.int64(offsets[value]), np.int64(offsets[value + 1])
                verified += hi - lo
                if verified > budget:
                    return out_ids, out_dists, count, False
                for slot in range(lo, hi):
                    if table == 0:
                        entry, lead = slot, codes[slot, 0]
                    else:
                        entry, lead = members[table - 1, slot], lead_words[table - 1, slot]
                    d = popcount(lead ^ q[0])
                    if d > radius:
                        continue
                    if words > 1:
                        d = code_distance(codes, entry, q)
                        if d > radius:
                            continue
                    if masked and not alive[entry]:
                        continue
                    if found_earlier(
                        codes[entry], firsts, lengths, table_radius, query_keys, table
                    ):
                        continue
                    if count == out_ids.shape[0]:
                        out_ids, out_dists = grow(out_ids, out_dists)
                    out_ids[count] = ids[entry]
                    out_dists[count] = d
                    count += 1
                if flips == 0:
                    break
                low = mask & -mask
                ripple = mask + low
                mask = (((ripple ^ mask) >> 2) // low) | ripple
    return out_ids, out_dists, count, True


@njit(cache=True, nogil=True, inline="always")
def found_earlier(code, firsts, lengths, table_radius, query_keys, table):
    """Whether a code was already reported through a table before ``table``."""
    for earlier in range(table):
        key = substring(code, firsts[earlier], lengths[earlier])
        if popcount(np.uint64(key ^ query_keys[earlier])) <= table_radius[earlier]:
            return True
    return False


@njit(cache=True, nogil=True)
def binomial(n, k):
    """n choose k, exactly, for the small n (≤ 24 bits) of a substring."""
    result = 1
    for i in range(k):
        result = result * (n - i) // (i + 1)
    return result


# The kernels compile the distance kernels of pixdex.index.kernels into themselves.
refresh_on_change(cached_kernels(globals()), kernels)
