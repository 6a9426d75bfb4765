"""pHash, the DCT hash: the signs of an image's lowest spatial frequencies around their median.

Grayscale, anti-aliased downscale to 4N × 4N ignoring the aspect ratio, 2-D DCT-II, keep the N × N
lowest frequencies (the constant term included, as imagehash does), one bit per coefficient above
their median, row by row: N = 8 gives 64 bits from a 32 × 32 thumbnail. The bits are imagehash's
``phash`` bits, in the same order. Working in frequency makes it the most robust of the 64-bit
hashes to gamma, contrast and mild blur.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from PIL import Image

from pixdex.hashing.algorithm import Algorithm
from pixdex.hashing.hash import Hash
from pixdex.hashing.quality import hash_quality
from pixdex.hashing.thumbnail import DCT_DECODE_MARGIN, gray_thumbnail

OVERSAMPLING = 4
"""Thumbnail side over hash side: the DCT sees 4N × 4N pixels and the hash keeps N × N of its
frequencies (imagehash's ``highfreq_factor``)."""


@cache
def dct_rows(frequencies: int, samples: int) -> np.ndarray:
    """The first ``frequencies`` rows of the unnormalised DCT-II matrix for ``samples`` points:
    ``2 cos(π k (2n + 1) / 2 samples)``, the convention of ``scipy.fft.dct``."""
    k = np.arange(frequencies)[:, np.newaxis]
    n = np.arange(samples)[np.newaxis, :]
    rows = 2.0 * np.cos(np.pi * k * (2 * n + 1) / (2 * samples))
    rows.flags.writeable = False
    return rows


def phash_bits(gray: np.ndarray, hash_size: int) -> np.ndarray:
    """Bits of a square grayscale array: its ``(hash_size, hash_size)`` lowest DCT-II
    frequencies above their median. Two small matrix products instead of the full 2-D DCT."""
    rows = dct_rows(hash_size, gray.shape[0])
    low = rows @ gray.astype(np.float64) @ rows.T
    return low > np.median(low)


def phash(image: Image.Image, hash_size: int = 8) -> Hash:
    """The pHash of a decoded image: ``hash_size ** 2`` bits."""
    side = OVERSAMPLING * hash_size
    gray = gray_thumbnail(image, side, side)
    bits = phash_bits(gray, hash_size)
    return Hash.from_bits(bits, "phash", hash_quality(gray, bits))


PHASH = Algorithm(
    name="phash",
    default_size=8,
    bits=lambda n: n * n,
    min_side=lambda n: DCT_DECODE_MARGIN * OVERSAMPLING * n,
    compute=phash,
)
