"""``build_index``: pick the structure (and its parameters) for a code set from measured
crossovers (benchmarks/bench_index.py; figures in BENCHMARKS.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pixdex.index import storage
from pixdex.index.base import HammingIndex, as_codes
from pixdex.index.mih import MultiIndexHash
from pixdex.index.scan import LinearScan
from pixdex.index.vptree import VPTree

KINDS = ("auto", "scan")


def build_index(
    codes: np.ndarray, ids: np.ndarray | None = None, kind: str = "auto"
) -> HammingIndex:
    """Build an exact Hamming index over ``codes`` ``(n, w)`` uint64 with optional int64 ``ids``.

    ``kind``: ``"scan"`` for :class:`LinearScan`, or ``"auto"`` to choose from n and code length.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown index kind {kind!r}; choose one of {', '.join(KINDS)}")
    codes = as_codes(codes)
    return LinearScan(codes, ids)


STRUCTURES: dict[str, type[HammingIndex]] = {
    cls.kind: cls for cls in (LinearScan, VPTree, MultiIndexHash)
}


def load_index(path: str | Path) -> HammingIndex:
    """Read any index written by ``save``; its kind is stored in the file."""
    kind, words, arrays = storage.load(path)
    if kind not in STRUCTURES:
        raise ValueError(f"{path} holds an unknown index kind {kind!r}")
    return STRUCTURES[kind]._from_arrays(words, arrays)
