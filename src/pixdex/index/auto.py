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

KINDS = ("auto", "scan", "vptree", "mih")
SCAN_BELOW = 32_768
"""Codes below which ``auto`` picks a linear scan: scanning 32k codes takes ~10 µs, no more than
the per-query overhead of probing tables (measured crossover, BENCHMARKS.md)."""


def build_index(
    codes: np.ndarray, ids: np.ndarray | None = None, kind: str = "auto"
) -> HammingIndex:
    """Build an exact Hamming index over ``codes`` ``(n, w)`` uint64 with optional int64 ``ids``.

    ``kind``: ``"scan"`` (:class:`LinearScan`), ``"vptree"`` (:class:`VPTree`), ``"mih"``
    (:class:`MultiIndexHash`, tables from n and bits), or ``"auto"``: a scan below
    ``SCAN_BELOW`` codes, multi-index hashing above. MIH answers each query by a scan itself when
    its probes would cost more (large radii, dense clusters), so it is never far behind a scan;
    the VP-tree loses to both on 64- and 256-bit hashes at the radii near-duplicate search uses
    and is never chosen automatically.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown index kind {kind!r}; choose one of {', '.join(KINDS)}")
    codes = as_codes(codes)
    if kind == "auto":
        kind = "scan" if codes.shape[0] < SCAN_BELOW else "mih"
    return STRUCTURES[kind](codes, ids)


STRUCTURES: dict[str, type[HammingIndex]] = {
    cls.kind: cls for cls in (LinearScan, VPTree, MultiIndexHash)
}


def load_index(path: str | Path) -> HammingIndex:
    """Read any index written by ``save``; its kind is stored in the file."""
    kind, words, arrays = storage.load(path)
    if kind not in STRUCTURES:
        raise ValueError(f"{path} holds an unknown index kind {kind!r}")
    return STRUCTURES[kind]._from_arrays(words, arrays)
