"""In-memory exact Hamming-space search over packed uint64 codes.

``from pixdex.index import LinearScan, build_index``: every structure takes ``codes`` ``(n, w)``
uint64 and optional int64 ``ids``, and answers ``range_search``/``knn`` (and their ``_batch``
forms) with arrays of ids and distances in bits.

Names are imported on first use (PEP 562 ``__getattr__``): the compiled structures bring numba
(0.35 s to import, and as long again to load a kernel from its cache), which loading and searching
a small catalog's saved scan does not need.
"""

from pixdex.lazy import lazy_names

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


__getattr__, __dir__ = lazy_names(__name__, _HOMES)
