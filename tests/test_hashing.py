"""The hash family on real images: imagehash agreement, edited copies, sizes, hex, quality."""

import io
from pathlib import Path

import imagehash
import numpy as np
import pytest
import pywt
import scipy.fft
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image, ImageDraw

from pixdex import ALGORITHMS, LOW_QUALITY, Hash
from pixdex.hashing.phash import phash_bits
from pixdex.hashing.whash import haar_approximation

ICON_ROOT = Path("/usr/share/icons")

IMAGEHASH = {
    "dhash": imagehash.dhash,
    "ahash": imagehash.average_hash,
    "phash": imagehash.phash,
    "whash": imagehash.whash,
}
"""The imagehash function each pixdex algorithm must agree with."""


def open_rgb(path: Path) -> Image.Image:
    """A real image file decoded to RGB, transparency composited onto white."""
    with Image.open(path) as image:
        rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def icon_paths(count: int, min_side: int = 48) -> list[Path]:
    """``count`` icons of at least ``min_side`` pixels, spread evenly over the installed themes."""
    candidates = []
    for path in sorted(ICON_ROOT.rglob("*.png")):
        try:
            with Image.open(path) as image:
                if min(image.size) >= min_side:
                    candidates.append(path)
        except OSError:
            continue
    assert len(candidates) >= count, f"only {len(candidates)} icons under {ICON_ROOT}"
    step = len(candidates) / count
    return [candidates[int(i * step)] for i in range(count)]


@pytest.fixture(scope="module")
def photos(photo_paths) -> list[Image.Image]:
    return [open_rgb(p) for p in photo_paths]


@pytest.fixture(scope="module")
def icons_on_white() -> list[Image.Image]:
    return [open_rgb(p) for p in icon_paths(40)]


@pytest.mark.parametrize("name", ["dhash", "ahash", "phash"])
def test_within_four_bits_of_imagehash_on_95_percent_of_opaque_real_images(
    name, photos, icons_on_white
):
    images = photos + icons_on_white
    distances = []
    for image in images:
        ours = ALGORITHMS[name].compute(image, 8)
        theirs = Hash.from_hex(str(IMAGEHASH[name](image)), name)
        distances.append(ours - theirs)
    within = np.mean(np.array(distances) <= 4)
    assert within >= 0.95, f"{name}: {within:.0%} within 4 bits, distances {sorted(distances)}"


def test_whash_stays_close_to_imagehash_on_photos(photos):
    distances = [
        ALGORITHMS["whash"].compute(image, 8) - Hash.from_hex(str(imagehash.whash(image)), "whash")
        for image in photos
    ]
    assert np.median(distances) <= 6, sorted(distances)


@pytest.mark.parametrize("name", ["dhash", "ahash", "phash", "whash"])
@pytest.mark.parametrize("size", [8, 16])
def test_hash_size_sets_the_bit_count_and_hex_round_trips(name, size, photos):
    algorithm = ALGORITHMS[name]
    value = algorithm.compute(photos[0], size)
    assert len(value) == algorithm.bits(size) == size * size
    assert len(str(value)) == size * size // 4
    assert Hash.from_hex(str(value), name) == value
    assert value.algorithm == name


def test_dhash_hex_is_imagehash_hex_when_bits_agree(photos):
    agreeing = 0
    for image in photos:
        ours = ALGORITHMS["dhash"].compute(image, 8)
        theirs = imagehash.dhash(image)
        if ours - Hash.from_hex(str(theirs), "dhash") == 0:
            assert str(ours) == str(theirs)
            agreeing += 1
    assert agreeing >= len(photos) // 2


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def _red_square_q60(image: Image.Image) -> Image.Image:
    edited = image.copy()
    side = min(edited.size)
    ImageDraw.Draw(edited).rectangle((4, 4, 4 + side // 12, 4 + side // 12), fill="red")
    return _jpeg(edited, 60)


EDITED_COPIES = {
    "red-square+q60": _red_square_q60,
    "resize-50": lambda image: image.resize((image.width // 2, image.height // 2)),
    "jpeg-q30": lambda image: _jpeg(image, 30),
}


@pytest.mark.parametrize("edit", sorted(EDITED_COPIES))
@pytest.mark.parametrize("name", ["dhash", "ahash", "phash", "whash", "pdq"])
def test_edited_copies_stay_close_and_different_photos_far(name, edit, photo_paths):
    algorithm = ALGORITHMS[name]
    size = algorithm.default_size
    bits = algorithm.bits(size)
    originals = [open_rgb(p) for p in photo_paths if p.name != "page.png"]
    copies = []
    for image in originals:
        copy = EDITED_COPIES[edit](image)
        copies.append(algorithm.compute(image, size) - algorithm.compute(copy, size))
    hashes = [algorithm.compute(image, size) for image in originals]
    cross = [a - b for i, a in enumerate(hashes) for b in hashes[i + 1 :]]
    # Every copy is nearer its source than any two different photos are to each other.
    assert max(copies) < min(cross), (sorted(copies), sorted(cross)[:5])
    assert np.median(copies) <= bits // 8
    assert np.mean(cross) > bits / 4


@pytest.mark.parametrize("name", ["dhash", "ahash", "phash", "whash", "pdq"])
def test_blank_and_nearly_blank_images_are_flagged_degenerate(name):
    rng = np.random.default_rng(7)
    speck = Image.new("RGB", (400, 300), "white")
    ImageDraw.Draw(speck).ellipse((195, 145, 205, 155), fill="black")
    noise = rng.normal(128, 2, (300, 400)).clip(0, 255).astype(np.uint8)
    blanks = [
        Image.new("RGB", (320, 240), "black"),
        Image.new("RGB", (320, 240), "white"),
        Image.new("L", (100, 100), 128),
        speck,
        Image.fromarray(noise),
    ]
    algorithm = ALGORITHMS[name]
    for image in blanks:
        value = algorithm.compute(image, algorithm.default_size)
        assert value.is_degenerate and value.quality < LOW_QUALITY, (image, value)


@pytest.mark.parametrize("name", ["dhash", "ahash", "phash"])
def test_real_photos_and_icons_are_not_degenerate(name, photos, icons_on_white, photo_paths):
    algorithm = ALGORITHMS[name]
    for path, image in zip(photo_paths, photos, strict=True):
        value = algorithm.compute(image, 8)
        if name == "dhash" and path.name == "page.png":
            # A scanned page lit from one side: every pixel is brighter than its left neighbour,
            # the dHash is all ones and collides with every such page; flagging it is right.
            assert str(value) == "ffffffffffffffff" and value.is_degenerate
            continue
        assert not value.is_degenerate, (path.name, value)
    flagged = sum(algorithm.compute(image, 8).is_degenerate for image in icons_on_white)
    assert flagged == 0


def test_dhash_of_a_horizontal_gradient_is_all_ones_and_degenerate():
    ramp = np.tile(np.linspace(0, 255, 300), (200, 1)).astype(np.uint8)
    value = ALGORITHMS["dhash"].compute(Image.fromarray(ramp), 8)
    assert int(value) == 2**64 - 1
    assert value.is_degenerate


@settings(max_examples=60, deadline=None)
@given(arrays(np.float32, (32, 32), elements=st.floats(0, 255, width=32)))
def test_phash_bits_equal_scipy_dct(gray):
    low = scipy.fft.dct(scipy.fft.dct(gray.astype(np.float64), axis=0), axis=1)[:8, :8]
    expected = low > np.median(low)
    ours = phash_bits(gray, 8)
    # Coefficients within rounding of the median may fall either side.
    close = np.isclose(low, np.median(low), rtol=1e-9, atol=1e-6)
    assert np.array_equal(ours[~close], expected[~close])


@settings(max_examples=60, deadline=None)
@given(arrays(np.float32, (32, 32), elements=st.floats(0, 255, width=32)))
def test_haar_approximation_equals_pywavelets(gray):
    expected = pywt.wavedec2(gray.astype(np.float64), "haar", level=2)[0]
    np.testing.assert_allclose(haar_approximation(gray, 2), expected, rtol=1e-9, atol=1e-6)
