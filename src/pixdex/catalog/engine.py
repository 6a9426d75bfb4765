"""Where a catalog's heavy work runs: the seam that lets it run on a cluster.

By default a ``Catalog`` builds its in-memory search indexes and runs its self-join in this
process (``pixdex.index``), and saves the indexes beside the catalog. Given an ``Engine`` (such as
``pixdex.distributed.engine.DaskEngine``), it asks the engine instead: for an index over one
algorithm's codes, which may live elsewhere (shards on Dask workers), and for the pairs of codes
within a distance. Everything else — reading the catalog, verifying candidates with the matching
rule, grouping pairs — stays in the catalog's process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

Pairs = tuple[np.ndarray, np.ndarray, np.ndarray]
"""``(left_ids, right_ids, distances)`` of code pairs, as ``pixdex.index.pairs_within`` gives."""

PairFinder = Callable[[np.ndarray, np.ndarray, int], Pairs]
"""Finds the ``Pairs`` of ``(codes, ids)`` within a distance: ``pairs_within`` or an engine's."""

Reload = Callable[[], tuple[np.ndarray, np.ndarray]]
"""Reads an index's ``(codes, ids)`` from the catalog again."""


class SearchableIndex(Protocol):
    """What the catalog's search asks of an index (``pixdex.index.HammingIndex`` provides it)."""

    def range_search(self, query: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
        """Ids and distances of the codes within ``radius`` bits, by distance then id."""
        ...

    def knn(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Ids and distances of the ``k`` nearest codes, by distance then id."""
        ...


class Engine(Protocol):
    """Builds a catalog's search indexes and runs its self-join somewhere other than here."""

    def build_index(self, codes: np.ndarray, ids: np.ndarray, reload: Reload) -> SearchableIndex:
        """An exact index over ``codes`` with ``ids``; ``reload`` reads them again (to rebuild
        what a lost machine held)."""
        ...

    def pairs_within(self, codes: np.ndarray, ids: np.ndarray, radius: int) -> Pairs:
        """Every pair of codes at most ``radius`` bits apart, as ``pixdex.index.pairs_within``."""
        ...
