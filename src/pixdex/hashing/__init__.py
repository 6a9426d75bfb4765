"""Perceptual hash algorithms, one module each, and the ``Hash`` value they produce.

Contract (filled in by the hashing work): ``ALGORITHMS`` maps a name ("dhash", "ahash", "phash",
"whash", "pdq") to an ``Algorithm`` with ``default_size``, ``bits(hash_size)``,
``min_side(hash_size)`` (smallest decoded side in pixels it needs, for reduced-scale decoding) and
``compute(image: PIL.Image.Image, hash_size) -> Hash`` (image already decoded: mode RGB or L).
"""

from pixdex.hashing.hash import LOW_QUALITY, Hash

__all__ = ["LOW_QUALITY", "Hash"]
