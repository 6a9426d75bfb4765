"""``LinearScan``: XOR and popcount against every code — the ground truth, and the fastest
structure for small sets (no build, no memory beyond the codes and ids).

The codes are held word-major, ``(w, n)``: word ``k`` of every code is one contiguous array, which
the compiled scan streams through with vector instructions. ``codes()`` gives them back as
``(n, w)``."""

from __future__ import annotations

import numpy as np

from pixdex.index import kernels
from pixdex.index.base import HammingIndex, Hits


class LinearScan(HammingIndex):
    """Brute-force exact search: one compiled pass over the codes per query (~1 ns per code)."""

    kind = "scan"

    def _build(self, codes: np.ndarray, ids: np.ndarray) -> None:
        self._columns = kernels.as_columns(codes)
        self._ids = ids

    def _entries(self) -> tuple[np.ndarray, np.ndarray]:
        return self._columns.T, self._ids

    def _search_built(self, queries: np.ndarray, radius: int) -> Hits:
        return kernels.scan_range(self._columns, self._ids, self._alive, queries, radius)

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"columns": self._columns, "ids": self._ids}

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        self._columns = np.ascontiguousarray(arrays["columns"])
        self._ids = np.ascontiguousarray(arrays["ids"])
