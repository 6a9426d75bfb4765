"""The anti-aliased grayscale thumbnail every 64- to 256-bit hash starts from."""

from __future__ import annotations

import numpy as np
from PIL import Image

DECODE_MARGIN = 32
"""Decoded pixels per thumbnail pixel that a 64-bit difference or average hash needs (its
``min_side``). Measured on 250 real JPEGs of the benchmark corpus, dHash 64: from a reduced-scale
decode whose sides are ≥ 8 × the 9 × 8 thumbnail, 97 % of hashes stayed within 2 bits of the full
decode's; from ≥ 32 ×, 100 % (smooth, low-contrast pictures have near-equal neighbours that any
change of scale can flip). The DCT and wavelet hashes keep only the low frequencies of a larger
thumbnail and need less: ``DCT_DECODE_MARGIN``."""

DCT_DECODE_MARGIN = 8
"""Decoded pixels per thumbnail pixel for pHash and wHash (32 × 32 thumbnails → 256 pixels)."""


def gray_thumbnail(image: Image.Image, width: int, height: int) -> np.ndarray:
    """``image`` as a ``(height, width)`` float32 array of gray levels 0-255, downscaled with
    Lanczos (anti-aliased), ignoring the aspect ratio.

    A plain Lanczos over the whole input: Pillow's faster box-then-Lanczos (``reducing_gap``)
    moved dHash by more than 2 bits on 6 % of real JPEGs between two decode scales, and away
    from imagehash's values on fine textures. Inputs come from the decoder already reduced to
    a few hundred pixels a side, where a full Lanczos costs about a millisecond.

    Gray is ITU-R 601 luma (Pillow's "L" conversion), the one imagehash uses.
    """
    gray = image if image.mode == "L" else image.convert("L")
    small = gray.resize((width, height), Image.Resampling.LANCZOS)
    return np.asarray(small, dtype=np.float32)
