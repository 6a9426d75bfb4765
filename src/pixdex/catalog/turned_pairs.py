"""Duplicate pairs between a file and another file's mirrored or rotated orientation.

``pixdex dupes --flips`` finds copies that were mirrored or turned by a quarter. The catalog stores
one hash per file, in the file's own orientation, and nothing is added at index time: each file is
decoded again here and hashed in its seven other orientations (the same eight as ``search
--flips``), and every turned hash is looked up in an index of the stored ones. That costs one
decode per file, on every core; the self-join of the stored hashes still finds everything else.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from pixdex.catalog.orientations import query_pictures
from pixdex.catalog.store import FileRecord
from pixdex.errors import ImageError
from pixdex.hashing import Hash
from pixdex.index import build_index

CHUNK_FILES = 16
"""Files per task sent to a worker process."""


@dataclass(frozen=True)
class TurnedPairs:
    """Pairs ``(left[i], right[i])`` where a turned orientation of ``left`` is near ``right``,
    and every file's hashes in its eight orientations (``turned``: file id → hashes, identity
    first), used to report each member's distance in its nearest orientation."""

    left: np.ndarray
    right: np.ndarray
    turned: dict[int, list[Hash]]


def turned_pairs(
    records: dict[int, FileRecord],
    ids: np.ndarray,
    codes: np.ndarray,
    algorithm: str,
    max_distance: int,
    workers: int | None = None,
) -> TurnedPairs:
    """Pairs within ``max_distance`` bits between a turned orientation of one file and another
    file's stored ``algorithm`` hash. Files that can no longer be read are left out."""
    order = [int(i) for i in ids if int(i) in records]
    paths = [records[i].path for i in order]
    count = workers or len(os.sched_getaffinity(0))
    chunks = [paths[s : s + CHUNK_FILES] for s in range(0, len(paths), CHUNK_FILES)]
    if count > 1 and len(chunks) > 1:
        from concurrent.futures import ProcessPoolExecutor  # imported only when used: start-up

        with ProcessPoolExecutor(count) as pool:
            hashed = [
                h
                for part in pool.map(_orientations, chunks, [algorithm] * len(chunks))
                for h in part
            ]
    else:
        hashed = [h for part in chunks for h in _orientations(part, algorithm)]
    turned = {file_id: hashes for file_id, hashes in zip(order, hashed, strict=True) if hashes}
    owners = [file_id for file_id, hashes in turned.items() for _ in hashes[1:]]
    if not owners or len(ids) == 0:
        empty = np.zeros(0, np.int64)
        return TurnedPairs(empty, empty, turned)
    queries = np.stack([h.words for hashes in turned.values() for h in hashes[1:]])
    lims, hits, _ = build_index(codes, ids).range_search_batch(queries, max_distance)
    left = np.repeat(np.asarray(owners, np.int64), np.diff(lims))
    keep = left != hits  # a symmetric picture matches itself turned
    return TurnedPairs(left[keep], hits[keep], turned)


def _orientations(paths: list[str], algorithm: str) -> list[list[Hash]]:
    """Each file's hashes in its eight orientations; an empty list for an unreadable file."""
    out = []
    for path in paths:
        try:
            out.append([p.hashes[algorithm] for p in query_pictures(path, [algorithm], flips=True)])
        except ImageError:
            out.append([])
    return out
