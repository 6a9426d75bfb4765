"""Blur undone: one aligned luma plane blurred as much as the other looks blurred.

A blurred copy of a line drawing (a call graph, a glyph's outline) keeps its ink, but part of a
thin line's ink moves into the next cell of the 32 × 32 signature: along every line cells come
out lighter or darker by more than the tolerance, a thin difference of the kind one template's
other labels make. The two differ in what explains them. Blurring the original a little
reproduces its copy, while no blur turns one diagram's labels into another's.

So each plane in turn is blurred toward the other by a separable [a, 1 - 2a, a] kernel across
and down (each ``a`` within 0 and ``MAX_BLUR``), its amounts fitted by least squares (on the
linearised model ``other - sharp ≈ a_x Δx(sharp) + a_y Δy(sharp)``, without the small cross
term; clipped; then applied exactly). The blurred plane is used only when it removes at least
``MIN_EXPLAINED`` of the squared difference between the planes: a copy's difference is mostly
blur, a sibling's mostly other labels. Of the eight call graphs of the unit test, the blur
explains 49-73 % of each blurred copy's difference, at most 36 % of a sibling's, and 39-41 % of
a diagram's whose boxes were stretched wider (an edge moved to one side, not spread to both).
"""

from __future__ import annotations

import numpy as np

from pixdex.jit import njit

MAX_BLUR = 0.25
"""Largest share of a cell's value the blur may spread to each neighbour across or down: the
[1, 2, 1] / 4 kernel. The quality bar's blur (a radius of 1/200 of the shorter side) is a
fraction of a cell on a square picture, more down a wide one (a call graph is 7 times as wide
as it is tall, its cells 7 times shorter than they are wide)."""

MIN_EXPLAINED = 0.45
"""Share of the squared difference between the planes the fitted blur must remove to be used,
chosen on the development half (``BENCHMARKS.md``, session 31): there every blurred copy was
found with it and the fewest look-alikes passed; 0.5 missed six of the 150 blurred copies, 0.35
and 0.25 passed more look-alikes (and 0.35 the unit tests' stretched diagram)."""


@njit(cache=True, nogil=True)
def blurred(plane, across, down):  # pragma: no cover - compiled
    """A square float32 ``plane`` blurred by [a, 1 - 2a, a] across (a = ``across``) and then
    down (a = ``down``), its edges repeated; each cell's three terms added in float64 in that
    order (the verification's softening, a = 0.25, gives the values it always gave)."""
    across = float(across)
    down = float(down)
    side = plane.shape[0]
    rows = np.empty((side, side), np.float32)
    for y in range(side):
        for x in range(side):
            left = plane[y, max(x - 1, 0)]
            right = plane[y, min(x + 1, side - 1)]
            rows[y, x] = across * left + (1.0 - 2.0 * across) * plane[y, x] + across * right
    out = np.empty((side, side), np.float32)
    for y in range(side):
        for x in range(side):
            up = rows[max(y - 1, 0), x]
            below = rows[min(y + 1, side - 1), x]
            out[y, x] = down * up + (1.0 - 2.0 * down) * rows[y, x] + down * below
    return out


@njit(cache=True, nogil=True)
def blurred_like(sharp, target):  # pragma: no cover - compiled
    """``sharp`` blurred to look like ``target`` (two square float32 planes, aligned and with
    their tones fitted), and whether the blur removes at least ``MIN_EXPLAINED`` of their
    squared difference; ``sharp`` itself when it does not."""
    side = sharp.shape[0]
    xx = 0.0
    yy = 0.0
    xy = 0.0
    xr = 0.0
    yr = 0.0
    for y in range(side):
        for x in range(side):
            centre = sharp[y, x]
            dx = sharp[y, max(x - 1, 0)] + sharp[y, min(x + 1, side - 1)] - 2 * centre
            dy = sharp[max(y - 1, 0), x] + sharp[min(y + 1, side - 1), x] - 2 * centre
            residual = target[y, x] - centre
            xx += dx * dx
            yy += dy * dy
            xy += dx * dy
            xr += dx * residual
            yr += dy * residual
    determinant = xx * yy - xy * xy
    if determinant <= 1e-6:
        return sharp, False
    across = min(max((xr * yy - yr * xy) / determinant, 0.0), MAX_BLUR)
    down = min(max((yr * xx - xr * xy) / determinant, 0.0), MAX_BLUR)
    out = blurred(sharp, across, down)
    before = 0.0
    after = 0.0
    for y in range(side):
        for x in range(side):
            before += (target[y, x] - sharp[y, x]) ** 2
            after += (target[y, x] - out[y, x]) ** 2
    if after > (1.0 - MIN_EXPLAINED) * before:
        return sharp, False
    return out, True
