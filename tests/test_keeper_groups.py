"""Keeper-verified duplicate groups from neighbours looked up keeper by keeper: the same groups as
the straightforward definition (every pair listed, then a loop over keepers), on real pictures of
the hard families (flags, diagrams, glyphs, icons, canvas drawings) with planted copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import coo_matrix

from benchmarks.hard_corpus import build_hard_corpus
from pixdex.catalog import Catalog
from pixdex.catalog.duplicates import _digest_pairs, _keep_rank, find_duplicates
from pixdex.catalog.location import open_store
from pixdex.catalog.turned_pairs import turned_pairs
from pixdex.evaluation.edits import write_edited_copies
from pixdex.index import pairs_within
from pixdex.index.neighbours import free_neighbours, neighbour_tables, table_arguments
from pixdex.matching import DEFAULT_RULE, Verifier, verify_pairs
from pixdex.signature import signature_array, turned

EDITS = ["jpeg-30", "red-square", "brightness", "resize-50", "mirror"]


@pytest.fixture(scope="module")
def hard_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A catalog of a small build of the hard corpus, edited copies of every fourth picture
    and byte-identical copies of a few."""
    root = tmp_path_factory.mktemp("hard-dupes")
    images = build_hard_corpus(120, seed=0, out=root / "corpus")
    copies = root / "copies"
    copies.mkdir()
    for number, image in enumerate(images[::4]):
        write_edited_copies(image.path, copies, EDITS[number % 3 : number % 3 + 3])
        if number % 5 == 0:
            shutil.copy(image.path, copies / f"twin-{image.path.name}")
    database = root / "catalog.db"
    with Catalog(database) as catalog:
        catalog.index([root], workers=2)
    return database


def reference_groups(
    database: Path, max_distance: int, keep: str, flips: bool
) -> set[frozenset[str]]:
    """The definition: every candidate pair listed (self-join, turned and byte-identical
    pairs), then files in keeper order, each free one a keeper taking the free candidates the
    rule verifies against it: the grouping as first shipped (``first_verified_around_keepers``,
    verbatim), kept here as the oracle."""
    with open_store(str(database)) as store:
        ids, codes, _ = store.codes("dhash", 0)
        left, right = view_pairs(store, max_distance)
        kind = [np.ones(left.size, np.int8)]
        if flips:
            extra = turned_pairs(store.records(ids.tolist()), ids, codes, "dhash", max_distance)
            left, right = np.concatenate([left, extra.left]), np.concatenate([right, extra.right])
            kind.append(np.full(extra.left.size, 3, np.int8))
        exact_left, exact_right = _digest_pairs(store.digest_groups())
        left, right = np.concatenate([left, exact_left]), np.concatenate([right, exact_right])
        kind.append(np.full(exact_left.size, 2, np.int8))
        nodes, inverse = np.unique(np.concatenate([left, right]), return_inverse=True)
        records = store.records(nodes.tolist())
    kinds = np.concatenate(kind)
    signatures = signature_array([records[n].signature for n in nodes.tolist()])
    ranked = sorted(range(nodes.size), key=lambda n: _keep_rank(records[nodes[n]], keep))
    labels = first_verified_around_keepers(
        np.asarray(ranked, np.int64),
        inverse[: left.size],
        inverse[left.size :],
        kinds == 2,
        kinds == 3,
        signatures,
        DEFAULT_RULE.verifier,
    )
    groups: dict[int, set[str]] = {}
    for node, label in enumerate(labels.tolist()):
        groups.setdefault(label, set()).add(records[nodes[node]].path)
    return {frozenset(g) for g in groups.values() if len(g) > 1}


def view_pairs(store, max_distance: int) -> tuple[np.ndarray, np.ndarray]:
    """The file ids of every pair of files with a view each (whole, trimmed, centre) within
    ``max_distance`` bits of the other: the search's candidates."""
    views = [store.codes(view, 0)[:2] for view in ("dhash", "dhash:trim", "dhash:centre")]
    ids = np.concatenate([view_ids for view_ids, _ in views])
    left, right, _ = pairs_within(np.concatenate([codes for _, codes in views]), ids, max_distance)
    apart = left != right
    return left[apart], right[apart]


# The keeper loop as first shipped (a Python loop over a scipy graph of every pair).


def first_verified_around_keepers(
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
    # The one change: a pair listed twice keeps its strongest kind (as first shipped, scipy
    # summed the two: plain + turned read as plain, plain + identical bytes as turned).
    strongest: dict[tuple[int, int], int] = {}
    for key, weight in zip(zip(a.tolist(), b.tolist(), strict=True), weights.tolist(), strict=True):
        strongest[key] = max(strongest.get(key, 0), weight)
    a, b = np.array(list(strongest), np.int64).reshape(-1, 2).T
    weights = np.array(list(strongest.values()), np.int8)
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
            labels[neighbours[_first_accepted(keeper, neighbours, kinds, signatures, verifier)]] = (
                keeper
            )
    return labels


def _first_accepted(
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


@pytest.mark.parametrize(
    ("max_distance", "keep", "flips"),
    [(10, "largest", False), (16, "shortest-path", False), (10, "newest", True)],
)
def test_groups_equal_the_definitions(hard_catalog, max_distance, keep, flips):
    with open_store(str(hard_catalog)) as store:
        groups = find_duplicates(
            store,
            algorithm="dhash",
            max_distance=max_distance,
            keep=keep,
            flips=flips,
            rule=DEFAULT_RULE,
        )
    found = {frozenset(m.path for m in g.members) for g in groups}
    expected = reference_groups(hard_catalog, max_distance, keep, flips)
    assert found == expected
    assert any("twin-" in path for group in found for path in group)
    assert sum(len(g) for g in found) > 40


def test_free_neighbours_are_the_self_joins_pairs_less_the_taken(hard_catalog):
    with open_store(str(hard_catalog)) as store:
        _, codes, _ = store.codes("dhash", 0)
    tables = neighbour_tables(codes, 12)
    left, right, _ = pairs_within(codes, None, 12)
    taken = np.full(codes.shape[0], -1, np.int64)
    taken[::3] = 0
    out = np.empty(codes.shape[0], np.int64)
    owners = np.arange(codes.shape[0])
    for row in range(1, codes.shape[0], 3):
        near = out[: free_neighbours(row, table_arguments(tables), owners, taken, out)]
        partners = np.concatenate([right[left == row], left[right == row]])
        assert sorted(near.tolist()) == sorted(partners[taken[partners] < 0].tolist())


def test_free_neighbours_of_a_files_views_are_the_other_files_near_any_of_them(hard_catalog):
    with open_store(str(hard_catalog)) as store:
        views = [store.codes(view, 0)[:2] for view in ("dhash", "dhash:centre")]
    files = np.unique(np.concatenate([ids for ids, _ in views]))
    owners = np.concatenate([np.searchsorted(files, ids) for ids, _ in views])
    codes = np.concatenate([codes for _, codes in views])
    tables = table_arguments(neighbour_tables(codes, 12))
    left, right, _ = pairs_within(codes, None, 12)
    taken = np.full(files.size, -1, np.int64)
    taken[::4] = 0
    out = np.empty(codes.shape[0], np.int64)
    across = 0
    for row in range(0, codes.shape[0], 5):
        near = out[: free_neighbours(row, tables, owners, taken, out)]
        rows = np.concatenate([right[left == row], left[right == row]])
        expected = {int(o) for o in owners[rows] if o != owners[row] and taken[o] < 0}
        assert set(near.tolist()) == expected
        across += sum(r >= views[0][0].size for r in rows) if row < views[0][0].size else 0
    assert across > 0  # some whole views are near another file's centre


def test_a_rule_that_accepts_nothing_leaves_only_byte_identical_files_grouped(hard_catalog):
    nothing = type(DEFAULT_RULE)(verifier=Verifier(min_preserved=1.01, blank_tone=-1.0))
    with open_store(str(hard_catalog)) as store:
        loose = find_duplicates(store, algorithm="dhash", max_distance=10, rule=DEFAULT_RULE)
        strict = find_duplicates(store, algorithm="dhash", max_distance=10, rule=nothing)
    assert 0 < sum(len(g.members) for g in strict) < sum(len(g.members) for g in loose)
    assert all(m.exact for g in strict for m in g.others)
