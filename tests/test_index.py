"""Every index structure against a plain-Python reference search and against ``LinearScan``, on
random and clustered codes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pixdex.bits import hamming
from pixdex.index import LinearScan, MultiIndexHash, VPTree, build_index, kernels, load_index
from pixdex.index.base import as_columns
from pixdex.index.scan import numpy_scan_range

STRUCTURES = [LinearScan, VPTree, MultiIndexHash]


def reference_range(codes, ids, query, radius):
    """Brute force in plain numpy: ids within radius, sorted by (distance, id)."""
    if codes.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    dists = hamming(codes, query)
    keep = np.flatnonzero(dists <= radius)
    order = keep[np.lexsort((ids[keep], dists[keep]))]
    return ids[order], dists[order]


def reference_knn(codes, ids, query, k):
    found_ids, found_dists = reference_range(codes, ids, query, 64 * codes.shape[1])
    return found_ids[:k], found_dists[:k]


@st.composite
def code_sets(draw, max_size=120):
    """(codes, ids, queries): uniform or clustered codes with duplicates, 64 or 256 bits, and 0 to
    5 queries (stored codes with up to 6 bits flipped, then random codes)."""
    words = draw(st.sampled_from([1, 4]))
    n = draw(st.integers(0, max_size))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):
        codes = rng.integers(0, 2**64, size=(n, words), dtype=np.uint64)
    else:
        # Clusters: a few seeds, each member a seed with a handful of bits flipped.
        seeds = rng.integers(0, 2**64, size=(draw(st.integers(1, 5)), words), dtype=np.uint64)
        codes = seeds[rng.integers(0, seeds.shape[0], size=n)]
        codes = flip_bits(codes, rng.geometric(0.4, size=n) - 1, rng)
    if n and draw(st.booleans()):
        codes[rng.integers(0, n, size=n // 3)] = codes[0]
    ids = rng.permutation(10 * n + 1)[:n].astype(np.int64) - n
    near_count = draw(st.integers(0, 3)) if n else 0
    near = flip_bits(
        codes[rng.integers(0, n, size=near_count)], rng.integers(0, 7, near_count), rng
    )
    far = rng.integers(0, 2**64, size=(draw(st.integers(0, 2)), words), dtype=np.uint64)
    return codes, ids, np.concatenate([near, far])


def flip_bits(codes, counts, rng):
    """Copies of ``codes`` with ``counts[i]`` random bits flipped in row i."""
    codes = codes.copy()
    words = codes.shape[1]
    for row, count in enumerate(counts):
        for bit in rng.choice(64 * words, size=min(int(count), 64 * words), replace=False):
            codes[row, bit // 64] ^= np.uint64(1) << np.uint64(bit % 64)
    return codes


RADII = st.sampled_from([0, 1, 3, 4, 8, 10, 12, 20, 31, 63, 64, 100, 256, 300])
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_same(got, want):
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def assert_agrees_with_scan(index, scan, queries, radius, k):
    """``index`` answers the batch forms exactly as ``LinearScan`` over the same entries does:
    equal arrays of equal dtypes."""
    for got, want in [
        (index.range_search_batch(queries, radius), scan.range_search_batch(queries, radius)),
        (index.knn_batch(queries, k), scan.knn_batch(queries, k)),
    ]:
        for got_array, want_array in zip(got, want, strict=True):
            assert got_array.dtype == want_array.dtype
            np.testing.assert_array_equal(got_array, want_array)


@pytest.mark.parametrize("structure", STRUCTURES)
@SETTINGS
@given(data=code_sets(), radius=RADII, k=st.integers(0, 150))
def test_search_matches_reference(structure, data, radius, k):
    codes, ids, queries = data
    index = structure(codes, ids)
    assert len(index) == codes.shape[0]
    assert_agrees_with_scan(index, LinearScan(codes, ids), queries, radius, k)
    lims, batch_ids, batch_dists = index.range_search_batch(queries, radius)
    assert lims.shape == (queries.shape[0] + 1,) and lims[0] == 0
    assert batch_ids.shape == batch_dists.shape == (lims[-1],)
    knn_ids, knn_dists = index.knn_batch(queries, k)
    assert knn_ids.shape == knn_dists.shape == (queries.shape[0], k)
    for i, query in enumerate(queries):
        want = reference_range(codes, ids, query, radius)
        assert_same(index.range_search(query, radius), want)
        assert_same((batch_ids[lims[i] : lims[i + 1]], batch_dists[lims[i] : lims[i + 1]]), want)
        want_knn = reference_knn(codes, ids, query, k)
        assert_same(index.knn(query, k), want_knn)
        found = min(k, codes.shape[0])
        assert_same((knn_ids[i, :found], knn_dists[i, :found]), want_knn)
        assert (knn_ids[i, found:] == -1).all()


@pytest.mark.parametrize("structure", STRUCTURES)
@SETTINGS
@given(data=code_sets(max_size=60), steps=st.lists(st.tuples(st.booleans(), st.integers(0, 40))))
def test_add_remove_sequences_match_reference(structure, data, steps):
    codes, ids, queries = data
    index, scan = structure(codes, ids), LinearScan(codes, ids)
    rng = np.random.default_rng(len(steps))
    # One random code keeps the pool of codes to add non-empty when the index and queries are.
    spare = rng.integers(0, 2**64, size=(1, codes.shape[1]), dtype=np.uint64)
    next_id = 10**6
    for adding, amount in steps:
        if adding:
            pool = np.concatenate([codes, queries, spare])
            new_codes = flip_bits(
                pool[rng.integers(0, pool.shape[0], amount)],
                rng.integers(0, 4, amount),
                rng,
            )
            new_ids = np.arange(next_id, next_id + amount, dtype=np.int64)
            next_id += amount
            index.add(new_codes, new_ids)
            scan.add(new_codes, new_ids)
            codes, ids = np.concatenate([codes, new_codes]), np.concatenate([ids, new_ids])
        elif ids.size:
            doomed = rng.choice(ids, size=min(amount, ids.size), replace=False)
            assert index.remove(doomed) == scan.remove(doomed) == np.isin(ids, doomed).sum()
            keep = ~np.isin(ids, doomed)
            codes, ids = codes[keep], ids[keep]
        assert len(index) == ids.size
        for query in queries:
            assert_same(index.range_search(query, 9), reference_range(codes, ids, query, 9))
        assert_agrees_with_scan(index, scan, queries, 9, 5)


@pytest.mark.parametrize("structure", STRUCTURES)
@SETTINGS
@given(data=code_sets(), radius=RADII)
def test_save_load_round_trip(structure, data, radius, tmp_path_factory):
    codes, ids, queries = data
    index = structure(codes, ids)
    index.remove(ids[:3])
    path = tmp_path_factory.mktemp("idx") / "index.npz"
    index.save(path)
    loaded = load_index(path)
    assert type(loaded) is structure
    assert len(loaded) == len(index)
    for query in queries:
        assert_same(loaded.range_search(query, radius), index.range_search(query, radius))
    assert_agrees_with_scan(loaded, LinearScan(codes[3:], ids[3:]), queries, radius, 5)
    assert_agrees_with_scan(structure.load(path), index, queries, radius, 5)


def test_empty_and_single_element():
    for structure in STRUCTURES:
        empty = structure(np.zeros((0, 1), np.uint64))
        assert len(empty) == 0
        assert empty.range_search(np.zeros(1, np.uint64), 64)[0].size == 0
        assert empty.knn(np.zeros(1, np.uint64), 3)[0].size == 0
        one = structure(np.array([[0xFF]], np.uint64), np.array([42]))
        ids, dists = one.knn(np.zeros(1, np.uint64), 5)
        assert ids.tolist() == [42] and dists.tolist() == [8]
        assert one.range_search(np.zeros(1, np.uint64), 7)[0].size == 0


@pytest.mark.parametrize("words", [1, 4])
@pytest.mark.parametrize("build", [*STRUCTURES, build_index])
def test_zero_queries_give_empty_results(build, words):
    """Issue 4: a batch of no queries gets lims [0], no hits and (0, k) k-NN arrays, from a fresh
    index, one with pending additions and removed entries, and an empty one."""
    codes = np.random.default_rng(words).integers(0, 2**64, size=(3, words), dtype=np.uint64)
    updated = build(codes)
    updated.add(codes[:1])
    updated.remove([1])
    none = np.zeros((0, words), np.uint64)
    for index in (build(codes), updated, build(none)):
        lims, ids, dists = index.range_search_batch(none, 3)
        assert lims.tolist() == [0] and lims.dtype == np.int64
        assert ids.shape == (0,) and ids.dtype == np.int64
        assert dists.shape == (0,) and dists.dtype == np.int32
        knn_ids, knn_dists = index.knn_batch(none, 3)
        assert knn_ids.shape == knn_dists.shape == (0, 3)


def test_hashes_of_real_photos_find_their_edited_copies(photo_paths):
    """dHash a set of real photos and mildly edited copies; each copy's nearest code is its own
    original, and a range search at 10 bits finds it."""
    from PIL import Image, ImageEnhance

    from pixdex.hashing.dhash import dhash

    originals, copies = [], []
    for path in photo_paths:
        with Image.open(path) as image:
            image = image.convert("RGB")
            originals.append(dhash(image).words)
            edited = ImageEnhance.Brightness(image.resize((image.width // 2, image.height // 2)))
            copies.append(dhash(edited.enhance(1.1)).words)
    codes = np.array(originals)
    for structure in STRUCTURES:
        index = structure(codes, np.arange(100, 100 + len(originals)))
        ids, _ = index.knn_batch(np.array(copies), 1)
        assert ids[:, 0].tolist() == list(range(100, 100 + len(originals)))
        for i, copy in enumerate(copies):
            assert 100 + i in index.range_search(copy, 10)[0]


def test_build_index_rejects_unknown_kind_and_bad_codes():
    with pytest.raises(ValueError, match="unknown index kind"):
        build_index(np.zeros((1, 1), np.uint64), kind="bogus")
    with pytest.raises(TypeError, match="uint64"):
        LinearScan(np.zeros((2, 1), np.float32))
    with pytest.raises(ValueError, match="2 ids for 3 codes"):
        LinearScan(np.zeros((3, 1), np.uint64), np.arange(2))


@SETTINGS
@given(data=code_sets(), radius=st.integers(0, 24), k=st.integers(0, 30), extra=st.integers(0, 12))
def test_multi_index_probing_matches_reference(data, radius, k, extra):
    """MultiIndexHash with the scan fallback off, so every answer comes from the tables: any
    number of (possibly uneven) substrings, removed entries included."""
    codes, ids, queries = data
    bits = 64 * codes.shape[1]
    tables = min(bits, -(-bits // 12) + extra)
    index = MultiIndexHash(codes, ids, tables=tables, scan_fallback=False)
    assert index.tables == tables
    doomed = ids[::5]
    index.remove(doomed)
    keep = ~np.isin(ids, doomed)
    for query in queries:
        assert_same(
            index.range_search(query, radius),
            reference_range(codes[keep], ids[keep], query, radius),
        )
        assert_same(index.knn(query, k), reference_knn(codes[keep], ids[keep], query, k))


def test_multi_index_rejects_substrings_too_long():
    with pytest.raises(ValueError, match="longer than 24 bits"):
        MultiIndexHash(np.zeros((4, 1), np.uint64), tables=2)


def test_build_index_kinds_and_automatic_choice():
    rng = np.random.default_rng(7)
    small = rng.integers(0, 2**64, size=(100, 1), dtype=np.uint64)
    for kind, structure in [("scan", LinearScan), ("vptree", VPTree), ("mih", MultiIndexHash)]:
        assert type(build_index(small, kind=kind)) is structure
    assert type(build_index(small)) is LinearScan
    seeds = rng.integers(0, 2**64, size=(500, 1), dtype=np.uint64)
    large = flip_bits(seeds[rng.integers(0, 500, 40_000)], rng.integers(0, 12, 40_000), rng)
    index = build_index(large)
    assert type(index) is MultiIndexHash
    ids = np.arange(large.shape[0])
    queries = flip_bits(large[:20], rng.integers(0, 7, 20), rng)
    lims, hit_ids, hit_dists = index.range_search_batch(queries, 10)
    for i, query in enumerate(queries):
        got = hit_ids[lims[i] : lims[i + 1]], hit_dists[lims[i] : lims[i + 1]]
        assert_same(got, reference_range(large, ids, query, 10))


@pytest.mark.parametrize("words", [1, 4])
def test_deep_structures_match_reference_on_a_larger_clustered_set(words):
    """3,000 clustered codes: a VP-tree many levels deep and MIH tables with full buckets, with
    the scan fallback on and off, against the reference at the radii near-duplicate search uses."""
    rng = np.random.default_rng(words)
    seeds = rng.integers(0, 2**64, size=(40, words), dtype=np.uint64)
    codes = flip_bits(seeds[rng.integers(0, 40, 3000)], rng.integers(0, 16, 3000), rng)
    codes[::7] = codes[0]
    ids = rng.permutation(3000).astype(np.int64)
    queries = flip_bits(codes[rng.integers(0, 3000, 12)], rng.integers(0, 7, 12), rng)
    indexes = [
        VPTree(codes, ids),
        MultiIndexHash(codes, ids),
        MultiIndexHash(codes, ids, scan_fallback=False),
    ]
    for radius in [0, 4, 10, 12, 31] if words == 4 else [0, 2, 4, 8, 10, 12]:
        for index in indexes:
            lims, hit_ids, hit_dists = index.range_search_batch(queries, radius)
            for i, query in enumerate(queries):
                got = hit_ids[lims[i] : lims[i + 1]], hit_dists[lims[i] : lims[i + 1]]
                assert_same(got, reference_range(codes, ids, query, radius))


@SETTINGS
@given(data=code_sets(max_size=200))
def test_the_numpy_scan_equals_the_compiled_scan(data):
    codes, ids, queries = data
    columns = as_columns(codes)
    alive = np.ones(len(ids), dtype=np.uint8)
    alive[::3] = 0
    for radius in (0, 3, 10, 64 * codes.shape[1]):
        for mask in (alive, alive[:0]):
            compiled = kernels.scan_range(columns, ids, mask, queries, radius)
            plain = numpy_scan_range(columns, ids, mask, queries, radius)
            for ours, theirs in zip(plain, compiled, strict=True):
                np.testing.assert_array_equal(ours, theirs)
