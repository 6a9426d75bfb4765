"""pixdex: near-duplicate image search with perceptual hashes and exact Hamming-space indexes."""

from pixdex.errors import ImageError, PixdexError
from pixdex.hashing import ALGORITHMS, LOW_QUALITY, Hash

__all__ = ["ALGORITHMS", "LOW_QUALITY", "Hash", "ImageError", "PixdexError"]
