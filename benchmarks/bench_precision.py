"""Issue 13: the matching rule on the hard corpus, thresholds chosen on the development half.

    python -m benchmarks precision

The corpus is ``benchmarks.hard_corpus`` (flags, graphviz diagrams that differ in their labels,
icon glyphs, stars and polygons, font glyphs, gradients, near-blank pages, drawings on a large
canvas, photos), split by source picture. 150 source pictures of each half are edited the ten ways
of the quality bar, plus mirror and a quarter turn (searched with flips). Every picture and copy is
hashed and signed with the functions the catalog uses (dHash of the whole, trimmed and centre
views; ``pixdex.signature``); candidates are the files within the rule's radius in any pair of
views, exactly as ``Catalog.search`` proposes them, and each is scored once by the compiled
verification (``pixdex.matching.scores_pairs``). The thresholds (share of content preserved,
chroma difference) are then chosen on the development half — the most sources found with at most
two other pictures per query — and the figures of both halves are printed, per kind of picture
and per edit, beside plain dHash at the original design's distance 10.

Found: the query's source (or another file of its picture) is accepted. Others: accepted files
showing a different picture, per query.
"""

from __future__ import annotations

import collections
import time
from dataclasses import dataclass

import numpy as np

from benchmarks.hard_corpus import build_hard_corpus
from pixdex.catalog.orientations import orientations
from pixdex.decode import decode_image
from pixdex.evaluation.edits import apply_edit, load_rgb
from pixdex.evaluation.protocol import DEFAULT_EDITS, edit_seed
from pixdex.hashing import get_algorithm
from pixdex.matching import DEFAULT_RULE, candidate_views, scores_pairs
from pixdex.signature import SIGNATURE_BYTES, signature

QUERIES_PER_HALF = 150
FLIP_EDITS = ["mirror", "rotate-90"]
SEED = 0
BUDGET = 2.0
VIEWS = candidate_views("dhash")


@dataclass
class Features:
    """Codes (by view) and signatures of the corpus and of the edited copies (8 orientations
    each; the edits that need no flips repeat their one orientation)."""

    codes: dict[str, np.ndarray]
    signatures: np.ndarray
    query_codes: dict[str, np.ndarray]
    query_signatures: np.ndarray
    sources: np.ndarray
    edits: np.ndarray


def picture_features(source) -> tuple[list[np.ndarray], np.ndarray]:
    """One picture's dHash views and signature, from one decode, as the catalog makes them."""
    image = decode_image(source, min_side=get_algorithm("dhash").min_side(8)).image
    codes = [get_algorithm(v).compute(image, 8).words for v in VIEWS]
    return codes, np.frombuffer(signature(image), np.uint8)


def measure_features(paths: list, query_rows: list[int]) -> Features:
    codes = {v: [] for v in VIEWS}
    signatures = []
    for path in paths:
        found, sig = picture_features(path)
        for view, code in zip(VIEWS, found, strict=True):
            codes[view].append(code)
        signatures.append(sig)
    query_codes = {v: [] for v in VIEWS}
    query_signatures, sources, edits = [], [], []
    for row in query_rows:
        image = load_rgb(paths[row], 1024)
        for edit in [*DEFAULT_EDITS, *FLIP_EDITS]:
            copy = apply_edit(edit, image, edit_seed(SEED, row, edit))
            pictures = orientations(copy) if edit in FLIP_EDITS else [copy]
            found = [picture_features(p) for p in pictures] * (8 // len(pictures))
            for k, view in enumerate(VIEWS):
                query_codes[view].append(np.stack([f[0][k] for f in found]))
            query_signatures.append(np.stack([f[1] for f in found]))
            sources.append(row)
            edits.append(edit)
    return Features(
        {v: np.stack(c) for v, c in codes.items()},
        np.stack(signatures),
        {v: np.stack(c) for v, c in query_codes.items()},
        np.stack(query_signatures),
        np.array(sources),
        np.array(edits),
    )


def popcount(words: np.ndarray) -> np.ndarray:
    return np.unpackbits(words.view(np.uint8), axis=-1).sum(-1)


def candidates(f: Features, rows: np.ndarray, radius: int, views) -> np.ndarray:
    """``(query, orientation, file, distance)`` of every file within ``radius`` of a query in
    any pair of ``views`` and any orientation searched."""
    out = []
    for flips in (False, True):
        chosen = rows[np.isin(f.edits[rows], FLIP_EDITS) == flips]
        best = turn = None
        for query_view in views:
            for file_view in views:
                for t in range(8) if flips else [0]:
                    d = popcount(
                        f.query_codes[query_view][chosen, t, None, :] ^ f.codes[file_view][None]
                    )
                    if best is None:
                        best, turn = d, np.zeros_like(d)
                    else:
                        nearer = d < best
                        best, turn = np.where(nearer, d, best), np.where(nearer, t, turn)
        q, j = np.nonzero(best <= radius)
        out.append(np.stack([chosen[q], turn[q, j], j, best[q, j]], 1))
    return np.concatenate(out).astype(np.int64)


def tally(pairs, accepted, f: Features, groups, rows, by=None) -> dict:
    """Found share and others per query, over the ten edits and over the flips."""
    same = groups[pairs[:, 2]] == groups[f.sources[pairs[:, 0]]]
    found, others = collections.defaultdict(bool), collections.Counter()
    for q, s in zip(pairs[accepted, 0].tolist(), same[accepted].tolist(), strict=True):
        if s:
            found[q] = True
        else:
            others[q] += 1
    result = {}
    for label, chosen in (
        ("edits", [r for r in rows if f.edits[r] not in FLIP_EDITS]),
        ("flips", [r for r in rows if f.edits[r] in FLIP_EDITS]),
    ):
        keys = sorted({by[r] for r in chosen}) if by else [None]
        for key in keys:
            part = [r for r in chosen if by is None or by[r] == key]
            found_share = float(np.mean([found[r] for r in part]))
            result[label, key] = (found_share, float(np.mean([others[r] for r in part])))
    return result


def accept(scores, preserved: float, chroma: float, blank_tone: float) -> np.ndarray:
    share, colour, gap = scores
    blank = gap >= 0
    verdict = np.where(blank, gap <= blank_tone, share >= preserved) & (colour <= chroma)
    return verdict & (share >= 0)


def main() -> None:
    started = time.perf_counter()
    corpus = build_hard_corpus()
    paths = [im.path for im in corpus]
    groups = np.array([im.group for im in corpus])
    kinds = np.array([im.kind for im in corpus])
    split = np.array([im.split for im in corpus])
    rng = np.random.default_rng(SEED)
    query_rows = []
    for half in ("dev", "test"):
        first = {}
        for row in np.flatnonzero(split == half).tolist():
            first.setdefault(groups[row], row)
        chosen = sorted(first.values())
        query_rows += sorted(rng.permutation(chosen)[:QUERIES_PER_HALF].tolist())
    f = measure_features(paths, query_rows)
    print(
        f"features of {len(paths)} files and {len(f.sources)} copies in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    halves = {h: np.flatnonzero(split[f.sources] == h) for h in ("dev", "test")}
    radius = DEFAULT_RULE.radius
    measured = {}
    for half, rows in halves.items():
        pairs = candidates(f, rows, radius, VIEWS)
        table = np.concatenate([f.signatures, f.query_signatures.reshape(-1, SIGNATURE_BYTES)])
        index = np.stack([len(f.signatures) + pairs[:, 0] * 8 + pairs[:, 1], pairs[:, 2]], 1)
        verifier = DEFAULT_RULE.verifier
        measured[half] = (pairs, scores_pairs(table, index, verifier.luma_tolerance))
        plain = candidates(f, rows, 10, ["dhash"])
        base = tally(plain, np.ones(len(plain), bool), f, groups, rows)
        print(
            f"{half}: plain dHash ≤ 10: {100 * base['edits', None][0]:.1f} % found, "
            f"{base['edits', None][1]:.2f} others per query",
            flush=True,
        )
    grid = [(p, c) for p in (0.8, 0.85, 0.88, 0.9, 0.92, 0.94, 0.96) for c in (4, 6, 8, 10)]
    blank = DEFAULT_RULE.verifier.blank_tone
    curve = []
    pairs, scores = measured["dev"]
    for preserved, chroma in grid:
        t = tally(pairs, accept(scores, preserved, chroma, blank), f, groups, halves["dev"])
        curve.append((t["edits", None], preserved, chroma))
        print(
            f"dev: preserved ≥ {preserved}, chroma ≤ {chroma}: "
            f"{100 * t['edits', None][0]:.1f} % found, {t['edits', None][1]:.2f} others"
        )
    within = [c for c in curve if c[0][1] <= BUDGET] or curve
    (_, preserved, chroma) = max(within, key=lambda c: (c[0][0], -c[0][1]))
    print(
        f"chosen on dev: preserved ≥ {preserved}, chroma ≤ {chroma} "
        f"(shipped: {DEFAULT_RULE.verifier.min_preserved}, {DEFAULT_RULE.verifier.max_chroma})"
    )
    for half, rows in halves.items():
        pairs, scores = measured[half]
        verdict = accept(scores, preserved, chroma, blank)
        for name, by in (
            ("all", None),
            ("kind", {r: kinds[f.sources[r]] for r in rows}),
            ("edit", {r: f.edits[r] for r in rows}),
        ):
            for (label, key), (found, others) in tally(pairs, verdict, f, groups, rows, by).items():
                print(
                    f"{half:4} {name:4} {label:5} {key or '':16} "
                    f"{100 * found:5.1f} % found  {others:6.2f} others"
                )


if __name__ == "__main__":
    main()
