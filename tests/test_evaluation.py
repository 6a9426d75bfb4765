"""The measurement core: distances, curves and the protocol, checked on real photos and against
plain-Python references."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from pixdex.catalog import Catalog
from pixdex.evaluation.edits import write_edited_copies
from pixdex.evaluation.measure import (
    cumulative_fraction,
    distance_matrix,
    pair_false_match_rate,
    query_curves,
    recommended_distance,
)
from pixdex.evaluation.protocol import (
    algorithm_scheme,
    evaluate,
    hash_sample,
    picture_distances,
    scheme_report,
)
from pixdex.evaluation.rule_pairs import candidate_pairs, rule_distances, rule_scheme, unpack
from pixdex.matching import DEFAULT_RULE

codes_strategy = st.integers(1, 4).flatmap(
    lambda w: st.tuples(
        st.lists(
            st.lists(st.integers(0, 2**64 - 1), min_size=w, max_size=w), min_size=1, max_size=6
        ),
        st.lists(
            st.lists(st.integers(0, 2**64 - 1), min_size=w, max_size=w), min_size=1, max_size=6
        ),
    )
)


@settings(max_examples=60, deadline=None)
@given(codes_strategy)
def test_distance_matrix_matches_python_popcount(pair: tuple[list, list]) -> None:
    a, b = pair
    expected = [
        [sum((x ^ y).bit_count() for x, y in zip(ra, rb, strict=True)) for rb in b] for ra in a
    ]
    got = distance_matrix(np.array(a, dtype=np.uint64), np.array(b, dtype=np.uint64))
    assert got.tolist() == expected


def test_distance_matrix_is_chunked_correctly() -> None:
    rng = np.random.default_rng(4)
    a = rng.integers(0, 2**63, size=(3000, 4), dtype=np.uint64)
    b = rng.integers(0, 2**63, size=(2000, 4), dtype=np.uint64)
    got = distance_matrix(a, b)  # 3000 × 2000 × 4 cells: several chunks
    for row in (0, 1499, 2999):
        expected = [
            sum(int(x ^ y).bit_count() for x, y in zip(a[row], b[j], strict=True))
            for j in range(2000)
        ]
        assert got[row].tolist() == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 70), max_size=40), st.integers(1, 64))
def test_cumulative_fraction_counts_within_each_threshold(values: list[int], bits: int) -> None:
    curve = cumulative_fraction(np.array(values, dtype=np.int64), bits)
    assert curve.shape == (bits + 1,)
    for d in range(bits + 1):
        expected = sum(v <= d for v in values) / len(values) if values else 0.0
        assert curve[d] == pytest.approx(expected)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=30), st.floats(0, 1))
def test_recommended_distance_is_the_last_threshold_within_budget(
    rates: list, target: float
) -> None:
    curve = np.sort(np.array(rates))
    d = recommended_distance(curve, target)
    assert all(curve[: d + 1] <= target)
    assert d == len(curve) - 1 or curve[d + 1] > target


def test_query_curves_on_a_worked_example() -> None:
    # Three index pictures; images 0 and 1 are the same picture ("a").
    groups = np.array(["a", "a", "b"])
    distances = np.array(
        [
            [2, 3, 5],  # a query from image 0: source at 2; image 1 is its picture; 2 at 5
            [9, 1, 4],  # a query from image 2: source at 4; images 0 and 1 are others (9, 1)
        ]
    )
    recall, others = query_curves(distances, np.array([0, 2]), groups, bits=10)
    assert recall[1] == 0 and recall[2] == 0.5 and recall[4] == 1.0
    # others within d, summed over queries, divided by 2 queries
    assert others[0] == 0 and others[1] == 0.5 and others[5] == 1.0 and others[9] == 1.5


def test_pair_false_match_rate_skips_same_picture_pairs() -> None:
    groups = np.array(["a", "a", "b"])
    distances = np.array([[0, 1, 6], [1, 0, 3], [6, 3, 0]])
    rate = pair_false_match_rate(distances, groups, bits=8)
    # Two pairs of different pictures, at 6 and 3.
    assert rate[2] == 0 and rate[3] == 0.5 and rate[6] == 1.0


def test_several_codes_per_picture_take_the_closest_pair() -> None:
    a = np.array([[[0b1111], [0b0001]]], dtype=np.uint64)  # one picture, two codes
    b = np.array([[[0b0000]], [[0b1110]]], dtype=np.uint64)  # two pictures, one code each
    ok = np.ones(2, dtype=bool)
    got = picture_distances(a, ok[:1], b, ok, bits=64)
    assert got.tolist() == [[1, 1]]
    declined = picture_distances(a, ok[:1], b, np.array([True, False]), bits=64)
    assert declined.tolist() == [[1, 65]]


@pytest.fixture(scope="module")
def photo_report(photo_paths: list[Path]):
    return evaluate(
        photo_paths, "dhash", edits=["identity", "red-square", "shapes-text", "crop-10"], seed=7
    )


def test_identity_copies_are_found_at_distance_zero(photo_report) -> None:
    assert photo_report.edits["identity"].recall[0] == 1.0
    assert photo_report.edits["identity"].queries == 14


def test_recall_grows_with_distance_and_reaches_one(photo_report) -> None:
    for quality in photo_report.edits.values():
        assert np.all(np.diff(quality.recall) >= 0) and np.all(np.diff(quality.others) >= 0)
        assert quality.recall[-1] == 1.0
    # Everything is within 64 bits of everything: the last point counts every other photo.
    assert (
        photo_report.edits["red-square"].others[-1] == len(photo_report.false_match_rate) * 0 + 13
    )
    assert photo_report.false_match_rate[-1] == 1.0


def test_a_small_sticker_is_nearer_than_a_different_photo(photo_report) -> None:
    # The original design found the red-square copy at distance 4; different photos are far.
    assert photo_report.edits["red-square"].recall[6] == 1.0
    assert photo_report.false_match_rate[6] == 0.0
    assert photo_report.recommended_distance(0.0) >= 6
    # Heavy edits are found less often than the small sticker at the same distance.
    assert photo_report.edits["crop-10"].recall[6] < photo_report.edits["red-square"].recall[6]


def test_evaluation_is_reproducible_for_a_seed(photo_paths: list[Path]) -> None:
    runs = [evaluate(photo_paths[:6], "dhash", edits=["shapes-text"], seed=s) for s in (3, 3, 4)]
    first, again, other = (r.edits["shapes-text"].recall for r in runs)
    np.testing.assert_array_equal(first, again)
    samples = [
        hash_sample(photo_paths[:6], [algorithm_scheme("dhash")], [0, 1], ["shapes-text"], seed=s)
        for s in (3, 4)
    ]
    assert not np.array_equal(samples[0].queries["dhash8"], samples[1].queries["dhash8"])
    assert other.shape == first.shape


def test_degenerate_pictures_can_be_left_out(photo_paths: list[Path], tmp_path: Path) -> None:
    blanks = []
    for shade in (250, 255):
        path = tmp_path / f"blank{shade}.png"
        Image.new("RGB", (300, 200), (shade, shade, shade)).save(path)
        blanks.append(path)
    paths = [*photo_paths[:4], *blanks]
    plain, skipping = algorithm_scheme("dhash"), algorithm_scheme("dhash", skip_degenerate=True)
    sample = hash_sample(paths, [plain, skipping], [0, 4], ["identity"])
    # Two blank pages have identical (all-zero) dHashes: a false match...
    assert scheme_report(sample, plain.name).false_match_rate[0] > 0
    # ...unless degenerate hashes are skipped, which also drops the blank query.
    assert sample.index_ok[skipping.name].tolist() == [True] * 4 + [False] * 2
    skipped = scheme_report(sample, skipping.name)
    assert skipped.false_match_rate[0] == 0
    assert skipped.edits["identity"].recall[0] == 0.5


def test_groups_mark_the_same_picture(photo_paths: list[Path], tmp_path: Path) -> None:
    twin = tmp_path / photo_paths[0].name
    twin.write_bytes(photo_paths[0].read_bytes())
    paths = [photo_paths[0], twin, photo_paths[1]]
    scheme = algorithm_scheme("dhash")
    apart = hash_sample(paths, [scheme], [0], ["identity"])
    together = hash_sample(paths, [scheme], [0], ["identity"], groups=["x", "x", "y"])
    assert scheme_report(apart, scheme.name).edits["identity"].others[0] == 1.0
    assert scheme_report(together, scheme.name).edits["identity"].others[0] == 0.0


def test_unknown_edits_are_refused(photo_paths: list[Path]) -> None:
    with pytest.raises(ValueError, match="sepia"):
        hash_sample(photo_paths[:2], [algorithm_scheme("dhash")], [0], ["sepia"])


def rule_features(paths: list[Path], flips: bool):
    """The rule's features of image files, decoded as the catalog decodes a query file."""
    scheme = rule_scheme(flips=flips)
    return unpack(np.stack([scheme.codes(str(p)) for p in paths]))


def flag(colours: tuple[str, str, str]) -> Image.Image:
    """Three vertical bands: flags that differ only in colour have one dHash."""
    image = Image.new("RGB", (480, 320))
    for band, colour in enumerate(colours):
        image.paste(colour, (band * 160, 0, band * 160 + 160, 320))
    return image


def test_the_rule_is_measured_as_the_catalog_searches(
    photo_paths: list[Path], tmp_path: Path
) -> None:
    # Real photos and two look-alike flags (candidates the verification must turn down) in a
    # catalog; edited copies of three photos and a flag searched with and without flips.
    library = tmp_path / "library"
    library.mkdir()
    photos = [p for p in photo_paths if p.suffix == ".png"][:6]
    for path in photos:
        Image.open(path).convert("RGB").save(library / path.name)
    flag(("#0055a4", "#ffffff", "#ef4135")).save(library / "flag-fr.png")
    flag(("#009246", "#ffffff", "#ce2b37")).save(library / "flag-it.png")
    copies = []
    for path in [*photos[:3], library / "flag-fr.png"]:
        edits = ["red-square", "crop-10", "border", "brightness", "mirror"]
        copies += write_edited_copies(path, tmp_path / "copies", edits, seed=1).values()
    files = sorted(library.iterdir())
    with Catalog(tmp_path / "pixdex.db") as catalog:
        catalog.index([library])
        for flips in (False, True):
            searched = [
                {Path(m.path).name for m in catalog.search(c, flips=flips).matches} for c in copies
            ]
            measured = rule_distances(
                rule_features(copies, flips), rule_features(files, False), DEFAULT_RULE, 64
            )
            accepted = [
                {files[j].name for j in np.flatnonzero(row <= DEFAULT_RULE.radius)}
                for row in measured
            ]
            assert accepted == searched
            # Only a copy's own source is ever accepted, and most copies find it.
            own = [{c.name.split(".")[0] + ".png"} for c in copies]
            assert all(a <= o for a, o in zip(accepted, own, strict=True))
            assert sum(a == o for a, o in zip(accepted, own, strict=True)) >= len(copies) // 2


def test_candidates_are_every_orientation_within_the_radius_in_any_pair_of_views() -> None:
    # One query in two orientations of two views each; two files of two views each.
    queries = np.array([[[[0b0000], [0b1111]], [[0b1111_1111], [0b1111_1111]]]], dtype=np.uint64)
    files = np.array([[[0b0111], [0b1000_0000]], [[0b1111_1110], [0b0]]], dtype=np.uint64)
    pairs = candidate_pairs(queries, files, 2)
    # (query, orientation, file, nearest pair of views): orientation 0 meets file 0 at 1 bit
    # (0b1111 / 0b0111) and file 1 at 0; orientation 1 meets file 1 only (1 bit).
    assert pairs.tolist() == [[0, 0, 0, 1], [0, 0, 1, 0], [0, 1, 1, 1]]
