"""How well a hash and a distance threshold separate near-duplicates from different pictures.

Everything here takes packed codes or distance matrices (numpy arrays) and returns curves indexed
by the Hamming distance threshold ``d = 0 .. bits``: a pair "matches at d" when its distance is
≤ d. Three curves answer the questions a user asks when choosing a threshold:

- **recall[d]**: the fraction of edited copies within ``d`` of their own original (true matches
  found);
- **false_match_rate[d]**: the fraction of pairs of *different* pictures within ``d`` (the chance
  that two unrelated images are reported as duplicates);
- **others[d]**: how many index images that are *not* the query's picture come back, on average,
  when a query is searched at distance ``d``: what a user scrolls through besides the answer.

Pictures are identified by ``groups`` labels: images sharing a label are the same picture (a
wallpaper and its screenshot, an icon at two sizes), so they are neither false matches nor
"others".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pixdex.bits import hamming

_CHUNK_CELLS = 4_000_000
"""Distance-matrix cells computed per step: bounds the temporary ``(rows, n, words)`` array."""


def distance_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamming distances (bits) between every row of ``a`` ``(m, w)`` and of ``b`` ``(n, w)``.

    Returns an ``(m, n)`` ``int16`` array, computed in row blocks so memory stays bounded.
    """
    a = np.asarray(a, dtype=np.uint64)
    b = np.asarray(b, dtype=np.uint64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"code arrays must be (m, w) and (n, w), got {a.shape} and {b.shape}")
    out = np.empty((a.shape[0], b.shape[0]), dtype=np.int16)
    step = max(1, _CHUNK_CELLS // max(1, b.shape[0] * b.shape[1]))
    for start in range(0, a.shape[0], step):
        block = a[start : start + step, np.newaxis, :]
        out[start : start + step] = hamming(b[np.newaxis, :, :], block)
    return out


def cumulative_fraction(distances: np.ndarray, bits: int) -> np.ndarray:
    """``out[d]`` = fraction of ``distances`` ≤ ``d`` for ``d = 0 .. bits`` (0s when empty).

    Distances above ``bits`` (a "never matches" marker) count in the denominator only.
    """
    distances = np.asarray(distances).ravel()
    if distances.size == 0:
        return np.zeros(bits + 1)
    counts = np.bincount(np.clip(distances, 0, bits + 1), minlength=bits + 2)[: bits + 1]
    return np.cumsum(counts) / distances.size


@dataclass(frozen=True)
class EditQuality:
    """Recall and others-per-query curves of one edit (index ``d`` = distance threshold)."""

    edit: str
    queries: int
    recall: np.ndarray
    others: np.ndarray


@dataclass(frozen=True)
class QualityReport:
    """The measurement of one hashing scheme on one set of originals and edited copies.

    ``false_match_rate[d]`` is over all pairs of originals showing different pictures.
    """

    scheme: str
    bits: int
    originals: int
    edits: dict[str, EditQuality]
    false_match_rate: np.ndarray

    def recall_at(self, distance: int, edits: list[str] | None = None) -> float:
        """Fraction of all queries (of the named edits) that find their source at ``distance``."""
        chosen = [self.edits[e] for e in edits or self.edits]
        total = sum(q.queries for q in chosen)
        return sum(q.recall[distance] * q.queries for q in chosen) / total if total else 0.0

    def others_at(self, distance: int, edits: list[str] | None = None) -> float:
        """Average number of other pictures returned per query at ``distance``."""
        chosen = [self.edits[e] for e in edits or self.edits]
        total = sum(q.queries for q in chosen)
        return sum(q.others[distance] * q.queries for q in chosen) / total if total else 0.0

    def recommended_distance(self, target_false_match_rate: float) -> int:
        """The largest threshold whose false-match rate stays ≤ the target (−1 if none does)."""
        return recommended_distance(self.false_match_rate, target_false_match_rate)


def recommended_distance(false_match_rate: np.ndarray, target: float) -> int:
    """The largest ``d`` with ``false_match_rate[d] ≤ target``; −1 when even ``d = 0`` fails.

    The curve is non-decreasing in ``d``, so this is the most forgiving threshold the target
    allows: it maximises recall for that false-match budget.
    """
    within = np.flatnonzero(np.asarray(false_match_rate) <= target)
    return int(within[-1]) if within.size else -1


def query_curves(
    distances: np.ndarray, sources: np.ndarray, groups: np.ndarray, bits: int
) -> tuple[np.ndarray, np.ndarray]:
    """Recall and others-per-query curves from a query × index distance matrix.

    ``distances`` ``(m, n)``: each query's distance to each index image (values above ``bits``
    mean "never matches"); ``sources`` ``(m,)``: the index row of each query's original;
    ``groups`` ``(n,)``: picture labels of the index rows.
    """
    distances = np.asarray(distances)
    sources = np.asarray(sources)
    groups = np.asarray(groups)
    m = distances.shape[0]
    own = distances[np.arange(m), sources]
    recall = cumulative_fraction(own, bits)
    # An index image is an "other" unless it shows the query's own picture.
    other = groups[np.newaxis, :] != groups[sources][:, np.newaxis]
    counts = np.bincount(np.clip(distances[other], 0, bits + 1), minlength=bits + 2)[: bits + 1]
    others = np.cumsum(counts) / max(1, m)
    return recall, others


def pair_false_match_rate(distances: np.ndarray, groups: np.ndarray, bits: int) -> np.ndarray:
    """False-match rate curve over the pairs of different pictures in a square distance matrix
    of originals (each unordered pair counted once)."""
    groups = np.asarray(groups)
    upper = np.triu_indices(len(groups), k=1)
    different = groups[upper[0]] != groups[upper[1]]
    return cumulative_fraction(np.asarray(distances)[upper][different], bits)
