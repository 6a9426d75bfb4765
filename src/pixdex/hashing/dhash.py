"""dHash, the difference hash: is each pixel brighter than its left neighbour?

Grayscale, anti-aliased downscale to (N+1) × N pixels ignoring the aspect ratio, compare each pixel
with its right neighbour, pack the N × N comparisons row by row: N = 8 gives 64 bits, N = 16 gives
256. The bits are imagehash's ``dhash`` bits, in the same order.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from pixdex.hashing.algorithm import Algorithm
from pixdex.hashing.hash import Hash
from pixdex.hashing.quality import hash_quality
from pixdex.hashing.thumbnail import DECODE_MARGIN, gray_thumbnail


def dhash_bits(gray: np.ndarray) -> np.ndarray:
    """Bits of a grayscale ``(N, N + 1)`` array: ``gray[:, 1:] > gray[:, :-1]``."""
    return gray[:, 1:] > gray[:, :-1]


def dhash(image: Image.Image, hash_size: int = 8) -> Hash:
    """The dHash of a decoded image: ``hash_size ** 2`` bits."""
    gray = gray_thumbnail(image, hash_size + 1, hash_size)
    bits = dhash_bits(gray)
    return Hash.from_bits(bits, "dhash", hash_quality(gray, bits))


DHASH = Algorithm(
    name="dhash",
    default_size=8,
    bits=lambda n: n * n,
    min_side=lambda n: DECODE_MARGIN * (n + 1),
    compute=dhash,
)
