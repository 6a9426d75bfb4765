"""``hash_files`` on real photographs and broken files: order, algorithms, failures, file fields,
argument checks and early stopping, in this process and in a pool of two workers."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

import pixdex
from pixdex.decode import decode_image
from pixdex.hashing import get_algorithm
from pixdex.pipeline import file_digest

BAD_FILES = [
    ("zero.jpg", "empty file (0 bytes)"),
    ("text.jpg", "not an image"),
    ("truncated.jpg", "truncated"),
    ("truncated.png", "truncated"),
]
"""Edge-case files that cannot be hashed, and a phrase the reason must contain."""


@pytest.fixture(scope="module")
def batch(photo_paths, edge_files) -> list[Path]:
    """Real photos (PNG and JPEG), an EXIF-rotated and a transparent file, and the bad files in
    between: more paths than one worker task holds, so order is kept across tasks."""
    extras = [edge_files[name] for name in ("orientation6.jpg", "clipart.png", "cmyk.jpg")]
    bad = [edge_files[name] for name, _ in BAD_FILES]
    return [*photo_paths[:6], *bad[:2], *photo_paths[6:], *extras, *bad[2:]]


@pytest.mark.parametrize("workers", [1, 2])
def test_results_come_in_input_order(batch, workers):
    results = list(pixdex.hash_files(batch, workers=workers))
    assert [r.path for r in results] == [str(p) for p in batch]


def test_one_and_two_workers_give_equal_results(batch):
    algorithms = ("dhash", "phash", "pdq")
    one = list(pixdex.hash_files(batch, algorithms, workers=1))
    assert one == list(pixdex.hash_files(batch, algorithms, workers=2))


@pytest.mark.parametrize("name", ["dhash", "phash", "pdq"])
def test_one_algorithm_equals_hash_image(photo_paths, edge_files, name):
    paths = [*photo_paths, edge_files["orientation6.jpg"], edge_files["clipart.png"]]
    for result in pixdex.hash_files(paths, [name], workers=1):
        assert result.ok, result.error
        assert result.hashes == {name: pixdex.hash_image(result.path, name)}


def test_several_algorithms_share_the_most_demanding_decode(photo_paths, edge_files):
    """One decode serves every requested algorithm: at the scale the most demanding one needs,
    in colour if any needs colour. Each hash is that decode's, which for dHash or pHash next to
    PDQ may differ by a bit or two from the smaller decode ``hash_image`` gives it alone."""
    algorithms = [get_algorithm(name) for name in ("dhash", "phash", "pdq")]
    min_side = max(a.min_side(a.default_size) for a in algorithms)
    paths = [*photo_paths, edge_files["orientation6.jpg"], edge_files["clipart.png"]]
    results = pixdex.hash_files(paths, [a.name for a in algorithms], workers=1)
    for result in results:
        assert result.ok, result.error
        shared = decode_image(result.path, min_side=min_side).image
        assert result.hashes == {a.name: a.compute(shared, a.default_size) for a in algorithms}
        for a in algorithms:
            assert result.hashes[a.name] - pixdex.hash_image(result.path, a.name) <= 2


@pytest.mark.parametrize(("name", "reason"), BAD_FILES)
def test_a_bad_file_gets_its_reason_and_the_rest_are_hashed(photo_paths, edge_files, name, reason):
    bad = edge_files[name]
    paths = [photo_paths[0], bad, photo_paths[1]]
    first, failed, last = pixdex.hash_files(paths, workers=1)
    assert not failed.ok and reason in failed.error
    assert failed.hashes == {} and failed.width == failed.height == 0 and failed.format is None
    # The file was read, so its size and digest are known even though it could not be decoded.
    assert failed.size == bad.stat().st_size and failed.digest == file_digest(bad)
    assert first.ok and last.ok
    assert first.hashes["dhash"] == pixdex.hash_image(photo_paths[0])
    assert last.hashes["dhash"] == pixdex.hash_image(photo_paths[1])


def test_file_fields(photo_paths, edge_files):
    """Size in pixels (upright, after EXIF orientation), Pillow's format, bytes and digest."""
    paths = [*photo_paths, edge_files["orientation6.jpg"]]
    results = list(pixdex.hash_files(paths, workers=1))
    for path, result in zip(photo_paths, results[:-1], strict=True):
        with Image.open(path) as image:
            assert (result.width, result.height, result.format) == (*image.size, image.format)
        assert result.size == path.stat().st_size
        assert result.digest == file_digest(path)
    with Image.open(edge_files["upright.jpg"]) as upright:
        assert (results[-1].width, results[-1].height) == upright.size
    with Image.open(edge_files["orientation6.jpg"]) as stored:
        assert stored.size == upright.size[::-1], "the file stores the picture sideways"


def test_byte_identical_copies_get_equal_digests(photo_paths, tmp_path):
    copies = [tmp_path / "a.png", tmp_path / "b.png"]
    for copy in copies:
        shutil.copyfile(photo_paths[0], copy)
    a, b, other = pixdex.hash_files([*copies, photo_paths[1]], workers=1)
    assert a.digest == b.digest == file_digest(photo_paths[0])
    assert other.digest != a.digest


def untouched(paths: list[Path], taken: list[Path]) -> Iterator[Path]:
    """``paths``, recording in ``taken`` each one handed out (to see whether work began)."""
    for path in paths:
        taken.append(path)
        yield path


@pytest.mark.parametrize(
    ("algorithms", "workers", "message"),
    [
        (("dhash", "nohash"), 1, "unknown algorithm 'nohash'"),
        ((), 1, "at least one algorithm"),
        (("dhash",), 0, "workers must be at least 1"),
    ],
)
def test_bad_arguments_raise_before_any_file_is_taken(photo_paths, algorithms, workers, message):
    taken: list[Path] = []
    results = pixdex.hash_files(untouched(photo_paths, taken), algorithms, workers=workers)
    with pytest.raises(ValueError, match=message):
        next(results)
    assert taken == []


def test_stopping_early_with_two_workers_returns(photo_paths):
    """Breaking off after the first result shuts the pool down (queued tasks cancelled) instead
    of waiting for results nobody will read, or hanging."""
    paths = photo_paths * 6  # more tasks than are kept in flight: the generator stops mid-feed
    for result in pixdex.hash_files(paths, workers=2):
        assert result.path == str(paths[0]) and result.ok
        break
