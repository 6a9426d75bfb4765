"""PDQ in numpy against the ``pdqhash`` package (Meta's C++ reference), on real images."""

import io
from pathlib import Path

import numpy as np
import pdqhash
import pytest
import skimage
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from pixdex import ALGORITHMS, Hash
from pixdex.hashing.pdq import (
    box_filter_last_axis,
    jarosz_window,
    pdq,
    pdq_bit_vector,
    pdq_pixels,
    pdq_quality,
)

SKIMAGE_DATA = Path(skimage.__file__).parent / "data"
REAL_IMAGES = sorted(
    p for p in SKIMAGE_DATA.iterdir() if p.suffix in {".png", ".jpg"} and p.stat().st_size > 2000
)
"""Every photograph, scan and drawing shipped with scikit-image (colour, gray, with alpha)."""


def rgb_pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def test_bits_and_quality_equal_the_reference_on_every_real_image():
    assert len(REAL_IMAGES) >= 20
    for path in REAL_IMAGES:
        pixels = rgb_pixels(path)
        reference, reference_quality = pdqhash.compute(pixels)
        bits, quality = pdq_pixels(pixels)
        differing = int((pdq_bit_vector(bits) != reference.astype(bool)).sum())
        assert differing == 0, f"{path.name}: {differing} bits differ from pdqhash"
        assert quality == reference_quality, path.name


def test_edited_images_equal_the_reference_too():
    # Edits change the image sizes (window widths, sampling grid) and add JPEG noise.
    with Image.open(SKIMAGE_DATA / "coffee.png") as image:
        photo = image.convert("RGB")
    squashed = photo.resize((173, 377))
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=30)
    buffer.seek(0)
    recompressed = Image.open(buffer).convert("RGB")
    for edited in (squashed, recompressed, photo.crop((17, 5, 600, 390))):
        pixels = np.asarray(edited)
        reference, reference_quality = pdqhash.compute(pixels)
        bits, quality = pdq_pixels(pixels)
        assert np.array_equal(pdq_bit_vector(bits), reference.astype(bool))
        assert quality == reference_quality


def test_hex_is_the_reference_vector_read_first_bit_most_significant():
    with Image.open(SKIMAGE_DATA / "astronaut.png") as image:
        photo = image.convert("RGB")
    reference, reference_quality = pdqhash.compute(np.asarray(photo))
    h = pdq(photo)
    assert h == Hash.from_bits(reference.astype(bool), "pdq")
    assert len(h.hex) == 64 and h.bits == 256
    assert h.quality == reference_quality
    assert ALGORITHMS["pdq"].compute(photo, 16) == h


def test_gray_images_hash_like_their_rgb_copy():
    with Image.open(SKIMAGE_DATA / "camera.png") as image:
        gray = image.convert("L")
    assert pdq(gray) - pdq(gray.convert("RGB")) <= 2


def test_other_sizes_are_refused():
    with (
        Image.open(SKIMAGE_DATA / "camera.png") as image,
        pytest.raises(ValueError, match="256 bits"),
    ):
        pdq(image, 8)


def reference_box_filter(row: list[float], window: int) -> list[float]:
    right = window // 2
    left = window - 1 - right
    out = []
    for i in range(len(row)):
        inside = row[max(0, i - left) : min(len(row), i + right + 1)]
        out.append(sum(inside) / len(inside))
    return out


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.float64, st.integers(1, 40), elements=st.floats(0, 255)),
    st.integers(1, 9),
)
def test_box_filter_is_a_border_clipped_moving_average(row, window):
    window = min(window, row.size)
    expected = reference_box_filter(row.tolist(), window)
    assert np.allclose(box_filter_last_axis(row[np.newaxis, :], window)[0], expected)


def test_window_is_half_the_sample_spacing_rounded_up():
    assert [jarosz_window(s) for s in (1, 64, 128, 129, 512, 513, 4000)] == [1, 1, 1, 2, 4, 5, 32]


def reference_quality(buffer: np.ndarray) -> int:
    total = 0
    for i in range(64):
        for j in range(64):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < 64 and j + dj < 64:
                    step = (float(buffer[i, j]) - float(buffer[i + di, j + dj])) * 100 / 255
                    total += abs(int(step))
    return min(100, total // 90)


def test_quality_matches_a_plain_loop_on_real_buffers():
    for name in ("moon.png", "astronaut.png", "page.png"):
        with Image.open(SKIMAGE_DATA / name) as image:
            small = np.asarray(image.convert("L").resize((64, 64)), dtype=np.float32)
        assert pdq_quality(small) == reference_quality(small)
    flat = np.full((64, 64), 99.0, dtype=np.float32)
    assert pdq_quality(flat) == 0
