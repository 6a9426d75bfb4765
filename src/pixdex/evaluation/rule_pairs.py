"""The matching rule measured as shipped: candidates as ``Catalog.search`` proposes them, verified.

``pixdex eval`` (modes ``rule`` and ``rule+flips``), ``python -m benchmarks quality`` and
``python -m benchmarks precision`` all measure the rule here, so that what they report is what a
search answers:

1. Each picture's hashes of the candidate views (``pixdex.matching.candidate_views``: the whole,
   trimmed and centre dHash) and its content signature are made by the function the catalog's
   searches use (``pixdex.catalog.orientations.query_pictures``), in one or eight orientations.
2. **Candidates** (``candidate_pairs``): every orientation of a query within the rule's radius of
   a file's stored (identity) hashes in any pair of views, near-blank pictures included, as
   ``Catalog.search`` finds them.
3. **Verification** (``signature_table`` → ``pixdex.matching.verify_pairs``): a candidate is
   accepted when its signature agrees with the signature of an orientation that found it, or
   with one of that orientation's views cut from the picture's pixels, in the uncut alignment
   (``pixdex.matching.cut_views``), as a search verifies (``verified_pairs``).

``rule_distances`` turns the verdicts into a distance matrix, so that the evaluation's curves
(recall, others per query, false matches, by distance) apply unchanged: a pair's distance is its
nearest verified candidate distance, and "never" (``bits + 1``) when no orientation was verified
within the radius. At ``d`` = the rule's radius it is exactly the catalog's answer; below it, the
rule with a smaller candidate radius; above it, nothing more is proposed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from PIL import Image

from pixdex.catalog.defaults import DEFAULT_ALGORITHM
from pixdex.catalog.orientations import query_pictures
from pixdex.evaluation.measure import distance_matrix
from pixdex.evaluation.protocol import Scheme
from pixdex.hashing import get_algorithm
from pixdex.matching import MatchRule, candidate_views
from pixdex.matching.cut_views import NEAREST, VIEWS, cut_view_signatures, packed_views
from pixdex.signature import SIGNATURE_BYTES

SIGNATURE_WORDS = -(-SIGNATURE_BYTES // 8)
"""A signature packed into uint64 words (zero-padded) to travel in a ``Scheme``'s codes."""

_CHUNK_CELLS = 16_000_000
"""Query-view × file-view distances computed per step of ``candidate_pairs`` (int16 each)."""


@dataclass(frozen=True)
class RuleFeatures:
    """What the rule reads of ``n`` pictures, each in ``k`` orientations (identity first):
    ``codes`` ``(n, k, views, words)`` uint64, the candidate views' hashes, ``signatures``
    ``(n, k, SIGNATURE_BYTES)`` uint8, and ``cut_views`` ``(n, k, cut_views.VIEWS,
    SIGNATURE_BYTES)`` uint8, the signatures of the views a search cuts from a query's pixels
    (a missing one zeros)."""

    codes: np.ndarray
    signatures: np.ndarray
    cut_views: np.ndarray

    def identity(self) -> RuleFeatures:
        """The identity orientation only: a query searched without flips."""
        return RuleFeatures(self.codes[:, :1], self.signatures[:, :1], self.cut_views[:, :1])

    def stored(self) -> RuleFeatures:
        """The identity orientation only, without cut views: what a catalog stores of a file."""
        return RuleFeatures(self.codes[:, :1], self.signatures[:, :1], self.cut_views[:, :1, :0])


def rule_scheme(
    algorithm: str = DEFAULT_ALGORITHM, *, flips: bool = False, with_cut_views: bool = True
) -> Scheme:
    """The rule's features of a picture as a ``Scheme`` (so that the evaluation's one decoding
    pass makes them beside the hash schemes): per orientation (eight with ``flips``), the
    candidate views' hash words followed by the signature and then its cut views
    (``pixdex.matching.cut_views``), each packed into words. Never declines a
    picture: the rule leaves none out. ``unpack`` reads the codes back. The codes are also made
    of an image file (a path), decoded as ``Catalog.search`` decodes a query file. Without
    ``with_cut_views`` the cut views are left zero (pictures only stored, never searched with:
    four signatures fewer each)."""
    views = candidate_views(algorithm)
    chosen = get_algorithm(algorithm)
    bits = chosen.bits(chosen.default_size)

    def codes(picture: Image.Image | str | os.PathLike[str]) -> np.ndarray:
        pictures = query_pictures(picture, views, flips=flips, signatures=True)
        rows = []
        for oriented in pictures:
            packed = np.zeros((1 + VIEWS, SIGNATURE_WORDS * 8), np.uint8)
            packed[0, :SIGNATURE_BYTES] = np.frombuffer(oriented.signature or b"", np.uint8)
            if with_cut_views:
                packed[1:, :SIGNATURE_BYTES] = packed_views(cut_view_signatures(oriented.pixels))
            words = [oriented.hashes[v].words for v in views]
            rows.append(np.concatenate([*words, packed.ravel().view(np.uint64)]))
        return np.stack(rows)

    name = f"rule~{algorithm}" + ("~flips" if flips else "")
    return Scheme(name, bits, codes)


def unpack(codes: np.ndarray, algorithm: str = DEFAULT_ALGORITHM) -> RuleFeatures:
    """``rule_scheme``'s ``(n, k, words)`` codes as ``RuleFeatures``."""
    views = len(candidate_views(algorithm))
    chosen = get_algorithm(algorithm)
    words = -(-chosen.bits(chosen.default_size) // 64)
    n, k, _ = codes.shape
    hashes = codes[:, :, : views * words].reshape(n, k, views, words)
    packed = np.ascontiguousarray(codes[:, :, views * words :]).view(np.uint8)
    packed = packed.reshape(n, k, 1 + VIEWS, SIGNATURE_WORDS * 8)[..., :SIGNATURE_BYTES]
    return RuleFeatures(hashes, packed[:, :, 0], packed[:, :, 1:])


def candidate_pairs(queries: np.ndarray, files: np.ndarray, radius: int) -> np.ndarray:
    """``(p, 4)`` int64 rows ``(query, orientation, file, distance)``: every orientation of a
    query within ``radius`` bits of a file in any pair of views, at the nearest pair's distance
    (``Catalog.search``'s candidates; each such orientation is one the catalog verifies).

    ``queries`` ``(m, k, views, words)``: the queries' orientations; ``files`` ``(n, views,
    words)``: the files' stored hashes.
    """
    m, k, views, words = queries.shape
    n = files.shape[0]
    flat_files = files.reshape(n * views, words)
    step = max(1, _CHUNK_CELLS // max(1, k * views * n * views))
    out = [np.zeros((0, 4), np.int64)]
    for start in range(0, m, step):
        block = queries[start : start + step]
        b = block.shape[0]
        flat = distance_matrix(block.reshape(b * k * views, words), flat_files)
        nearest = flat.reshape(b, k, views, n, views).min(axis=(2, 4))
        q, t, j = np.nonzero(nearest <= radius)
        out.append(np.stack([q + start, t, j, nearest[q, t, j]], 1).astype(np.int64))
    return np.concatenate(out)


def signature_table(
    queries: np.ndarray, files: np.ndarray, pairs: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The one signature table and ``(p, 2)`` row pairs (query orientation, file) that
    ``pixdex.matching.verify_pairs`` / ``scores_pairs`` compare for ``candidate_pairs``' rows.

    ``queries`` ``(m, k, SIGNATURE_BYTES)``, ``files`` ``(n, SIGNATURE_BYTES)``.
    """
    m, k, _ = queries.shape
    n = files.shape[0]
    table = np.concatenate([files, queries.reshape(m * k, SIGNATURE_BYTES)])
    rows = np.stack([n + pairs[:, 0] * k + pairs[:, 1], pairs[:, 2]], 1)
    return table, rows


def rule_distances(
    queries: RuleFeatures, files: RuleFeatures, rule: MatchRule, bits: int
) -> np.ndarray:
    """``(m, n)`` int16: each query's nearest candidate distance to each file among the
    orientations the rule verified, ``bits + 1`` where none was (see the module's docstring).
    ``files`` are read in their identity orientation, as a catalog stores them."""
    files = files.stored()
    pairs = candidate_pairs(queries.codes, files.codes[:, 0], rule.radius_for(bits))
    accepted = pairs[verified_pairs(queries, files.signatures[:, 0], pairs, rule)]
    out = np.full((queries.codes.shape[0], files.codes.shape[0]), bits + 1, np.int16)
    np.minimum.at(out, (accepted[:, 0], accepted[:, 2]), accepted[:, 3].astype(np.int16))
    return out


def verified_pairs(
    queries: RuleFeatures, files: np.ndarray, pairs: np.ndarray, rule: MatchRule
) -> np.ndarray:
    """``(p,)`` bool: ``candidate_pairs``' rows the rule accepts, as a search does: the query
    orientation's signature in every alignment, or any of its cut views in the uncut one (on the
    ``tried_with_views`` rows: nearer than every file the signature accepted).
    ``files`` ``(n, SIGNATURE_BYTES)``."""
    from pixdex.matching import verify_pairs  # compiled (numba): loaded by rule modes only

    table, rows = signature_table(queries.signatures, files, pairs)
    accepted = verify_pairs(table, rows, rule.verifier)
    tried = tried_with_views(pairs, accepted)
    for view in range(queries.cut_views.shape[2]):
        left = tried & ~accepted
        table, rows = signature_table(queries.cut_views[:, :, view], files, pairs[left])
        accepted[left] = verify_pairs(table, rows, rule.verifier, uncut=True)
    return accepted


def tried_with_views(pairs: np.ndarray, accepted: np.ndarray) -> np.ndarray:
    """``(p,)`` bool: the ``candidate_pairs`` rows a search tries its cut views on — of the rows
    its signature rejected whose file lies nearer than every file it ``accepted`` (all, when it
    accepted none), each query orientation's ``cut_views.NEAREST`` nearest (by distance, then
    file). A file's distance is the nearest over the query's orientations, as a search has it."""
    out = np.zeros(len(pairs), bool)
    if len(pairs) == 0:
        return out
    files = pairs[:, 2].max() + 1
    searched, inverse = np.unique(pairs[:, 0] * files + pairs[:, 2], return_inverse=True)
    nearest = np.full(len(searched), np.iinfo(np.int64).max)
    np.minimum.at(nearest, inverse, pairs[:, 3])
    distance = nearest[inverse]
    match = np.full(pairs[:, 0].max() + 1, np.iinfo(np.int64).max)
    np.minimum.at(match, pairs[accepted, 0], distance[accepted])
    open_rows = np.flatnonzero(~accepted & (distance < match[pairs[:, 0]]))
    rows = pairs[open_rows]
    order = np.lexsort((rows[:, 2], distance[open_rows], rows[:, 1], rows[:, 0]))
    rows, open_rows = rows[order], open_rows[order]
    starts = np.r_[True, np.any(rows[1:, :2] != rows[:-1, :2], axis=1)]
    position = np.arange(len(rows))
    first = np.maximum.accumulate(np.where(starts, position, 0))
    out[open_rows[position - first < NEAREST]] = True
    return out
