"""Oversized images decoded in strips by libvips (``pixdex.decode_streamed``).

A real clip-art drawing (scikit-image's logo, RGBA) enlarged to 132 megapixels, over the
128-megapixel limit of the Pillow path, is hashed in a fresh process whose peak memory is read
from the kernel; and every format libvips streams is checked against the Pillow path on the
edge-case files, by sending them through the streamed path with a tiny pixel limit.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import pyvips
from conftest import SKIMAGE_DATA

import pixdex
from pixdex.decode import Limits, decode_image
from pixdex.decode_streamed import streamed_format

ENLARGE = 23
"""logo.png (500 × 500) × 23: 11,500 × 11,500 = 132 megapixels, a 16 MB PNG."""

PEAK_MIB = 400
"""Peak memory allowed for hashing it: Pillow would hold about 9 bytes a pixel (1.2 GB)."""

MEASURE = """
import json, sys
import pixdex
(result,) = pixdex.hash_files([sys.argv[1]], workers=1)
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(json.dumps({"hash": str(result.hashes["dhash"]), "width": result.width,
                  "height": result.height, "format": result.format, "error": result.error,
                  "peak_kib": int(status["VmHWM"].split()[0])}))
"""


@pytest.fixture(scope="module")
def large_png(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("large") / "logo-132mp.png"
    logo = pyvips.Image.new_from_file(str(SKIMAGE_DATA / "logo.png"))
    logo.resize(ENLARGE, kernel="nearest").pngsave(str(path), compression=1, filter="none")
    return path


def test_a_132_megapixel_png_is_hashed_like_its_source_in_bounded_memory(large_png: Path):
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(large_png)], capture_output=True, text=True, check=True
    )
    measured = json.loads(done.stdout)
    assert measured["error"] is None
    side = 500 * ENLARGE
    assert (measured["width"], measured["height"], measured["format"]) == (side, side, "PNG")
    source = pixdex.hash_image(SKIMAGE_DATA / "logo.png")
    assert pixdex.Hash.from_hex(measured["hash"], "dhash") - source <= 2
    assert measured["peak_kib"] < PEAK_MIB * 1024


def test_the_large_png_cut_short_is_a_one_line_error(large_png: Path, tmp_path: Path):
    cut = tmp_path / "cut.png"
    cut.write_bytes(large_png.read_bytes()[: large_png.stat().st_size // 2])
    with pytest.raises(pixdex.ImageError, match="truncated or corrupt image data") as caught:
        pixdex.hash_image(cut)
    assert "\n" not in str(caught.value)


TINY = Limits(max_pixels=1000)
"""Sends every image of more than 1,000 pixels through the streamed path."""


@pytest.mark.parametrize(
    "name",
    [
        "upright.jpg",
        "orientation6.jpg",
        "orientation8.jpg",
        "cmyk.jpg",
        "photo.png",
        "gray16.png",
        "rgb16.png",
        "bilevel.png",
        "clipart.png",
        "clipart_la.png",
        "clipart_palette.png",
        "silhouette.png",
        "photo.tif",
        "photo.webp",
    ],
)
def test_every_streamed_format_hashes_like_the_pillow_path(edge_files, name):
    path = edge_files[name]
    whole = decode_image(path, min_side=64)
    streamed = decode_image(path, min_side=64, limits=TINY)
    assert streamed_format(path.read_bytes()[:16]) == whole.format == streamed.format
    assert (streamed.width, streamed.height) == (whole.width, whole.height)  # EXIF applied
    assert 64 <= min(streamed.image.size) <= 66  # shrunk while read, as far as the hash allows
    for algorithm in pixdex.ALGORITHMS:
        near = pixdex.hash_image(path, algorithm) - pixdex.hash_image(path, algorithm, limits=TINY)
        assert near <= len(pixdex.hash_image(path, algorithm)) // 16, algorithm


@pytest.mark.parametrize("name", ["photo.bmp", "still.gif", "photo.avif"])
def test_formats_libvips_does_not_stream_are_refused_over_the_limit(edge_files, name):
    with pytest.raises(pixdex.ImageError, match=r"Limits\.max_pixels"):
        pixdex.hash_image(edge_files[name], limits=TINY)


def test_an_absurd_header_is_refused_before_decoding(edge_files):
    with pytest.raises(pixdex.ImageError, match=r"Limits\.max_streamed_pixels") as caught:
        pixdex.hash_image(edge_files["bomb.png"])  # 100,000 × 100,000 pixels
    assert "100,000 × 100,000 pixels" in str(caught.value)


def test_interlaced_images_are_not_decoded_in_strips(edge_files, tmp_path):
    """libvips holds an interlaced PNG or a progressive JPEG whole: over the limit, refused."""
    photo = pyvips.Image.new_from_file(str(edge_files["photo.png"]))
    photo.pngsave(str(tmp_path / "adam7.png"), interlace=True)
    photo.jpegsave(str(tmp_path / "progressive.jpg"), interlace=True)
    for name in ("adam7.png", "progressive.jpg"):
        assert pixdex.hash_image(tmp_path / name) - pixdex.hash_image(edge_files["photo.png"]) <= 2
        with pytest.raises(pixdex.ImageError, match="interlaced"):
            pixdex.hash_image(tmp_path / name, limits=TINY)
