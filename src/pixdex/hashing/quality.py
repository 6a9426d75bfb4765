"""How much a hash says about its picture, on PDQ's 0-100 quality scale.

A flat or nearly empty image (a blank page, a white canvas with a speck, a scanner's gray) still
gets bits, but they come from noise and rounding, and every such image hashes alike: left
unflagged, one blank query matches thousands of unrelated blank files. Two signs mark them:

- gradient energy: the mean absolute step between neighbouring pixels of the hash's own grayscale
  thumbnail, in gray levels. On a 9 × 8 dHash thumbnail, real photographs measured here
  (scikit-image samples, Debian wallpapers) step at least 1.6 levels (a brick-wall texture; the
  next flattest 3.6), icons on white at least 6.5; a uniform image steps 0, a white page with a
  dot or faint sensor noise less than 0.5.
- bit balance: a hash whose bits are nearly all 0 or all 1 (a smooth gradient's dHash) collides
  with every other such hash, whatever the picture.

The score is the lower of the two, scaled so that ``LOW_QUALITY`` (50) falls at a mean step of
1 gray level or 5 % of the bits in the minority.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

FULL_STEP = 2.0
"""Mean neighbour step, in gray levels (0-255), that scores 100."""

FULL_MINORITY = 0.10
"""Fraction of bits on the minority side (0s or 1s) that scores 100."""


GRADIENT_GRID = (9, 8)
"""(width, height) of the grid the steps are measured on: dHash's 64-bit thumbnail. Larger
thumbnails (pHash's 32 × 32, PDQ's 64 × 64) are area-averaged to it first, so that one score means
the same for every algorithm (finer grids have smaller steps between neighbours)."""


def gradient_score(gray: np.ndarray) -> int:
    """0-100 from the mean absolute step between neighbours of a small grayscale array."""
    array = np.asarray(gray, dtype=np.float32)
    if array.shape[1] > GRADIENT_GRID[0] or array.shape[0] > GRADIENT_GRID[1]:
        grid = Image.fromarray(array, mode="F").resize(GRADIENT_GRID, Image.Resampling.BOX)
        array = np.asarray(grid, dtype=np.float32)
    steps = []
    if array.shape[0] > 1:
        steps.append(np.abs(np.diff(array, axis=0)).mean())
    if array.shape[1] > 1:
        steps.append(np.abs(np.diff(array, axis=1)).mean())
    mean_step = float(np.mean(steps)) if steps else 0.0
    return int(min(100.0, 100.0 * mean_step / FULL_STEP))


def balance_score(bits: np.ndarray) -> int:
    """0-100 from the share of bits on the minority side: 0 for all-0 or all-1 hashes."""
    ones = float(np.count_nonzero(bits)) / max(1, np.size(bits))
    return int(min(100.0, 100.0 * min(ones, 1.0 - ones) / FULL_MINORITY))


def hash_quality(gray: np.ndarray, bits: np.ndarray) -> int:
    """The quality of the hash ``bits`` computed from the thumbnail ``gray``: the lower score."""
    return min(gradient_score(gray), balance_score(bits))
