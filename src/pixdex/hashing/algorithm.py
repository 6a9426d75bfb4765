"""What every hash algorithm offers the pipeline: its sizes and one compute function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from pixdex.hashing.hash import Hash


@dataclass(frozen=True)
class Algorithm:
    """A named perceptual hash.

    ``compute(image, hash_size)`` takes a decoded image (mode "RGB" or "L", oriented, alpha already
    composited) and returns a ``Hash``. ``min_side(hash_size)`` is the smallest image side, in
    pixels, the algorithm needs to be accurate: the decoder may decode JPEGs at a reduced DCT scale
    down to that size, which is most of the speed of hashing. ``gray``: the algorithm reads only
    the luma of the picture, so the decoder may skip colour.
    """

    name: str
    default_size: int
    bits: Callable[[int], int]
    min_side: Callable[[int], int]
    compute: Callable[[Image.Image, int], Hash]
    gray: bool = True
    view: Callable[[Image.Image], Image.Image] | None = None
    """For a view of the picture (``pixdex.hashing.views``): the pixels it hashes."""
    base: Algorithm | None = None
    """For a view of the picture: the algorithm it computes on those pixels."""
