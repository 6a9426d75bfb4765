"""Duplicate groups in a catalog: byte-identical files and near-duplicates by hash distance.

Candidates are the files whose hashes lie within ``max_distance`` bits, plus the files sharing a
content digest (and, with ``flips``, turned orientations). Two ways to turn them into groups:

- **With the matching rule** (the default, ``_verified_groups``): groups around verified keepers
  (``pixdex.catalog.keeper_groups``). The hashes are those of every candidate view the catalog
  holds (the whole picture, inside its margins, its centre: ``pixdex.matching.candidate_views``,
  as the search proposes candidates), so a cropped or bordered copy is offered to its source. A
  keeper's near hashes are looked up in the self-join's bucket tables as the keeper is chosen
  (``pixdex.index.neighbours``), so the pairs are never all listed: a collection dense with
  look-alikes has hundreds of millions of them. The other
  candidates come as *listed pairs* with a kind (identical bytes, turned), and so do the hash
  pairs when they are found elsewhere (an engine's self-join: ``pixdex dupes --dask``).
- **By hash distance alone** (``rule=None``, ``_hash_groups``): every pair from one self-join
  (``pixdex.index.pairs_within``), then ``chain=True`` connected components (every copy of a
  picture in one group, but a chain A~B~C can join A and C although they are far apart) or
  ``chain=False`` groups around representatives (the file with the most neighbours takes every
  still-ungrouped neighbour, then the next: every member within ``max_distance`` bits of its
  representative).

Each group then gets a keeper by a policy (``KEEP_POLICIES``); distances are reported to it.

The compiled parts (numba) and scipy's graph routines are imported when duplicates are looked
for, not with the catalog: searching and indexing never need them (0.7 s of imports).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pixdex.catalog.engine import PairFinder
from pixdex.catalog.errors import CatalogError
from pixdex.catalog.store import Store, StoredFile
from pixdex.catalog.turned_pairs import turned_pairs
from pixdex.hashing import LOW_QUALITY, Hash
from pixdex.matching import MatchRule, candidate_views

KEEP_POLICIES = ("largest", "newest", "oldest", "shortest-path")
"""How a group's keeper is chosen: most pixels (then most bytes), latest or earliest
modification time, or shortest path; remaining ties go to the first path in sort order."""


LARGE_GROUP = 50
"""Members above which a group is implausible as copies of one picture (a family of look-alikes
the rule could not tell apart, more likely): reported, never acted on."""


@dataclass(frozen=True, slots=True)
class DuplicateMember:
    """One file of a duplicate group, as indexed.

    ``distance`` is the Hamming distance, in bits, from the keeper's hash (0 for the keeper);
    ``exact`` says the file's bytes are identical to the keeper's (same content digest). ``size``
    is in bytes, ``width`` and ``height`` in pixels, ``mtime_ns`` in nanoseconds since the epoch.
    """

    file_id: int
    path: str
    distance: int
    exact: bool
    size: int
    width: int
    height: int
    format: str | None
    mtime_ns: int
    digest: str | None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of a member in ``pixdex dupes --json``."""
        return {
            "path": self.path,
            "distance": self.distance,
            "size": self.size,
            "width": self.width,
            "height": self.height,
            "exact": self.exact,
        }


@dataclass(frozen=True, slots=True)
class DuplicateGroup:
    """Files showing the same picture: ``members`` starts with the keeper, then by distance
    from it and path."""

    members: tuple[DuplicateMember, ...]

    @property
    def keeper(self) -> DuplicateMember:
        """The file the keep policy chose to keep."""
        return self.members[0]

    @property
    def implausible(self) -> bool:
        """More members than copies of one picture plausibly number (``LARGE_GROUP``): shown
        as such, and left alone by ``--move-to`` / ``--delete`` until reviewed."""
        return len(self.members) > LARGE_GROUP

    @property
    def others(self) -> tuple[DuplicateMember, ...]:
        """Every member but the keeper: what an action moves or deletes."""
        return self.members[1:]

    def to_dict(self) -> dict[str, Any]:
        """One line of ``pixdex dupes --json``."""
        return {
            "keeper": self.keeper.path,
            "implausible": self.implausible,
            "members": [m.to_dict() for m in self.members],
        }


def find_duplicates(
    store: Store,
    *,
    algorithm: str,
    max_distance: int,
    keep: str = "largest",
    chain: bool = True,
    include_low_quality: bool = False,
    flips: bool = False,
    rule: MatchRule | None = None,
    pairs: PairFinder | None = None,
) -> list[DuplicateGroup]:
    """Every group of two or more files that are byte-identical or whose ``algorithm`` hashes
    lie within ``max_distance`` bits, largest group first (then by keeper path).

    With a ``rule`` (``pixdex.matching``), hash pairs are only candidates, from every candidate
    view of the files (two files are candidates when any of their views lie within
    ``max_distance`` bits, as in a search): files are taken in keeper order (the ``keep``
    policy's best first), each one not yet grouped becomes a keeper, and each of its ungrouped
    candidates joins its group only when the rule verifies it against the keeper's content
    signature. No chain can then join two different pictures, and ``chain`` is not used;
    near-blank pictures are candidates too (the rule judges them).

    With ``flips``, also files whose mirrored or quarter-turned orientation is that near (see
    ``turned_pairs``; each file is decoded again), distances then in the nearest orientation.

    Without a rule, degenerate hashes (quality below ``LOW_QUALITY``: near-blank images, which
    all hash alike) make no near-duplicate pair unless ``include_low_quality``; with one they are
    candidates like any other, and the rule tells blank pictures apart by their tones.
    Byte-identical files are grouped whatever their quality, since equal bytes leave no doubt.

    ``pairs(codes, ids, max_distance)`` finds the near pairs (default
    ``pixdex.index.pairs_within``, here; a ``Catalog`` with an engine passes the engine's).
    """
    if keep not in KEEP_POLICIES:
        raise CatalogError(f"unknown keep policy {keep!r}; choose from {', '.join(KEEP_POLICIES)}")
    if max_distance < 0:
        raise CatalogError("the distance must be ≥ 0")
    lenient = include_low_quality or rule is not None
    ids, codes, _ = store.codes(algorithm, 0 if lenient else LOW_QUALITY)
    exact_left, exact_right = _digest_pairs(store.digest_groups())
    turned: dict[int, list[Hash]] = {}
    extra_left, extra_right = np.zeros(0, np.int64), np.zeros(0, np.int64)
    if flips:
        extra = turned_pairs(store.records(ids.tolist()), ids, codes, algorithm, max_distance)
        extra_left, extra_right, turned = extra.left, extra.right, extra.turned
    if rule is None:
        nodes, labels = _hash_groups(
            store,
            ids,
            codes,
            max_distance,
            chain,
            pairs,
            extra_left,
            extra_right,
            exact_left,
            exact_right,
        )
    else:
        nodes, labels = _verified_groups(
            store,
            algorithm,
            ids,
            codes,
            max_distance,
            keep,
            rule,
            pairs,
            extra_left,
            extra_right,
            exact_left,
            exact_right,
        )
    if nodes.size == 0:
        return []
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    clusters = [nodes[part] for part in np.split(order, bounds) if part.size > 1]
    grouped = np.concatenate(clusters) if clusters else np.zeros(0, np.int64)
    values = _hash_values(ids, codes, grouped)
    files = store.files_by_id(grouped.tolist())  # read for the grouped files alone
    groups = [_group(files, cluster.tolist(), values, keep, turned) for cluster in clusters]
    groups = [g for g in groups if len(g.members) > 1]
    groups.sort(key=lambda g: (-len(g.members), g.keeper.path))
    return groups


def _hash_groups(
    store: Store,
    ids: np.ndarray,
    codes: np.ndarray,
    max_distance: int,
    chain: bool,
    pairs: PairFinder | None,
    turned_left: np.ndarray,
    turned_right: np.ndarray,
    exact_left: np.ndarray,
    exact_right: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Without a rule: every pair within the distance (one self-join: ``pairs``, or
    ``pairs_within`` here), the turned pairs and the byte-identical ones, grouped by hash
    distance alone. Returns the node ids and their group labels."""
    if pairs is None:
        from pixdex.index.selfjoin import pairs_within as pairs

    left, right, _ = pairs(codes, ids, max_distance)
    left = np.concatenate([left, turned_left, exact_left])
    right = np.concatenate([right, turned_right, exact_right])
    if left.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    nodes, inverse = np.unique(np.concatenate([left, right]), return_inverse=True)
    a, b = inverse[: left.size], inverse[left.size :]
    labels = (_components if chain else _around_representatives)(nodes.size, a, b)
    return nodes, labels


def _verified_groups(
    store: Store,
    algorithm: str,
    ids: np.ndarray,
    codes: np.ndarray,
    max_distance: int,
    keep: str,
    rule: MatchRule,
    pairs: PairFinder | None,
    turned_left: np.ndarray,
    turned_right: np.ndarray,
    exact_left: np.ndarray,
    exact_right: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """With a rule: groups around verified keepers (``keeper_groups``), the near hashes of each
    keeper's views (``_view_rows``) looked up as it is chosen rather than every pair listed
    first. Only files with a candidate are ranked, read and verified: the others stay alone
    whatever the order. Their files (to rank them) and then their signatures are read apart
    (not as full records, signature bytes and hash objects for each: 3 GiB at a million dense
    files), the files let go before the signatures come (half a GiB at a million). Returns the
    node ids and their group labels."""
    from pixdex.catalog.keeper_groups import (  # numba: when used
        EXACT,
        PLAIN,
        TURNED,
        listed_pairs,
        node_rows,
        verified_around_keepers,
    )
    from pixdex.index.neighbours import has_neighbour, neighbour_tables

    listed_ids = np.concatenate([turned_left, turned_right, exact_left, exact_right])
    row_ids, row_codes = _view_rows(store, algorithm, ids, codes)
    if pairs is None:
        near = has_neighbour(neighbour_tables(row_codes, max_distance), row_ids)
        hashed = np.unique(row_ids[near])
        # Nodes with a near hash first (sorted: a row's node is found by its file id), then
        # files only byte-identical or turned to one.
        nodes = np.concatenate([hashed, np.setdiff1d(listed_ids, hashed)])
        kept = np.isin(row_ids, hashed)
        tables = neighbour_tables(row_codes[kept], max_distance)
        owners = np.searchsorted(hashed, row_ids[kept])
        plain_left = plain_right = np.zeros(0, np.int64)
    else:
        # Pairs found elsewhere (the engine's self-join of every view's rows): every candidate
        # is a listed pair, and the tables are empty.
        left_rows, right_rows, _ = pairs(row_codes, None, max_distance)
        plain_left, plain_right = row_ids[left_rows], row_ids[right_rows]
        other = plain_left != plain_right  # not two views of one file
        plain_left, plain_right = plain_left[other], plain_right[other]
        nodes = np.unique(np.concatenate([plain_left, plain_right, listed_ids]))
        tables = neighbour_tables(row_codes[:0], max_distance)
        owners = np.zeros(0, np.int64)
    if nodes.size == 0:
        return nodes, np.zeros(0, np.int64)
    files = store.files_by_id(nodes.tolist())
    ranked = _keeper_order([files.get(n) for n in nodes.tolist()], keep)
    del files
    signatures = store.signatures(nodes.tolist())
    position = {node: row for row, node in enumerate(nodes.tolist())}
    left = np.concatenate([plain_left, turned_left, exact_left])
    right = np.concatenate([plain_right, turned_right, exact_right])
    a = np.array([position[n] for n in left.tolist()], np.int64)
    b = np.array([position[n] for n in right.tolist()], np.int64)
    kinds = np.concatenate(
        [
            np.full(plain_left.size, PLAIN, np.int8),
            np.full(turned_left.size, TURNED, np.int8),
            np.full(exact_left.size, EXACT, np.int8),
        ]
    )
    listed = listed_pairs(nodes.size, a.astype(np.int64), b.astype(np.int64), kinds, signatures)
    rows = node_rows(owners, nodes.size)
    grouped = verified_around_keepers(ranked, tables, rows, listed, signatures, rule.verifier)
    return nodes, grouped.labels


def _view_rows(
    store: Store, algorithm: str, ids: np.ndarray, codes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The file id and code of every candidate view of the files: the ``algorithm``'s own
    (``ids``, ``codes``), and inside the margins and the centre (``candidate_views``: borders
    and crops, as the search proposes candidates) when the catalog holds them. A view equal to
    another of its file is left out (a picture without margins: its trimmed view is the whole)."""
    held = store.algorithms()
    row_ids, row_codes = [ids], [codes]
    for view in candidate_views(algorithm):
        if view != algorithm and view in held:
            view_ids, view_codes, _ = store.codes(view, 0)
            row_ids.append(view_ids)
            row_codes.append(view_codes)
    if len(row_ids) == 1:
        return ids, codes
    all_ids = np.concatenate(row_ids)
    all_codes = np.concatenate(row_codes)
    order = np.lexsort((*all_codes.T[::-1], all_ids))
    repeated = np.zeros(order.size, bool)
    repeated[1:] = (all_ids[order[1:]] == all_ids[order[:-1]]) & np.all(
        all_codes[order[1:]] == all_codes[order[:-1]], axis=1
    )
    first = np.sort(order[~repeated])
    return all_ids[first], all_codes[first]


def _digest_pairs(digest_groups: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Each byte-identical file paired with the first of its digest group (a star: enough to
    connect them, and every member is at distance 0 of the centre)."""
    left = [group[0] for group in digest_groups for _ in group[1:]]
    right = [member for group in digest_groups for member in group[1:]]
    return np.asarray(left, np.int64), np.asarray(right, np.int64)


def _components(count: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(a.size, np.int8), (a, b)), shape=(count, count))
    return connected_components(graph, directed=False)[1]


def _around_representatives(count: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Labels from greedy star cover: the ungrouped node with most neighbours (then the lowest
    index) takes its ungrouped neighbours, until every node is grouped."""
    from scipy.sparse import coo_matrix

    graph = coo_matrix((np.ones(a.size, np.int8), (a, b)), shape=(count, count)).tocsr()
    graph = (graph + graph.T).tocsr()
    degree = np.diff(graph.indptr)
    labels = np.full(count, -1, dtype=np.int64)
    for node in np.lexsort((np.arange(count), -degree)).tolist():
        if labels[node] >= 0:
            continue
        labels[node] = node
        neighbours = graph.indices[graph.indptr[node] : graph.indptr[node + 1]]
        free = neighbours[labels[neighbours] < 0]
        labels[free] = node
    return labels


def _hash_values(ids: np.ndarray, codes: np.ndarray, wanted: np.ndarray) -> dict[int, int]:
    """The hash (as an integer) of each file of ``wanted`` that has one among ``ids`` /
    ``codes`` (the store's ``codes``: uint64 words, most significant first)."""
    if ids.size == 0:
        return {}
    order = np.argsort(ids, kind="stable")
    rows = order[np.searchsorted(ids, wanted, sorter=order).clip(0, ids.size - 1)]
    found = ids[rows] == wanted
    rows = rows[found]
    if codes.shape[1] == 1:
        values = codes[rows, 0].tolist()
    else:
        values = [int.from_bytes(codes[row].astype(">u8").tobytes(), "big") for row in rows]
    return dict(zip(wanted[found].tolist(), values, strict=True))


def _group(
    files: dict[int, StoredFile],
    ids: list[int],
    values: dict[int, int],
    keep: str,
    turned: dict[int, list[Hash]],
) -> DuplicateGroup:
    """The group of files ``ids`` (those still catalogued), keeper first; ``values`` holds
    their hashes (``_hash_values``), ``turned`` the turned orientations' hashes of the files
    grouped through one."""
    present = [(i, files[i]) for i in ids if i in files]  # a file removed meanwhile
    if len(present) < 2:
        return DuplicateGroup(())
    keeper_id, keeper = min(present, key=lambda item: _keep_rank(item[1], keep))
    # A file catalogued without this algorithm's hash (indexed with other algorithms) is only
    # here as a byte-identical copy: it borrows the hash of its twin.
    by_digest = {f.digest: values[i] for i, f in present if i in values}
    keeper_value = values.get(keeper_id, by_digest.get(keeper.digest))
    members = []
    for file_id, file in present:
        exact = file.digest is not None and file.digest == keeper.digest
        own_value = values.get(file_id, by_digest.get(file.digest))
        # Without any hash in the group, its only links are equal digests: all exact.
        distance = (
            0
            if exact or own_value is None or keeper_value is None
            else (keeper_value ^ own_value).bit_count()
        )
        if not exact and keeper_value is not None and file_id in turned:
            # its nearest orientation
            distance = min((keeper_value ^ h.value).bit_count() for h in turned[file_id])
        members.append(
            DuplicateMember(
                file_id=file_id,
                path=file.path,
                distance=distance,
                exact=exact,
                size=file.size,
                width=file.width or 0,
                height=file.height or 0,
                format=file.format,
                mtime_ns=file.mtime_ns,
                digest=file.digest,
            )
        )
    members.sort(key=lambda m: (m.file_id != keeper_id, m.distance, m.path))
    return DuplicateGroup(tuple(members))


def _keep_rank(file: StoredFile, keep: str) -> tuple:
    """Sort key whose minimum is the keeper under policy ``keep``."""
    if keep == "largest":
        primary: tuple = (-(file.width or 0) * (file.height or 0), -file.size)
    elif keep == "newest":
        primary = (-file.mtime_ns,)
    elif keep == "oldest":
        primary = (file.mtime_ns,)
    else:
        primary = (len(file.path),)
    return (*primary, file.path)


def _keeper_order(files: list[StoredFile | None], keep: str) -> np.ndarray:
    """Positions in ``files``, best keeper first: ``_keep_rank``'s order, sorted as arrays (a
    Python key per file took seconds at a million). A file removed meanwhile (None) ranks last."""
    known = [f for f in files if f is not None]
    missing = np.array([f is None for f in files], bool)
    paths = np.array([f.path for f in known], str)
    if keep == "largest":
        pixels = np.array([(f.width or 0) * (f.height or 0) for f in known], np.int64)
        keys: tuple[np.ndarray, ...] = (-pixels, -np.array([f.size for f in known], np.int64))
    elif keep in ("newest", "oldest"):
        mtimes = np.array([f.mtime_ns for f in known], np.int64)
        keys = (-mtimes if keep == "newest" else mtimes,)
    else:
        keys = (np.array([len(f.path) for f in known], np.int64),)
    order = np.lexsort((paths, *reversed(keys)))
    return np.concatenate([np.flatnonzero(~missing)[order], np.flatnonzero(missing)])
