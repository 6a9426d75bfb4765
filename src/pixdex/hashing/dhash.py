"""dHash, the difference hash: is each pixel brighter than its left neighbour?

Grayscale, anti-aliased downscale to (N+1) × N pixels ignoring the aspect ratio, compare each pixel
with its right neighbour, pack the N × N comparisons row by row: N = 8 gives 64 bits.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from pixdex.hashing.algorithm import Algorithm
from pixdex.hashing.hash import Hash


def dhash_bits(gray: np.ndarray) -> np.ndarray:
    """Bits of a grayscale ``(N, N + 1)`` array: ``gray[:, 1:] > gray[:, :-1]``."""
    return gray[:, 1:] > gray[:, :-1]


def gradient_quality(gray: np.ndarray) -> int:
    """0-100 score of how much structure a small grayscale array has (mean absolute step, 0-255)."""
    steps = np.abs(np.diff(gray.astype(np.float64), axis=1))
    return int(min(100.0, 100.0 * steps.mean() / 4.0))


def dhash(image: Image.Image, hash_size: int = 8) -> Hash:
    """The dHash of a decoded image: ``hash_size ** 2`` bits."""
    small = image.convert("L").resize((hash_size + 1, hash_size), Image.Resampling.LANCZOS)
    gray = np.asarray(small, dtype=np.int16)
    return Hash.from_bits(dhash_bits(gray), "dhash", gradient_quality(gray))


DHASH = Algorithm(
    name="dhash",
    default_size=8,
    bits=lambda n: n * n,
    min_side=lambda n: 8 * (n + 1),
    compute=dhash,
)
