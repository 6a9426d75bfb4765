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
