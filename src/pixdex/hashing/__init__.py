"""Perceptual hash algorithms, one module each, and the ``Hash`` value they produce.

``ALGORITHMS`` maps a name to an ``Algorithm``: ``default_size``, ``bits(hash_size)``,
``min_side(hash_size)`` (smallest decoded side, in pixels, it needs: the decoder's reduced-scale
target) and ``compute(image: PIL.Image.Image, hash_size) -> Hash`` for an already decoded image.
"""

from pixdex.hashing.algorithm import Algorithm
from pixdex.hashing.hash import LOW_QUALITY, Hash
from pixdex.hashing.registry import ALGORITHMS, get_algorithm, is_algorithm

__all__ = ["ALGORITHMS", "LOW_QUALITY", "Algorithm", "Hash", "get_algorithm", "is_algorithm"]
