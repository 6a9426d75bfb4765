"""pixdex: near-duplicate image search with perceptual hashes and exact Hamming-space indexes.

Every public name but the error types is imported on first use (PEP 562 ``__getattr__``):
``import pixdex`` stays free of numpy, Pillow, numba and scipy, so ``pixdex --help`` and
``pixdex version`` start in a tenth of a second, and the hashing workers, which only decode and
hash, never pay for the catalog's compiled index kernels and scipy (half a second of imports).
"""

from importlib import import_module
from typing import Any

from pixdex.errors import ImageError, PixdexError

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
    "ALGORITHMS": "pixdex.hashing",
    "LOW_QUALITY": "pixdex.hashing",
    "Hash": "pixdex.hashing",
    "FileHashes": "pixdex.pipeline",
    "hash_files": "pixdex.pipeline",
    "hash_image": "pixdex.pipeline",
    "Catalog": "pixdex.catalog",
    "CatalogError": "pixdex.catalog",
}
"""The module each lazily imported public name lives in."""


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'pixdex' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
