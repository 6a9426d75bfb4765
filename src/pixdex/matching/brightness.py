"""Brightening undone: a picture brightened channel by channel, its colours clipped at white.

A brighter copy is usually made by multiplying every pixel's red, green and blue by one factor
and clipping each at 255. Where no channel reaches 255, that is a linear change of luma, which
the verification's tone fit (gain × luma + offset) undoes. Where one does, it is not: a flag's
red band keeps its luma while its blue band's rises by the factor, a drawing's light colours
turn white and vanish into the canvas, and no single gain and offset maps the original onto the
copy.

So the darker of two signatures is brightened the way such a copy is made. Each 32 × 32 cell's
red, green and blue are rebuilt from its luma and its chroma cell (the JPEG YCbCr equations the
signature's planes come from), multiplied by a factor fitted to the brighter side, clipped, and
turned back into a signature. The verification then compares the prediction with the brighter
side instead of the darker one — only when the prediction clipped a channel somewhere (else the
tone fit already covers the change), lies within ``MAX_LUMA_GAP`` of the brighter side, and
explains it clearly better than a tone change does (``MAX_TONE_SHARE``). A cell mixing two
colours is brightened as its mean colour, which clips where its pixels, each brightened alone,
may not: a line drawing's cells mix its lines with the white page, and there the tone fit is
right and the prediction is not used.
"""

from __future__ import annotations

import numpy as np

from pixdex.jit import njit
from pixdex.signature import CHROMA_SIDE, LUMA_CELLS, LUMA_END, LUMA_SIDE, PLANES_START

MIN_BRIGHTENING = 1.05
"""Smallest factor worth predicting: below it the clipped cells are too few to matter."""

MAX_BRIGHTENING = 1.43
"""Largest factor fitted: the verification's tone fit allows the same gain (``MAX_GAIN``)."""

MAX_LUMA_GAP = 8.0
"""Largest mean luma difference (0-255, over the 32 × 32 cells) between the prediction and the
brighter picture for the two to be compared. Chosen on the development half of ``python -m
benchmarks precision`` (BENCHMARKS.md, session 32): the brightened copies found there left 0.1-5.8
levels (5 would lose three); with the luma alone compared to the tone fit, 12 found the same
copies with one more look-alike pair (polygons), and no limit let 30 pairs of polygons of other
colours through."""

MAX_TONE_SHARE = 0.8
"""Largest share of what the best tone change leaves unexplained (``tone_gap``) the prediction
may leave: it must explain the brighter picture clearly better. Chosen on the development half
with the luma alone counted: the brightened copies found left 0.04-0.71 of it, and four
brightened call graphs that the tone fit finds 0.93-0.97 (they were lost without this limit);
counting the chroma as well found the same copies and lost none."""

UNIFORM = 6.0
"""Largest luma range (0-255) of a chroma cell's four luma cells for its colour to be read as
one (the factor's fit)."""

MIN_SAMPLES = 48
"""Fewest channels of uniform chroma cells the factor is fitted on (16 cells' worth)."""

UNCLIPPED = 250.0
"""Level above which a brighter picture's channel may be clipped: left out of the factor's fit."""

DARK = 8.0
"""Level below which a darker picture's channel says little about the factor: left out of the
fit."""


@njit(cache=True, nogil=True)
def _rgb(signature, y, x):  # pragma: no cover - compiled
    """The red, green and blue (0-255) of 32 × 32 cell (``y``, ``x``) of ``signature``: its
    luma and its chroma cell."""
    value = float(signature[PLANES_START + y * LUMA_SIDE + x])
    return _channels(signature, value, (y // 2) * CHROMA_SIDE + x // 2)


@njit(cache=True, nogil=True)
def fitted_brightening(dark, bright):  # pragma: no cover - compiled
    """The factor that best maps the channels of signature ``dark`` onto those of ``bright``
    as factor × channel; 0 when it is not within ``MIN_BRIGHTENING`` and ``MAX_BRIGHTENING``.
    Least squares over channels neither black in ``dark`` nor possibly clipped in ``bright``
    (a clipped channel says only that the factor is large): those of the chroma cells whose
    four luma cells agree within ``UNIFORM`` in both (a chroma cell across an edge holds two
    colours, and channels rebuilt from their mean are neither), or, when fewer than
    ``MIN_SAMPLES`` are, those of every 32 × 32 cell (a small drawing has few such cells)."""
    cross, square, samples = 0.0, 0.0, 0
    for y in range(CHROMA_SIDE):
        for x in range(CHROMA_SIDE):
            before = _uniform_rgb(dark, y, x)
            after = _uniform_rgb(bright, y, x)
            if before[0] >= 0.0 and after[0] >= 0.0:
                cross, square, samples = _fitted_in(before, after, cross, square, samples)
    if samples < MIN_SAMPLES:
        cross, square, samples = 0.0, 0.0, 0
        for y in range(LUMA_SIDE):
            for x in range(LUMA_SIDE):
                before = _rgb(dark, y, x)
                cross, square, samples = _fitted_in(
                    before, _rgb(bright, y, x), cross, square, samples
                )
    if square <= 0.0:
        return 0.0
    factor = cross / square
    if factor < MIN_BRIGHTENING or factor > MAX_BRIGHTENING:
        return 0.0
    return factor


@njit(cache=True, nogil=True)
def _fitted_in(before, after, cross, square, samples):  # pragma: no cover - compiled
    """The factor's least-squares sums (and count) with one cell's channels added: those
    neither black ``before`` nor possibly clipped ``after``."""
    for channel in range(3):
        if after[channel] < UNCLIPPED and before[channel] > DARK:
            cross += before[channel] * after[channel]
            square += before[channel] * before[channel]
            samples += 1
    return cross, square, samples


@njit(cache=True, nogil=True)
def _uniform_rgb(signature, y, x):  # pragma: no cover - compiled
    """The red, green and blue (0-255) of chroma cell (``y``, ``x``) of ``signature`` when its
    four luma cells agree within ``UNIFORM`` (their mean as its luma); -1s when they do not."""
    top = PLANES_START + 2 * y * LUMA_SIDE + 2 * x
    values = (
        float(signature[top]),
        float(signature[top + 1]),
        float(signature[top + LUMA_SIDE]),
        float(signature[top + LUMA_SIDE + 1]),
    )
    if max(values) - min(values) > UNIFORM:
        return -1.0, -1.0, -1.0
    return _channels(signature, 0.25 * sum(values), y * CHROMA_SIDE + x)


@njit(cache=True, nogil=True)
def _channels(signature, value, cell):  # pragma: no cover - compiled
    """Red, green and blue (0-255) of luma ``value`` with chroma cell ``cell`` of
    ``signature``, by the JPEG YCbCr equations."""
    chroma = LUMA_END + cell
    cb = float(signature[chroma]) - 128.0
    cr = float(signature[chroma + CHROMA_SIDE * CHROMA_SIDE]) - 128.0
    return (
        min(255.0, max(0.0, value + 1.402 * cr)),
        min(255.0, max(0.0, value - 0.344136 * cb - 0.714136 * cr)),
        min(255.0, max(0.0, value + 1.772 * cb)),
    )


@njit(cache=True, nogil=True)
def _brightened_cell(signature, y, x, factor):  # pragma: no cover - compiled
    """Red, green and blue of 32 × 32 cell (``y``, ``x``) of ``signature`` multiplied by
    ``factor`` and clipped at 255, and whether any of them clipped."""
    r, g, b = _rgb(signature, y, x)
    r *= factor
    g *= factor
    b *= factor
    clipped = r > 255.0 or g > 255.0 or b > 255.0
    return min(255.0, r), min(255.0, g), min(255.0, b), clipped


@njit(cache=True, nogil=True)
def _luma(r, g, b):  # pragma: no cover - compiled
    """The luma (0-255) of red, green and blue, as the signature's grey plane has it."""
    return 0.299 * r + 0.587 * g + 0.114 * b


@njit(cache=True, nogil=True)
def brightened(signature, factor):  # pragma: no cover - compiled
    """Signature ``signature`` with every cell's red, green and blue multiplied by ``factor``
    and clipped to 0-255 (a uint8 signature)."""
    out = signature.copy()
    blue = np.zeros((CHROMA_SIDE, CHROMA_SIDE), np.float64)
    red = np.zeros((CHROMA_SIDE, CHROMA_SIDE), np.float64)
    for y in range(LUMA_SIDE):
        for x in range(LUMA_SIDE):
            r, g, b, _ = _brightened_cell(signature, y, x, factor)
            out[PLANES_START + y * LUMA_SIDE + x] = _byte(_luma(r, g, b))
            blue[y // 2, x // 2] += 0.25 * (128.0 - 0.168736 * r - 0.331264 * g + 0.5 * b)
            red[y // 2, x // 2] += 0.25 * (128.0 + 0.5 * r - 0.418688 * g - 0.081312 * b)
    chroma = LUMA_END
    for y in range(CHROMA_SIDE):
        for x in range(CHROMA_SIDE):
            out[chroma + y * CHROMA_SIDE + x] = _byte(blue[y, x])
            out[chroma + CHROMA_SIDE * CHROMA_SIDE + y * CHROMA_SIDE + x] = _byte(red[y, x])
    return out


@njit(cache=True, nogil=True)
def _byte(value):  # pragma: no cover - compiled
    """``value`` rounded to the nearest whole level and kept within 0-255, as a byte."""
    return np.uint8(min(255.0, max(0.0, np.floor(value + 0.5))))


@njit(cache=True, nogil=True)
def chroma_gap(a, b, gain):  # pragma: no cover - compiled
    """The mean absolute difference (0-255) of two signatures' chroma values once ``a``'s
    saturation is scaled by ``gain`` (its distance from neutral grey, 128)."""
    total = 0.0
    for k in range(LUMA_END, a.size):
        total += abs(128.0 + gain * (float(a[k]) - 128.0) - float(b[k]))
    return total / (a.size - LUMA_END)


@njit(cache=True, nogil=True)
def tone_gap(dark, bright):  # pragma: no cover - compiled
    """What a tone change, the verification's own fit, leaves unexplained between two
    signatures: the mean absolute luma difference (0-255) once ``dark``'s luma is mapped onto
    ``bright``'s by the best gain and offset, plus the mean absolute chroma difference once its
    saturation is scaled by the best gain (least squares both)."""
    n = float(LUMA_CELLS)
    sum_a = 0.0
    sum_b = 0.0
    for k in range(PLANES_START, LUMA_END):
        sum_a += float(dark[k])
        sum_b += float(bright[k])
    mean_a = sum_a / n
    mean_b = sum_b / n
    cross = 0.0
    square = 0.0
    for k in range(PLANES_START, LUMA_END):
        cross += (float(dark[k]) - mean_a) * (float(bright[k]) - mean_b)
        square += (float(dark[k]) - mean_a) ** 2
    gain = cross / square if square > 0.0 else 1.0
    total = 0.0
    for k in range(PLANES_START, LUMA_END):
        total += abs(float(bright[k]) - (mean_b + gain * (float(dark[k]) - mean_a)))
    cross = 0.0
    square = 0.0
    for k in range(LUMA_END, dark.size):
        cross += (float(dark[k]) - 128.0) * (float(bright[k]) - 128.0)
        square += (float(dark[k]) - 128.0) ** 2
    saturation = cross / square if square > 0.0 else 1.0
    return total / n + chroma_gap(dark, bright, saturation)


@njit(cache=True, nogil=True)
def _brightened_gap(dark, bright, factor):  # pragma: no cover - compiled
    """The mean absolute luma difference (0-255) between ``dark`` brightened by ``factor``
    (``brightened``, its luma only: nothing is made) and ``bright``, and whether any channel
    clipped at white; as soon as the gap is sure to exceed ``MAX_LUMA_GAP``, that (a
    look-alike's prediction stops early)."""
    total = 0.0
    clipped = False
    beyond = MAX_LUMA_GAP * LUMA_CELLS
    for y in range(LUMA_SIDE):
        if total > beyond:
            return total / LUMA_CELLS, clipped
        for x in range(LUMA_SIDE):
            r, g, b, clipped_here = _brightened_cell(dark, y, x, factor)
            clipped = clipped or clipped_here
            total += abs(
                float(_byte(_luma(r, g, b))) - float(bright[PLANES_START + y * LUMA_SIDE + x])
            )
    return total / LUMA_CELLS, clipped


@njit(cache=True, nogil=True)
def brightened_like(dark, bright):  # pragma: no cover - compiled
    """``dark`` brightened as ``bright`` looks brightened (``fitted_brightening``), and whether
    the prediction is the better explanation of ``bright``: some channel clipped, its luma lies
    within ``MAX_LUMA_GAP`` of ``bright``'s, and its luma and chroma clearly closer than any
    tone change of ``dark`` comes (``tone_gap``, ``MAX_TONE_SHARE``: a line drawing's cells mix
    its lines with the white page, and brightening the mixture clips where the pixels, each
    brightened alone, did not; there the tone fit is right). The prediction is ``dark`` itself
    when it is not used."""
    factor = fitted_brightening(dark, bright)
    if factor == 0.0:
        return dark, False
    gap, clipped = _brightened_gap(dark, bright, factor)
    if not clipped or gap > MAX_LUMA_GAP:
        return dark, False
    predicted = brightened(dark, factor)
    # The prediction's luma is the one the gap was measured on: its chroma is added to it.
    unexplained = gap + chroma_gap(predicted, bright, 1.0)
    if unexplained > MAX_TONE_SHARE * tone_gap(dark, bright):
        return dark, False
    return predicted, True
