"""Duplicate groups formed around verified keepers: no chain can join two different pictures.

Joining every pair of near hashes into connected components lets a family of look-alikes chain
thousands of different pictures into one group (A~B~C with A and C unrelated). Here files are
taken in keeper order; each one not yet grouped becomes a keeper, and a candidate joins the
keeper's group only when the matching rule verifies it against that keeper (byte-identical files
need no verification). Every member is thus the same picture as its keeper, and one verification
per candidate pair of a keeper is all the work: nothing is verified against files that already
belong to a group.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix

from pixdex.matching import Verifier, verify_pairs
from pixdex.signature import turned


def verified_around_keepers(
    ranked: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    exact: np.ndarray,
    turned_edge: np.ndarray,
    signatures: np.ndarray,
    verifier: Verifier,
) -> np.ndarray:
    """Group labels (the keeper's node) of ``len(ranked)`` nodes linked by the candidate pairs
    ``(a[i], b[i])``.

    ``ranked`` lists the nodes best keeper first; ``exact[i]`` marks byte-identical pairs (always
    joined), ``turned_edge[i]`` pairs found between a turned orientation of one file and the
    other (verified in every orientation of the member); ``signatures`` holds each node's
    content signature. A node left alone gets its own label.
    """
    count = ranked.size
    weights = np.where(exact, 2, np.where(turned_edge, 3, 1)).astype(np.int8)
    graph = coo_matrix((weights, (a, b)), shape=(count, count)).tocsr()
    graph = graph.maximum(graph.T).tocsr()
    labels = np.full(count, -1, np.int64)
    for keeper in ranked.tolist():
        if labels[keeper] >= 0:
            continue
        labels[keeper] = keeper
        start, end = graph.indptr[keeper], graph.indptr[keeper + 1]
        neighbours, kinds = graph.indices[start:end], graph.data[start:end]
        free = labels[neighbours] < 0
        neighbours, kinds = neighbours[free], kinds[free]
        if neighbours.size:
            labels[neighbours[_accepted(keeper, neighbours, kinds, signatures, verifier)]] = keeper
    return labels


def _accepted(
    keeper: int,
    neighbours: np.ndarray,
    kinds: np.ndarray,
    signatures: np.ndarray,
    verifier: Verifier,
) -> np.ndarray:
    """Which ``neighbours`` of ``keeper`` the rule verifies (kind 2: identical bytes; kind 3: in
    any of the neighbour's eight orientations)."""
    table = [signatures[keeper][np.newaxis, :]]
    pairs = []
    owner = []
    for row, (node, kind) in enumerate(zip(neighbours.tolist(), kinds.tolist(), strict=True)):
        if kind == 2:
            continue
        variants = turned(signatures[node]) if kind == 3 else signatures[node][np.newaxis, :]
        first = sum(t.shape[0] for t in table)
        table.append(variants)
        pairs += [(0, first + v) for v in range(variants.shape[0])]
        owner += [row] * variants.shape[0]
    accepted = kinds == 2
    if pairs:
        verdicts = verify_pairs(np.concatenate(table), np.asarray(pairs, np.int64), verifier)
        np.logical_or.at(accepted, np.asarray(owner, np.int64), verdicts)
    return accepted
