"""Duplicate groups formed around verified keepers: no chain can join two different pictures.

Joining every pair of near hashes into connected components lets a family of look-alikes chain
thousands of different pictures into one group (A~B~C with A and C unrelated). Here files are
taken in keeper order; each one not yet grouped becomes a keeper, and a candidate joins the
keeper's group only when the matching rule verifies it against that keeper (byte-identical files
need no verification). Every member is thus the same picture as its keeper, and one verification
per candidate pair of a keeper is all the work: nothing is verified against files that already
belong to a group.

Candidates come from two sources, both consumed keeper by keeper:

- **near hashes**: the keeper's not-yet-grouped neighbours, looked up in the self-join's bucket
  tables (``pixdex.index.neighbours``) as the keeper is chosen, so the pairs of a dense
  collection (hundreds of millions at 1M files) are never all held at once. A node may own
  several rows of the tables (``NodeRows``: a file's candidate views, the whole picture, inside
  its margins and its centre, as the search proposes candidates): each of the keeper's rows is
  looked up, and a neighbour is any row of another node;
- **listed pairs** (``ListedPairs``): pairs found another way — byte-identical files, turned
  orientations (``turned_pairs``) — each with its kind.

The loop is compiled and runs on every core (batches of keepers speculated in parallel, then
committed in order: ``verified_around_keepers``); a keeper's signature is prepared once for all
its candidates, and each candidate is verified once per keeper it is offered to.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from queue import SimpleQueue

import numpy as np

from pixdex import signature
from pixdex.compiled_cache import cached_kernels, refresh_on_change
from pixdex.index import kernels, neighbours, selfjoin
from pixdex.index.base import worker_count
from pixdex.index.neighbours import NeighbourTables, free_neighbours, table_arguments
from pixdex.jit import njit
from pixdex.matching import Verifier, blur, brightness, resolution, verification
from pixdex.matching.verification import (
    kernel_input,
    prepare,
    verifier_arguments,
    verifies_prepared,
)
from pixdex.signature import SIGNATURE_VERSION, turned

PLAIN, EXACT, TURNED = 1, 2, 3
"""Kinds of listed pair: verified as is, byte-identical (joined unverified), or found through a
turned orientation of one file (verified in each of the other's eight orientations)."""

_PRIORITY = np.array([3, 2, 0, 1], np.int8)
"""Which kind a pair listed more than once keeps (lowest first): exact, then turned (its eight
orientations include the plain one), then plain."""


@dataclass(frozen=True)
class ListedPairs:
    """Listed candidate pairs as a symmetric adjacency (CSR) over the nodes: node ``u``'s
    partners are ``partners[starts[u]:starts[u + 1]]`` with ``kinds`` alongside, each partner
    once; ``slots[u]`` is ``u``'s row block in ``orientations`` (its eight turned signatures,
    for turned pairs; -1 when it has none)."""

    starts: np.ndarray
    partners: np.ndarray
    kinds: np.ndarray
    slots: np.ndarray
    orientations: np.ndarray


def listed_pairs(
    count: int, a: np.ndarray, b: np.ndarray, kinds: np.ndarray, signatures: np.ndarray
) -> ListedPairs:
    """The pairs ``(a[i], b[i])`` of kind ``kinds[i]`` among ``count`` nodes, with the turned
    signatures of the nodes their turned pairs need (``signatures`` holds every node's)."""
    u = np.concatenate([a, b]).astype(np.int64)
    v = np.concatenate([b, a]).astype(np.int64)
    kind = np.concatenate([kinds, kinds]).astype(np.int8)
    keep = u != v
    u, v, kind = u[keep], v[keep], kind[keep]
    order = np.lexsort((_PRIORITY[kind], v, u))
    u, v, kind = u[order], v[order], kind[order]
    first = np.ones(u.size, bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    u, v, kind = u[first], v[first], kind[first]
    starts = np.zeros(count + 1, np.int64)
    np.cumsum(np.bincount(u, minlength=count), out=starts[1:])
    needing = np.unique(v[kind == TURNED])
    slots = np.full(count, -1, np.int64)
    slots[needing] = np.arange(needing.size)
    orientations = np.zeros((8 * needing.size, signatures.shape[1]), np.uint8)
    for slot, node in enumerate(needing.tolist()):
        orientations[8 * slot : 8 * slot + 8] = turned(signatures[node])
    return ListedPairs(starts, v, kind, slots, orientations)


@dataclass(frozen=True)
class NodeRows:
    """Which node owns each row of the neighbour tables (``owners``), and the rows each node
    owns: node ``u``'s are ``rows[starts[u]:starts[u + 1]]`` (none for a node without a hash,
    which has only listed pairs)."""

    owners: np.ndarray
    starts: np.ndarray
    rows: np.ndarray


def node_rows(owners: np.ndarray, count: int) -> NodeRows:
    """The ``NodeRows`` of tables whose row ``r`` belongs to node ``owners[r]`` (of ``count``)."""
    owners = np.ascontiguousarray(owners, np.int64)
    starts = np.zeros(count + 1, np.int64)
    np.cumsum(np.bincount(owners, minlength=count), out=starts[1:])
    return NodeRows(owners, starts, np.argsort(owners, kind="stable").astype(np.int64))


@dataclass(frozen=True)
class KeeperGroups:
    """``labels[node]``: the node's keeper (itself for a keeper or a node left alone);
    ``verifications``: signature comparisons made, those of keepers absorbed within a batch
    and of candidates the batch before took meanwhile included (what the grouping cost; it
    varies a little from run to run, the labels do not)."""

    labels: np.ndarray
    verifications: int


def verified_around_keepers(
    ranked: np.ndarray,
    tables: NeighbourTables,
    rows: NodeRows,
    listed: ListedPairs,
    signatures: np.ndarray,
    verifier: Verifier,
) -> KeeperGroups:
    """The groups of the ``len(ranked)`` nodes.

    ``ranked`` lists the nodes best keeper first; ``rows`` says which node owns each row of
    ``tables`` (a node may own several, or none: then it has only listed pairs). A node's
    candidates are the nodes owning a row within the tables' radius of one of its rows, and its
    ``listed`` partners; ``signatures`` holds each node's content signature.

    The loop over keepers is sequential by nature (who is free depends on every earlier
    keeper), but verdicts are not: the next ``BATCH`` free nodes per core are each verified,
    on every core, against their candidates free *now*, as if each were a keeper; the batch is
    then committed in keeper order, skipping the nodes an earlier keeper of the batch took and
    the candidates it took. That is exactly the sequential result, at the cost of the
    verifications of the few nodes a batch-mate absorbs.

    Each batch is chosen and speculated while the one before it finishes and is committed, so
    the cores wait neither for a commit nor for a batch's last part (they were idle 15 % of the
    loop at 200k dense entries). Its speculation reads labels the earlier batch is still
    setting: a node may look free that an earlier keeper takes meanwhile. That only adds work:
    what looked taken was taken, the commit skips keepers and candidates taken by then, and so
    the groups are still the sequential ones (about 2 % more verifications at 200k).
    """
    count = ranked.size
    ranked = np.ascontiguousarray(ranked, np.int64)
    signatures = kernel_input(signatures, np.uint8)  # the type load_kernels compiled
    labels = np.full(count, -1, np.int64)
    workers = worker_count()
    shared = (
        table_arguments(tables),
        rows.owners,
        rows.starts,
        rows.rows,
        listed.starts,
        listed.partners,
        listed.kinds,
        listed.slots,
        listed.orientations,
        signatures,
        verifier_arguments(verifier),
    )
    verifications = 0
    spaces: SimpleQueue[_Scratch] = SimpleQueue()
    for _ in range(workers):
        spaces.put(_Scratch(count, rows.owners.size))
    with ThreadPoolExecutor(workers) as pool:

        def speculated(batch: np.ndarray) -> list[tuple[np.ndarray, Future]]:
            parts = np.array_split(batch, min(batch.size, PARTS_PER_CORE * workers))
            return [
                (part, pool.submit(_speculated, part, labels, shared, spaces)) for part in parts
            ]

        cursor = 0
        pending: list[tuple[np.ndarray, Future]] = []
        while True:
            # The next batch is speculated while this one finishes and is committed: the cores
            # do not wait for the commit, nor for this batch's last part.
            batch, cursor = _next_free(ranked, labels, cursor, BATCH * workers)
            following = speculated(batch) if batch.size else []
            for part, future in pending:
                ends, accepted, made = future.result()
                _commit(part, ends, accepted, labels)
                verifications += made
            if not following:
                break
            pending = following
    return KeeperGroups(labels, verifications)


def load_kernels() -> None:
    """Compile (or load from numba's cache) the keeper loop and the neighbour lookups on two
    blank nodes. The first duplicate finding of a fresh install otherwise compiles them for tens
    of seconds while holding the interpreter: a server would answer nothing meanwhile."""
    codes = np.zeros((2, 1), np.uint64)
    signatures = np.zeros((2, signature.SIGNATURE_BYTES), np.uint8)
    nothing = np.zeros(0, np.int64)
    tables = neighbours.neighbour_tables(codes, 8)
    neighbours.has_neighbour(tables)
    neighbours.has_neighbour(tables, np.zeros(2, np.int64))
    listed = listed_pairs(2, nothing, nothing, np.zeros(0, np.int8), signatures)
    rows = node_rows(np.arange(2), 2)
    verified_around_keepers(np.arange(2), tables, rows, listed, signatures, Verifier())


BATCH = 32
"""Free nodes per core verified as keepers at once: large enough to keep the cores busy
between commits, small enough that few are absorbed by a batch-mate (work wasted)."""

PARTS_PER_CORE = 4
"""Parts a batch is cut into, per core, each taken by the next idle thread: keepers differ
widely in their free candidates, and with one part per core a core stood idle for about a
quarter of the loop (measured at 200k dense entries) waiting for the other's part."""


def _speculated(
    keepers: np.ndarray, labels: np.ndarray, shared: tuple, spaces: SimpleQueue[_Scratch]
) -> tuple[np.ndarray, np.ndarray, int]:
    """``_Scratch.speculate`` in a free thread's buffers: the part's ends and accepted
    candidates (copied out, the buffers go to the next part) and its verifications."""
    space = spaces.get()
    try:
        made = space.speculate(keepers, labels, shared)
        ends = space.ends[: keepers.size].copy()
        return ends, space.accepted[: ends[-1]].copy(), made
    finally:
        spaces.put(space)


class _Scratch:
    """One thread's buffers, reused from part to part: the candidates of the keeper's row at
    hand (at most one per row of the tables), the last keeper each node was offered to, and
    the accepted candidates of the part (``accepted[ends[i - 1]:ends[i]]`` for its ``i``-th
    keeper), grown when a part overflows."""

    def __init__(self, count: int, rows: int) -> None:
        self.found = np.empty(max(rows, 1), np.int64)
        self.offered = np.full(count, -1, np.int64)
        self.accepted = np.empty(max(count, 1024), np.int64)
        self.ends = np.empty(BATCH * 4, np.int64)

    def speculate(self, keepers: np.ndarray, labels: np.ndarray, shared: tuple) -> int:
        """Verify each of ``keepers`` against its free candidates; returns the verifications."""
        if self.ends.size < keepers.size:
            self.ends = np.empty(keepers.size, np.int64)
        while True:
            made = _speculate(
                keepers, labels, *shared, self.found, self.offered, self.accepted, self.ends
            )
            if made >= 0:
                return made
            self.accepted = np.empty(2 * self.accepted.size, np.int64)


@njit(cache=True, nogil=True)
def _next_free(ranked, labels, cursor, most):  # pragma: no cover - compiled
    """Up to ``most`` nodes not yet grouped, in rank order from ``cursor``; and the new cursor."""
    out = np.empty(most, np.int64)
    count = 0
    while cursor < ranked.size and count < most:
        node = ranked[cursor]
        cursor += 1
        if labels[node] < 0:
            out[count] = node
            count += 1
    return out[:count], cursor


@njit(cache=True, nogil=True)
def _commit(keepers, ends, accepted, labels):  # pragma: no cover - compiled
    """Apply a speculated batch in keeper order: a keeper already taken is skipped, and a
    keeper takes the candidates it verified that are still free."""
    start = 0
    for i in range(keepers.size):
        keeper = keepers[i]
        if labels[keeper] < 0:
            labels[keeper] = keeper
            for k in range(start, ends[i]):
                if labels[accepted[k]] < 0:
                    labels[accepted[k]] = keeper
        start = ends[i]


@njit(cache=True, nogil=True)
def _speculate(
    keepers,
    labels,
    tables,
    owners,
    row_starts,
    node_row_list,
    listed_starts,
    partners,
    kinds,
    slots,
    orientations,
    signatures,
    verifier,
    found,
    offered,
    accepted,
    ends,
):  # pragma: no cover - compiled
    """Each of ``keepers`` verified against its candidates free in ``labels`` (read only);
    the accepted ones into ``accepted``, keeper by keeper up to ``ends``. Returns the
    verifications made, or -1 when ``accepted`` is too small."""
    taken = 0
    verifications = 0
    for i in range(keepers.size):
        keeper = keepers[i]
        offered[keeper] = keeper
        present = signatures[keeper, 0] == SIGNATURE_VERSION
        prepared = prepare(signatures[keeper])
        for e in range(listed_starts[keeper], listed_starts[keeper + 1]):
            node = partners[e]
            if labels[node] >= 0 or offered[node] == keeper:
                continue
            offered[node] = keeper
            kind = kinds[e]
            verdict = kind == EXACT
            if present and kind == TURNED:
                slot = slots[node]
                for row in range(8 * slot, 8 * slot + 8):
                    verifications += 1
                    if verifies_prepared(prepared, orientations[row], verifier):
                        verdict = True
                        break
            elif present and kind == PLAIN:
                verifications += 1
                verdict = verifies_prepared(prepared, signatures[node], verifier)
            if verdict:
                if taken == accepted.size:
                    return -1
                accepted[taken] = node
                taken += 1
        first, last = row_starts[keeper], row_starts[keeper + 1]
        if not present:
            last = first  # no signature to verify against: listed exact pairs only
        for r in range(first, last):
            near = free_neighbours(node_row_list[r], tables, owners, labels, found)
            for k in range(near):
                node = found[k]
                if offered[node] == keeper:
                    continue  # a listed partner or near through another view: verified once
                offered[node] = keeper
                verifications += 1
                if verifies_prepared(prepared, signatures[node], verifier):
                    if taken == accepted.size:
                        return -1
                    accepted[taken] = node
                    taken += 1
        ends[i] = taken
    return verifications


# The speculation loop compiles the verification and the neighbour tables' lookups into itself.
refresh_on_change(
    cached_kernels(globals()),
    verification,
    blur,
    brightness,
    resolution,
    neighbours,
    selfjoin,
    kernels,
    signature,
)
