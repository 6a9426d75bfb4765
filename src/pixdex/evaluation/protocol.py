"""The evaluation protocol: hash originals and edited copies of them, then measure.

One pass over the originals: each is decoded (at most ``max_side`` pixels per side, so a thousand
4K photos fit in memory one at a time), hashed by every scheme, and — when it is one of the query
originals — edited every way asked for, each copy hashed too. The hashes are kept; the images are
not. Distances, curves and reports are then computed from the hashes alone, so comparing ten
schemes costs one decoding pass.

A *scheme* is anything that turns a picture into one or more hash codes: a registered algorithm at
a size, or a variation to try (trimmed margins, an extra hash of the centre). Two pictures'
distance is the smallest distance between any of their codes. A scheme may also decline to hash a
picture (a near-blank image whose bits are noise): such pictures never match anything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from pixdex.evaluation.edits import EDITS, apply_edit, load_rgb
from pixdex.evaluation.measure import (
    EditQuality,
    QualityReport,
    distance_matrix,
    pair_false_match_rate,
    query_curves,
)
from pixdex.hashing import get_algorithm

CodesOf = Callable[[Image.Image], np.ndarray | None]
"""Picture → ``(k, w)`` uint64 codes (``k`` ≥ 1 hashes of ``w`` words), or None to decline."""

DEFAULT_EDITS = [
    "red-square",
    "shapes-text",
    "resize-50",
    "jpeg-30",
    "crop-10",
    "brightness",
    "blur",
    "grayscale",
    "border",
    "squash",
]
"""The edits of the quality bar: what a near-duplicate search must see through."""


@dataclass(frozen=True)
class Scheme:
    """A named way to hash a picture: ``codes(image)`` gives ``(k, words)`` codes of ``bits``."""

    name: str
    bits: int
    codes: CodesOf


def algorithm_scheme(
    name: str, hash_size: int | None = None, *, skip_degenerate: bool = False
) -> Scheme:
    """A registered algorithm at ``hash_size`` (its default when None) as a one-code scheme.

    With ``skip_degenerate``, pictures whose hash is degenerate (quality < LOW_QUALITY) are
    declined: they are neither indexed nor searched.
    """
    algorithm = get_algorithm(name)
    size = hash_size or algorithm.default_size

    def codes(image: Image.Image) -> np.ndarray | None:
        value = algorithm.compute(image, size)
        if skip_degenerate and value.is_degenerate:
            return None
        return value.words[np.newaxis, :]

    label = f"{name}{size}" + ("-skipdegenerate" if skip_degenerate else "")
    return Scheme(label, algorithm.bits(size), codes)


@dataclass(frozen=True)
class HashedSample:
    """Hashes of originals and of their edited copies, per scheme.

    ``index[s]`` ``(n, k, w)`` and ``queries[s]`` ``(m, k, w)`` are scheme ``s``'s codes;
    ``index_ok[s]`` / ``query_ok[s]`` say which pictures the scheme hashed (declined rows hold
    zeros and never match). ``sources[i]`` is the index row query ``i`` was made from and
    ``edits[i]`` the edit that made it; ``groups`` labels the originals' pictures.
    """

    paths: list[Path]
    groups: np.ndarray
    sources: np.ndarray
    edits: np.ndarray
    bits: dict[str, int]
    index: dict[str, np.ndarray]
    index_ok: dict[str, np.ndarray]
    queries: dict[str, np.ndarray]
    query_ok: dict[str, np.ndarray]
    skipped: tuple[tuple[Path, str], ...] = ()


UNREADABLE = (OSError, ValueError, EOFError, Image.DecompressionBombError)
"""What Pillow raises for a file it cannot decode (broken, truncated, not an image, too large)."""

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(done, total)`` with the number of originals processed so far."""


def edit_seed(seed: int, row: int, edit: str) -> int:
    """The seed of one edited copy: fixed by the run's seed, the original and the edit name."""
    entropy = [seed, row, *edit.encode()]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def hash_sample(
    paths: Sequence[str | Path],
    schemes: Sequence[Scheme],
    query_rows: Sequence[int],
    edits: Sequence[str] = tuple(DEFAULT_EDITS),
    *,
    seed: int = 0,
    max_side: int = 1024,
    groups: Sequence[str] | None = None,
    load: Callable[[Path, int], Image.Image] = load_rgb,
    skip_unreadable: bool = False,
    progress: ProgressCallback | None = None,
) -> HashedSample:
    """Hash every original and, for the originals at ``query_rows``, every edited copy.

    ``groups`` labels pictures (default: every path its own picture). ``load(path, max_side)``
    decodes a file to RGB (default: the evaluation's loader: EXIF orientation, white behind
    transparency). With ``skip_unreadable``, a file that cannot be decoded is left out (listed in
    ``skipped`` with the reason; the rows after it move up) instead of raising. ``progress`` is
    called after each original.
    """
    unknown = [e for e in edits if e not in EDITS]
    if unknown:
        raise ValueError(f"unknown edit(s) {unknown}; choose from: {', '.join(EDITS)}")
    paths = [Path(p) for p in paths]
    labels = [str(p) for p in paths] if groups is None else list(groups)
    queried = set(query_rows)
    index: dict[str, list] = {s.name: [] for s in schemes}
    queries: dict[str, list] = {s.name: [] for s in schemes}
    sources, edit_names = [], []
    kept, kept_labels, skipped = [], [], []
    for row, path in enumerate(paths):
        try:
            image = load(path, max_side)
        except UNREADABLE as error:
            if not skip_unreadable:
                raise
            skipped.append((path, f"{type(error).__name__}: {error}"))
        else:
            kept.append(path)
            kept_labels.append(labels[row])
            for scheme in schemes:
                index[scheme.name].append(scheme.codes(image))
            # The seed follows the input row, so a skipped file does not change the other edits.
            for edit in edits if row in queried else ():
                copy = apply_edit(edit, image, edit_seed(seed, row, edit))
                for scheme in schemes:
                    queries[scheme.name].append(scheme.codes(copy))
                sources.append(len(kept) - 1)
                edit_names.append(edit)
        if progress:
            progress(row + 1, len(paths))
    index_arrays, index_ok, query_arrays, query_ok = {}, {}, {}, {}
    for scheme in schemes:
        index_arrays[scheme.name], index_ok[scheme.name] = _stack(index[scheme.name], scheme)
        query_arrays[scheme.name], query_ok[scheme.name] = _stack(queries[scheme.name], scheme)
    return HashedSample(
        paths=kept,
        groups=np.array(kept_labels),
        sources=np.array(sources, dtype=np.int64),
        edits=np.array(edit_names, dtype=str),
        bits={s.name: s.bits for s in schemes},
        index=index_arrays,
        index_ok=index_ok,
        queries=query_arrays,
        query_ok=query_ok,
        skipped=tuple(skipped),
    )


def _stack(rows: list[np.ndarray | None], scheme: Scheme) -> tuple[np.ndarray, np.ndarray]:
    ok = np.array([r is not None for r in rows], dtype=bool)
    shapes = {r.shape for r in rows if r is not None}
    if len(shapes) > 1:
        raise ValueError(f"scheme {scheme.name} gave codes of different shapes: {sorted(shapes)}")
    shape = shapes.pop() if shapes else (1, -(-scheme.bits // 64))
    out = np.zeros((len(rows), *shape), dtype=np.uint64)
    for i, r in enumerate(rows):
        if r is not None:
            out[i] = r
    return out, ok


def picture_distances(
    a: np.ndarray, a_ok: np.ndarray, b: np.ndarray, b_ok: np.ndarray, bits: int
) -> np.ndarray:
    """``(m, n)`` distances between pictures with ``(m, k, w)`` and ``(n, l, w)`` codes: the
    smallest over their code pairs; ``bits + 1`` ("never") where either picture was declined."""
    m, per_a, w = a.shape
    n, per_b, _ = b.shape
    flat = distance_matrix(a.reshape(m * per_a, w), b.reshape(n * per_b, w))
    best = flat.reshape(m, per_a, n, per_b).min(axis=(1, 3))
    never = ~(a_ok[:, np.newaxis] & b_ok[np.newaxis, :])
    best[never] = bits + 1
    return best


def sample_distances(sample: HashedSample, scheme: str) -> tuple[np.ndarray, np.ndarray]:
    """A scheme's query × index ``(m, n)`` and index × index ``(n, n)`` picture distances."""
    bits = sample.bits[scheme]
    index, index_ok = sample.index[scheme], sample.index_ok[scheme]
    queries = picture_distances(
        sample.queries[scheme], sample.query_ok[scheme], index, index_ok, bits
    )
    originals = picture_distances(index, index_ok, index, index_ok, bits)
    return queries, originals


def report_from_distances(
    sample: HashedSample, name: str, bits: int, queries: np.ndarray, originals: np.ndarray
) -> QualityReport:
    """The quality report of any distance matrices over ``sample`` (a scheme's, or a
    combination of schemes' such as a candidate hash confirmed by a finer one)."""
    edits = {}
    for edit in dict.fromkeys(sample.edits.tolist()):
        rows = sample.edits == edit
        recall, others = query_curves(queries[rows], sample.sources[rows], sample.groups, bits)
        edits[edit] = EditQuality(edit, int(rows.sum()), recall, others)
    return QualityReport(
        scheme=name,
        bits=bits,
        originals=len(sample.paths),
        edits=edits,
        false_match_rate=pair_false_match_rate(originals, sample.groups, bits),
    )


def scheme_report(sample: HashedSample, scheme: str) -> QualityReport:
    """The quality report of one hashed scheme."""
    queries, originals = sample_distances(sample, scheme)
    return report_from_distances(sample, scheme, sample.bits[scheme], queries, originals)


def evaluate(
    paths: Sequence[str | Path],
    algorithm: str = "dhash",
    hash_size: int | None = None,
    edits: Sequence[str] = tuple(DEFAULT_EDITS),
    *,
    queries: int | None = None,
    seed: int = 0,
    max_side: int = 1024,
    groups: Sequence[str] | None = None,
) -> QualityReport:
    """Measure one algorithm on image files: every file is an original; ``queries`` of them
    (all when None; a seeded sample otherwise) are edited every way in ``edits`` and searched."""
    rows = np.arange(len(paths))
    if queries is not None and queries < len(paths):
        rows = np.sort(np.random.default_rng(seed).choice(len(paths), queries, replace=False))
    scheme = algorithm_scheme(algorithm, hash_size)
    sample = hash_sample(
        paths, [scheme], rows.tolist(), edits, seed=seed, max_side=max_side, groups=groups
    )
    return scheme_report(sample, scheme.name)
