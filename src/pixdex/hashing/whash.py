"""wHash, the Haar wavelet hash: the coarse Haar approximation of an image around its median.

Grayscale, anti-aliased downscale to 4N × 4N ignoring the aspect ratio, two levels of the 2-D Haar
transform keep the N × N approximation (low-low) band, one bit per coefficient above the band's
median, row by row: N = 8 gives 64 bits.

imagehash's ``whash`` (Haar, with its default of removing the coarsest approximation first) works
on the largest power-of-two square that fits the image and reaches the N × N band with more levels;
removing the coarsest approximation subtracts one constant from every coefficient, which the median
threshold ignores. The N × N band is an area average of the picture in both, so the bits agree
except near the median (see the agreement figures in README.md).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from pixdex.hashing.algorithm import Algorithm
from pixdex.hashing.hash import Hash
from pixdex.hashing.quality import hash_quality
from pixdex.hashing.thumbnail import DCT_DECODE_MARGIN, gray_thumbnail

LEVELS = 2
"""Haar levels between the thumbnail and the hash: the thumbnail is 2**LEVELS = 4 times larger."""


def haar_approximation(gray: np.ndarray, levels: int) -> np.ndarray:
    """The low-low band of a ``levels``-deep 2-D Haar transform of a square array whose side is
    divisible by ``2**levels``: each coefficient is ``2**levels`` times the mean of its block
    (the orthonormal Haar scaling)."""
    block = 2**levels
    side = gray.shape[0] // block
    means = gray.astype(np.float64).reshape(side, block, side, block).mean(axis=(1, 3))
    return means * block


def whash_bits(gray: np.ndarray, hash_size: int) -> np.ndarray:
    """Bits of a square grayscale array of side ``hash_size * 2**LEVELS``: its Haar approximation
    band above the band's median."""
    band = haar_approximation(gray, LEVELS)
    if band.shape != (hash_size, hash_size):
        raise ValueError(f"a {gray.shape} array does not give a {hash_size} × {hash_size} band")
    return band > np.median(band)


def whash(image: Image.Image, hash_size: int = 8) -> Hash:
    """The wHash of a decoded image: ``hash_size ** 2`` bits."""
    side = hash_size * 2**LEVELS
    gray = gray_thumbnail(image, side, side)
    bits = whash_bits(gray, hash_size)
    return Hash.from_bits(bits, "whash", hash_quality(gray, bits))


WHASH = Algorithm(
    name="whash",
    default_size=8,
    bits=lambda n: n * n,
    min_side=lambda n: DCT_DECODE_MARGIN * n * 2**LEVELS,
    compute=whash,
)
