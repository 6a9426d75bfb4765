"""Verification: is a hash candidate the same picture as the query? Compared on signatures.

Two content signatures (``pixdex.signature``: 32 × 32 luma, 16 × 16 chroma) are compared on a
16 × 16 grid, after undoing what everyday edits do to a picture:

- **Tones**: the candidate's luma is fitted to the query's as ``gain × query + offset`` (a
  brighter, darker, more contrasted or grayscale copy; the gain within ``MAX_GAIN``), by least
  squares over the best-fitting ``1 - OCCLUSION`` of the cells, so that a sticker or shapes
  pasted on a quarter of the picture do not bend the fit. Shapes pasted on a thin drawing's
  white can outnumber the drawing's own cells and still bend it into its limit; when they do
  and both pictures have a background, the fit starts again from the backgrounds
  (``_anchored_gain``: background onto background, the gain from the cells both show content
  in, where a shape on the other's white is not).
- **Content, not canvas**: a cell *agrees* when the fit leaves at most ``luma_tolerance`` levels
  (0-255), or half its contrast against the background if that is less (faint grey text is
  judged on its own scale). Only *content* cells count — those that differ from the picture's
  background (its most common tone, when a large share of it has one) — and the score is the
  smaller of the two shares of content the other picture preserves: the white of a canvas or of
  a diagram is no evidence, and a picture that only shares another's layout loses in its labels
  or details. Content of one picture that lies on the other's background, far from it (more
  than ``PASTE_DELTA``) and in tones other than the content the two share (``_own_tones``: a
  star's other points are in the star's colour, shapes pasted on it are not), may be a sticker,
  shapes or a caption pasted over the other: it is left out of that picture's share, and of
  the colour comparison, when it is at most ``OCCLUSION`` of the cells and ``PASTE_SHARE`` of
  that picture's content (a diagram with shapes drawn on its white, not another diagram);
  beyond that share, its blobs at least ``THICKNESS`` cells thick are (shapes pasted on a thin
  drawing are more content than the drawing; another diagram's boxes and labels are lines).
  Where such a blob lies over the other's content (content on both sides, far apart), that
  content is *covered*: left out of both pictures' shares, up to ``OCCLUSION`` of the cells
  and ``COVER_SHARE`` of either's content (``_forgiven_cells``). At the best alignment the
  pictures are also compared cell by
  cell on the full 32 × 32 planes, with the grid's tone fit, and score the smaller share: the
  2 × 2 averaging hides one template's different labels, or a mark moved to the next cell. At
  a cut, both planes are softened first (one of them was resampled into the other's frame, and
  its cells lie a fraction of a cell off).
- **Thin differences**: of the content that differs at 32 × 32 (what was forgiven as pasted
  included), what lies in no ``THICKNESS`` × ``THICKNESS`` square of differing cells
  (``SOFTENED_THICKNESS`` at a cut, where both planes were softened) differs *thinly*, and at
  most ``max_thin`` of either picture's content may. Everything pasted by an everyday edit is a
  blob at least that thick (a sticker, shapes, a caption); one template's
  other labels, a page's other words or a shape's other outline differ in lines and specks all
  over the picture. This lets the share that must agree stay low enough for shapes pasted over
  a picture while diagrams of one template are told apart.
- **Blur**: uncut, when content differs thinly, each plane is also blurred toward the other
  (``pixdex.matching.blur``: a fitted [a, 1 - 2a, a] kernel across and down, used only when it
  explains most of their difference) and compared again, and the comparison with less content
  differing thinly counts: a blurred line drawing moves part of each line's ink into the next
  cell, which one template's other labels do not imitate.
- **Brightening**: when the darker picture brightened channel by channel, its colours clipped
  at white (``pixdex.matching.brightness``), predicts the brighter one clearly better than a
  tone change does, the prediction is compared in its place: a brighter copy whose colours
  clip changes each colour's luma and hue by its own amount, which no tone or chroma gain fits.
- **Colour**: the mean chroma difference over the best-matching ``1 - OCCLUSION`` of the cells,
  and of the content cells of either picture (a white canvas says nothing about a drawing's
  colour), the larger of the two, once the candidate's chroma is fitted to the query's as
  ``gain × (query - neutral)`` (``_chroma_gain``: a brighter or more contrasted copy has its
  colours' saturation scaled by about the luma's gain, the hue kept; the gain within
  ``MAX_GAIN``, over the best-fitting ``1 - OCCLUSION`` of the cells). Another hue (a flag's
  other colours, a gradient of another palette) is not a gain, so the limit can be tight.
  Colour is not compared when both pictures are grayscale, or one is and its luma is the
  other's (within ``GRAYSCALE_LUMA``, before any tone fit): a grayscale copy keeps its
  original's luma and has no colour to compare, while a black star against a red one, or a
  blue line against a green one, differs in luma as well, and is compared on colour.
- **Small pictures**: when either picture has fewer than three pixels for each cell across or
  down (an icon under 96 pixels, a thumbnail), both signatures are softened to the detail the
  smaller one holds before anything else is compared (``pixdex.matching.resolution``): its
  pixels each cover several cells, and a halved or JPEG copy differs from it along every edge.
- **Crops and borders**: the comparison is repeated with either picture shrunk into the centre
  of the other's frame (a window cut by one of ``CROP_FRACTIONS`` of its width and of its
  height), where a copy with a border holds its original, or an original the copy
  cropped from it; only the cells inside that window are compared, and the best alignment
  counts. Shrinking area-averages whole cells, which is exact for a signature's cells (each is
  an area average); stretching a centre over the whole, the other way round, had to invent
  sub-cell detail, and lost thin lines and letters to it. Cutting the width and the height by
  different shares (a border on a wide picture) was dropped: on the hard corpus those twelve
  alignments let in nine look-alikes for every copy they found. A search, which holds its
  query's pixels, also compares the query's views at these cuts made from them, in the uncut
  alignment (``UNCUT``, ``pixdex.matching.cut_views``): shrinking a signature spreads a thin
  line over a cell more than the copy shows it.
- **Blank pictures** (no content cells on either side: a white page, a flat colour) agree only
  when their tones and colours do, whatever the fit could make of them; so do a flat picture
  and its copy with a border, in the window the border's cut leaves (the border is a frame of
  content all round it).

The kernels are compiled (numba) because duplicate finding verifies millions of pairs; they are
plain serial loops, run on every core from Python threads, because numba's ``parallel=True``
and ``np.sort`` would triple the first compilation (about 45 s on a fresh install).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from pixdex import signature
from pixdex.compiled_cache import cached_kernels, refresh_on_change
from pixdex.index.base import worker_count
from pixdex.jit import njit
from pixdex.matching import blur, brightness, resolution
from pixdex.matching.blur import blurred, blurred_like
from pixdex.matching.brightness import brightened_like
from pixdex.matching.resolution import at_detail, shared_detail
from pixdex.matching.rule import Verifier
from pixdex.signature import (
    CHROMA_SIDE,
    LUMA_CELLS,
    LUMA_END,
    LUMA_SIDE,
    PLANES_START,
    SIGNATURE_VERSION,
)

TAPS = 3
"""Cells of a plane one cell of its shrunk copy reads at most (a window of 80 % or more)."""

GRID = 16
"""Side of the grid the luma is compared on: the 32 × 32 plane averaged 2 × 2, so a copy whose
frame moved by a fraction of a cell (a border, a crop) still lines up."""

CROP_FRACTIONS = (0.055, 0.10)
"""Share of each side one picture may have lost to a crop or gained as a border, besides none:
a 10 % crop, and a frame about 1/16 of the picture's side wide (1/18 of the framed side)."""

OCCLUSION = 0.25
"""Share of the cells a sticker, text or shapes may cover: left out of the tone fit and the
colour comparison."""

BACKGROUND_SHARE = 0.3
"""A picture has a background when at least this share of its cells have its most common tone
(one bin of 16 levels; the tone is their mean); the cells within ``CONTENT_DELTA`` of it are
then not content."""

CONTENT_DELTA = 8.0
"""Luma difference (0-255) from the background tone above which a cell is content: JPEG noise
on a flat background stays under it, a page's lines of light grey text go over."""

GRAYSCALE_LUMA = 4.0
"""Largest mean luma difference (0-255, over the content cells, unfitted) for a grayscale
picture to be taken as a grayscale copy of a colour one, and spared the colour comparison:
converting to grayscale keeps the luma, so a true copy differs by JPEG noise only."""

MIN_CONTENT_CELLS = 16
"""Fewest content cells (of the 16 × 16 grid) the colour comparison is restricted to."""

CONTRAST_SHARE = 0.5
"""Share of a cell's contrast against the background (the larger of the two pictures') the
fit may leave in it and still agree, up to ``luma_tolerance``: faint content (a page's lines
of grey text, 15 levels from white) is judged on its own scale, where a fixed 12 levels would
take a line of text for a blank line."""

THICKNESS = 3
"""Cells (of 32 × 32) an occlusion is at least thick: the everyday edits paste a red square an
eighth of the picture's side (4 cells), shapes a quarter of it (8) and a caption a tenth of its
height (3). Content that differs in no ``THICKNESS`` × ``THICKNESS`` square of differing cells
differs *thinly*: the other words of a label or a page, not something laid over the picture."""

SOFTENED_THICKNESS = THICKNESS + 2
"""``THICKNESS`` where both planes were softened (at a cut): the [1, 2, 1] kernel spreads a
line's difference over a cell on either side, so a 1-cell line differs over 3 cells there."""

PASTE_DELTA = 40.0
"""Luma difference (0-255) left by the tone fit above which a cell of one picture's content, on
the other's background, may be something pasted over the other (``_forgiven``)."""

PASTE_SHARE = 1.0 / 3.0
"""Largest share of a picture's content that may be forgiven as pasted on the other."""

COVER_SHARE = 0.5
"""Largest share of either picture's content that may be left out as covered by something
pasted over it (``_forgiven_cells``): half of it must still be compared."""

GRID_THICKNESS = 2
"""A blob's thickness on the ``GRID`` (each of its cells is 2 × 2 cells of the 32 × 32
plane: ``THICKNESS`` rounded up)."""

FRAME_SHARE = 0.9
"""Share of the cells round a window that must be content for what lies outside it to count
as a frame (``_blank_window``)."""

MAX_GAIN = 1.43
"""Largest contrast change the tone fit undoes (its gain lies within 1/``MAX_GAIN`` and
``MAX_GAIN``): the strongest everyday tone edit (contrast × 1.4, brightness × 1.3) either way.
A wider range (0.6-1.7 before) let a fit fade a black outline into a green one, a red drawing
into a pale one: on the hard corpus's duplicate pairs, 18 of 32 look-alike polygons and stars."""

MIN_TOLERANCE = 4.0
"""Smallest luma difference (0-255) a cell may keep and agree: JPEG noise."""

PARALLEL_PAIRS = 64
"""Rows below which scoring stays on the calling thread (a few milliseconds of work: starting
threads is not worth it). From it on, the rows are cut into one chunk per core, or up to four
per core for long lists, and scored on every core (the kernel releases the GIL): a search with
hundreds of candidates (a near-blank query, a template family) is answered on every core."""

NEUTRAL = 128.0
"""The chroma of no colour (Cb and Cr of a grey)."""

GRAY_CHROMA = 6.0
"""Largest chroma deviation from ``NEUTRAL`` of a grayscale picture: JPEG noise stays below,
any real colour goes above."""


def verify(
    query: np.ndarray, candidates: np.ndarray, verifier: Verifier, *, uncut: bool = False
) -> np.ndarray:
    """``(n,)`` bool: which candidate signatures show the same picture as the query signature.

    ``query`` is one ``(SIGNATURE_BYTES,)`` uint8 signature, ``candidates`` an
    ``(n, SIGNATURE_BYTES)`` array; a candidate without a signature (a zero row) is never
    accepted. The answer is ``verify_pairs``' for the pairs (query, candidate); the query is
    prepared once per thread, its shrunk planes kept for every candidate. With ``uncut``, in
    the uncut alignment only (``UNCUT``: a query's view cut from its pixels,
    ``pixdex.matching.cut_views``).
    """
    fixed = kernel_input(query, np.uint8)
    rows = kernel_input(candidates, np.uint8)
    return _verdicts_of(_score_against, fixed, rows, verifier, _aligned(uncut))


def verify_pairs(
    signatures: np.ndarray, pairs: np.ndarray, verifier: Verifier, *, uncut: bool = False
) -> np.ndarray:
    """``(m,)`` bool: for each row ``(i, j)`` of ``pairs``, whether ``signatures[i]`` and
    ``signatures[j]`` show the same picture (rows of an ``(n, SIGNATURE_BYTES)`` array);
    ``uncut`` as in ``verify``."""
    return _verdicts_of(_score_pairs, *_pair_arrays(signatures, pairs), verifier, _aligned(uncut))


def _aligned(uncut: bool) -> np.ndarray:
    """The alignments compared: ``UNCUT`` alone, or every one."""
    return UNCUT if uncut else _ALIGNMENTS


def _verdicts_of(
    kernel: Callable,
    fixed: np.ndarray,
    rows: np.ndarray,
    verifier: Verifier,
    alignments: np.ndarray,
) -> np.ndarray:
    """The verifier's verdicts on ``_scores`` of ``kernel`` in ``alignments``, pairs below its
    share cut short."""
    scores = _scores(
        kernel,
        fixed,
        rows,
        verifier.luma_tolerance,
        verifier.min_preserved,
        verifier.max_chroma,
        alignments,
    )
    return _verdicts(*scores, *verifier_arguments(verifier)[-4:])


def _pair_arrays(signatures: np.ndarray, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``signatures`` and ``pairs`` as the contiguous uint8 and int64 arrays ``_score_pairs``
    reads."""
    return kernel_input(signatures, np.uint8), kernel_input(pairs, np.int64)


def kernel_input(array: np.ndarray, dtype: type) -> np.ndarray:
    """``array`` as the kernels are compiled for: contiguous and writable (copied when it is
    not). A read-only array (a signature read with ``np.frombuffer``, as a search's query is)
    is another type to numba: the kernel would be compiled again for it, tens of seconds on a
    fresh install, at the first such call, which a server's warm-up had not made."""
    return np.require(array, dtype, ("C", "W"))


def verifier_arguments(verifier: Verifier) -> tuple:
    """The verifier as the one tuple ``verifies_prepared`` takes (compiled callers): its
    thresholds with the alignment tables."""
    return (
        np.float32(verifier.luma_tolerance),
        _LUMA_TABLES,
        _CHROMA_TABLES,
        _ALIGNMENTS,
        np.float32(verifier.min_preserved),
        np.float32(verifier.max_chroma),
        np.float32(verifier.blank_tone),
        np.float32(verifier.max_thin),
    )


def scores_pairs(
    signatures: np.ndarray, pairs: np.ndarray, luma_tolerance: float, *, uncut: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The verification scores of each pair at its best alignment: the share of content
    preserved (0-1; -1 when either signature is missing), the chroma difference (0-255; 0 when
    both sides are grayscale, or one is a grayscale copy of the other), for two blank
    pictures their difference of mean luma (-1 otherwise), and the share of content that
    differs thinly (0-1, ``_thin_share``). ``luma_tolerance`` as in ``Verifier``; ``uncut``
    as in ``verify``."""
    return _scores(
        _score_pairs,
        *_pair_arrays(signatures, pairs),
        luma_tolerance,
        NO_FLOOR,
        NO_CEILING,
        _aligned(uncut),
    )


NO_FLOOR = -1.0
"""A ``floor`` no share is below: every pair scored in full (``score_prepared``)."""

NO_CEILING = np.inf
"""A chroma ``ceiling`` no colour is above: every pair scored in full (``score_prepared``)."""


def _scores(
    kernel: Callable,
    fixed: np.ndarray,
    rows: np.ndarray,
    luma_tolerance: float,
    floor: float,
    ceiling: float,
    alignments: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The four score arrays ``kernel`` (``_score_pairs`` or ``_score_against``) writes for
    ``rows`` (pairs, or candidates) against ``fixed`` (the signatures, or the query) in the
    ``alignments`` (rows of ``_ALIGNMENTS``), pairs whose
    share falls below ``floor`` or whose colour lies above ``ceiling`` cut short
    (``score_prepared``): on the calling thread below
    ``PARALLEL_PAIRS`` rows, else in chunks on every core."""
    count = rows.shape[0]
    preserved = np.empty(count, np.float32)
    chroma = np.empty(count, np.float32)
    blank_gap = np.empty(count, np.float32)
    thin = np.empty(count, np.float32)

    def score(part: slice) -> None:
        kernel(
            fixed,
            rows[part],
            np.float32(luma_tolerance),
            _LUMA_TABLES,
            _CHROMA_TABLES,
            alignments,
            np.float32(floor),
            np.float32(ceiling),
            preserved[part],
            chroma[part],
            blank_gap[part],
            thin[part],
        )

    workers = worker_count()
    if count < PARALLEL_PAIRS or workers == 1:
        score(slice(0, count))
    else:
        chunks = max(workers, min(4 * workers, count // PARALLEL_PAIRS))
        bounds = np.linspace(0, count, chunks + 1).astype(np.int64)
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(score, [slice(a, b) for a, b in itertools.pairwise(bounds)]))
    return preserved, chroma, blank_gap, thin


def _shrink_tables(side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each cut (none, then ``CROP_FRACTIONS``) and each cell of a plane of ``side`` cells:
    the first of the ``TAPS`` cells of the other picture's plane that area-averaging it into
    the cut's window reads, their weights, and whether the cell lies wholly inside the window
    (only those are compared)."""
    cuts = (0.0, *CROP_FRACTIONS)
    first = np.zeros((len(cuts), side), np.int64)
    weights = np.zeros((len(cuts), side, TAPS), np.float32)
    inside = np.zeros((len(cuts), side), np.bool_)
    for k, cut in enumerate(cuts):
        low, high = cut * side, (1.0 - cut) * side
        for cell in range(side):
            if cell < low - 1e-6 or cell + 1 > high + 1e-6:
                continue
            inside[k, cell] = True
            start = (cell - low) / (1.0 - 2.0 * cut)
            end = (cell + 1 - low) / (1.0 - 2.0 * cut)
            # The taps start early enough to stay inside the plane; a tap past the cells the
            # window reads weighs 0.
            first[k, cell] = min(int(np.floor(start + 1e-6)), side - TAPS)
            for tap in range(TAPS):
                source = first[k, cell] + tap
                weights[k, cell, tap] = max(0.0, min(end, source + 1) - max(start, source))
            weights[k, cell] /= weights[k, cell].sum()
    return first, weights, inside


def _alignment_table() -> np.ndarray:
    """Rows ``(query cut, candidate cut)`` as indexes into the cuts (none, then
    ``CROP_FRACTIONS``; a cut takes its share from every side of that picture's frame): uncut
    first, then the query's frame cut (it has a border, or is the original of a cropped copy),
    then the candidate's."""
    rows = [(0, 0)]
    for cut in range(1, len(CROP_FRACTIONS) + 1):
        rows += [(cut, 0), (0, cut)]
    return np.array(rows, np.int64)


_CUTS = len(CROP_FRACTIONS) + 1
_LUMA_TABLES = _shrink_tables(LUMA_SIDE)
_CHROMA_TABLES = _shrink_tables(CHROMA_SIDE)
_ALIGNMENTS = _alignment_table()
UNCUT = np.ascontiguousarray(_ALIGNMENTS[:1])
"""The uncut alignment alone: how a query's views cut from its own pixels are compared
(``pixdex.matching.cut_views``), since each already lies in the frame a cut would give it."""
_WINDOW_MASKS = np.array(
    [np.outer(_CHROMA_TABLES[2][cut], _CHROMA_TABLES[2][cut]).ravel() for cut in range(_CUTS)]
)
"""For each cut: the grid cells (flat) wholly inside its window, the ones an alignment compares
(``CHROMA_SIDE`` = ``GRID``)."""
_WINDOW_COUNTS = _WINDOW_MASKS.sum(axis=1)
_WINDOW_CELLS = np.array(
    [np.resize(np.flatnonzero(mask), _WINDOW_MASKS.shape[1]) for mask in _WINDOW_MASKS]
)
"""For each cut: the flat indexes of its window's cells (``_WINDOW_MASKS``), the first
``_WINDOW_COUNTS[cut]`` of each row (the rest repeat them, unread): what ``_preserved``
reads, without finding them again for every pair."""


def _fine_masks() -> np.ndarray:
    """For each cut: the 32 × 32 cells (flat) the full-resolution comparison reads, those wholly
    inside the cut's window less its outer ring (softening mixes the ring with the cells outside
    the window, which a shrunk plane leaves 0); every cell uncut."""
    masks = []
    for cut in range(_CUTS):
        inside = _LUMA_TABLES[2][cut].copy()
        if cut:
            rows = np.flatnonzero(inside)
            inside[rows[0]] = inside[rows[-1]] = False
        masks.append(np.outer(inside, inside).ravel())
    return np.array(masks)


_FINE_MASKS = _fine_masks()


@njit(cache=True, nogil=True)
def _prepare(sig: np.ndarray) -> tuple:  # pragma: no cover - compiled
    """One signature as the grid comparison reads it: its 32 × 32 luma, background tone (-1:
    no background), uncut luma and content share on the ``GRID``, whether it has any content,
    and the signature itself (for ``_colour``, which most pairs, rejected on the grid, never
    need)."""
    luma = sig[PLANES_START:LUMA_END].reshape(LUMA_SIDE, LUMA_SIDE).astype(np.float32)
    # Four histograms filled in turn, then added: a picture's background puts most cells in
    # one bin, and one histogram made each cell wait for the previous cell's count.
    lanes = np.zeros((2, 16, 4), np.int64)
    values = sig[PLANES_START:LUMA_END]
    for k in range(0, LUMA_CELLS, 4):
        for lane in range(4):
            v = values[k + lane]
            lanes[0, v >> 4, lane] += 1
            lanes[1, v >> 4, lane] += v
    counts = lanes[0].sum(axis=1)
    sums = lanes[1].sum(axis=1)
    top = np.argmax(counts)
    tone = -1.0
    if counts[top] >= BACKGROUND_SHARE * LUMA_CELLS:
        tone = float(sums[top]) / counts[top]
    small, content = _pooled(luma, tone)
    return luma, tone, small, content, content.max() > 0, sig


@njit(cache=True, nogil=True)
def _colour(prepared: tuple) -> tuple:  # pragma: no cover - compiled
    """A ``_prepare``d signature's chroma (2 × 16 × 16), whether it is grayscale, and its mean
    luma."""
    luma, _, _, _, _, sig = prepared
    chroma = sig[LUMA_END:].reshape(2, CHROMA_SIDE, CHROMA_SIDE).astype(np.float32)
    gray = True
    for v in sig[LUMA_END:]:
        if abs(np.float32(v) - NEUTRAL) > GRAY_CHROMA:
            gray = False
            break
    return chroma, gray, luma.mean()


@njit(cache=True, nogil=True)
def _shrink(plane, cut, first, weights):  # pragma: no cover - compiled
    """A square ``plane`` area-averaged into the window a cut leaves of a plane of its side (cut
    indexes into the tables, made for its side): the picture as it lies in the frame of a copy
    with a border, or of the original it was cropped from. Cells outside the window are left 0
    (the caller compares only the cells inside)."""
    side = plane.shape[0]
    across = np.empty((side, side), np.float32)
    for y in range(side):
        for x in range(side):
            start = first[cut, x]
            across[y, x] = (
                weights[cut, x, 0] * plane[y, start]
                + weights[cut, x, 1] * plane[y, start + 1]
                + weights[cut, x, 2] * plane[y, start + 2]
            )
    out = np.empty((side, side), np.float32)
    for y in range(side):
        start = first[cut, y]
        w0 = weights[cut, y, 0]
        w1 = weights[cut, y, 1]
        w2 = weights[cut, y, 2]
        for x in range(side):
            out[y, x] = (
                w0 * across[start, x] + w1 * across[start + 1, x] + w2 * across[start + 2, x]
            )
    return out


@njit(cache=True, nogil=True)
def _pooled(luma, tone):  # pragma: no cover - compiled
    """A 32 × 32 luma plane averaged 2 × 2 onto the ``GRID``, and the share of each grid cell
    that is content (differs from the background ``tone`` by more than ``CONTENT_DELTA``; every
    cell when ``tone`` < 0)."""
    small = np.empty((GRID, GRID), np.float32)
    content = np.empty((GRID, GRID), np.float32)
    for gy in range(GRID):
        for gx in range(GRID):
            # A cell's four values added in row order in float32: the sums a plane-wide
            # accumulation made, to the bit (scores do not move).
            value = np.float32(0.0)
            share = 0.0
            for y in range(2 * gy, 2 * gy + 2):
                for x in range(2 * gx, 2 * gx + 2):
                    value += luma[y, x] * np.float32(0.25)
                    share += 0.25 * _is_content(luma[y, x], tone)
            small[gy, gx] = value
            content[gy, gx] = share
    return small, content


@njit(cache=True, nogil=True)
def _is_content(value, tone):  # pragma: no cover - compiled
    """Whether a 32 × 32 cell of luma ``value`` is content: it differs from the background
    ``tone`` by more than ``CONTENT_DELTA`` (every cell is, when ``tone`` < 0: no background)."""
    return tone < 0 or abs(value - tone) > CONTENT_DELTA


@njit(cache=True, nogil=True)
def _quantile_level(values, share):  # pragma: no cover - compiled
    """The smallest whole level (0-255) at or below which ``share`` of ``values`` lie (a
    256-bin histogram: no sort)."""
    counts = np.zeros(257, np.int64)
    for v in values:
        counts[min(int(v), 256)] += 1
    wanted = share * values.size
    total = 0
    for level in range(257):
        total += counts[level]
        if total >= wanted:
            return level + 1.0
    return 257.0


@njit(cache=True, nogil=True)
def _preserved(
    a, b, content_a, content_b, tolerance, chosen, tone_a, tone_b, needed, floor
):  # pragma: no cover - compiled
    """The smaller share of either plane's content cells (among the ``chosen`` ones, flat
    indexes: the cells both pictures show) that agree once ``b`` is fitted to ``a`` as
    gain × a + offset over the best-fitting cells (two rounds of trimmed least squares; when
    the gain ends at its limit, one round from ``_anchored_gain``'s fit instead, if there is
    one), with the fit's gain and offset. A cell agrees as ``_agrees`` says, and forgiven
    content is left out as ``_forgiven_cells`` says. When even forgiving every cell that may be
    pasted or covered could not lift the share above ``needed`` (the best alignment's so far)
    or to ``floor`` (``score_prepared``'s), that bound is returned instead: a share the caller
    never keeps, or a pair it rejects (the bound is 0 exactly when the share is)."""
    x = a.ravel()[chosen]
    y = b.ravel()[chosen]
    n = x.size
    residual = np.empty(n, np.float32)
    gain, offset = _trimmed_fit(x, y, residual, 1e9, 2)
    if gain <= 1.0 / MAX_GAIN or gain >= MAX_GAIN:
        # The fit ran into its limit: something pasted may have bent it. Two pictures with
        # backgrounds are fitted again from their backgrounds and the content both show.
        ca = content_a.ravel()[chosen]
        cb = content_b.ravel()[chosen]
        anchored, start = _anchored_gain(x, y, ca, cb, tone_a, tone_b)
        if anchored:
            for k in range(n):
                residual[k] = abs(y[k] - (start * (x[k] - tone_a) + tone_b))
            cut = _quantile_level(residual, 1.0 - OCCLUSION)
            gain, offset = _trimmed_fit(x, y, residual, cut, 1)
    share = _tallied_share(
        a, b, content_a, content_b, residual, chosen, tone_a, tone_b, tolerance, needed, floor
    )
    return share, gain, offset


@njit(cache=True, nogil=True)
def _trimmed_fit(x, y, residual, cut, rounds):  # pragma: no cover - compiled
    """``rounds`` of least squares of ``y`` on ``x`` over the cells whose ``residual`` is at
    most ``cut`` (every cell when ``cut`` > 1e8), each round's fit leaving the ``residual``
    (filled in) and a cut at its ``1 - OCCLUSION`` quantile for the next; the gain within
    ``MAX_GAIN``. The last gain and offset."""
    n = x.size
    gain = 1.0
    offset = 0.0
    for _ in range(rounds):
        # Without branches (a cell left out weighs 0: the sums are the same to the bit), since
        # which cells are left out is data, and mispredicted branches were half the fit's time.
        sw = 0.0
        mx = 0.0
        my = 0.0
        for k in range(n):
            w = 1.0 if residual[k] <= cut or cut > 1e8 else 0.0
            sw += w
            mx += w * x[k]
            my += w * y[k]
        mx /= sw
        my /= sw
        vx = 0.0
        cov = 0.0
        for k in range(n):
            w = 1.0 if residual[k] <= cut or cut > 1e8 else 0.0
            vx += w * (x[k] - mx) ** 2
            cov += w * ((x[k] - mx) * (y[k] - my))
        gain = cov / vx if vx > 25.0 * sw else 1.0
        gain = min(max(gain, 1.0 / MAX_GAIN), MAX_GAIN)
        offset = my - gain * mx
        for k in range(n):
            residual[k] = abs(y[k] - (gain * x[k] + offset))
        cut = _quantile_level(residual, 1.0 - OCCLUSION)
    return gain, offset


ANCHOR_CELLS = 8
"""Fewest grid cells of content on both sides, away from both backgrounds, from which the tone
fit of two pictures with backgrounds is anchored at the backgrounds (``_anchored_gain``)."""


@njit(cache=True, nogil=True)
def _anchored_gain(x, y, ca, cb, tone_a, tone_b):  # pragma: no cover - compiled
    """For two pictures with backgrounds: whether enough cells are content on both sides
    (``ANCHOR_CELLS``) to fit the tones as background onto background, and the gain, the
    median of (y - tone_b) / (x - tone_a) over those cells (within ``MAX_GAIN``; 1/100 bins).
    Content on one side only (shapes pasted on the other's background) cannot bend it."""
    if tone_a < 0 or tone_b < 0:
        return False, 1.0
    bins = np.zeros(128, np.int64)
    low = 1.0 / MAX_GAIN
    used = 0
    for k in range(x.size):
        dx = x[k] - tone_a
        dy = y[k] - tone_b
        if ca[k] > 0.2 and cb[k] > 0.2 and abs(dx) > 2 * CONTENT_DELTA and abs(dy) > CONTENT_DELTA:
            ratio = dy / dx
            bins[min(max(int((ratio - low) * 100.0 + 0.5), 0), 127)] += 1
            used += 1
    if used < ANCHOR_CELLS:
        return False, 1.0
    total = 0
    for level in range(128):
        total += bins[level]
        if 2 * total >= used:
            return True, min(max(low + level / 100.0, low), MAX_GAIN)
    return True, 1.0


@njit(cache=True, nogil=True)
def _tallied_share(
    a, b, content_a, content_b, residual, chosen, tone_a, tone_b, tolerance, needed, floor
):  # pragma: no cover - compiled
    """``_forgiving_share`` of the grid planes ``a`` and ``b`` (content shares ``content_a``,
    ``content_b``) over the cells ``chosen``, with the fit's ``residual`` there; or its bound
    (``_preserved``)."""
    flat_a, flat_b = a.ravel(), b.ravel()
    in_a, in_b = content_a > 0.2, content_b > 0.2
    flat_in_a, flat_in_b = in_a.ravel(), in_b.ravel()
    counts = _NO_COUNTS
    added = np.zeros(GRID * GRID, np.int8)
    agrees = np.zeros(GRID * GRID, np.bool_)
    covering = 0
    for k in range(chosen.size):
        cell = chosen[k]
        counts, added[cell], agrees[cell] = _tally(
            counts,
            flat_a[cell],
            flat_b[cell],
            residual[k],
            flat_in_a[cell],
            flat_in_b[cell],
            tone_a,
            tone_b,
            tolerance,
        )
        covering += added[cell] == 3
    _, _, _, _, from_a, from_b = counts
    if covering == 0 and from_a == 0 and from_b == 0:
        return _forgiving_share(counts, 0, 0)
    bound = _share_bound(counts, covering)
    if bound <= needed or np.float32(bound) < floor:
        return bound
    _, hidden_a, hidden_b = _forgiven_cells(
        added.reshape(GRID, GRID),
        a,
        b,
        agrees.reshape(GRID, GRID),
        in_a,
        in_b,
        counts,
        chosen.size,
        GRID_THICKNESS,
    )
    return _forgiving_share(counts, hidden_a, hidden_b)


_NO_COUNTS = (0, 0, 0, 0, 0, 0)
"""What ``_tally`` counts, before any cell: each picture's content cells (a, b), those that
agree (a, b), and its content cells that may be pasted on the other's background (a, b; of
any tone: ``_forgiven_cells`` counts the foreign ones again)."""


@njit(cache=True, nogil=True)
def _tally(counts, x, y, residual, in_a, in_b, tone_a, tone_b, tolerance):  # pragma: no cover
    """``counts`` (as ``_NO_COUNTS``) with one cell of values ``x`` and ``y`` (content of either
    picture or not) counted in; whether that cell may be something pasted: 1 when it is
    ``a``'s content on ``b``'s background and not within ``PASTE_DELTA`` of the fit, 2 the
    other way round, 3 when it is content of both (both having a background) that far apart
    (one may be pasted over the other), 0 otherwise (it agrees, or is neither's content, or
    near); and whether it agrees (``_agrees``)."""
    na, nb, agree_a, agree_b, from_a, from_b = counts
    agrees = _agrees(x, y, residual, tone_a, tone_b, tolerance)
    added = 0
    if not (agrees or residual <= PASTE_DELTA):
        if in_a != in_b:
            added = 1 if in_a else 2
        elif in_a and tone_a >= 0 and tone_b >= 0:
            added = 3
    counted = (
        na + in_a,
        nb + in_b,
        agree_a + (in_a and agrees),
        agree_b + (in_b and agrees),
        from_a + (added == 1),
        from_b + (added == 2),
    )
    return counted, added, agrees


@njit(cache=True, nogil=True)
def _forgiven(na, nb, from_a, from_b, cells):  # pragma: no cover - compiled
    """Whether each picture's possibly pasted content (``from_a``, ``from_b`` cells of its
    ``na``, ``nb`` content cells, over ``cells`` compared: the foreign part ``_forgiven_cells``
    counts) is forgiven whole as something pasted on the other (a sticker, shapes, a caption):
    when it is at most ``OCCLUSION`` of the cells and ``PASTE_SHARE`` of that picture's
    content."""
    forgive_a = from_a > 0 and from_a <= OCCLUSION * cells and from_a <= PASTE_SHARE * na
    forgive_b = from_b > 0 and from_b <= OCCLUSION * cells and from_b <= PASTE_SHARE * nb
    return forgive_a, forgive_b


@njit(cache=True, nogil=True)
def _forgiven_cells(added, a, b, agrees, in_a, in_b, counts, cells, thickness):  # pragma: no cover
    """The cells forgiven as pasted over the other picture (``_tally``'s ``added`` map and
    ``counts`` over ``cells`` compared, of planes ``a`` and ``b`` with their ``agrees`` and
    content maps), and how many of each picture's content cells they are. A picture's possibly
    pasted content is forgiven whole as ``_forgiven`` says. When it is too much for that, the
    part of it that is *foreign* — in a ``thickness`` square of content far from the other
    (a blob) and of other tones than the content the two pictures share (``_own_tones``: a
    star's other points are the star's colour, shapes pasted on it are not) — is forgiven, up
    to ``OCCLUSION`` of the cells. Content of both pictures far apart (``added`` 3) in such a
    foreign blob of either is covered by something pasted, and left out of both, up to
    ``OCCLUSION`` of the cells and ``COVER_SHARE`` of either picture's content."""
    na, nb, _, _, _, _ = counts
    tones_a = _own_tones(a, agrees & in_a)
    tones_b = _own_tones(b, agrees & in_b)
    side = added.shape[0]
    foreign_a = np.zeros((side, side), np.bool_)
    foreign_b = np.zeros((side, side), np.bool_)
    from_a = 0
    from_b = 0
    for y in range(side):
        for x in range(side):
            kind = added[y, x]
            if kind == 1 or kind == 3:
                foreign_a[y, x] = not tones_a[min(int(a[y, x]), 255)]
                from_a += kind == 1 and foreign_a[y, x]
            if kind == 2 or kind == 3:
                foreign_b[y, x] = not tones_b[min(int(b[y, x]), 255)]
                from_b += kind == 2 and foreign_b[y, x]
    whole_a, whole_b = _forgiven(na, nb, from_a, from_b, cells)
    corner_a = _full_squares(foreign_a, thickness)
    corner_b = _full_squares(foreign_b, thickness)
    in_blob = np.zeros((side, side), np.bool_)
    thick_a = 0
    thick_b = 0
    covered = 0
    for y in range(side):
        for x in range(side):
            kind = added[y, x]
            if kind == 1 and not whole_a:
                in_blob[y, x] = foreign_a[y, x] and _in_full_square(corner_a, y, x, thickness)
                thick_a += in_blob[y, x]
            elif kind == 2 and not whole_b:
                in_blob[y, x] = foreign_b[y, x] and _in_full_square(corner_b, y, x, thickness)
                thick_b += in_blob[y, x]
            elif kind == 3:
                in_blob[y, x] = (
                    foreign_a[y, x] and _in_full_square(corner_a, y, x, thickness)
                ) or (foreign_b[y, x] and _in_full_square(corner_b, y, x, thickness))
                covered += in_blob[y, x]
    blob_a = thick_a <= OCCLUSION * cells
    blob_b = thick_b <= OCCLUSION * cells
    cover = covered <= OCCLUSION * cells and covered <= COVER_SHARE * min(na, nb)
    forgiven = np.zeros((side, side), np.bool_)
    hidden_a = covered * cover
    hidden_b = covered * cover
    for y in range(side):
        for x in range(side):
            kind = added[y, x]
            if kind == 1:
                forgiven[y, x] = foreign_a[y, x] and (whole_a or (blob_a and in_blob[y, x]))
                hidden_a += forgiven[y, x]
            elif kind == 2:
                forgiven[y, x] = foreign_b[y, x] and (whole_b or (blob_b and in_blob[y, x]))
                hidden_b += forgiven[y, x]
            elif kind == 3:
                forgiven[y, x] = cover and in_blob[y, x]
    return forgiven, hidden_a, hidden_b


OWN_TONE_SHARE = 0.25
"""Share of the content two pictures share (their content cells that agree) that must lie
within ``2 × MIN_TOLERANCE`` levels of a tone for the tone to be a picture's own
(``_own_tones``)."""


@njit(cache=True, nogil=True)
def _own_tones(plane, shared):  # pragma: no cover - compiled
    """For each level (0-255), whether a cell of that tone in ``plane`` looks like the
    picture's own content: ``OWN_TONE_SHARE`` of the ``shared`` cells (its content that agrees
    with the other picture) lie within ``MIN_TOLERANCE`` × 2 levels of it."""
    counts = np.zeros(257, np.int64)
    total = 0
    side = plane.shape[0]
    for y in range(side):
        for x in range(side):
            if shared[y, x]:
                counts[min(int(plane[y, x]), 255) + 1] += 1
                total += 1
    for level in range(256):
        counts[level + 1] += counts[level]
    own = np.zeros(256, np.bool_)
    reach = int(2 * MIN_TOLERANCE)
    for level in range(256):
        near = counts[min(level + reach, 255) + 1] - counts[max(level - reach, 0)]
        own[level] = total > 0 and near >= OWN_TONE_SHARE * total
    return own


@njit(cache=True, nogil=True)
def _share_bound(counts, covered):  # pragma: no cover - compiled
    """The largest share ``_forgiving_share`` could give ``counts`` whatever it forgives of the
    cells that may be pasted (``counts``) or ``covered`` (all of them); 0 exactly when it gives
    0."""
    na, nb, agree_a, agree_b, from_a, from_b = counts
    if agree_a == 0 or agree_b == 0:
        return 0.0
    rest_a = na - from_a - covered
    rest_b = nb - from_b - covered
    if rest_a <= 0 or rest_b <= 0:
        return 1.0
    return min(1.0, agree_a / rest_a, agree_b / rest_b)


@njit(cache=True, nogil=True)
def _forgiving_share(counts, hidden_a, hidden_b):  # pragma: no cover - compiled
    """``_smaller_share`` of ``_tally``'s counts, each picture's forgiven content
    (``_forgiven_cells``) left out."""
    na, nb, agree_a, agree_b, _, _ = counts
    return _smaller_share(agree_a, na - hidden_a, agree_b, nb - hidden_b)


@njit(cache=True, nogil=True)
def _full_squares(marked, thickness):  # pragma: no cover - compiled
    """The bottom-right cells of every ``thickness`` × ``thickness`` square of ``marked``
    cells."""
    side = marked.shape[0]
    run = np.zeros((side, side), np.int32)  # marked cells ending here, across
    for y in range(side):
        length = 0
        for x in range(side):
            length = length + 1 if marked[y, x] else 0
            run[y, x] = length
    corner = np.zeros((side, side), np.bool_)
    for x in range(side):
        length = 0
        for y in range(side):
            length = length + 1 if run[y, x] >= thickness else 0
            corner[y, x] = length >= thickness
    return corner


@njit(cache=True, nogil=True)
def _pasted_cells(
    a, b, content_a, content_b, mask, tone_a, tone_b, tolerance, gain, offset
):  # pragma: no cover - compiled
    """The grid cells (flat) ``_preserved`` forgave as pasted or covered at its best alignment,
    given that alignment's fit: the colour comparison leaves them out with the other content
    cells."""
    chosen = np.flatnonzero(mask)
    x = a.ravel()[chosen]
    y = b.ravel()[chosen]
    ca = content_a.ravel()[chosen]
    cb = content_b.ravel()[chosen]
    counts = _NO_COUNTS
    added = np.zeros(chosen.size, np.int64)
    agreed = np.zeros(chosen.size, np.bool_)
    for k in range(chosen.size):
        residual = abs(y[k] - (gain * x[k] + offset))
        counts, added[k], agreed[k] = _tally(
            counts, x[k], y[k], residual, ca[k] > 0.2, cb[k] > 0.2, tone_a, tone_b, tolerance
        )
    grid_added = np.zeros(a.size, np.int8)
    agrees = np.zeros(a.size, np.bool_)
    for k in range(chosen.size):
        grid_added[chosen[k]] = added[k]
        agrees[chosen[k]] = agreed[k]
    forgiven, _, _ = _forgiven_cells(
        grid_added.reshape(a.shape),
        a,
        b,
        agrees.reshape(a.shape),
        content_a > 0.2,
        content_b > 0.2,
        counts,
        chosen.size,
        GRID_THICKNESS,
    )
    return forgiven.ravel()


@njit(cache=True, nogil=True)
def _smaller_share(agree_a, na, agree_b, nb):  # pragma: no cover - compiled
    """The smaller of the two shares of content that agree (0 when either side has none)."""
    if na == 0 or nb == 0:
        return 0.0
    return min(agree_a / na, agree_b / nb)


@njit(cache=True, nogil=True)
def _agrees(x, y, residual, tone_a, tone_b, tolerance):  # pragma: no cover - compiled
    """Whether a cell of values ``x`` and ``y`` agrees with the ``residual`` the tone fit leaves
    in it: at most ``CONTRAST_SHARE`` of its contrast against the backgrounds ``tone_a`` and
    ``tone_b`` (-1: none), within ``MIN_TOLERANCE`` and ``tolerance``."""
    contrast = 255.0
    if tone_a >= 0 and tone_b >= 0:
        contrast = max(abs(x - tone_a), abs(y - tone_b))
    return residual <= min(tolerance, max(MIN_TOLERANCE, CONTRAST_SHARE * contrast))


@njit(cache=True, nogil=True)
def _fine_preserved(
    a, b, tone_a, tone_b, gain, offset, tolerance, mask, thickness
):  # pragma: no cover
    """``_preserved`` of two aligned 32 × 32 luma planes cell by cell over the ``mask`` cells
    (flat), with the tone fit found on the grid: the share of either picture's content the
    other keeps at the signature's full resolution, where template siblings' different labels
    still show; and the larger share of either picture's content that differs thinly
    (``_thin_share``, blobs at least ``thickness`` cells thick)."""
    counts = _NO_COUNTS
    cells = 0
    in_a = np.zeros((LUMA_SIDE, LUMA_SIDE), np.bool_)
    in_b = np.zeros((LUMA_SIDE, LUMA_SIDE), np.bool_)
    agrees = np.zeros((LUMA_SIDE, LUMA_SIDE), np.bool_)
    added = np.zeros((LUMA_SIDE, LUMA_SIDE), np.int8)
    for y in range(LUMA_SIDE):
        for x in range(LUMA_SIDE):
            if mask[y * LUMA_SIDE + x]:
                cells += 1
                va = a[y, x]
                vb = b[y, x]
                residual = abs(vb - (gain * va + offset))
                in_a[y, x] = _is_content(va, tone_a)
                in_b[y, x] = _is_content(vb, tone_b)
                counts, added[y, x], agrees[y, x] = _tally(
                    counts, va, vb, residual, in_a[y, x], in_b[y, x], tone_a, tone_b, tolerance
                )
    forgiven = np.zeros((LUMA_SIDE, LUMA_SIDE), np.bool_)
    hidden_a = 0
    hidden_b = 0
    if added.any():
        forgiven, hidden_a, hidden_b = _forgiven_cells(
            added, a, b, agrees, in_a, in_b, counts, cells, thickness
        )
    differs = (in_a | in_b) & ~agrees
    return _forgiving_share(counts, hidden_a, hidden_b), _thin_share(
        differs, forgiven, in_a, in_b, counts, thickness
    )


@njit(cache=True, nogil=True)
def _fine_allowing_blur(a, b, tone_a, tone_b, gain, offset, tolerance):  # pragma: no cover
    """``_fine_preserved`` of two uncut 32 × 32 planes, and again with either blurred to look
    like the other (``blur.blurred_like``, in the other's tones): the comparison in which less
    content differs thinly counts. A blurred copy's lines differ thinly from its original's
    until the original is blurred as much."""
    fine, thin = _fine_preserved(
        a, b, tone_a, tone_b, gain, offset, tolerance, _FINE_MASKS[0], THICKNESS
    )
    if thin <= 0.0:
        return fine, thin
    gain = np.float32(gain)
    offset = np.float32(offset)
    sharp_b, used = blurred_like(b, gain * a + offset)
    if used:
        share, differs = _fine_preserved(
            a, sharp_b, tone_a, tone_b, gain, offset, tolerance, _FINE_MASKS[0], THICKNESS
        )
        if differs < thin:
            fine, thin = share, differs
        if thin <= 0.0:
            return fine, thin
    sharp_a, used = blurred_like(a, (b - offset) / gain)
    if used:
        share, differs = _fine_preserved(
            sharp_a, b, tone_a, tone_b, gain, offset, tolerance, _FINE_MASKS[0], THICKNESS
        )
        if differs < thin:
            fine, thin = share, differs
    return fine, thin


@njit(cache=True, nogil=True)
def _thin_share(differs, forgiven, in_a, in_b, counts, thickness):  # pragma: no cover - compiled
    """The larger of the two pictures' shares of content cells (``_tally``'s ``counts``) that
    differ thinly: ``differs`` in no ``thickness`` × ``thickness`` square of differing cells
    (``forgiven`` ones count as differing there, but not in the share).
    A sticker, shapes or a caption differ in a blob; one template's other labels, a page's
    other words or a drawing's other details differ in lines and specks spread over the
    picture, and an edit that keeps the picture (JPEG, resizing) leaves few of them."""
    side = LUMA_SIDE
    corner = _full_squares(differs, thickness)
    thin_a = 0
    thin_b = 0
    for y in range(side):
        for x in range(side):
            if (
                differs[y, x]
                and not forgiven[y, x]
                and not _in_full_square(corner, y, x, thickness)
            ):
                thin_a += in_a[y, x]
                thin_b += in_b[y, x]
    na, nb = counts[0], counts[1]
    return max(thin_a / max(1, na), thin_b / max(1, nb))


@njit(cache=True, nogil=True)
def _in_full_square(corner, y, x, thickness):  # pragma: no cover - compiled
    """Whether cell (y, x) lies in a ``thickness`` square whose bottom-right cell is marked in
    ``corner``."""
    side = corner.shape[0]
    for dy in range(thickness):
        for dx in range(thickness):
            if y + dy < side and x + dx < side and corner[y + dy, x + dx]:
                return True
    return False


@njit(cache=True, nogil=True)
def _cell_chroma_differences(a, b, gain):  # pragma: no cover - compiled
    """The chroma difference of each cell of two (2, 16, 16) chroma planes, flat, once ``b``'s
    saturation is fitted to ``a``'s as ``gain`` × (a - neutral): the mean of its two channels'
    (a red line and a green one differ in one channel, which trimming the channels' values
    apart would drop). One loop in float32, with no array made on the way."""
    flat_a = a.reshape(2, -1)
    flat_b = b.reshape(2, -1)
    scale = np.float32(gain)
    neutral = np.float32(NEUTRAL)
    out = np.empty(flat_a.shape[1], np.float32)
    for cell in range(out.size):
        blue = scale * (flat_a[0, cell] - neutral) + neutral
        red = scale * (flat_a[1, cell] - neutral) + neutral
        out[cell] = np.float32(0.5) * (abs(blue - flat_b[0, cell]) + abs(red - flat_b[1, cell]))
    return out


@njit(cache=True, nogil=True)
def _chroma_gain(a, b, cells):  # pragma: no cover - compiled
    """The gain that best fits ``b``'s chroma (2 × 16 × 16) to ``a``'s as gain × (a - neutral)
    + neutral over the ``cells`` chosen (a flat mask), by least squares, within ``MAX_GAIN``
    either way; 1 when ``a`` has no colour there to scale."""
    flat_a = a.reshape(2, -1)
    flat_b = b.reshape(2, -1)
    cross = 0.0
    square = 0.0
    for cell in range(cells.size):
        if cells[cell]:
            for channel in range(2):
                deviation = flat_a[channel, cell] - NEUTRAL
                cross += deviation * (flat_b[channel, cell] - NEUTRAL)
                square += deviation * deviation
    gain = cross / square if square > 0.0 else 1.0
    return min(max(gain, 1.0 / MAX_GAIN), MAX_GAIN)


@njit(cache=True, nogil=True)
def _trimmed_mean(values):  # pragma: no cover - compiled
    """The mean of the smallest ``1 - OCCLUSION`` of ``values`` (reordered in place: callers
    pass an array of their own, ``_masked``): what a sticker or shapes over a quarter of the
    picture cannot move."""
    kept = max(1, int((1.0 - OCCLUSION) * values.size))
    return _smallest_sum(values, kept) / kept


@njit(cache=True, nogil=True)
def _mean_difference(a, b, cells):  # pragma: no cover - compiled
    """Mean absolute difference of two grid planes over the ``cells`` chosen (a flat mask)."""
    flat_a = a.ravel()
    flat_b = b.ravel()
    total = 0.0
    for cell in range(cells.size):
        if cells[cell]:
            total += abs(flat_a[cell] - flat_b[cell])
    return total / max(1, cells.sum())


@njit(cache=True, nogil=True)
def _blank_window(content_a, content_b, mask, framed):  # pragma: no cover - compiled
    """Whether neither grid plane has a content cell among the ``mask`` ones (the window) while
    the ``framed`` one (the side whose frame is cut) is content all round the window: a frame
    (a border), not a line of text near a page's edge."""
    flat_a = content_a.ravel()
    flat_b = content_b.ravel()
    flat_framed = framed.ravel()
    ring = 0
    framing = 0
    for cell in range(mask.size):
        if mask[cell]:
            if flat_a[cell] > 0.2 or flat_b[cell] > 0.2:
                return False
        else:
            ring += 1
            framing += flat_framed[cell] > 0.2
    return framing >= FRAME_SHARE * ring


@njit(cache=True, nogil=True)
def _softened(plane):  # pragma: no cover - compiled
    """A square plane smoothed by a [1, 2, 1] / 4 kernel across and down (edges repeated): a
    fraction-of-a-cell misalignment moves a thin line's level a little, not from one cell to
    the next, while two different labels stay apart."""
    return blurred(plane, 0.25, 0.25)


@njit(cache=True, nogil=True)
def _content_cells(content_a, content_b, mask):  # pragma: no cover - compiled
    """The content cells of either side, where the picture is (every cell when fewer than
    ``MIN_CONTENT_CELLS`` are). Colour is compared over all cells and over these, and the
    larger difference counts: over all cells alone, a red star and a blue one on white differ
    only in the quarter of the cells left out for occlusion; over content alone, a picture
    whose "background" is one of its own colours (a flag's band) would hide that band. The
    chroma planes lie on the same grid as the content (``CHROMA_SIDE`` = ``GRID``)."""
    cells = ((content_a.ravel() > 0.2) | (content_b.ravel() > 0.2)) & mask
    if cells.sum() < MIN_CONTENT_CELLS:
        return mask.copy()
    return cells


@njit(cache=True, nogil=True)
def _smallest_sum(values, count):  # pragma: no cover - compiled
    """The sum of the ``count`` smallest of ``values`` (reordered in place), by quickselect:
    plain loops, where ``np.sort`` would add seconds to the first compilation."""
    low = 0
    high = values.size - 1
    while low < high:
        pivot = values[(low + high) // 2]
        i = low
        j = high
        while i <= j:
            while values[i] < pivot:
                i += 1
            while values[j] > pivot:
                j -= 1
            if i <= j:
                values[i], values[j] = values[j], values[i]
                i += 1
                j -= 1
        if count - 1 <= j:
            high = j
        elif count - 1 >= i:
            low = i
        else:
            break
    total = 0.0
    for k in range(count):
        total += values[k]
    return total


@njit(cache=True, nogil=True)
def _shrunk_side(luma, tone, cut, tables):  # pragma: no cover - compiled
    """The grid planes (values, content share) of one picture shrunk into the window of a cut
    of the other's frame."""
    first, weights, _ = tables
    return _pooled(_shrink(luma, cut, first, weights), tone)


@njit(cache=True, nogil=True)
def _shrunk_colour(chroma, cut, tables):  # pragma: no cover - compiled
    """Both chroma planes of a picture shrunk into the window of a cut of the other's frame;
    uncut, the planes themselves (the uncut table's weights are 1 and 0: the same values)."""
    if cut == 0:
        return chroma
    first, weights, _ = tables
    out = np.empty((2, CHROMA_SIDE, CHROMA_SIDE), np.float32)
    for plane in range(2):
        out[plane] = _shrink(chroma[plane], cut, first, weights)
    return out


@njit(cache=True, nogil=True)
def _aligned_chroma_differences(
    ha, hb, cut_colour, colour_ready, query_cut, candidate_cut, tables
):  # pragma: no cover - compiled
    """``_cell_chroma_differences`` of the two pictures' chroma at one alignment (each shrunk
    by the other's cut). The first side's planes shrunk for a cut are kept in ``cut_colour``
    (made once per keeper or query, as its luma planes are)."""
    if not colour_ready[candidate_cut]:
        cut_colour[candidate_cut] = _shrunk_colour(ha, candidate_cut, tables)
        colour_ready[candidate_cut] = True
    return _fitted_chroma_differences(
        cut_colour[candidate_cut],
        _shrunk_colour(hb, query_cut, tables),
        _WINDOW_MASKS[query_cut + candidate_cut],
    )


@njit(cache=True, nogil=True)
def _fitted_chroma_differences(a, b, mask):  # pragma: no cover - compiled
    """``_cell_chroma_differences`` of two chroma planes at the gain fitted over the ``mask``
    cells (``_chroma_gain``), then again over the ``1 - OCCLUSION`` of them it fits best: a
    sticker does not bend the fit."""
    differences = _cell_chroma_differences(a, b, _chroma_gain(a, b, mask))
    level = _quantile_level(_masked(differences, mask), 1.0 - OCCLUSION)
    best = np.empty(mask.size, np.bool_)
    for cell in range(mask.size):
        best[cell] = mask[cell] and differences[cell] <= level
    return _cell_chroma_differences(a, b, _chroma_gain(a, b, best))


@njit(cache=True, nogil=True)
def _masked(values, mask):  # pragma: no cover - compiled
    """The ``values`` whose ``mask`` cell is set, in order (``values[mask]`` in one loop)."""
    out = np.empty(mask.size, values.dtype)
    count = 0
    for cell in range(mask.size):
        if mask[cell]:
            out[count] = values[cell]
            count += 1
    return out[:count]


@njit(cache=True, nogil=True)
def _closest_window_colour(
    ha, hb, cut_colour, colour_ready, chroma_tables, alignments, ceiling
):  # pragma: no cover - compiled
    """The smallest, over the alignments, of the trimmed mean chroma difference over the
    alignment's window (the first term of the colour score, ``score_prepared``, which needs no
    tone fit); or the first that is within ``ceiling`` (uncut first: a copy stops there)."""
    closest = np.inf
    for row in range(alignments.shape[0]):
        query_cut, candidate_cut = alignments[row]
        differences = _aligned_chroma_differences(
            ha, hb, cut_colour, colour_ready, query_cut, candidate_cut, chroma_tables
        )
        colour = _trimmed_mean(_masked(differences, _WINDOW_MASKS[query_cut + candidate_cut]))
        if np.float32(colour) <= ceiling:
            return colour
        closest = min(closest, colour)
    return closest


@njit(cache=True, nogil=True)
def _score_pairs(
    signatures,
    pairs,
    tolerance,
    luma_tables,
    chroma_tables,
    alignments,
    floor,
    ceiling,
    preserved,
    chroma,
    gap,
    thin,
):  # pragma: no cover - compiled
    """Score each row of ``pairs`` into the four output arrays (one thread; ``scores_pairs``
    runs chunks of the pairs on every core)."""
    for p in range(pairs.shape[0]):
        preserved[p], chroma[p], gap[p], thin[p] = _score_pair(
            signatures[pairs[p, 0]],
            signatures[pairs[p, 1]],
            tolerance,
            luma_tables,
            chroma_tables,
            alignments,
            floor,
            ceiling,
        )


@njit(cache=True, nogil=True)
def _score_against(
    query,
    candidates,
    tolerance,
    luma_tables,
    chroma_tables,
    alignments,
    floor,
    ceiling,
    preserved,
    chroma,
    gap,
    thin,
):  # pragma: no cover - compiled
    """Score each row of ``candidates`` against one ``query`` into the four output arrays (one
    thread): the query prepared once, so its planes shrunk into a candidate's frame are made
    once per cut, not once per candidate."""
    if query[0] != SIGNATURE_VERSION:
        preserved[:] = -1.0
        chroma[:] = np.inf
        gap[:] = -1.0
        thin[:] = 0.0
        return
    side = prepare(query)
    for p in range(candidates.shape[0]):
        if candidates[p, 0] != SIGNATURE_VERSION:
            preserved[p], chroma[p], gap[p], thin[p] = -1.0, np.inf, -1.0, 0.0
            continue
        preserved[p], chroma[p], gap[p], thin[p] = _score_allowing_brightening(
            side,
            _prepare(candidates[p]),
            tolerance,
            luma_tables,
            chroma_tables,
            alignments,
            floor,
            ceiling,
        )


@njit(cache=True, nogil=True)
def _score_pair(
    sa, sb, tolerance, luma_tables, chroma_tables, alignments, floor, ceiling
):  # pragma: no cover - compiled
    """One pair's (share of content preserved, chroma difference, blank gap, share differing
    thinly), as in ``scores_pairs`` (``floor`` and ``ceiling`` as in ``score_prepared``)."""
    if sa[0] != SIGNATURE_VERSION or sb[0] != SIGNATURE_VERSION:
        return -1.0, np.inf, -1.0, 0.0
    return _score_allowing_brightening(
        prepare(sa),
        _prepare(sb),
        tolerance,
        luma_tables,
        chroma_tables,
        alignments,
        floor,
        ceiling,
    )


@njit(cache=True, nogil=True)
def _score_allowing_brightening(
    side_a, prepared_b, tolerance, luma_tables, chroma_tables, alignments, floor, ceiling
):  # pragma: no cover - compiled
    """``score_prepared``, or, when the darker of the two (by mean luma) brightened channel by
    channel as the other looks brightened predicts the other (``brightness.brightened_like``:
    a brighter copy's clipped colours, which no tone fit undoes), the scores of the prediction
    against the other instead. Which comparison counts depends on the two signatures alone,
    never on the thresholds, so a pair cut short at the grid or on colour gets the verdict of
    its full scores. Two pictures of which only one is grayscale are not compared brightened
    (brightening keeps a colour picture in colour). When either picture is too small for the
    planes' detail, both are then brought to the detail they share
    (``pixdex.matching.resolution``): after brightening, which is exact on a small picture's
    own pixels and not on averages of them."""
    prepared_a, colour_of_a, _, _, _, _, _ = side_a
    sa, sb = prepared_a[5], prepared_b[5]
    mean_a = colour_of_a[2]
    mean_b = prepared_b[0].mean()
    if mean_a != mean_b:
        darker_a = mean_a < mean_b
        predicted, used = brightened_like(sa, sb) if darker_a else brightened_like(sb, sa)
        if used and colour_of_a[1] == _colour(prepared_b)[1]:
            if darker_a:
                sa = predicted
                side_a = prepare(predicted)
            else:
                sb = predicted
                prepared_b = _prepare(predicted)
    rows, cols = shared_detail(sa, sb)
    if rows < LUMA_SIDE or cols < LUMA_SIDE:
        side_a = prepare(at_detail(sa, rows, cols))
        prepared_b = _prepare(at_detail(sb, rows, cols))
    return score_prepared(
        side_a, prepared_b, tolerance, luma_tables, chroma_tables, alignments, floor, ceiling
    )


@njit(cache=True, nogil=True)
def score_prepared(
    side_a, prepared_b, tolerance, luma_tables, chroma_tables, alignments, floor, ceiling
):  # pragma: no cover - compiled
    """``_score_pair`` on two signatures already prepared: ``side_a`` by ``prepare`` (its
    shrunk planes kept as they are made, so a keeper verified against many candidates shrinks
    itself once per cut), ``prepared_b`` by ``_prepare``.

    A pair whose best share on the grid is below ``floor`` (in float32, as ``verdict``
    compares it; and that is not two blank windows) is rejected there: the full-resolution
    comparison can only lower the share, so its scores are that share (or the bound below
    ``floor`` that ``_preserved`` returned for it), no colour (infinite), no blank gap and all
    content differing thinly, and no verdict changes. Duplicate finding
    and search pass the verifier's ``min_preserved`` (most of their candidates are
    look-alikes, rejected here); scoring for measurement passes ``NO_FLOOR``.

    Likewise a pair of colour pictures (neither grayscale) whose colour differs by more than
    ``ceiling`` over the window of every alignment (``_closest_window_colour``) is rejected
    before the grid: the colour score is the larger of that and the colour over the content,
    at the alignment chosen, so no alignment could pass. Its scores are no share (0), the
    smallest of those colours, no blank gap and all content differing thinly. Duplicate finding
    and search pass the verifier's ``max_chroma`` (flags, stars and polygons of other colours
    are most of their look-alikes of colour pictures); scoring for measurement passes
    ``NO_CEILING``."""
    prepared_a, colour_of_a, cut_planes, cut_content, ready, cut_colour, colour_ready = side_a
    la, ta, sa_small, ca, content_a, _ = prepared_a
    ha, gray_a, mean_a = colour_of_a
    lb, tb, sb_small, cb, content_b, _ = prepared_b
    if not content_a and not content_b:
        hb, gray_b, mean_b = _colour(prepared_b)
        colour = 0.0
        if not (gray_a or gray_b):
            colour = _trimmed_mean(_fitted_chroma_differences(ha, hb, _WINDOW_MASKS[0]))
        return 0.0, colour, float(abs(mean_a - mean_b)), 0.0
    if not gray_a and ceiling < NO_CEILING:
        hb, gray_b, _ = _colour(prepared_b)
        if not gray_b:
            closest = _closest_window_colour(
                ha, hb, cut_colour, colour_ready, chroma_tables, alignments, ceiling
            )
            if np.float32(closest) > ceiling:
                return 0.0, closest, -1.0, 1.0
    preserved = -1.0
    thin = 0.0
    best = 0
    best_gain, best_offset = 1.0, 0.0
    best_a, best_a_content, best_b, best_b_content = sa_small, ca, sb_small, cb
    best_mask = _WINDOW_MASKS[0]
    blank = -1
    gap = -1.0
    blank_a, blank_b, blank_mask = sa_small, sb_small, _WINDOW_MASKS[0]
    for row in range(alignments.shape[0]):
        query_cut, candidate_cut = alignments[row]
        if query_cut:
            # The query's frame holds more (a border, or the original of a cropped copy).
            a, a_content = sa_small, ca
            b, b_content = _shrunk_side(lb, tb, query_cut, luma_tables)
            mask = _WINDOW_MASKS[query_cut]
        else:
            if not ready[candidate_cut]:
                cut_planes[candidate_cut], cut_content[candidate_cut] = _shrunk_side(
                    la, ta, candidate_cut, luma_tables
                )
                ready[candidate_cut] = True
            a, a_content = cut_planes[candidate_cut], cut_content[candidate_cut]
            b, b_content = sb_small, cb
            mask = _WINDOW_MASKS[candidate_cut]
        if _blank_window(a_content, b_content, mask, a_content if query_cut else b_content):
            # A flat picture, and a copy of it with a border: blank in the window, compared by
            # their tones there.
            window_gap = _mean_difference(a, b, mask)
            if blank < 0 or window_gap < gap:
                blank, gap = row, window_gap
                blank_a, blank_b, blank_mask = a, b, mask
            continue
        cut = query_cut + candidate_cut  # one of them is 0
        cells = _WINDOW_CELLS[cut, : _WINDOW_COUNTS[cut]]
        score, gain, offset = _preserved(
            a, b, a_content, b_content, tolerance, cells, ta, tb, preserved, floor
        )
        if score > preserved:
            preserved = score
            best = row
            best_a, best_a_content, best_b, best_b_content = a, a_content, b, b_content
            best_mask = mask
            best_gain, best_offset = gain, offset
        if score >= 1.0:
            break  # no alignment does better
    if np.float32(preserved) < floor and not (preserved <= 0.0 and blank >= 0):
        return preserved, np.inf, -1.0, 1.0
    # Read here, after the grid rejected most pairs (a colour keeper's check above read it too:
    # a repeat of 512 values for the few pairs that get this far).
    hb, gray_b, _ = _colour(prepared_b)
    gray = gray_a or gray_b
    if preserved <= 0.0 and blank >= 0:
        preserved, best, best_gain, best_offset = 0.0, blank, 1.0, 0.0
        best_a, best_b, best_mask = blank_a, blank_b, blank_mask
    else:
        gap = -1.0
        if best == 0:
            fine, thin = _fine_allowing_blur(la, lb, ta, tb, best_gain, best_offset, tolerance)
            preserved = min(preserved, fine)
        else:
            # A cut's shrinking resamples one picture: at 32 × 32 its cells fall a fraction of
            # a cell off the other's, so both are softened before the cell-by-cell comparison.
            first, weights, _ = luma_tables
            query_cut, candidate_cut = alignments[best]
            if query_cut:
                a, b = la, _shrink(lb, query_cut, first, weights)
            else:
                a, b = _shrink(la, candidate_cut, first, weights), lb
            fine, thin = _fine_preserved(
                _softened(a),
                _softened(b),
                ta,
                tb,
                best_gain,
                best_offset,
                tolerance,
                _FINE_MASKS[query_cut + candidate_cut],
                SOFTENED_THICKNESS,
            )
            preserved = min(preserved, fine)
    if gray_a and gray_b:
        return preserved, 0.0, gap, thin
    query_cut, candidate_cut = alignments[best]
    pasted = _pasted_cells(
        best_a,
        best_b,
        best_a_content,
        best_b_content,
        best_mask,
        ta,
        tb,
        tolerance,
        best_gain,
        best_offset,
    )
    content = _content_cells(best_a_content, best_b_content, best_mask & ~pasted)
    if gray and _mean_difference(best_a, best_b, content) <= GRAYSCALE_LUMA:
        return preserved, 0.0, gap, thin
    differences = _aligned_chroma_differences(
        ha, hb, cut_colour, colour_ready, query_cut, candidate_cut, chroma_tables
    )
    colour = max(
        _trimmed_mean(_masked(differences, best_mask)),
        _trimmed_mean(_masked(differences, content)),
    )
    return preserved, colour, gap, thin


@njit(cache=True, nogil=True)
def verdict(
    preserved, chroma, gap, thin, min_preserved, max_chroma, blank_tone, max_thin
):  # pragma: no cover - compiled
    """Whether one pair's scores (as ``scores_pairs`` stores them, float32) pass the
    verifier's thresholds: two blank pictures by their tones, others by the content preserved
    and the content differing thinly; both by colour; never a pair with a missing signature."""
    p = np.float32(preserved)
    if p < 0 or np.float32(chroma) > max_chroma:
        return False
    if np.float32(gap) >= 0:
        return np.float32(gap) <= blank_tone
    return p >= min_preserved and np.float32(thin) <= max_thin


@njit(cache=True, nogil=True)
def _verdicts(
    preserved, chroma, gap, thin, min_preserved, max_chroma, blank_tone, max_thin
):  # pragma: no cover - compiled
    out = np.empty(preserved.size, np.bool_)
    for k in range(preserved.size):
        out[k] = verdict(
            preserved[k],
            chroma[k],
            gap[k],
            thin[k],
            min_preserved,
            max_chroma,
            blank_tone,
            max_thin,
        )
    return out


@njit(cache=True, nogil=True)
def prepare(signature):  # pragma: no cover - compiled
    """A signature prepared as the first side of ``score_prepared``: ``_prepare``'s planes,
    its ``_colour``, and room for its planes shrunk into the other's frame on the grid (values
    and content share per cut, made when an alignment first needs them: a copy accepted uncut
    never shrinks), and the same for its chroma planes (``_aligned_chroma_differences``)."""
    prepared = _prepare(signature)
    return (
        prepared,
        _colour(prepared),
        np.empty((_CUTS, GRID, GRID), np.float32),
        np.empty((_CUTS, GRID, GRID), np.float32),
        np.zeros(_CUTS, np.bool_),
        np.empty((_CUTS, 2, CHROMA_SIDE, CHROMA_SIDE), np.float32),
        np.zeros(_CUTS, np.bool_),
    )


@njit(cache=True, nogil=True)
def verifies_prepared(prepared, candidate, verifier):  # pragma: no cover - compiled
    """Whether the ``candidate`` signature shows the same picture as a present signature
    already ``prepare``d: ``verify_pairs`` for one pair, the prepared side first.
    ``verifier`` is the tuple of ``verifier_arguments``."""
    (
        tolerance,
        luma_tables,
        chroma_tables,
        alignments,
        min_preserved,
        max_chroma,
        blank_tone,
        max_thin,
    ) = verifier
    if candidate[0] != SIGNATURE_VERSION:
        return False
    preserved, chroma, gap, thin = _score_allowing_brightening(
        prepared,
        _prepare(candidate),
        tolerance,
        luma_tables,
        chroma_tables,
        alignments,
        min_preserved,
        max_chroma,
    )
    return verdict(preserved, chroma, gap, thin, min_preserved, max_chroma, blank_tone, max_thin)


# The kernels compile the signature's layout (its sides and version) in as constants.
refresh_on_change(cached_kernels(globals()), signature, blur, brightness, resolution)
