"""In-memory exact Hamming-space search over packed uint64 codes.

``from pixdex.index import LinearScan, build_index``: every structure takes ``codes`` ``(n, w)``
uint64 and optional int64 ``ids``, and answers ``range_search``/``knn`` (and their ``_batch``
forms) with arrays of ids and distances in bits.
"""

from pixdex.index.auto import build_index, load_index
from pixdex.index.base import HammingIndex
from pixdex.index.mih import MultiIndexHash
from pixdex.index.scan import LinearScan
from pixdex.index.selfjoin import pairs_within
from pixdex.index.vptree import VPTree

__all__ = [
    "HammingIndex",
    "LinearScan",
    "MultiIndexHash",
    "VPTree",
    "build_index",
    "load_index",
    "pairs_within",
]
