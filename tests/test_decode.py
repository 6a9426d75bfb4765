"""Decoding real files and generated edge cases into pixels ready for hashing."""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import SKIMAGE_DATA
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import pixdex
from pixdex import decode
from pixdex.decode import Limits, decode_image, load_image
from pixdex.hashing.dhash import dhash

DHASH_MIN_SIDE = pixdex.ALGORITHMS["dhash"].min_side(8)


def dhash_of(source, min_side: int = DHASH_MIN_SIDE):
    return dhash(load_image(source, min_side=min_side))


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_rotated_jpeg_hashes_like_the_upright_file(edge_files, orientation):
    rotated = edge_files[f"orientation{orientation}.jpg"]
    upright = dhash_of(edge_files["upright.jpg"])
    assert dhash_of(rotated) - upright <= 2
    # The stored pixels really are turned: ignoring the tag gives a far hash.
    stored = Image.open(rotated).convert("RGB")
    assert dhash(stored) - upright > 16
    decoded = decode_image(rotated)
    assert (decoded.width, decoded.height) == Image.open(edge_files["upright.jpg"]).size
    assert decoded.image.size == (decoded.width, decoded.height)


@pytest.mark.parametrize(
    "name", ["photo.bmp", "photo.tif", "photo.webp", "photo.avif", "rgb16.png", "upright.jpg"]
)
def test_other_containers_of_the_same_pixels_hash_alike(edge_files, name):
    assert dhash_of(edge_files[name]) - dhash_of(edge_files["photo.png"]) <= 2


def test_lossless_containers_decode_to_identical_pixels(edge_files):
    reference = np.asarray(load_image(edge_files["photo.png"]))
    for name in ("photo.bmp", "photo.tif", "photo.webp"):
        assert np.array_equal(np.asarray(load_image(edge_files[name])), reference), name


def test_cmyk_jpeg_decodes_to_rgb_like_the_original(edge_files):
    image = load_image(edge_files["cmyk.jpg"])
    assert Image.open(edge_files["cmyk.jpg"]).mode == "CMYK"
    assert image.mode == "RGB"
    original = np.asarray(load_image(edge_files["upright.jpg"]), dtype=float)
    assert np.abs(np.asarray(image, dtype=float) - original).mean() < 8  # 0-255 levels
    assert dhash(image) - dhash_of(edge_files["upright.jpg"]) <= 2


def test_16_bit_grayscale_is_scaled_not_clipped(edge_files):
    image = load_image(edge_files["gray16.png"])
    assert image.mode == "L"
    eight_bit = np.asarray(load_image(edge_files["gray.png"]).convert("L"), dtype=int)
    assert np.abs(np.asarray(image, dtype=int) - eight_bit).max() <= 1
    assert not dhash(image).is_degenerate


def test_1_bit_image_decodes_to_grayscale_with_the_photos_structure(edge_files):
    image = load_image(edge_files["bilevel.png"], min_side=DHASH_MIN_SIDE)
    assert Image.open(edge_files["bilevel.png"]).mode == "1"
    assert image.mode == "L"
    assert dhash(image) - dhash_of(edge_files["photo.png"]) <= 6


@pytest.mark.parametrize("name", ["clipart.png", "clipart_la.png", "clipart_palette.png"])
def test_transparent_clipart_is_composited_on_white(edge_files, name):
    image = load_image(edge_files[name])
    assert image.mode in ("RGB", "L")
    pixels = np.asarray(image.convert("L"))
    # The transparent background (stored as black) must come out white.
    assert pixels[0, 0] == 255 and pixels[-1, -1] == 255
    on_white = dhash_of(SKIMAGE_DATA / "logo.png")  # the drawing as published, on white
    assert dhash_of(edge_files[name]) - on_white <= 3


def test_transparent_silhouettes_are_not_black_images(edge_files):
    black = dhash(Image.new("RGB", (64, 64)))
    first = dhash_of(edge_files["silhouette.png"])
    second = dhash_of(edge_files["silhouette_other.png"])
    # Dropping alpha makes both all black: the same hash as a black image.
    dropped = dhash(Image.open(edge_files["silhouette.png"]).convert("RGB"))
    assert dropped == black
    assert first != black and not first.is_degenerate
    assert second - first > 16


def test_animated_gif_hashes_its_first_frame(edge_files):
    animated = dhash_of(edge_files["animated.gif"])
    assert Image.open(edge_files["animated.gif"]).n_frames == 2
    assert animated == dhash_of(edge_files["still.gif"])
    assert animated - dhash_of(edge_files["other.gif"]) > 16


def test_jpeg_is_decoded_at_reduced_scale_but_reports_its_full_size(edge_files):
    decoded = decode_image(edge_files["upright.jpg"], min_side=72)
    assert (decoded.width, decoded.height) == (451, 300)
    assert min(decoded.image.size) >= 72
    assert decoded.image.size[0] < 451 // 2


@pytest.mark.parametrize("name", ["photo.png", "upright.jpg", "clipart.png", "gray16.png"])
@pytest.mark.parametrize("min_side", [1, 30, 72, 150, 299, 300, 1000])
def test_reduced_decode_keeps_both_sides_at_least_min_side(edge_files, name, min_side):
    decoded = decode_image(edge_files[name], min_side=min_side)
    assert decoded.image.mode in ("RGB", "L")
    assert min(decoded.image.size) >= min(min_side, decoded.width, decoded.height)


def test_bytes_file_object_and_pil_image_give_the_same_pixels(edge_files):
    path = edge_files["orientation6.jpg"]
    reference = np.asarray(load_image(path))
    assert np.array_equal(np.asarray(load_image(path.read_bytes())), reference)
    with open(path, "rb") as file:
        assert np.array_equal(np.asarray(load_image(file)), reference)
    assert np.array_equal(np.asarray(load_image(Image.open(path))), reference)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("zero.jpg", "empty file (0 bytes)"),
        ("text.jpg", "not an image"),
        ("truncated.jpg", "truncated"),
        ("truncated.png", "truncated"),
        ("bomb.png", "100,000 × 100,000 pixels is over the limit"),
        ("over_limit.png", "truncated"),  # 144 megapixels: decoded in strips, its data missing
    ],
)
def test_bad_files_raise_image_error_naming_file_and_reason(edge_files, name, reason):
    path = edge_files[name]
    with pytest.raises(pixdex.ImageError) as caught:
        load_image(path)
    assert str(path) in str(caught.value)
    assert reason in caught.value.reason
    assert caught.value.source == str(path)


def test_heic_without_its_plugin_names_the_extra(edge_files):
    if decode.pillow_heif is None:
        with pytest.raises(pixdex.ImageError, match=r"pip install pixdex\[heic\]"):
            load_image(edge_files["photo.heic"])
    else:  # the extra is installed: a real HEIC file must decode
        import pillow_heif

        photo = Image.open(edge_files["photo.png"])
        buffer = io.BytesIO()
        pillow_heif.from_pillow(photo).save(buffer, quality=90)
        assert dhash_of(buffer.getvalue()) - dhash_of(edge_files["photo.png"]) <= 4


def test_limits_are_configurable(edge_files):
    path = edge_files["photo.png"]
    with pytest.raises(pixdex.ImageError, match=r"Limits\.max_pixels"):
        load_image(path, limits=Limits(max_pixels=451 * 300 - 1, max_streamed_pixels=0))
    assert load_image(path, limits=Limits(max_pixels=451 * 300)).size == (451, 300)
    with pytest.raises(pixdex.ImageError, match=r"Limits\.max_streamed_pixels"):
        load_image(path, limits=Limits(max_pixels=1000, max_streamed_pixels=451 * 300 - 1))
    with pytest.raises(pixdex.ImageError, match=r"Limits\.max_bytes"):
        load_image(path, limits=Limits(max_bytes=path.stat().st_size - 1))
    with pytest.raises(pixdex.ImageError, match=r"Limits\.max_bytes"):
        load_image(path.read_bytes(), limits=Limits(max_bytes=1000))


def test_missing_file_and_directory_raise_image_error(tmp_path):
    with pytest.raises(pixdex.ImageError, match="cannot read the file"):
        load_image(tmp_path / "absent.jpg")
    with pytest.raises(pixdex.ImageError, match="cannot read the file"):
        load_image(tmp_path)


@pytest.mark.parametrize("mode", ["1", "L", "P", "RGB", "RGBA", "LA", "CMYK", "I", "I;16", "F"])
def test_every_pillow_mode_becomes_rgb_or_l(mode):
    photo = Image.open(SKIMAGE_DATA / "astronaut.png").convert("RGB")
    source = photo.convert("L") if mode in ("I", "I;16", "F") else photo
    image = load_image(source.convert(mode))
    assert image.mode in ("RGB", "L")
    assert image.size == photo.size
    assert dhash(image) - dhash(photo) <= 6


JPEG_BYTES = (SKIMAGE_DATA / "rocket.jpg").read_bytes()
PNG_BYTES = (SKIMAGE_DATA / "coins.png").read_bytes()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.sampled_from([JPEG_BYTES, PNG_BYTES]),
    cut=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(1, 255)), max_size=4),
)
def test_damaged_files_decode_or_raise_image_error_only(data, cut, flips):
    damaged = bytearray(data[: int(len(data) * cut)])
    for where, xor in flips:
        if damaged:
            damaged[int(where * (len(damaged) - 1))] ^= xor
    try:
        image = load_image(bytes(damaged), min_side=DHASH_MIN_SIDE)
    except pixdex.ImageError as exc:
        assert exc.source == "<bytes>" and exc.reason
    else:
        assert image.mode in ("RGB", "L")


def test_a_gray_decode_of_a_jpeg_is_its_luma_at_reduced_scale(edge_files):
    path = edge_files["upright.jpg"]
    gray = decode_image(path, min_side=72, gray=True)
    colour = decode_image(path, min_side=72)
    assert gray.image.mode == "L" and colour.image.mode == "RGB"
    assert gray.image.size == colour.image.size and (gray.width, gray.height) == (451, 300)
    luma = np.asarray(colour.image.convert("L"), dtype=np.int16)
    assert np.abs(np.asarray(gray.image, dtype=np.int16) - luma).mean() < 2.0
    assert pixdex.ALGORITHMS["dhash"].compute(gray.image, 8) - dhash_of(path) <= 2
    # Orientation still applies to the luma-only decode.
    turned = decode_image(edge_files["orientation6.jpg"], min_side=72, gray=True)
    assert turned.image.mode == "L" and turned.image.size == colour.image.size
