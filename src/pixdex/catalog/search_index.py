"""The in-memory search index of one algorithm's hashes, saved beside the catalog.

Building an index over a million hashes means reading every hash row and building the structure;
loading a saved one is reading a few arrays. So each built index is saved as
``<catalog>.<catalog id>.<algorithm>[-all].g<generation>.idx`` (the index's own non-pickle file
format) and reused for as long as the catalog's generation counter has not moved. The catalog id
(random, drawn when the catalog is created) keeps a new catalog at the path of a deleted one, whose
generations count from 0 again, from loading the old catalog's files. After a write the name no
longer matches: the index is rebuilt once, and every other index file beside the catalog (older
generations, other catalogs once at this path, older pixdex versions' names) is deleted, and so
is a half-written ``.partial`` file left by a process killed while saving.

"Beside the catalog" is beside the path the catalog's local files are named after: the SQLite file
itself, or a name in the user's cache folder for a PostgreSQL catalog (``location.local_files``).
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pixdex.catalog.engine import Engine
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


def index_file(
    catalog: Path, catalog_id: str, algorithm: str, include_low_quality: bool, generation: int
) -> Path:
    """Where the index of ``algorithm`` at ``generation`` is saved, beside the catalog file."""
    view = f"{algorithm}{'-all' if include_low_quality else ''}"
    return catalog.with_name(f"{catalog.name}.{catalog_id}.{view}.g{generation}.idx")


def saved_index_files(catalog: Path) -> list[Path]:
    """Every index file saved beside ``catalog``: current or stale, this catalog's or left by an
    earlier one at the same path (older pixdex versions named them without the catalog id).
    Another catalog's whose name extends this one's (``pixdex.db.old``) are not included."""
    name = re.compile(re.escape(catalog.name) + r"(\.[0-9a-f]{16})?\.[^.]+\.g\d+\.idx")
    return sorted(p for p in catalog.parent.glob(f"{catalog.name}.*.idx") if name.fullmatch(p.name))


def open_search_index(
    store: Store,
    catalog: Path,
    algorithm: str,
    include_low_quality: bool,
    engine: Engine | None = None,
) -> SearchIndex:
    """The current index of ``algorithm``: loaded from its saved file, or built and saved; with
    an ``engine``, built by the engine (nothing is saved: the engine holds it).

    Degenerate hashes (quality below ``LOW_QUALITY``) are left out unless ``include_low_quality``.
    A failure to save (a read-only folder) only costs the next process a rebuild; a saved file
    that cannot be read (damaged, or written by an older pixdex) is rebuilt the same way.
    """
    if engine is not None:
        return _on_engine(store, engine, algorithm, include_low_quality)
    generation, catalog_id = store.generation(), store.catalog_id()
    bits = store.algorithms().get(algorithm, 0)
    path = index_file(catalog, catalog_id, algorithm, include_low_quality, generation)
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
        _delete_stale(catalog, catalog_id, generation)
    return SearchIndex(algorithm, bits, generation, index)


def _on_engine(
    store: Store, engine: Engine, algorithm: str, include_low_quality: bool
) -> SearchIndex:
    """The index of ``algorithm`` built by ``engine`` from the catalog's current codes."""
    generation = store.generation()
    quality = 0 if include_low_quality else LOW_QUALITY

    def reload() -> tuple[np.ndarray, np.ndarray]:
        ids, codes, _ = store.codes(algorithm, quality)
        return codes, ids

    ids, codes, bits = store.codes(algorithm, quality)
    if len(ids) == 0:
        return SearchIndex(algorithm, bits, generation, None)
    return SearchIndex(algorithm, bits, generation, engine.build_index(codes, ids, reload))


def _delete_stale(catalog: Path, catalog_id: str, generation: int) -> None:
    """Delete the index files beside ``catalog`` that no search of it will load again: all but
    this catalog's at this generation (its other algorithms' indexes). A process still at an
    older generation may delete a newer file too: that costs a rebuild, never a wrong answer."""
    for saved in saved_index_files(catalog):
        name = saved.name
        if not (
            name.startswith(f"{catalog.name}.{catalog_id}.")
            and name.endswith(f".g{generation}.idx")
        ):
            saved.unlink(missing_ok=True)
    for partial in catalog.parent.glob(f"{glob.escape(catalog.name)}.*.idx.*.partial"):
        writer = re.search(r"\.(\d+)\.partial$", partial.name)
        if writer is not None and not _alive(int(writer.group(1))):
            partial.unlink(missing_ok=True)  # left by a process killed while saving


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, another user's
    return pid > 0


def _save(index: object, path: Path) -> None:
    """Write to a temporary name first, so a reader never loads a half-written index; a write
    that fails (a full disk) leaves nothing behind."""
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    try:
        index.save(partial)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
