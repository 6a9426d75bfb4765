"""aHash, the average hash: is each pixel of an N × N thumbnail brighter than the mean?

Grayscale, anti-aliased downscale to N × N ignoring the aspect ratio, one bit per pixel row by row:
N = 8 gives 64 bits. The bits are imagehash's ``average_hash`` bits, in the same order. The
crudest of the family: robust to scaling and small edits, but it sees only the layout of bright and
dark areas, so unrelated images with similar layouts collide more often than with dHash or pHash.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from pixdex.hashing.algorithm import Algorithm
from pixdex.hashing.hash import Hash
from pixdex.hashing.quality import hash_quality
from pixdex.hashing.thumbnail import DECODE_MARGIN, gray_thumbnail


def ahash_bits(gray: np.ndarray) -> np.ndarray:
    """Bits of a grayscale ``(N, N)`` array: ``gray > gray.mean()``."""
    return gray > gray.mean()


def ahash(image: Image.Image, hash_size: int = 8) -> Hash:
    """The aHash of a decoded image: ``hash_size ** 2`` bits."""
    gray = gray_thumbnail(image, hash_size, hash_size)
    bits = ahash_bits(gray)
    return Hash.from_bits(bits, "ahash", hash_quality(gray, bits))


AHASH = Algorithm(
    name="ahash",
    default_size=8,
    bits=lambda n: n * n,
    min_side=lambda n: DECODE_MARGIN * n,
    compute=ahash,
)
