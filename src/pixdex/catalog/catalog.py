"""``Catalog``: index folders of images into a persistent store, and search it by image or hash.

The workflow of the original two scripts (an indexer and a searcher) as one object: ``index`` walks
folders and hashes only what is new or changed since the last run, committing in batches;
``search`` hashes a query and answers from an index over the stored hashes that is saved beside the
catalog and rebuilt only after a write.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from pixdex import bits as bitops
from pixdex.catalog.defaults import (
    BATCH_SIZE,
    DEFAULT_ALGORITHM,
    DEFAULT_INDEX_ALGORITHMS,
    DEFAULT_PATH,
    FILE_TIME_LIMIT_S,
)
from pixdex.catalog.engine import Engine
from pixdex.catalog.errors import CatalogError
from pixdex.catalog.location import display_name, local_files, open_store
from pixdex.catalog.query_picture import QueryPicture
from pixdex.catalog.search_index import SearchIndex, open_search_index, saved_index_files
from pixdex.catalog.store import FileRecord, FileState, Store, StoredFile, StoreStats
from pixdex.catalog.walker import FoundFile, walk_images
from pixdex.hashing import ALGORITHMS, Hash, is_algorithm
from pixdex.matching import DEFAULT_RULE, MatchRule, candidate_views
from pixdex.signature import present

if TYPE_CHECKING:
    # Imported where they are used: a command that does not hash, look for duplicates or act on
    # them (an unchanged re-index, a search by hash) starts without them.
    from pixdex.catalog.actions import ActionReport, UndoReport
    from pixdex.catalog.duplicates import DuplicateGroup
    from pixdex.pipeline import FileHashes

DEFAULT_DISTANCES = {64: 10, 256: 31}
"""Default search radius, in bits, by hash length: 10 of 64 is the original design's; 31 of 256
is the match threshold PDQ's authors recommend. Other lengths get the same 10/64 share of their
bits."""

ALGORITHM_DISTANCES = {("phash", 64): 12}
"""Default search radius, in bits, of the algorithms whose own measurement moved it off
``DEFAULT_DISTANCES``: on the real mixed corpus (``python -m benchmarks eval``, see README)
pHash keeps a false-match rate within 1e-4 per pair up to 13 bits (15 on photos alone) and finds
4 points more of the edited copies at 12 than at 10. dHash keeps the original design's 10 (it
would need 3 bits to stay within that rate); PDQ keeps its authors' 31."""

FRAMED = "framed"
"""``ALG:framed`` names a pair of views of one algorithm: the picture inside its uniform margins
(``ALG:trim``) and its centre (``ALG:centre``). Indexing it stores both; searching it matches a
file when any view of the query is near any view of the file, so added borders and 10 % crops are
found (see the quality figures in BENCHMARKS.md)."""

FRAMED_DISTANCES = {256: 97}
"""Default search radius of a framed search, by hash length: chosen on the development queries of
``python -m benchmarks quality`` (PDQ framed: 94.5 % of test sources found, 1.75 other pictures
per query)."""

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(done, total)`` with the number of files hashed so far and to hash."""

Hasher = Callable[[Sequence[str], tuple[str, ...], float | None], Iterable["FileHashes"]]
"""The hashing stage of ``Catalog.index``: ``hasher(paths, algorithms, time_limit)`` yields one
``FileHashes`` per path, with its content signature, in any order (as results come back). The
default hashes on this machine's cores (``pixdex.pipeline.hash_files``); a Dask cluster is
another (``pixdex.distributed.index_on_cluster``). Everything else about indexing (what is
new, the committed batches, the progress, the report) is the catalog's, whoever hashes."""


def default_distance(bits: int) -> int:
    """The default search radius, in bits, for hashes of ``bits`` bits."""
    return DEFAULT_DISTANCES.get(bits, bits * 10 // 64)


@dataclass(frozen=True, slots=True)
class Match:
    """One catalogued file within the search radius of a query."""

    path: str
    distance: int
    hash: Hash


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The matches of one query, nearest first (ties by path).

    ``took_ms`` is the search itself (index lookup, verification and fetching the matches'
    paths), in milliseconds; hashing the query image is not included. ``verified`` says the
    matching rule checked every match's content signature (a query by hash cannot be).
    """

    query: str
    algorithm: str
    hash: Hash
    took_ms: float
    matches: tuple[Match, ...]
    verified: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The JSON form printed by ``pixdex search --json``."""
        return {
            "query": self.query,
            "algorithm": self.algorithm,
            "hash": self.hash.hex,
            "took_ms": round(self.took_ms, 3),
            "verified": self.verified,
            "matches": [
                {"path": m.path, "distance": m.distance, "hash": m.hash.hex} for m in self.matches
            ],
        }


@dataclass(frozen=True, slots=True)
class IndexReport:
    """What one ``Catalog.index`` run did.

    ``new``, ``changed``, ``unchanged`` and ``failed`` partition the files found: a file is
    ``changed`` when its size or modification time differs from the catalog's, or when it lacks a
    hash of a requested algorithm or a signature of the current version; ``failed`` lists
    ``(path, reason)`` of files that could not be hashed this run. ``unlisted`` gives ``(path,
    reason)`` of folders that could not be read and of image entries that could not be examined
    (a symbolic link loop, a dangling link).
    ``pruned`` counts entries dropped because their files are gone; ``seconds`` is wall time.
    """

    new: int
    changed: int
    unchanged: int
    failed: tuple[tuple[str, str], ...]
    unlisted: tuple[tuple[str, str], ...]
    pruned: int
    seconds: float

    @property
    def hashed(self) -> int:
        """Files read and hashed this run, successfully or not."""
        return self.new + self.changed + len(self.failed)


@dataclass(frozen=True, slots=True)
class CatalogInfo:
    """What ``pixdex info`` shows: counts from the store plus the saved index files."""

    path: str
    stats: StoreStats
    failures: tuple[tuple[str, str], ...]
    index_bytes: int

    @property
    def images(self) -> int:
        """Files hashed successfully."""
        return self.stats.files - self.stats.failures

    @property
    def bytes_on_disk(self) -> int:
        """The catalog and its saved search indexes, in bytes."""
        return self.stats.bytes_on_disk + self.index_bytes


@dataclass
class _Batch:
    """Hashed files not yet committed, and the running counts."""

    records: list[FileRecord] = field(default_factory=list)
    new: int = 0
    changed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


class Catalog:
    """A persistent catalog of image files and their perceptual hashes.

    ``Catalog(path)`` opens (or, with ``create=True``, creates) the SQLite catalog at ``path``;
    ``Catalog("postgresql://USER@HOST:PORT/DBNAME")`` the PostgreSQL catalog in that database
    (see ``pixdex.catalog.location``). ``Catalog(path, store=...)`` works on a store already
    open: ``path`` then only names the files kept beside the catalog (saved search indexes, the
    journal of actions). Either way the catalog closes its store. Use it as a context manager,
    or call ``close()``.

    ``path`` is what the catalog's local files are named after (for PostgreSQL, a name in the
    user's cache folder); ``name`` is how messages name the catalog (a URI without password).

    With an ``engine`` (``pixdex.catalog.engine``), search indexes are built by it and the
    duplicates' self-join runs on it (``pixdex.distributed.engine.DaskEngine``: on a Dask
    cluster); everything else runs here.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = DEFAULT_PATH,
        *,
        create: bool = True,
        store: Store | None = None,
        engine: Engine | None = None,
    ):
        self._store = open_store(path, create=create) if store is None else store
        self.path = local_files(path, self._store)
        self.name = display_name(path)
        self._engine = engine
        self._indexes: dict[tuple[str, bool], SearchIndex] = {}

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the store and let go of the search indexes (their saved files are mapped into
        memory: ``pixdex.index.storage``); the catalog is unusable afterwards."""
        self._indexes.clear()
        self._store.close()

    # -- indexing --------------------------------------------------------------------------------

    def index(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        algorithms: Sequence[str] = DEFAULT_INDEX_ALGORITHMS,
        workers: int | None = None,
        prune: bool = False,
        progress: ProgressCallback | None = None,
        batch_size: int = BATCH_SIZE,
        time_limit: float | None = FILE_TIME_LIMIT_S,
        hasher: Hasher | None = None,
    ) -> IndexReport:
        """Bring the catalog up to date with the image files under ``paths`` (folders or files).

        Files whose size and modification time match the catalog, and that have every requested
        algorithm's hash and a content signature (``pixdex.signature``), are not read again;
        unchanged files that failed before are not retried. New and changed files are hashed on
        ``workers`` processes and committed every ``batch_size`` files, so an interrupted run
        keeps its committed batches and the next run resumes where it stopped. With ``prune``,
        entries under ``paths`` whose files no longer exist are dropped. A file that takes more
        than ``time_limit`` seconds, or crashes its decoder, is stopped and recorded as failed
        (``pixdex.pipeline.hash_files``). A ``hasher`` hashes elsewhere (``workers`` is then
        unused): the files are still listed, compared and committed here.
        """
        started = time.perf_counter()
        algorithms = _check_algorithms(algorithms, framed=True)
        roots = [os.path.abspath(p) for p in paths]
        for root in roots:
            if not os.path.exists(root):
                raise CatalogError(f"{root}: no such file or folder")

        unlisted: list[tuple[str, str]] = []
        walk = walk_images(roots, lambda path, why: unlisted.append((path, why)))
        found = list({f.path: f for f in walk}.values())  # a file named twice is indexed once
        known: dict[str, FileState] = {}
        for root in roots:
            known.update(self._store.states(root))

        wanted = frozenset(algorithms)
        todo = [f for f in found if _needs_hashing(f, known.get(f.path), wanted)]
        if todo or prune:
            self._store.write([])  # a read-only catalog refuses now, not after the hashing
        batch = _Batch()
        try:
            self._hash_into(
                todo,
                known,
                algorithms,
                hasher or _local_hasher(workers),
                time_limit,
                progress,
                batch,
                batch_size,
            )
        finally:
            # Also on Ctrl-C: what was hashed is kept.
            self._store.write(batch.records)

        pruned = self._prune(roots, found) if prune else 0
        if batch.new + batch.changed + pruned:
            for name in algorithms:
                self._search_index(name, include_low_quality=True)  # what the rule searches
        return IndexReport(
            new=batch.new,
            changed=batch.changed,
            unchanged=len(found) - len(todo),
            failed=tuple(sorted(batch.failed)),  # the same order however the hashing went
            unlisted=tuple(unlisted),
            pruned=pruned,
            seconds=time.perf_counter() - started,
        )

    def _hash_into(
        self,
        todo: list[FoundFile],
        known: dict[str, FileState],
        algorithms: tuple[str, ...],
        hasher: Hasher,
        time_limit: float | None,
        progress: ProgressCallback | None,
        batch: _Batch,
        batch_size: int,
    ) -> None:
        if progress:
            progress(0, len(todo))
        if not todo:
            return  # no worker pool to start
        by_path = {f.path: f for f in todo}
        for done, result in enumerate(hasher([f.path for f in todo], algorithms, time_limit), 1):
            seen = by_path[result.path]
            # The walk's size and mtime, not the hashing's: if the file changes in between, the
            # next run sees a different mtime and hashes it again.
            batch.records.append(
                FileRecord(
                    path=seen.path,
                    size=seen.size,
                    mtime_ns=seen.mtime_ns,
                    digest=result.digest,
                    width=result.width,
                    height=result.height,
                    format=result.format,
                    error=result.error,
                    hashes=dict(result.hashes) if result.error is None else {},
                    signature=result.signature,
                )
            )
            if result.error is not None:
                batch.failed.append((seen.path, result.error))
            elif seen.path in known:
                batch.changed += 1
            else:
                batch.new += 1
            if len(batch.records) >= batch_size:
                self._store.write(batch.records)
                batch.records.clear()
            if progress:
                progress(done, len(todo))

    def _prune(self, roots: list[str], found: list[FoundFile]) -> int:
        present = {f.path for f in found}
        gone = [
            path
            for root in roots
            for path in self._store.states(root)
            if path not in present and not os.path.lexists(path)
        ]
        return self._store.remove(gone)

    # -- searching -------------------------------------------------------------------------------

    def search(
        self,
        query: str | os.PathLike[str] | bytes | Hash,
        *,
        algorithm: str = DEFAULT_ALGORITHM,
        max_distance: int | None = None,
        k: int | None = None,
        include_low_quality: bool = False,
        flips: bool = False,
        confirm: str | None = None,
        confirm_distance: int | None = None,
        rule: MatchRule | None = DEFAULT_RULE,
    ) -> SearchResult:
        """Catalogued files showing the same picture as the query, nearest first.

        ``query`` is an image (path or encoded bytes) or a ``Hash``. With a ``rule`` (the
        default, ``pixdex.matching.DEFAULT_RULE``) and an image, every file whose
        ``algorithm`` hash is within ``max_distance`` bits (default: the rule's candidate
        radius) in any candidate view (the whole picture, inside its margins, its centre; those
        the catalog holds) is a candidate, near-blank pictures included, and is kept only when
        its content signature agrees with the query's (``pixdex.matching``). With
        ``rule=None``, or a query given as a hash (a hash has no signature to verify with), the
        answer is every file whose ``algorithm`` hash is within ``max_distance`` bits (default
        ``search_distance(algorithm, bits)``); degenerate hashes (near-blank images) are then
        not matched unless ``include_low_quality``. ``k`` keeps only the ``k`` nearest.

        With ``flips``, the query image is also searched in its seven other orientations
        (mirrored, rotated 90°, 180°, 270°, and those mirrored), so mirrored and rotated copies
        are found; a file's distance is its nearest orientation's. Nothing changes at index time.

        With ``confirm`` (another algorithm's name), the matches are kept only when their stored
        ``confirm`` hash is also within ``confirm_distance`` bits (default:
        ``search_distance`` of its algorithm) of the query's, in the orientation that found them.
        Files without a ``confirm`` hash are dropped.

        Raises ``ImageError`` for an unreadable query image and ``CatalogError`` when the catalog
        has no hash of ``algorithm`` (or ``confirm``), the query hash has another length, or
        ``flips`` / ``confirm`` are asked of a query given as a hash.
        """
        algorithm = algorithm.strip().lower()
        if isinstance(query, Hash):
            rule = None
        views = self._searched_views(algorithm, rule)
        lenient = include_low_quality or rule is not None
        indexes = [self._search_index(view, lenient) for view in views]
        index = indexes[0]
        if any(i.bits == 0 for i in indexes):
            raise CatalogError(
                f"{self.path}: no {algorithm} hashes in this catalog "
                f"(index with `pixdex index DIR --algorithm {algorithm}`)"
            )
        if confirm is not None:
            (confirm,) = _check_algorithms([confirm])
            if confirm not in self._store.algorithms():
                raise CatalogError(
                    f"{self.path}: no {confirm} hashes to confirm with "
                    f"(index with `pixdex index DIR --algorithm {algorithm},{confirm}`)"
                )
        label, oriented = self._query_pictures(query, views, flips, confirm, rule is not None)
        code = oriented[0].hashes[views[0]]
        if code.bits != index.bits:
            raise CatalogError(
                f"{label}: a {code.bits}-bit hash, but the catalog's {algorithm} hashes have "
                f"{index.bits} bits ({bitops.hex_digits(index.bits)} hex digits)"
            )
        if max_distance is not None:
            radius = max_distance
        elif rule is not None:
            radius = rule.radius_for(index.bits)
        else:
            radius = search_distance(algorithm, index.bits)
        if radius < 0 or (k is not None and k < 1):
            raise CatalogError("the distance must be ≥ 0 and k ≥ 1")
        if confirm_distance is not None and confirm_distance < 0:
            raise CatalogError("the confirming distance must be ≥ 0")

        started = time.perf_counter()
        # With a rule, the k nearest are taken after verification: candidates are not capped.
        found = _candidates(oriented, views, indexes, radius, None if rule else k)
        if rule is not None:
            signatures = self._store.signatures(list(found))
            unverifiable = search_distance(algorithm, index.bits)
            found = _verified(found, oriented, signatures, rule, unverifiable)
        if confirm is not None:
            found = self._confirmed(found, oriented, confirm, confirm_distance)
        nearest = sorted(found, key=lambda i: found[i][0])
        stored = self._store.lookup(nearest, views[0])
        matches = sorted(
            (
                Match(stored[i].path, found[i][0], stored[i].hash)
                for i in nearest
                if i in stored  # an entry removed since the index was built
            ),
            key=lambda m: (m.distance, m.path),
        )
        if k is not None:
            matches = matches[:k]  # several orientations may each have brought k
        took_ms = (time.perf_counter() - started) * 1000.0
        return SearchResult(label, algorithm, code, took_ms, tuple(matches), rule is not None)

    def _searched_views(self, algorithm: str, rule: MatchRule | None) -> tuple[str, ...]:
        """The stored algorithms a search by ``algorithm`` looks up: ``ALG:framed``'s two views;
        with a rule, the candidate views the catalog holds (``algorithm`` itself first);
        otherwise ``algorithm`` alone."""
        if len(framed_views(algorithm)) > 1 or rule is None:
            return _check_algorithms(framed_views(algorithm))
        (algorithm,) = _check_algorithms([algorithm])
        stored = self._store.algorithms()
        return tuple(v for v in candidate_views(algorithm) if v == algorithm or v in stored)

    def _confirmed(
        self,
        found: dict[int, tuple[int, list[int]]],
        oriented: list[QueryPicture],
        confirm: str,
        confirm_distance: int | None,
    ) -> dict[int, tuple[int, list[int]]]:
        """The candidates whose stored ``confirm`` hash is within reach of the query's in one
        of the orientations that found them."""
        stored = self._store.lookup(list(found), confirm)
        kept = {}
        for i, (distance, turns) in found.items():
            if i not in stored:
                continue
            fine = stored[i].hash
            reach = (
                search_distance(confirm, fine.bits)
                if confirm_distance is None
                else confirm_distance
            )
            if min(fine - oriented[t].hashes[confirm] for t in turns) <= reach:
                kept[i] = (distance, turns)
        return kept

    def _query_pictures(
        self,
        query: str | os.PathLike[str] | bytes | Hash,
        views: tuple[str, ...],
        flips: bool,
        confirm: str | None,
        signatures: bool,
    ) -> tuple[str, list[QueryPicture]]:
        """The query's label and its hashes by algorithm (each of ``views``, and ``confirm``)
        and, with ``signatures``, its content signature: one ``QueryPicture`` per orientation
        searched."""
        algorithm = views[0]
        if isinstance(query, Hash):
            if flips or confirm is not None or len(views) > 1:
                raise CatalogError(
                    "flips, framed views and a confirming hash need the query image, not a hash "
                    "(a hash cannot be turned or re-hashed with another algorithm)"
                )
            if query.algorithm != algorithm:
                raise CatalogError(f"a {query.algorithm} hash cannot search {algorithm} hashes")
            return f"hash:{query.hex}", [QueryPicture({algorithm: query}, None)]
        from pixdex.catalog.orientations import query_pictures

        label = "<bytes>" if isinstance(query, bytes) else os.fspath(query)
        names = list(dict.fromkeys([*views, *([confirm] if confirm else [])]))
        return label, query_pictures(query, names, flips=flips, signatures=signatures)

    def _search_index(self, algorithm: str, include_low_quality: bool) -> SearchIndex:
        key = (algorithm, include_low_quality)
        cached = self._indexes.get(key)
        if cached is None or cached.generation != self._store.generation():
            cached = open_search_index(
                self._store, self.path, algorithm, include_low_quality, self._engine
            )
            self._indexes[key] = cached
        return cached

    # -- duplicates ------------------------------------------------------------------------------

    def duplicates(
        self,
        *,
        max_distance: int | None = None,
        algorithm: str = DEFAULT_ALGORITHM,
        keep: str = "largest",
        chain: bool = True,
        include_low_quality: bool = False,
        flips: bool = False,
        rule: MatchRule | None = DEFAULT_RULE,
    ) -> list[DuplicateGroup]:
        """Groups of byte-identical files and of files whose ``algorithm`` hashes lie within
        ``max_distance`` bits (default ``search_distance(algorithm, bits)``), each with a keeper
        chosen by ``keep`` (see ``pixdex.catalog.duplicates``); ``chain=False`` groups around
        representatives instead of joining chains of near pairs; ``flips`` also groups mirrored
        and quarter-turned copies (each file is decoded again). With a ``rule`` (the default),
        every member is verified against its group's keeper (``pixdex.matching``: no chains,
        and ``chain`` is not used); ``rule=None`` groups by hash distance alone."""
        from pixdex.catalog.duplicates import find_duplicates

        (algorithm,) = _check_algorithms([algorithm])
        bits = self._store.algorithms().get(algorithm)
        if bits is None:
            raise CatalogError(
                f"{self.path}: no {algorithm} hashes in this catalog "
                f"(index with `pixdex index DIR --algorithm {algorithm}`)"
            )
        return find_duplicates(
            self._store,
            algorithm=algorithm,
            max_distance=search_distance(algorithm, bits) if max_distance is None else max_distance,
            keep=keep,
            chain=chain,
            include_low_quality=include_low_quality,
            flips=flips,
            rule=rule,
            pairs=None if self._engine is None else self._engine.pairs_within,
        )

    def remove_duplicates(
        self,
        groups: Sequence[DuplicateGroup],
        *,
        move_to: str | os.PathLike[str] | None = None,
        delete: bool = False,
    ) -> ActionReport:
        """Move (to ``move_to``, keeping relative paths) or delete every non-keeper of
        ``groups``, skipping files changed since indexing; journaled, and undoable for moves
        (see ``pixdex.catalog.actions``)."""
        from pixdex.catalog.actions import apply_actions

        return apply_actions(self._store, self.path, groups, move_to=move_to, delete=delete)

    def undo(self) -> UndoReport:
        """Reverse the moves of the last ``remove_duplicates`` run not yet undone."""
        from pixdex.catalog.actions import undo_last_run

        return undo_last_run(self._store, self.path)

    # -- describing ------------------------------------------------------------------------------

    def info(self) -> CatalogInfo:
        """Counts of images, hashes per algorithm and failures, and the bytes used on disk."""
        index_bytes = sum(p.stat().st_size for p in saved_index_files(self.path) if p.is_file())
        return CatalogInfo(
            self.name, self._store.stats(), tuple(self._store.failures()), index_bytes
        )

    def algorithms(self) -> dict[str, int]:
        """The hash length in bits of each algorithm in the catalog."""
        return self._store.algorithms()

    def generation(self) -> int:
        """The catalog's write counter: it grows with every write (an ``index`` run elsewhere
        included), so a long-lived reader compares it to know its caches are stale."""
        return self._store.generation()

    def files(self, ids: Sequence[int]) -> dict[int, StoredFile]:
        """The catalogued file of each id (unknown ids are left out): what a server may serve."""
        return self._store.files_by_id(ids)

    def files_at(self, paths: Sequence[str]) -> dict[str, StoredFile]:
        """The catalogued file at each path (paths not in the catalog are left out)."""
        return self._store.files_by_path(paths)


def _check_algorithms(names: Iterable[str], *, framed: bool = False) -> tuple[str, ...]:
    """Normalised, de-duplicated algorithm names; with ``framed``, ``ALG:framed`` is expanded to
    its two views. CatalogError names the unknown ones."""
    names = tuple(dict.fromkeys(n.strip().lower() for n in names if n.strip()))
    if framed:
        names = tuple(dict.fromkeys(v for n in names for v in framed_views(n)))
    unknown = [n for n in names if not is_algorithm(n)]
    if unknown or not names:
        known = ", ".join(sorted(ALGORITHMS))
        raise CatalogError(
            f"unknown algorithm {', '.join(unknown) or '(none)'}; choose from {known} "
            f"(or NAME:trim, NAME:centre, NAME:framed)"
        )
    return names


def search_distance(algorithm: str, bits: int) -> int:
    """The default search radius of ``algorithm`` (a framed name included) for ``bits``-bit
    hashes, in bits."""
    if len(framed_views(algorithm)) > 1 and bits in FRAMED_DISTANCES:
        return FRAMED_DISTANCES[bits]
    base = algorithm.partition(":")[0]
    return ALGORITHM_DISTANCES.get((base, bits), default_distance(bits))


def framed_views(name: str) -> tuple[str, ...]:
    """The stored algorithms a search by ``name`` uses: ``"pdq:framed"`` → ``("pdq:trim",
    "pdq:centre")`` (the picture inside its margins and its centre), any other name itself."""
    base, _, view = name.partition(":")
    return (f"{base}:trim", f"{base}:centre") if view == FRAMED else (name,)


def _local_hasher(workers: int | None) -> Hasher:
    """Hashing on ``workers`` processes of this machine (None: one per core)."""

    def hash_here(
        paths: Sequence[str], algorithms: tuple[str, ...], time_limit: float | None
    ) -> Iterable[FileHashes]:
        from pixdex.pipeline import hash_files

        return hash_files(
            paths, algorithms=algorithms, workers=workers, signatures=True, time_limit=time_limit
        )

    return hash_here


def _needs_hashing(found: FoundFile, state: FileState | None, wanted: frozenset[str]) -> bool:
    if state is None or (state.size, state.mtime_ns) != (found.size, found.mtime_ns):
        return True
    # A file that failed to decode is not retried until it changes, whatever the algorithms.
    # One indexed before signatures existed, or with an older version's, is hashed again.
    return state.error is None and not (wanted <= state.algorithms and state.signature)


Found = dict[int, tuple[int, list[int]]]
"""Search candidates: file id → (distance in bits, the query orientations that found it at that
distance or nearer)."""


def _candidates(
    oriented: list[QueryPicture],
    views: tuple[str, ...],
    indexes: list[SearchIndex],
    radius: int,
    k: int | None,
) -> Found:
    """Every file within ``radius`` bits of any view of any orientation of the query, in any
    view of the file (with ``k``, each lookup's ``k`` nearest only), by file id. The lookups'
    answers are merged as arrays: a dense family gives tens of thousands of hits per search."""
    hits, nearness, turns = [], [], []
    for turn, picture in enumerate(oriented):
        for view, searched in itertools.product(views, indexes):
            words = picture.hashes[view].words
            if k is None:
                ids, distances = searched.range_search(words, radius)
            else:
                ids, distances = searched.knn(words, k)
                ids, distances = ids[distances <= radius], distances[distances <= radius]
            hits.append(np.asarray(ids, np.int64))
            nearness.append(np.asarray(distances, np.int64))
            turns.append(np.full(len(ids), turn, np.int64))
    ids, distances, turn = np.concatenate(hits), np.concatenate(nearness), np.concatenate(turns)
    if ids.size == 0:
        return {}
    order = np.lexsort((distances, ids))
    ids, distances, turn = ids[order], distances[order], turn[order]
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    masks = np.bitwise_or.reduceat(np.left_shift(1, turn), starts)
    listed = {int(m): [t for t in range(len(oriented)) if m >> t & 1] for m in np.unique(masks)}
    return {
        i: (d, listed[m])
        for i, d, m in zip(
            ids[starts].tolist(), distances[starts].tolist(), masks.tolist(), strict=True
        )
    }


def _verified(
    found: Found,
    oriented: list[QueryPicture],
    signatures: np.ndarray,
    rule: MatchRule,
    unverifiable: int,
) -> Found:
    """The candidates whose content signature agrees with the query's, in one of the
    orientations that found them (``signatures``: the candidates' rows, in ``found``'s order),
    or with one of an orientation's views cut from the query's pixels, in the uncut alignment
    (``pixdex.matching.cut_views``: borders and crops of thin drawings, which shrinking a
    signature blurs). The views are tried on the ``NEAREST`` candidates of each orientation
    nearest by hash distance among those the signature rejected that lie nearer than every
    candidate it accepted: none beside a nearer match, all when it accepted none.

    A file indexed before signatures existed, or with an older version's (until the next
    ``index`` run gives it one), cannot be verified: it is kept when its hash is within
    ``unverifiable`` bits, the plain search's radius, rather than vanish from every answer.
    """
    if not found:
        return found
    from pixdex.matching.cut_views import NEAREST, cut_view_signatures
    from pixdex.matching.verification import verify  # compiled: loaded by the first verified search

    ids = list(found)
    accepted = ~present(signatures) & np.array([found[i][0] <= unverifiable for i in ids])
    rejected, matched = [], []
    for turn, picture in enumerate(oriented):
        rows = [row for row, i in enumerate(ids) if turn in found[i][1] and not accepted[row]]
        if rows:
            query = np.frombuffer(picture.signature, np.uint8)
            accepted[rows] = verify(query, signatures[rows], rule.verifier)
            matched += [found[ids[row]][0] for row in rows if accepted[row]]
            rejected.append((picture, rows))
    nearest_match = min(matched, default=math.inf)
    for picture, rows in rejected:
        rows = [row for row in rows if not accepted[row] and found[ids[row]][0] < nearest_match]
        rows = sorted(rows, key=lambda r: (found[ids[r]][0], ids[r]))[:NEAREST]
        if rows and picture.pixels is not None:
            for view in cut_view_signatures(picture.pixels):
                if rows and view is not None:
                    query = np.frombuffer(view, np.uint8)
                    accepted[rows] = verify(query, signatures[rows], rule.verifier, uncut=True)
                    rows = [row for row in rows if not accepted[row]]
    return {i: found[i] for i, ok in zip(ids, accepted.tolist(), strict=True) if ok}
