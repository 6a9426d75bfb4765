"""Neighbours of one code at a time, from the self-join's bucket tables: pairs never materialised.

``pairs_within`` lists every pair within a radius at once; on a collection dense with families of
look-alikes that is hundreds of millions of pairs (gigabytes) before anything is done with them.
Duplicate grouping around keepers needs far less: the not-yet-grouped neighbours of each keeper,
as the keepers are chosen. ``NeighbourTables`` holds the multi-index blocking of the self-join
(``pixdex.index.selfjoin``: each code split into substrings, one direct-address bucket table per
substring, probed within its slack), built once; the compiled ``free_neighbours`` then answers
one code's query against it, skipping codes already taken, so memory stays ``O(n)`` whatever the
density.

A neighbour is reported from the first substring that finds it (the self-join's rule), so each
comes out once per query without a set of seen rows. Rows may have *owners* (a file's several
views, each a row: the duplicate finder's candidates come from every view): a row's neighbours
are then the rows of other owners, reported as their owners.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from pixdex.compiled_cache import cached_kernels, refresh_on_change
from pixdex.index import kernels, selfjoin
from pixdex.index.base import as_codes, worker_count
from pixdex.index.kernels import popcount
from pixdex.index.selfjoin import (
    _bucket_table,
    _extract,
    _found_earlier,
    _row_distance,
    _used_bits,
    blocking_plan,
    flip_masks,
    substring_keys,
)
from pixdex.jit import njit


@dataclass(frozen=True)
class NeighbourTables:
    """The bucket tables of ``codes`` for queries within ``radius`` bits.

    Substring ``k`` is the ``widths[k]`` bits from bit ``starts[k]``, probed with the XOR masks
    ``masks[mask_starts[k]:mask_starts[k + 1]]`` (every mask within ``slack[k]`` bits). Its
    bucket table is ``offsets[offset_starts[k]:offset_starts[k + 1]]`` into ``orders[k]``, the
    rows sorted by the substring's value, and ``sorted_codes[k]`` holds their codes in that
    order (a bucket's codes are then compared from contiguous memory).
    """

    codes: np.ndarray
    radius: int
    starts: np.ndarray
    widths: np.ndarray
    slack: np.ndarray
    masks: np.ndarray
    mask_starts: np.ndarray
    offsets: np.ndarray
    offset_starts: np.ndarray
    orders: np.ndarray
    sorted_codes: np.ndarray


def neighbour_tables(codes: np.ndarray, radius: int) -> NeighbourTables:
    """Build the tables of ``codes`` (``(n, w)`` uint64) for queries within ``radius`` bits,
    split as the self-join's cost model splits them."""
    codes = as_codes(codes)
    n, words = codes.shape
    radius = min(radius, 64 * words)
    plan = blocking_plan(max(n, 2), _used_bits(codes), radius)
    masks, offsets, orders = [], [], []
    for k in range(plan.starts.size):
        width = int(plan.widths[k])
        table, order = _bucket_table(substring_keys(codes, plan.starts[k], width), width)
        masks.append(flip_masks(width, int(plan.slack[k])))
        offsets.append(table)
        orders.append(order)
    return NeighbourTables(
        codes=codes,
        radius=radius,
        starts=plan.starts,
        widths=plan.widths,
        slack=plan.slack,
        masks=np.concatenate(masks),
        mask_starts=_starts(masks),
        offsets=np.concatenate(offsets),
        offset_starts=_starts(offsets),
        orders=np.stack(orders),
        sorted_codes=np.stack([codes[order] for order in orders]),
    )


def _starts(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(([0], np.cumsum([p.size for p in parts]))).astype(np.int64)


def has_neighbour(tables: NeighbourTables, owners: np.ndarray | None = None) -> np.ndarray:
    """``(n,)`` bool: which codes have another code within the radius (on every core). With
    ``owners`` (the owner of each code: one file's several views), only a code of another owner
    counts: the codes found near anything are checked again, owner by owner (few have only
    their own owner's codes near, and a check stops at the first other owner's)."""
    n = tables.codes.shape[0]
    out = np.zeros(n, np.bool_)
    workers = worker_count()
    arguments = table_arguments(tables)

    def run(span: tuple[int, int]) -> None:
        _has_neighbour_rows(arguments, span[0], span[1], out)

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(run, itertools.pairwise(_bounds(n, workers))))
        if owners is not None and np.unique(owners).size < n:
            near = np.flatnonzero(out)

            def again(span: tuple[int, int]) -> None:
                _has_other_owners_rows(arguments, owners, near[span[0] : span[1]], out)

            list(pool.map(again, itertools.pairwise(_bounds(near.size, workers))))
    return out


def _bounds(n: int, workers: int) -> list[int]:
    """Where ``n`` items are cut into parts for ``workers`` threads (16 parts each)."""
    return np.linspace(0, n, 16 * workers + 1).astype(np.int64).tolist()


def table_arguments(tables: NeighbourTables) -> tuple:
    """The tables as the one tuple the compiled functions take (``free_neighbours``)."""
    return (
        tables.codes,
        tables.radius,
        tables.starts,
        tables.widths,
        tables.slack,
        tables.masks,
        tables.mask_starts,
        tables.offsets,
        tables.offset_starts,
        tables.orders,
        tables.sorted_codes,
    )


@njit(cache=True, nogil=True)
def free_neighbours(row, tables, owners, taken, out):  # pragma: no cover - compiled
    """Write into ``out`` the owners of the rows within the tables' radius of ``row`` whose
    ``taken[owner]`` is < 0, but not ``row``'s own owner (take it first); returns how many.
    ``tables``: the tuple of ``table_arguments``; ``owners``: each row's owner (the row itself
    when every row is one of its own; a file's views are one owner's several rows, and such an
    owner may come out once per row that is near)."""
    codes, radius, starts, widths, slack = tables[:5]
    count = 0
    own = owners[row]
    for k in range(starts.size):
        key, probes, table, order, near = _substring(tables, row, k)
        for mask in probes:
            bucket = key ^ np.uint64(mask)
            for pos in range(table[bucket], table[bucket + 1]):
                if _row_distance(codes, row, near, pos) > radius:
                    continue
                other = order[pos]
                owner = owners[other]
                if (
                    taken[owner] < 0
                    and owner != own
                    and not _found_earlier(codes, row, other, starts, widths, slack, k)
                ):
                    out[count] = owner
                    count += 1
    return count


@njit(cache=True, nogil=True)
def _has_other_owners_rows(tables, owners, rows, out):  # pragma: no cover - compiled
    """``out[row]`` for each of ``rows``: whether a row of another owner lies within the
    tables' radius (``_has_neighbour_rows`` where an owner holds several rows: its own views
    may lie within the radius of each other, and they are no neighbours)."""
    for row in rows:
        out[row] = _near_another_owner(tables, owners, row)


@njit(cache=True, nogil=True, inline="always")
def _near_another_owner(tables, owners, row):  # pragma: no cover - compiled
    """Whether a row of another owner than ``row``'s lies within the tables' radius of it (the
    first one found ends the search)."""
    codes, radius, starts = tables[:3]
    own = owners[row]
    for k in range(starts.size):
        key, probes, table, order, near = _substring(tables, row, k)
        for mask in probes:
            bucket = key ^ np.uint64(mask)
            for pos in range(table[bucket], table[bucket + 1]):
                if owners[order[pos]] != own and _row_distance(codes, row, near, pos) <= radius:
                    return True
    return False


@njit(cache=True, nogil=True)
def _has_neighbour_rows(tables, lo, hi, out):  # pragma: no cover - compiled
    """``out[row]`` for rows ``lo .. hi-1``: whether any other row lies within the tables'
    radius (``tables``: the tuple of ``table_arguments``)."""
    for row in range(lo, hi):
        out[row] = _near_another_row(tables, row)


@njit(cache=True, nogil=True, inline="always")
def _near_another_row(tables, row):  # pragma: no cover - compiled
    """Whether another row lies within the tables' radius of ``row``.

    Each bucket is counted whole, without a branch per code: a code with no neighbour (a third
    of a dense catalog's) must scan every bucket it probes, and those of a family's hashes hold
    hundreds of codes. The row itself lies in its own bucket of every substring (mask 0, the
    first), where one more code within the radius is needed."""
    codes, radius, starts = tables[:3]
    for k in range(starts.size):
        key, probes, table, _, near = _substring(tables, row, k)
        for m in range(probes.size):
            bucket = key ^ np.uint64(probes[m])
            within = _within(codes, row, near, table[bucket], table[bucket + 1], radius)
            if within > (1 if m == 0 else 0):
                return True
    return False


@njit(cache=True, nogil=True, inline="always")
def _substring(tables, row, k):  # pragma: no cover - compiled
    """Substring ``k`` of ``codes[row]`` as the tables probe it: its key, its XOR masks, its
    bucket table, and the rows and their codes in bucket order (one header for every scan)."""
    (codes, _, starts, widths, _, masks, mask_starts, offsets, offset_starts, orders,
     sorted_codes) = tables  # fmt: skip
    return (
        _extract(codes, row, starts[k], widths[k]),
        masks[mask_starts[k] : mask_starts[k + 1]],
        offsets[offset_starts[k] : offset_starts[k + 1]],
        orders[k],
        sorted_codes[k],
    )


@njit(cache=True, nogil=True, inline="always")
def _within(codes, row, near, lo, hi, radius):  # pragma: no cover - compiled
    """How many of ``near[lo:hi]`` lie within ``radius`` bits of ``codes[row]`` (a loop the
    compiler can vectorise: no early exit)."""
    count = 0
    if codes.shape[1] == 1:
        code = codes[row, 0]
        for pos in range(lo, hi):
            count += popcount(near[pos, 0] ^ code) <= radius
    else:
        for pos in range(lo, hi):
            count += _row_distance(codes, row, near, pos) <= radius
    return count


# The kernels compile the self-join's and the distance kernels into themselves.
refresh_on_change(cached_kernels(globals()), selfjoin, kernels)
