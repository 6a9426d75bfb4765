"""``build_index``: pick the structure (and its parameters) for a code set from measured
crossovers (benchmarks/bench_index.py; figures in BENCHMARKS.md).

A structure's module is imported when an index of its kind is built or loaded: the multi-index
hash and the VP-tree are numba kernels, which a small catalog's linear scan does not need.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

import numpy as np

from pixdex.index import storage
from pixdex.index.base import HammingIndex, as_codes

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
    return structure(kind)(codes, ids)


STRUCTURES = {
    "scan": ("pixdex.index.scan", "LinearScan"),
    "vptree": ("pixdex.index.vptree", "VPTree"),
    "mih": ("pixdex.index.mih", "MultiIndexHash"),
}
"""Each structure's ``kind`` (as saved in its files) → its module and class."""


def structure(kind: str) -> type[HammingIndex]:
    """The index class of ``kind`` (one of ``STRUCTURES``), its module imported on first use."""
    module, name = STRUCTURES[kind]
    return getattr(import_module(module), name)


def load_index(path: str | Path) -> HammingIndex:
    """Read any index written by ``save``; its kind is stored in the file."""
    kind, words, arrays = storage.load(path)
    if kind not in STRUCTURES:
        raise ValueError(f"{path} holds an unknown index kind {kind!r}")
    return structure(kind)._from_arrays(words, arrays)
