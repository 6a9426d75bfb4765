"""pixdex: near-duplicate image search with perceptual hashes and exact Hamming-space indexes.

``Catalog`` and ``CatalogError`` are imported on first use: the catalog brings the compiled index
kernels (numba) and scipy, half a second of imports that the hashing workers, which only decode
and hash, must not pay each time a pool starts.
"""

from typing import Any

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

_FROM_CATALOG = ("Catalog", "CatalogError")


def __getattr__(name: str) -> Any:
    if name in _FROM_CATALOG:
        import pixdex.catalog

        return getattr(pixdex.catalog, name)
    raise AttributeError(f"module 'pixdex' has no attribute {name!r}")
