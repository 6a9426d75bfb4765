"""The TIFF files Pillow cannot read, read with tifffile: the first page's samples as an array.

Pillow reads the common TIFFs (8- and 16-bit gray and RGB, striped or tiled, the usual
compressions) but not every variant scientific collections hold: floating-point colour
(scikit-image's ``multipage_rgb.tif`` is two pages of float64 RGB stored plane by plane), or
sample layouts and bit depths outside its modes. ``pixdex.decode`` calls ``read_first_page`` for
a file that starts like a TIFF when Pillow cannot open or decode it, then treats the samples like
any other high-depth image (scaled to 8 bits, transparency composited onto white, reduced).

tifffile is imported on first use: most collections never need it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

SIGNATURES = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
"""The first four bytes of a TIFF (little- and big-endian) and of a BigTIFF file."""

_MINISWHITE, _MINISBLACK, _RGB = 0, 1, 2
"""TIFF photometric interpretations read here; others (palette, CMYK, YCbCr, CIELab, ...) are
refused with their name: Pillow reads the common ones itself."""

_ASSOCIATED_ALPHA, _UNASSOCIATED_ALPHA = 1, 2
"""TIFF ExtraSamples values of an alpha channel: premultiplied, or not."""

_ORIENTATION_TAG = 274

# tifffile logs what it finds odd in a file as warnings; with no logging configured, Python prints
# them on stderr in the middle of pixdex's output. A NullHandler keeps them off the terminal and
# still passes them to whatever handlers an application configures.
logging.getLogger("tifffile").addHandler(logging.NullHandler())


@dataclass(frozen=True)
class Page:
    """The first page of a TIFF file: ``samples`` ``(height, width, channels)`` in the file's
    sample type; ``mode`` the Pillow mode they map to once 8-bit ("L", "LA", "La", "RGB",
    "RGBA" or "RGBa": a lower-case ``a`` is premultiplied alpha); ``min_is_white``: the gray
    channel counts from white (0) to black; ``orientation`` the TIFF orientation tag (1-8, as in
    EXIF)."""

    samples: np.ndarray
    mode: str
    min_is_white: bool
    orientation: int


def is_tiff(head: bytes) -> bool:
    """Whether a file starting with ``head`` claims to be a TIFF or BigTIFF."""
    return head[:4] in SIGNATURES


def read_first_page(stream: BinaryIO, check_size: Callable[[int, int], None]) -> Page:
    """Read the first page of the TIFF in ``stream``.

    ``check_size(width, height)`` is called with the page's size in pixels before any pixel is
    decoded, to refuse it (by raising). Raises ``ValueError`` with a one-line reason when the
    file cannot be read or holds a colour space other than gray or RGB; a failure inside
    tifffile or its codecs surfaces as that codec's own exception type.
    """
    import tifffile

    stream.seek(0)
    with tifffile.TiffFile(stream) as tiff:
        if not tiff.pages:
            raise ValueError("a TIFF file without any page")
        page = tiff.pages[0]
        check_size(int(page.imagewidth), int(page.imagelength))
        photometric = int(page.photometric)
        if photometric not in (_MINISWHITE, _MINISBLACK, _RGB):
            name = getattr(page.photometric, "name", str(photometric))
            raise ValueError(f"a TIFF in the {name} colour space, which pixdex does not read")
        samples = _yxs(page.asarray(), page.axes)
        extra = tuple(int(e) for e in page.extrasamples)
        tag = page.tags.get(_ORIENTATION_TAG)
        orientation = int(tag.value) if tag is not None else 1
    return _as_page(samples, photometric, extra, orientation)


def _yxs(array: np.ndarray, axes: str) -> np.ndarray:
    """Samples as ``(Y, X, S)``: the first of any other axis (depth, pages), a channel axis
    added for single-sample images."""
    for axis in reversed(range(len(axes))):
        if axes[axis] not in "YXS":
            array = np.take(array, 0, axis=axis)
            axes = axes[:axis] + axes[axis + 1 :]
    if "S" not in axes:
        array, axes = array[..., np.newaxis], axes + "S"
    return np.transpose(array, [axes.index(a) for a in "YXS"])


def _as_page(samples: np.ndarray, photometric: int, extra: tuple[int, ...], turn: int) -> Page:
    """Keep the colour and alpha channels the photometric interpretation names."""
    colours = 3 if photometric == _RGB else 1
    if samples.shape[2] < colours:
        raise ValueError(f"an RGB TIFF with {samples.shape[2]} samples per pixel")
    first_extra = extra[0] if extra else None
    alpha = samples.shape[2] > colours and first_extra in (_ASSOCIATED_ALPHA, _UNASSOCIATED_ALPHA)
    mode = "RGB" if colours == 3 else "L"
    if alpha:
        mode += "a" if first_extra == _ASSOCIATED_ALPHA else "A"
    kept = samples[:, :, : colours + alpha]
    return Page(kept, mode, photometric == _MINISWHITE, turn if 1 <= turn <= 8 else 1)
