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
  collection (hundreds of millions at 1M files) are never all held at once;
- **listed pairs** (``ListedPairs``): pairs found another way — byte-identical files, turned
  orientations (``turned_pairs``) — each with its kind.

The whole loop is one compiled pass: the keeper's signature is prepared once for all its
candidates, and each candidate is verified once per keeper it is offered to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from pixdex.index.neighbours import NeighbourTables, free_neighbours, table_arguments
from pixdex.matching import Verifier
from pixdex.matching.verification import prepare, verifier_arguments, verifies_prepared
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


def verified_around_keepers(
    ranked: np.ndarray,
    tables: NeighbourTables,
    listed: ListedPairs,
    signatures: np.ndarray,
    verifier: Verifier,
) -> np.ndarray:
    """Group labels (the keeper's node) of the ``len(ranked)`` nodes, the rows of ``tables``.

    ``ranked`` lists the nodes best keeper first; the first nodes are the rows of ``tables``,
    any after them have no hash (only listed pairs). A node's candidates are the codes within
    the tables' radius and its ``listed`` partners; ``signatures`` holds each node's content
    signature. A node left alone gets its own label.
    """
    return _group(
        np.ascontiguousarray(ranked, np.int64),
        *table_arguments(tables),
        listed.starts,
        listed.partners,
        listed.kinds,
        listed.slots,
        listed.orientations,
        np.ascontiguousarray(signatures, np.uint8),
        *verifier_arguments(verifier),
    )


@njit(cache=True, nogil=True)
def _group(
    ranked,
    codes,
    radius,
    starts,
    widths,
    slack,
    masks,
    mask_starts,
    offsets,
    offset_starts,
    orders,
    listed_starts,
    partners,
    kinds,
    slots,
    orientations,
    signatures,
    tolerance,
    luma_tables,
    chroma_tables,
    alignments,
    min_preserved,
    max_chroma,
    blank_tone,
):  # pragma: no cover - compiled
    """The keeper loop (``verified_around_keepers``)."""
    count = ranked.size
    labels = np.full(count, -1, np.int64)
    offered = np.full(count, -1, np.int64)  # the last keeper each node was verified against
    found = np.empty(count, np.int64)
    for keeper in ranked:
        if labels[keeper] >= 0:
            continue
        labels[keeper] = keeper
        present = signatures[keeper, 0] == SIGNATURE_VERSION
        prepared = prepare(signatures[keeper])
        for e in range(listed_starts[keeper], listed_starts[keeper + 1]):
            node = partners[e]
            if labels[node] >= 0:
                continue
            offered[node] = keeper
            kind = kinds[e]
            accepted = kind == EXACT
            if present and kind == TURNED:
                slot = slots[node]
                for row in range(8 * slot, 8 * slot + 8):
                    if verifies_prepared(
                        prepared,
                        orientations[row],
                        tolerance,
                        luma_tables,
                        chroma_tables,
                        alignments,
                        min_preserved,
                        max_chroma,
                        blank_tone,
                    ):
                        accepted = True
                        break
            elif present and kind == PLAIN:
                accepted = verifies_prepared(
                    prepared,
                    signatures[node],
                    tolerance,
                    luma_tables,
                    chroma_tables,
                    alignments,
                    min_preserved,
                    max_chroma,
                    blank_tone,
                )
            if accepted:
                labels[node] = keeper
        if keeper >= codes.shape[0]:
            continue  # a file without this hash, only byte-identical to others
        near = free_neighbours(
            keeper,
            codes,
            radius,
            starts,
            widths,
            slack,
            masks,
            mask_starts,
            offsets,
            offset_starts,
            orders,
            labels,
            found,
        )
        for k in range(near):
            node = found[k]
            if offered[node] == keeper:
                continue  # a listed partner, verified above (a plain check is no better)
            if present and verifies_prepared(
                prepared,
                signatures[node],
                tolerance,
                luma_tables,
                chroma_tables,
                alignments,
                min_preserved,
                max_chroma,
                blank_tone,
            ):
                labels[node] = keeper
    return labels
