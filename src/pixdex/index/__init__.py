"""In-memory exact Hamming-space search over packed uint64 codes.

``from pixdex.index import LinearScan, build_index``: every structure takes ``codes`` ``(n, w)``
uint64 and optional int64 ``ids``, and answers ``range_search``/``knn`` (and their ``_batch``
forms) with arrays of ids and distances in bits.

Names are imported on first use (PEP 562 ``__getattr__``): the compiled structures bring numba
(0.35 s to import, and as long again to load a kernel from its cache), which loading and searching
a small catalog's saved scan does not need.
"""

from importlib import import_module
from typing import Any

__all__ = [
    "HammingIndex",
    "LinearScan",
    "MultiIndexHash",
    "VPTree",
    "build_index",
    "load_index",
    "pairs_within",
]

_HOMES = {
    "HammingIndex": "base",
    "LinearScan": "scan",
    "MultiIndexHash": "mih",
    "VPTree": "vptree",
    "build_index": "auto",
    "load_index": "auto",
    "pairs_within": "selfjoin",
}
"""The submodule each public name lives in."""


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'pixdex.index' has no attribute {name!r}")
    value = getattr(import_module(f"pixdex.index.{home}"), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
