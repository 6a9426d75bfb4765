"""Two pictures compared at the detail both have.

A signature's planes have 32 × 32 luma cells whatever the picture's size. A 16-pixel icon spreads
each of its pixels over 2 × 2 cells, and a copy of it halved to 8 pixels over 4 × 4: cell by cell
the two differ along every edge (each of the copy's pixels averages four of the original's),
though they show the same picture; so do a tiny icon and its JPEG copy, whose 8 × 8 blocks are a
third of the icon. Each signature records its picture's size (``pixdex.signature``), so when
either picture of a pair has fewer than ``PIXELS_PER_CELL`` pixels for each luma cell across or
down, both signatures are first softened to the detail the smaller one holds: each plane, down
and across, by a triangle as wide as ``PIXELS_PER_CELL`` of that picture's pixels, the same at
every offset (block averages would be anchored to each picture's frame, and a copy with a
border or a crop has another frame). The verification then runs on them as on any pair.
Pictures with at least ``PIXELS_PER_CELL`` × 32 pixels on both sides are compared on their
planes as they are (96 pixels since session 36, 64 before). Measured on the small icons of
``benchmarks/corpus.py`` (outside the test half): block averages found fewer bordered and cropped
copies than the triangle, and one pixel per cell fewer halved, blurred, squashed and JPEG copies
than two. On icons in neither test half (of this corpus nor of ``benchmarks/hard_corpus.py``),
three found more than two of the bordered, cropped and blurred copies (crops 37 → 54 %, borders
27 → 48 %, blur 42 → 93 %) and four more still (57, 56, 98 %) for many more look-alikes
(Adwaita's own 16-pixel icons, every pair of different icons: 0.54 % accepted at two, 0.58 % at
three, 0.86 % at four); on the hard corpus's development half three found 91.7 % of the edited
copies against 90.4 % with as many others (1.50 per query against 1.47): halved call graphs
42-67 pixels tall were rejected along every line before.
"""

from __future__ import annotations

import numpy as np

from pixdex.jit import njit
from pixdex.signature import (
    CHROMA_CELLS,
    CHROMA_SIDE,
    LUMA_END,
    LUMA_SIDE,
    PLANES_START,
)

PIXELS_PER_CELL = 3
"""Pixels of the smaller picture each compared cell holds, at least: one pixel per cell would
compare a halved copy's resampled pixels with the original's, two average that resampling out,
and three also the fraction of a pixel by which a crop or a border moves every edge."""

MIN_DETAIL = 4
"""Fewest cells across or down a pair is compared on, however small the pictures."""


@njit(cache=True, nogil=True)
def shared_detail(a, b):  # pragma: no cover - compiled
    """The luma cells down and across two signatures are compared on: ``LUMA_SIDE`` each,
    unless the smaller picture has fewer than ``PIXELS_PER_CELL`` pixels for each."""
    height = min(int(a[2]), int(b[2]))
    width = min(int(a[1]), int(b[1]))
    rows = min(LUMA_SIDE, max(MIN_DETAIL, height // PIXELS_PER_CELL))
    cols = min(LUMA_SIDE, max(MIN_DETAIL, width // PIXELS_PER_CELL))
    return rows, cols


@njit(cache=True, nogil=True)
def at_detail(signature, rows, cols):  # pragma: no cover - compiled
    """``signature`` with its luma softened to the detail of ``rows`` × ``cols`` cells and its
    chroma to at most as many (a uint8 signature)."""
    out = signature.copy()
    luma = signature[PLANES_START:LUMA_END].reshape(LUMA_SIDE, LUMA_SIDE)
    _write(
        out, PLANES_START, _filtered(luma, _operator(LUMA_SIDE, rows), _operator(LUMA_SIDE, cols))
    )
    down = _operator(CHROMA_SIDE, min(CHROMA_SIDE, rows))
    across = _operator(CHROMA_SIDE, min(CHROMA_SIDE, cols))
    for plane in range(2):
        start = LUMA_END + plane * CHROMA_CELLS
        values = signature[start : start + CHROMA_CELLS].reshape(CHROMA_SIDE, CHROMA_SIDE)
        _write(out, start, _filtered(values, down, across))
    return out


@njit(cache=True, nogil=True)
def _operator(side, cells):  # pragma: no cover - compiled
    """The ``side`` × ``side`` matrix that softens a line of ``side`` cells to the detail of
    ``cells``: a triangle of half-width ``side / cells`` cells, the same at every offset (two
    frames that differ by a border are softened alike), its weights summing to one within the
    line."""
    reach = side / cells
    out = np.zeros((side, side))
    for j in range(side):
        total = 0.0
        for k in range(side):
            weight = max(0.0, 1.0 - abs(k - j) / reach)
            out[j, k] = weight
            total += weight
        for k in range(side):
            out[j, k] /= total
    return out


@njit(cache=True, nogil=True)
def _filtered(plane, down, across):  # pragma: no cover - compiled
    """``down @ plane @ across.T``: the plane softened down its rows and across its columns.
    Only each operator row's nonzero band is read (a triangle a few cells wide): the zero
    weights add nothing, and skipping them makes a small pair's softening several times
    cheaper."""
    side = plane.shape[0]
    rows = np.zeros((side, side))
    for x in range(side):
        first, last = _band(across[x])
        for y in range(side):
            total = 0.0
            for k in range(first, last):
                total += float(plane[y, k]) * across[x, k]
            rows[y, x] = total
    out = np.zeros((side, side))
    for y in range(side):
        first, last = _band(down[y])
        for k in range(first, last):
            weight = down[y, k]
            for x in range(side):
                out[y, x] += weight * rows[k, x]
    return out


@njit(cache=True, nogil=True)
def _band(weights):  # pragma: no cover - compiled
    """The range ``[first, last)`` of an operator row's nonzero weights (a triangle's: one
    unbroken run)."""
    first = 0
    while weights[first] == 0.0:
        first += 1
    last = weights.size
    while weights[last - 1] == 0.0:
        last -= 1
    return first, last


@njit(cache=True, nogil=True)
def _write(signature, start, plane):  # pragma: no cover - compiled
    """``plane`` rounded to whole levels into ``signature`` from ``start``, row by row."""
    side = plane.shape[0]
    for y in range(side):
        for x in range(side):
            value = min(255.0, max(0.0, np.floor(plane[y, x] + 0.5)))
            signature[start + y * side + x] = np.uint8(value)
