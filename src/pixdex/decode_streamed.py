"""Oversized images decoded in strips by libvips, shrunk while they are read.

Pillow decodes a whole image before anything can reduce it (about 9 bytes per pixel at peak:
5.6 GB for the 623-megapixel clip-art PNGs of real collections), so ``pixdex.decode`` hands an
image over its ``Limits.max_pixels`` to this module instead, for the formats libvips reads
sequentially: PNG, JPEG, WebP and TIFF. ``pyvips.Image.thumbnail_source`` reads the file a strip
at a time and shrinks each strip as it arrives (JPEG and WebP at load, in the DCT and the codec),
so memory follows the output size and a few strips of the input, not the input. Images within
the limit keep Pillow, so their hashes do not change.

The result is what the Pillow path returns: an "RGB" or "L" image whose sides are still ≥
``min_side`` pixels, EXIF orientation applied, transparency composited onto white, 16-bit and
CMYK brought to 8-bit sRGB or gray. Interlaced PNGs and progressive JPEGs cannot be read in
strips (libvips holds the whole image, 3-4 bytes a pixel: 1 GB at 300 megapixels), so over the
limit they stay refused.
"""

from __future__ import annotations

import io
import math
from typing import BinaryIO

import numpy as np
from PIL import Image

from pixdex.errors import ImageError

_SIGNATURES = (
    (0, b"\x89PNG\r\n\x1a\n", "PNG"),
    (0, b"\xff\xd8\xff", "JPEG"),
    (8, b"WEBP", "WEBP"),
    (0, b"II*\x00", "TIFF"),
    (0, b"MM\x00*", "TIFF"),
)
"""(offset, leading bytes, Pillow's format name) of the formats libvips reads in strips."""

_EXIF_TURNED = frozenset({5, 6, 7, 8})
"""EXIF orientations that swap width and height."""


def decode_streamed(
    label: str, stream: BinaryIO, min_side: int, max_pixels: int, max_streamed_pixels: int
) -> tuple[Image.Image, int, int, str] | None:
    """Decode the image in ``stream`` (a file opened "rb", or an in-memory buffer) shrunk so its
    shorter side is ``min_side`` pixels, or, with ``min_side`` 0, to at most ``max_pixels``.

    Returns ``(pixels, width, height, format)``: the shrunk "RGB" or "L" image and the original
    size after EXIF orientation; None when libvips does not read the format in strips. Raises
    ``ImageError`` when the header declares more than ``max_streamed_pixels`` pixels or when the
    file is truncated or corrupt.
    """
    stream.seek(0)
    image_format = streamed_format(stream.read(16))
    if image_format is None:
        return None
    pyvips = _pyvips()
    try:
        header = pyvips.Image.new_from_source(_source(pyvips, stream), "", access="sequential")
        width, height = header.width, header.height
        turned = header.get_typeof("orientation") and header.get("orientation") in _EXIF_TURNED
        interlaced = header.get_typeof("interlaced") and header.get("interlaced")
    except pyvips.Error as error:
        raise ImageError(label, f"corrupt image header ({_first_line(error)})") from None
    if interlaced:  # Adam7 PNG, progressive JPEG: libvips must hold the whole image
        raise ImageError(
            label,
            f"{width:,} × {height:,} pixels is over the limit of {max_pixels:,} pixels "
            f"(Limits.max_pixels), and an interlaced (progressive) {image_format} cannot be "
            "decoded in strips",
        )
    if width * height > max_streamed_pixels:
        raise ImageError(
            label,
            f"{width:,} × {height:,} pixels is over the limit of {max_streamed_pixels:,} pixels "
            "(Limits.max_streamed_pixels; a decompression-bomb guard)",
        )
    box = _box(width, height, min_side, max_pixels)
    try:
        # The loader's fail_on (in option_string; the keyword is the thumbnail's own): without
        # it a truncated or corrupt file decodes "successfully", its missing rows gray.
        thumbnail = pyvips.Image.thumbnail_source(
            _source(pyvips, stream), box, height=box, size="down", option_string="fail_on=error"
        )
        pixels = _to_pil(thumbnail)
    except pyvips.Error as error:
        raise ImageError(label, f"truncated or corrupt image data ({_first_line(error)})") from None
    if turned:
        width, height = height, width
    return pixels, width, height, image_format


def streamed_format(head: bytes) -> str | None:
    """The format of a file starting with ``head`` if libvips decodes it in strips, else None."""
    for offset, magic, name in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return name
    return None


def _pyvips():
    """pyvips, imported on first use (its libvips start-up costs a worker 0.1 s) with libvips'
    operation cache off: it would keep the last decoded images alive between files."""
    import pyvips

    pyvips.cache_set_max(0)
    return pyvips


def _source(pyvips, stream: BinaryIO):
    """A fresh libvips source over the whole stream (each read starts from the beginning)."""
    if isinstance(stream, io.BytesIO):
        # getvalue(), not getbuffer(): an export would keep the stream from being closed (a
        # BufferError the fuzzer found); for a stream made from bytes it is those bytes.
        return pyvips.Source.new_from_memory(stream.getvalue())
    stream.seek(0)
    return pyvips.Source.new_from_descriptor(stream.fileno())


def _box(width: int, height: int, min_side: int, max_pixels: int) -> int:
    """The side of the square the thumbnail must fit in: its long side, once the short side is
    ``min_side`` (or the whole image holds at most ``max_pixels``). Square, so the EXIF
    rotation libvips applies does not matter."""
    if min_side > 0:
        scale = min_side / min(width, height)
    else:
        scale = math.sqrt(max_pixels / (width * height))
    return max(1, math.ceil(max(width, height) * min(scale, 1.0)))


def _to_pil(image) -> Image.Image:
    """An 8-bit "RGB" or "L" PIL image of a libvips image: alpha composited onto white, 16-bit,
    float and CMYK images converted."""
    if image.hasalpha():
        image = image.flatten(background=[255] * (image.bands - 1))
    gray = image.interpretation in ("b-w", "grey16") or image.bands == 1
    image = image.colourspace("b-w" if gray else "srgb")
    if image.format != "uchar":
        image = image.cast("uchar")
    bands = 1 if gray else 3
    image = image.extract_band(0, n=bands) if image.bands > bands else image
    array = np.ndarray(
        buffer=image.write_to_memory(),
        dtype=np.uint8,
        shape=(image.height, image.width, bands),
    )
    return Image.fromarray(array[..., 0] if gray else array, mode="L" if gray else "RGB")


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__
