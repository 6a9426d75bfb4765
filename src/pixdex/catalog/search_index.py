"""The in-memory search index of one algorithm's hashes, saved beside the catalog.

Building an index over a million hashes means reading every hash row and building the structure;
loading a saved one is reading a few arrays. So each built index is saved as
``<catalog>.<algorithm>[-all].g<generation>.idx`` (the index's own non-pickle file format) and
reused for as long as the catalog's generation counter has not moved; after a write the name no
longer matches, the index is rebuilt once and the stale files are deleted.
"""

from __future__ import annotations

import contextlib
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pixdex.catalog.store import Store
from pixdex.hashing import LOW_QUALITY
from pixdex.index import build_index, load_index


@dataclass(frozen=True)
class SearchIndex:
    """A built index over one algorithm's hashes as of catalog generation ``generation``.

    ``index`` is ``None`` when the catalog has no (searchable) hash of the algorithm.
    """

    algorithm: str
    bits: int
    generation: int
    index: object | None

    def range_search(self, query: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
        """File ids within ``radius`` bits of the ``(w,)`` code ``query``, and their distances."""
        if self.index is None:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return self.index.range_search(query, radius)

    def knn(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` file ids nearest to ``query``, and their distances, nearest first."""
        if self.index is None:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return self.index.knn(query, k)


def _index_stem(catalog: Path, algorithm: str, include_low_quality: bool) -> str:
    return f"{catalog.name}.{algorithm}{'-all' if include_low_quality else ''}"


def index_file(catalog: Path, algorithm: str, include_low_quality: bool, generation: int) -> Path:
    """Where the index of ``algorithm`` at ``generation`` is saved, beside the catalog file."""
    return catalog.with_name(
        f"{_index_stem(catalog, algorithm, include_low_quality)}.g{generation}.idx"
    )


def saved_index_files(catalog: Path) -> list[Path]:
    """Every index file saved beside ``catalog``, current or stale."""
    return sorted(catalog.parent.glob(f"{catalog.name}.*.g*.idx"))


def open_search_index(
    store: Store, catalog: Path, algorithm: str, include_low_quality: bool
) -> SearchIndex:
    """The current index of ``algorithm``: loaded from its saved file, or built and saved.

    Degenerate hashes (quality below ``LOW_QUALITY``) are left out unless ``include_low_quality``.
    A failure to save (a read-only folder) only costs the next process a rebuild; a saved file
    that cannot be read (damaged, or written by an older pixdex) is rebuilt the same way.
    """
    generation = store.generation()
    bits = store.algorithms().get(algorithm, 0)
    path = index_file(catalog, algorithm, include_low_quality, generation)
    if path.is_file():
        try:
            return SearchIndex(algorithm, bits, generation, load_index(path))
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            pass  # a saved index is a cache: one of an older format or damaged is rebuilt
    ids, codes, bits = store.codes(algorithm, 0 if include_low_quality else LOW_QUALITY)
    if len(ids) == 0:
        return SearchIndex(algorithm, bits, generation, None)
    index = build_index(codes, ids)
    with contextlib.suppress(OSError):
        _save(index, path)
        stem = _index_stem(catalog, algorithm, include_low_quality)
        for stale in catalog.parent.glob(f"{stem}.g*.idx"):
            if stale != path:
                stale.unlink(missing_ok=True)
    return SearchIndex(algorithm, bits, generation, index)


def _save(index: object, path: Path) -> None:
    """Write to a temporary name first, so a reader never loads a half-written index."""
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    index.save(partial)
    os.replace(partial, path)
