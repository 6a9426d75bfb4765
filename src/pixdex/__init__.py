"""pixdex: near-duplicate image search with perceptual hashes and exact Hamming-space indexes.

Every public name but the error types is imported on first use (PEP 562 ``__getattr__``):
``import pixdex`` stays free of numpy, Pillow, numba and scipy, so ``pixdex --help`` and
``pixdex version`` start in a tenth of a second, and the hashing workers, which only decode and
hash, never pay for the catalog's compiled index kernels and scipy (half a second of imports).
"""

from pixdex.errors import ImageError, PixdexError
from pixdex.lazy import lazy_names

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

_HOMES = {
    "ALGORITHMS": "hashing",
    "LOW_QUALITY": "hashing",
    "Hash": "hashing",
    "FileHashes": "pipeline",
    "hash_files": "pipeline",
    "hash_image": "pipeline",
    "Catalog": "catalog",
    "CatalogError": "catalog",
}
"""The module each lazily imported public name lives in."""


__getattr__, __dir__ = lazy_names(__name__, _HOMES)
