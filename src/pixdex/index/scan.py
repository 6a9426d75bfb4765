"""``LinearScan``: XOR and popcount against every code — the ground truth, and the fastest
structure for small sets (no build, no memory beyond the codes and ids)."""

from __future__ import annotations

import numpy as np

from pixdex.index import kernels
from pixdex.index.base import HammingIndex, Hits


class LinearScan(HammingIndex):
    """Brute-force exact search: one compiled pass over the codes per query (~1 ns per code)."""

    kind = "scan"

    def _build(self, codes: np.ndarray, ids: np.ndarray) -> None:
        self._codes = codes
        self._ids = ids

    def _entries(self) -> tuple[np.ndarray, np.ndarray]:
        return self._codes, self._ids

    def _search_built(self, queries: np.ndarray, radius: int) -> Hits:
        return kernels.scan_range(self._codes.reshape(-1), self._ids, self._alive, queries, radius)

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"codes": self._codes, "ids": self._ids}

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        self._build(np.ascontiguousarray(arrays["codes"]), np.ascontiguousarray(arrays["ids"]))
