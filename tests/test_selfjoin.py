"""``pairs_within`` against a brute-force numpy reference, on both of its paths."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pixdex.index import pairs_within
from pixdex.index.neighbours import has_neighbour, neighbour_tables
from pixdex.index.selfjoin import blocking_plan


def reference_pairs(codes: np.ndarray, ids: np.ndarray, radius: int) -> set[tuple[int, int, int]]:
    """Every (lower row's id, higher row's id, distance) within ``radius``, by numpy broadcast."""
    if codes.shape[0] < 2:
        return set()
    dists = np.bitwise_count(codes[:, None, :] ^ codes[None, :, :]).sum(axis=-1)
    rows, cols = np.nonzero(np.triu(dists <= radius, k=1))
    return {(int(ids[i]), int(ids[j]), int(dists[i, j])) for i, j in zip(rows, cols, strict=True)}


def as_set(found) -> set[tuple[int, int, int]]:
    left, right, dists = found
    triples = list(zip(left.tolist(), right.tolist(), dists.tolist(), strict=True))
    assert len(triples) == len(set(triples)), "a pair was reported twice"
    return set(triples)


@st.composite
def code_sets(draw, max_size=150):
    """(codes, ids): uniform or tightly clustered codes with exact duplicates, 64 or 256 bits."""
    words = draw(st.sampled_from([1, 4]))
    n = draw(st.integers(0, max_size))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    codes = rng.integers(0, 2**64, size=(n, words), dtype=np.uint64)
    if n and draw(st.booleans()):
        seeds = codes[: max(1, n // 10)]
        codes = seeds[rng.integers(0, seeds.shape[0], size=n)].copy()
        for _ in range(draw(st.integers(0, 12))):
            rows = rng.random(n) < 0.5
            word = rng.integers(0, words, size=n)
            bit = rng.integers(0, 64, size=n).astype(np.uint64)
            codes[rows, word[rows]] ^= np.uint64(1) << bit[rows]
    ids = rng.permutation(10 * n + 1)[:n].astype(np.int64) if draw(st.booleans()) else None
    return codes, ids


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=code_sets(), radius=st.integers(0, 40), blocking=st.sampled_from([None, True, False]))
def test_pairs_match_brute_force(data, radius, blocking):
    codes, ids = data
    expected_ids = np.arange(codes.shape[0]) if ids is None else ids
    found = pairs_within(codes, ids, radius, blocking=blocking)
    assert as_set(found) == reference_pairs(codes, expected_ids, radius)
    assert found[0].dtype == np.int64 and found[2].dtype == np.int32


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=code_sets(max_size=400), radius=st.integers(0, 40))
def test_codes_with_a_neighbour_are_those_the_brute_force_pairs_hold(data, radius):
    # The duplicate finder reads and verifies only the files ``has_neighbour`` marks: a code
    # equal to another (distance 0) has one, a code alone in a crowded bucket has none.
    codes, _ = data
    rows = np.arange(codes.shape[0])
    marked = {row for pair in reference_pairs(codes, rows, radius) for row in pair[:2]}
    found = has_neighbour(neighbour_tables(codes, radius))
    assert set(np.flatnonzero(found).tolist()) == marked


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=code_sets(max_size=400), radius=st.integers(0, 40), owners=st.integers(1, 400))
def test_codes_with_another_owners_neighbour_are_those_the_brute_force_pairs_hold(
    data, radius, owners
):
    # A file's views are rows of one owner: a view near only its own file's other views has no
    # neighbour (the duplicate finder's candidates come from every view).
    codes, _ = data
    owner = np.arange(codes.shape[0]) % owners
    rows = np.arange(codes.shape[0])
    marked = {
        row
        for a, b, *_ in reference_pairs(codes, rows, radius)
        if owner[a] != owner[b]
        for row in (a, b)
    }
    found = has_neighbour(neighbour_tables(codes, radius), owner)
    assert set(np.flatnonzero(found).tolist()) == marked


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), radius=st.sampled_from([0, 1, 4, 8, 10]))
def test_blocked_join_on_a_few_thousand_clustered_codes(seed, radius):
    """Large enough for the cost model to choose blocking by itself, on both cores."""
    rng = np.random.default_rng(seed)
    seeds = rng.integers(0, 2**64, size=40, dtype=np.uint64)
    codes = seeds[rng.integers(0, 40, size=2500)]
    for _ in range(6):
        codes = codes ^ np.where(
            rng.random(2500) < 0.6, np.uint64(1) << rng.integers(0, 64, 2500).astype(np.uint64), 0
        ).astype(np.uint64)
    codes = codes.reshape(-1, 1)
    assert blocking_plan(2500, 64, radius).cost < 2500 * 2499 / 2
    found = pairs_within(codes, None, radius, workers=2)
    assert as_set(found) == reference_pairs(codes, np.arange(2500), radius)


def test_exact_duplicates_pair_at_distance_zero():
    codes = np.array([[7], [7], [9], [7]], dtype=np.uint64)
    left, right, dists = pairs_within(codes, np.array([10, 11, 12, 13]), 0)
    assert sorted(zip(left.tolist(), right.tolist(), strict=True)) == [(10, 11), (10, 13), (11, 13)]
    assert dists.tolist() == [0, 0, 0]


def test_empty_and_single_inputs_have_no_pairs():
    for n in (0, 1):
        left, right, dists = pairs_within(np.zeros((n, 1), np.uint64), None, 64)
        assert left.size == right.size == dists.size == 0


def test_negative_radius_is_refused():
    with pytest.raises(ValueError, match="radius"):
        pairs_within(np.zeros((3, 1), np.uint64), None, -1)
