"""pixdex: near-duplicate image search with perceptual hashes and exact Hamming-space indexes."""

from pixdex.catalog import Catalog, CatalogError
from pixdex.errors import ImageError, PixdexError
from pixdex.hashing import ALGORITHMS, LOW_QUALITY, Hash
from pixdex.pipeline import FileHashes, hash_files, hash_image

__all__ = [
    "ALGORITHMS",
    "LOW_QUALITY",
    "Catalog",
    "CatalogError",
    "FileHashes",
    "Hash",
    "ImageError",
    "PixdexError",
    "hash_files",
    "hash_image",
]
