"""A query's views at the verification's cuts, made from its pixels rather than its signature.

The verification compares a copy with a border, or a cropped one, by shrinking one signature
into the centre of the other's frame (``verification.CROP_FRACTIONS``). Shrinking a 32 × 32
plane area-averages whole cells, and a cell does not say where in it a thin line lay: a
glyph's stroke, an icon's outline or a diagram's line comes out spread over a cell more than
the copy, made from the pixels, shows it, and the copy fails as a thin difference. A search
holds its query's pixels, so it makes each cut's view of the query from them, where nothing is
lost, and compares that view with a candidate in the uncut alignment (``verification.UNCUT``):

- **windows**: the query cut to the centre a cut leaves (a query with a border, or the original
  of a cropped copy, against the picture without it);
- **framed**: the query shrunk into the centre of a canvas of its background colour, the frame a
  cut would take off (a query cropped from the candidate). Made only for a picture with a
  background (``BACKGROUND_SHARE`` of it in one colour): a drawing's crop lost mostly its
  margins, while a photo's lost content that no fill stands in for.

A candidate accepted by the query's signature in any alignment, or by one of these views, is
the same picture. The views are tried on the candidates the signature rejected that lie nearer
(by hash distance) than every candidate it accepted — all of them when it accepted none — the
``NEAREST`` nearest of each orientation: beside a nearer match they found nothing more on the
hard corpus's development half (0.2 points more on the quality bar's) for 0.05-0.08 more
look-alikes per query and most of a search's cost, while a look-alike the signature accepts
farther away must not hide the copy (it did when the views were only a query's fallback). The
duplicate finder, which holds signatures only, compares as before.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from pixdex.signature import LUMA_SIDE, SIGNATURE_BYTES, signature

CUT_SHARES = (0.055, 0.10)
"""Share of each side a view cuts (or a frame adds): ``verification.CROP_FRACTIONS``, kept
equal by a test (this module is imported without the compiled verification)."""

VIEWS = 2 * len(CUT_SHARES)
"""Views per query: a window and a framed view for each cut (a missing one is all zeros)."""

NEAREST = 64
"""Candidates a search tries its views on, per orientation: the nearest by hash distance (then
by file id). A query in a dense family has thousands of look-alike candidates, and four more
verifications of each would multiply its cost; a copy's own picture lies among the nearest."""

BACKGROUND_SHARE = 0.3
"""Share of the picture that must be of one colour (each channel within a bin of 16 levels) for
it to have a background, as the verification has it for luma
(``verification.BACKGROUND_SHARE``)."""

WORKING_PIXELS = 4
"""Pixels per cell of the picture the views are cut from: a larger query is first reduced by a
whole factor to at least this many (an exact box average), so that its four views cost about
what its signature does (1.9 ms for a 1024 × 427 JPEG against 7.7 ms at 8 pixels a cell); a
cut then falls within an eighth of a cell of where it lies in the original, against a whole
cell's spread when a 32 × 32 signature is shrunk. The reduced picture keeps at least 128
pixels a side, and its smallest view 102: never a small picture to the verification
(``pixdex.matching.resolution``)."""


def cut_view_signatures(image: Image.Image) -> tuple[bytes | None, ...]:
    """The signatures of ``image``'s ``VIEWS`` views (module docstring), cut from it reduced to
    ``WORKING_PIXELS``: the window of each cut, then each cut's framed view (None for a picture
    without a background colour)."""
    picture = _working(image if image.mode in ("RGB", "L") else image.convert("RGB"))
    windows = [signature(_window(picture, share)) for share in CUT_SHARES]
    fill = background_colour(picture)
    if fill is None:
        return (*windows, *(None,) * len(CUT_SHARES))
    return (*windows, *(signature(_framed(picture, share, fill)) for share in CUT_SHARES))


def background_colour(image: Image.Image) -> tuple[int, ...] | None:
    """The mean colour of the most common colour bin (16 levels a channel) among
    ``LUMA_SIDE`` × ``LUMA_SIDE`` pixels sampled evenly from ``image``, when
    ``BACKGROUND_SHARE`` of them fall in it; else None."""
    sampled = np.asarray(image.resize((LUMA_SIDE, LUMA_SIDE), Image.Resampling.NEAREST))
    pixels = sampled.reshape(LUMA_SIDE * LUMA_SIDE, -1).astype(np.int64)
    bins = np.zeros(len(pixels), np.int64)
    for channel in range(pixels.shape[1]):
        bins = bins * 16 + pixels[:, channel] // 16
    counts = np.bincount(bins)
    top = int(np.argmax(counts))
    if counts[top] < BACKGROUND_SHARE * len(pixels):
        return None
    colour = pixels[bins == top].mean(axis=0)
    return tuple(round(float(v)) for v in colour)


def _working(image: Image.Image) -> Image.Image:
    """``image`` reduced by the largest whole factor that leaves ``WORKING_PIXELS`` pixels per
    cell across its shorter side (itself when that factor is 1)."""
    factor = min(image.size) // (WORKING_PIXELS * LUMA_SIDE)
    return image.reduce(factor) if factor > 1 else image


def packed_views(views: tuple[bytes | None, ...]) -> np.ndarray:
    """``(VIEWS, SIGNATURE_BYTES)`` uint8: the views as signature rows, a missing one zeros (no
    signature: never accepted)."""
    out = np.zeros((VIEWS, SIGNATURE_BYTES), np.uint8)
    for row, view in enumerate(views):
        if view is not None:
            out[row] = np.frombuffer(view, np.uint8)
    return out


def _window(image: Image.Image, share: float) -> Image.Image:
    """The centre of ``image`` with ``share`` of its width and height cut from each side."""
    width, height = image.size
    dx, dy = round(share * width), round(share * height)
    if width - 2 * dx < 1 or height - 2 * dy < 1:
        return image
    return image.crop((dx, dy, width - dx, height - dy))


def _framed(image: Image.Image, share: float, fill: tuple[int, ...]) -> Image.Image:
    """``image`` in the centre of a canvas of colour ``fill``, so that it fills what a cut of
    ``share`` of each side would leave of the canvas."""
    width, height = image.size
    across = round(width * share / (1 - 2 * share))
    down = round(height * share / (1 - 2 * share))
    colour = fill[0] if image.mode == "L" else fill
    canvas = Image.new(image.mode, (width + 2 * across, height + 2 * down), colour)
    canvas.paste(image, (across, down))
    return canvas
