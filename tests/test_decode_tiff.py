"""TIFF files Pillow cannot read, decoded through tifffile: scikit-image's sample TIFFs and TIFFs
written with tifffile from a real photograph (float, 16-bit colour, tiled, planar, multi-page,
alpha, min-is-white, rotated), under the decoder's limits and with its one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from conftest import SKIMAGE_DATA
from PIL import Image

import pixdex
from pixdex.decode import Limits, decode_image, load_image
from pixdex.errors import ImageError


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """A real photograph as 8-bit RGB, ``(h, w, 3)``."""
    return np.asarray(Image.open(SKIMAGE_DATA / "chelsea.png").convert("RGB"))


def pillow_fails(path: Path) -> bool:
    try:
        with Image.open(path) as image:
            image.load()
    except Exception:
        return True
    return False


def written(folder: Path, name: str, data: np.ndarray, **options) -> Path:
    path = folder / name
    tifffile.imwrite(path, data, **options)
    return path


def test_the_demo_s_multipage_float_rgb_sample_decodes_its_first_page():
    path = SKIMAGE_DATA / "multipage_rgb.tif"
    assert pillow_fails(path)
    decoded = decode_image(path)
    assert (decoded.width, decoded.height, decoded.format) == (10, 10, "TIFF")
    first = tifffile.imread(path, key=0)  # (3, 10, 10) float in [0, 1], samples first
    expected = np.clip(np.moveaxis(first, 0, -1) * 255, 0, 255).round().astype(np.uint8)
    assert np.array_equal(np.asarray(decoded.image), expected)


def test_every_scikit_image_sample_tiff_decodes():
    for path in sorted(SKIMAGE_DATA.glob("*.tif")):
        assert decode_image(path).image.mode in ("RGB", "L"), path.name


@pytest.mark.parametrize(
    ("name", "convert", "options"),
    [
        ("float32-rgb.tif", lambda p: p.astype(np.float32) / 255, {"photometric": "rgb"}),
        ("float64-planar.tif", lambda p: np.moveaxis(p / 255.0, -1, 0), {"photometric": "rgb"}),
        (
            "float32-rgb-tiled.tif",
            lambda p: p.astype(np.float32) / 255,
            {"photometric": "rgb", "tile": (64, 64)},
        ),
        (
            "float32-rgb-deflate.tif",
            lambda p: p.astype(np.float32) / 255,
            {"photometric": "rgb", "compression": "zlib"},
        ),
        ("uint16-rgb.tif", lambda p: p.astype(np.uint16) * 257, {"photometric": "rgb"}),
        (
            "uint16-rgb-tiled.tif",
            lambda p: p.astype(np.uint16) * 257,
            {"photometric": "rgb", "tile": (32, 48)},
        ),
        ("float32-0-255.tif", lambda p: p.astype(np.float32), {"photometric": "rgb"}),
    ],
)
def test_tiff_variants_decode_to_the_photo_s_own_pixels(tmp_path, photo, name, convert, options):
    path = written(tmp_path, name, convert(photo), **options)
    decoded = decode_image(path)
    assert decoded.format == "TIFF" and decoded.image.mode == "RGB"
    assert (decoded.width, decoded.height) == (photo.shape[1], photo.shape[0])
    assert np.array_equal(np.asarray(decoded.image), photo), name
    assert pixdex.hash_image(path) == pixdex.hash_image(SKIMAGE_DATA / "chelsea.png")


def test_float_colour_is_a_variant_pillow_cannot_read(tmp_path, photo):
    path = written(tmp_path, "float.tif", photo.astype(np.float32) / 255, photometric="rgb")
    assert pillow_fails(path)


def test_a_multi_page_tiff_decodes_its_first_page(tmp_path, photo):
    pages = np.stack([photo, photo[::-1], 255 - photo]).astype(np.float32) / 255
    path = written(tmp_path, "pages.tif", pages, photometric="rgb")
    assert tifffile.TiffFile(path).pages.__len__() == 3
    assert np.array_equal(np.asarray(load_image(path)), photo)


def test_gray_float_and_min_is_white_tiffs_decode_to_gray(tmp_path, photo):
    gray = np.asarray(Image.fromarray(photo).convert("L"))
    stacked = np.stack([gray, gray]).astype(np.float32) / 255  # a float multi-page gray stack
    path = written(tmp_path, "gray-pages.tif", stacked, photometric="minisblack")
    assert np.array_equal(np.asarray(load_image(path)), gray)
    inverted = written(tmp_path, "miniswhite.tif", 255 - gray, photometric="miniswhite")
    assert np.array_equal(np.asarray(load_image(inverted)), gray)


def test_float_alpha_is_composited_onto_white(tmp_path, photo):
    alpha = np.zeros(photo.shape[:2], dtype=np.float32)
    alpha[:, : photo.shape[1] // 2] = 1.0  # the left half opaque, the right half transparent
    rgba = np.dstack([photo.astype(np.float32) / 255, alpha])
    path = written(tmp_path, "rgba.tif", rgba, photometric="rgb", extrasamples=["unassalpha"])
    pixels = np.asarray(load_image(path))
    half = photo.shape[1] // 2
    assert np.array_equal(pixels[:, :half], photo[:, :half])
    assert (pixels[:, half:] == 255).all()


def test_the_tiff_orientation_tag_is_applied(tmp_path, photo):
    turned = np.ascontiguousarray(np.rot90(photo, k=1)).astype(np.float32) / 255
    path = written(tmp_path, "turned.tif", turned, photometric="rgb", extratags=[(274, 3, 1, 6)])
    decoded = decode_image(path)
    # Orientation 6: the stored picture is turned 90° anticlockwise; upright it is the photo.
    assert (decoded.width, decoded.height) == (photo.shape[1], photo.shape[0])
    assert np.array_equal(np.asarray(decoded.image), photo)


def test_a_reduced_decode_keeps_both_sides_at_least_min_side(tmp_path, photo):
    path = written(tmp_path, "float.tif", photo.astype(np.float32) / 255, photometric="rgb")
    decoded = decode_image(path, min_side=72)
    assert min(decoded.image.size) >= 72 and decoded.image.size[0] < photo.shape[1]


def test_the_pixel_limit_refuses_a_tiff_before_decoding(tmp_path, photo):
    path = written(tmp_path, "float.tif", photo.astype(np.float32) / 255, photometric="rgb")
    with pytest.raises(ImageError, match="is over the limit of 1,000 pixels"):
        decode_image(path, limits=Limits(max_pixels=1000))


def test_a_truncated_float_tiff_is_one_line_naming_both_readers(tmp_path, photo):
    whole = written(tmp_path, "whole.tif", photo.astype(np.float32) / 255, photometric="rgb")
    cut = tmp_path / "cut.tif"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 3])
    with pytest.raises(ImageError) as caught:
        decode_image(cut)
    message = str(caught.value)
    assert message.startswith(f"{cut}: ") and "\n" not in message
    assert "TIFF" in message and "tifffile cannot read it either" in message


def test_a_tiff_header_with_nothing_behind_it_is_an_image_error(tmp_path):
    path = tmp_path / "header.tif"
    path.write_bytes(b"II*\x00" + bytes(12))
    with pytest.raises(ImageError, match="tifffile cannot read it either"):
        decode_image(path)
