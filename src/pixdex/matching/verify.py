"""Verification: is a hash candidate the same picture as the query? Compared on signatures.

Two signatures (``pixdex.signature``) are compared cell by cell after undoing what everyday edits
do to a picture's tones: each luma plane is centred on its median and scaled by its spread, so a
brighter, darker, more contrasted or grayscale copy lines up with its source. Then:

- **Luma**: a cell *agrees* when the two normalised values differ by at most ``luma_tolerance``.
  Only *content* cells count — cells that differ from the picture's background (its most common
  tone, when a large share of the cells have it) — so a white canvas or the white inside a diagram
  adds no evidence. The score is the share of one picture's content that the other preserves,
  taken in the direction that preserves most: a sticker or shapes pasted over a quarter of the
  picture leave three quarters of the source's content in place, while two diagrams of one
  template differ in every label.
- **Colour**: the mean chroma difference over the best-matching ``1 - occlusion`` share of the
  cells, skipped when either side is grayscale (a grayscale copy has no colour to compare).
- **Crops**: the comparison is repeated with one side's centre (``CROP_FRACTIONS`` cut from every
  side) stretched over the other's whole, and the best alignment counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from pixdex.signature import CHROMA_SIDE, LUMA_SIDE, planes, present

CROP_FRACTIONS = (0.05, 0.10)
"""Share of every side one picture may have lost to a crop, besides none: a 10 % crop of every
side (the quality bar's) and a milder one."""

MIN_CONTENT = 0.05
"""Share of content cells below which a picture counts as near-blank: every cell is compared."""

GRAY_CHROMA = 6.0
"""Largest chroma deviation from neutral (128), in 0-255 units, of a grayscale picture: JPEG
noise stays below it, any real colour goes above."""


@dataclass(frozen=True)
class Verifier:
    """The thresholds of the verification (chosen on the development half of the benchmark
    corpus, see BENCHMARKS.md)."""

    luma_tolerance: float = 0.35
    """Largest normalised luma difference of two agreeing cells (in units of the picture's
    spread)."""
    min_preserved: float = 0.7
    """Smallest share of a picture's content cells the other must preserve."""
    max_chroma: float = 12.0
    """Largest mean chroma difference (0-255 units) over the best-matching cells."""
    occlusion: float = 0.25
    """Share of the cells a sticker, text or shapes may cover without failing the colour test."""
    spread_floor: float = 12.0
    """Smallest luma spread (0-255 units) a picture is scaled by: a near-flat picture's noise is
    not blown up into structure."""
    background_share: float = 0.3
    """A picture has a background when at least this share of its cells have its most common
    tone; those cells then are not content."""


def verify(query: np.ndarray, candidates: np.ndarray, verifier: Verifier) -> np.ndarray:
    """``(n,)`` bool: which candidate signatures show the same picture as the query signature.

    ``query`` is one ``(SIGNATURE_BYTES,)`` signature, ``candidates`` an ``(n, SIGNATURE_BYTES)``
    array; a candidate without a signature (a zero row) is never accepted.
    """
    preserved, chroma = scores(query, candidates, verifier)
    return (preserved >= verifier.min_preserved) & (chroma <= verifier.max_chroma)


def scores(
    query: np.ndarray, candidates: np.ndarray, verifier: Verifier
) -> tuple[np.ndarray, np.ndarray]:
    """The two verification scores of every candidate at its best crop alignment: the share of
    content preserved (0-1, higher is nearer) and the chroma difference (0-255, lower is nearer;
    0 when either side is grayscale). Candidates without a signature score (0, inf)."""
    count = candidates.shape[0]
    best_preserved = np.zeros(count, np.float32)
    best_chroma = np.full(count, np.inf, np.float32)
    if count == 0:
        return best_preserved, best_chroma
    q_luma, q_chroma = planes(query[np.newaxis, :])
    c_luma, c_chroma = planes(candidates)
    for q_cut, c_cut in ALIGNMENTS:
        preserved = _preserved(
            _window(q_luma, q_cut, LUMA_SIDE), _window(c_luma, c_cut, LUMA_SIDE), verifier
        )
        chroma = _chroma_difference(
            _window(q_chroma, q_cut, CHROMA_SIDE), _window(c_chroma, c_cut, CHROMA_SIDE), verifier
        )
        better = preserved > best_preserved
        best_chroma = np.where(better, chroma, best_chroma)
        best_preserved = np.where(better, preserved, best_preserved)
    missing = ~present(candidates)
    best_preserved[missing], best_chroma[missing] = 0.0, np.inf
    return best_preserved, best_chroma


Cut = tuple[float, float]
"""Share of the width and of the height cut from each side of a plane: (x, y)."""

UNCUT: Cut = (0.0, 0.0)

ALIGNMENTS: tuple[tuple[Cut, Cut], ...] = (
    (UNCUT, UNCUT),
    *(
        pair
        for cut in ((x, y) for x in (0.0, *CROP_FRACTIONS) for y in (0.0, *CROP_FRACTIONS))
        if cut != UNCUT
        for pair in ((cut, UNCUT), (UNCUT, cut))
    ),
)
"""(query cut, candidate cut) pairs tried: uncropped, then the centre of either side, cut by
each pair of fractions across and down (a border added to a wide picture is a different share
of its width than of its height)."""


def _window(plane: np.ndarray, cut: Cut, side: int) -> np.ndarray:
    """The centre of ``plane`` (``cut`` of the width and height removed from each side)
    stretched back to ``side`` cells, by linear interpolation; the plane itself when nothing is
    cut. Works on the last two axes."""
    if cut == UNCUT:
        return plane
    return _resampling_matrix(cut[1], side) @ plane @ _resampling_matrix(cut[0], side).T


@cache
def _resampling_matrix(cut: float, side: int) -> np.ndarray:
    """``(side, side)`` linear-interpolation weights from the cells of a plane to the cells of its
    centre window stretched to the same size."""
    centres = (cut + (1.0 - 2.0 * cut) * (np.arange(side) + 0.5) / side) * side - 0.5
    centres = np.clip(centres, 0.0, side - 1.0)
    low = np.floor(centres).astype(int)
    high = np.minimum(low + 1, side - 1)
    weight = (centres - low).astype(np.float32)
    matrix = np.zeros((side, side), np.float32)
    matrix[np.arange(side), low] += 1.0 - weight
    matrix[np.arange(side), high] += weight
    return matrix


def _normalised(luma: np.ndarray, verifier: Verifier) -> np.ndarray:
    """Each ``(side, side)`` plane centred on its median and divided by its spread (standard
    deviation, at least ``spread_floor``)."""
    flat = luma.reshape(luma.shape[0], -1)
    median = np.median(flat, axis=1)
    spread = np.maximum(flat.std(axis=1), verifier.spread_floor)
    return (flat - median[:, None]) / spread[:, None]


def _content(luma: np.ndarray, verifier: Verifier) -> np.ndarray:
    """``(n, cells)`` bool: the cells that are not the picture's background. The background is
    the most common tone (bins of 16 levels) when it covers ``background_share`` of the cells;
    without one every cell is content."""
    flat = luma.reshape(luma.shape[0], -1)
    bins = np.clip(flat // 16, 0, 15).astype(np.int64)
    counts = np.zeros((flat.shape[0], 16), np.int64)
    np.add.at(counts, (np.arange(flat.shape[0])[:, None], bins), 1)
    top = counts.argmax(axis=1)
    has_background = counts.max(axis=1) >= verifier.background_share * flat.shape[1]
    tone = (top * 16 + 8).astype(np.float32)
    content = np.abs(flat - tone[:, None]) > 16
    content |= ~has_background[:, None]
    # A near-blank picture (a gradient inside one tone bin, a page with one mark): all its
    # cells are compared, or two of them would agree on nothing.
    content |= (content.mean(axis=1) < MIN_CONTENT)[:, None]
    return content


def _preserved(query: np.ndarray, candidates: np.ndarray, verifier: Verifier) -> np.ndarray:
    """The share of content preserved, in the better direction (see the module docstring)."""
    q = np.broadcast_to(query, candidates.shape)
    agree = np.abs(_normalised(q, verifier) - _normalised(candidates, verifier))
    agree = agree <= verifier.luma_tolerance
    q_content, c_content = _content(q, verifier), _content(candidates, verifier)
    from_query = (agree & q_content).sum(axis=1) / np.maximum(q_content.sum(axis=1), 1)
    from_candidate = (agree & c_content).sum(axis=1) / np.maximum(c_content.sum(axis=1), 1)
    return np.maximum(from_query, from_candidate).astype(np.float32)


def _chroma_difference(query: np.ndarray, candidates: np.ndarray, verifier: Verifier) -> np.ndarray:
    """Mean absolute chroma difference over the best ``1 - occlusion`` share of the cells; 0 when
    either picture is grayscale."""
    q = np.broadcast_to(query, candidates.shape).reshape(candidates.shape[0], -1)
    c = candidates.reshape(candidates.shape[0], -1)
    difference = np.sort(np.abs(q - c), axis=1)
    kept = max(1, round(difference.shape[1] * (1.0 - verifier.occlusion)))
    mean = difference[:, :kept].mean(axis=1)
    gray = (np.abs(q - 128.0).max(axis=1) <= GRAY_CHROMA) | (
        np.abs(c - 128.0).max(axis=1) <= GRAY_CHROMA
    )
    return np.where(gray, 0.0, mean).astype(np.float32)
