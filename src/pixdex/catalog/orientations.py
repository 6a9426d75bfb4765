"""The eight orientations of a picture, and the query hashes a search needs from one decode.

A mirrored or quarter-turned copy of a photo has a perceptual hash unrelated to the original's
(dHash compares left and right neighbours; after a mirror every comparison is reversed). Instead of
storing eight hashes per file, a search with ``flips`` hashes the query in all eight orientations
of the square's symmetry group (identity, mirror, the three rotations and their mirrors) and looks
each up: the index stays as it is, and the cost is eight lookups per query instead of one.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from PIL import Image

from pixdex.catalog.query_picture import QueryPicture
from pixdex.decode import decode_image
from pixdex.hashing import get_algorithm
from pixdex.signature import signature

ORIENTATIONS: dict[str, Image.Transpose | None] = {
    "identity": None,
    "mirror": Image.Transpose.FLIP_LEFT_RIGHT,
    "rotate-90": Image.Transpose.ROTATE_90,
    "rotate-180": Image.Transpose.ROTATE_180,
    "rotate-270": Image.Transpose.ROTATE_270,
    "flip": Image.Transpose.FLIP_TOP_BOTTOM,  # mirror, then rotate 180°
    "transpose": Image.Transpose.TRANSPOSE,  # mirror, then rotate 90°
    "transverse": Image.Transpose.TRANSVERSE,  # mirror, then rotate 270°
}
"""Each orientation by name, as the lossless Pillow transpose that makes it (None: unchanged).
Rotations are counter-clockwise, like Pillow's."""


def orientations(image: Image.Image) -> list[Image.Image]:
    """``image`` in the eight orientations of ``ORIENTATIONS``, identity first."""
    return [image if op is None else image.transpose(op) for op in ORIENTATIONS.values()]


def query_pictures(
    source: str | os.PathLike[str] | bytes | Image.Image,
    algorithms: Sequence[str],
    *,
    flips: bool = False,
    signatures: bool = False,
) -> list[QueryPicture]:
    """The hashes (and, with ``signatures``, the content signature) of one query image, one
    ``QueryPicture`` per orientation (identity first; only the identity without ``flips``).

    The image is decoded once, at the size the most demanding algorithm needs, and every
    orientation is hashed from those pixels. Raises ``ImageError`` for an unreadable image.
    """
    chosen = [get_algorithm(name) for name in algorithms]
    min_side = max(a.min_side(a.default_size) for a in chosen)
    gray = all(a.gray for a in chosen) and not signatures
    image = decode_image(source, min_side=min_side, gray=gray).image
    return [
        QueryPicture(
            {a.name: a.compute(p, a.default_size) for a in chosen},
            signature(p) if signatures else None,
        )
        for p in (orientations(image) if flips else [image])
    ]
