"""Issue 13: the matching rule on the hard corpus, thresholds chosen on the development half.

    python -m benchmarks precision

The corpus is ``benchmarks.hard_corpus`` (flags, graphviz diagrams that differ in their labels,
icon glyphs, stars and polygons, font glyphs, gradients, near-blank pages, drawings on a large
canvas, photos), split by source picture. 150 source pictures of each half are edited the ten ways
of the quality bar, plus mirror and a quarter turn (searched with flips). Every picture and copy is
hashed and signed with the functions the catalog uses (dHash of the whole, trimmed and centre
views; ``pixdex.signature``); candidates are the files within the rule's radius in any pair of
views and any orientation searched, exactly as ``Catalog.search`` proposes them
(``pixdex.evaluation.rule_pairs``, shared with ``pixdex eval`` and ``benchmarks quality``), and
each is scored once by the compiled verification (``pixdex.matching.scores_pairs``), and once
more for each of the query's views cut from its pixels (``pixdex.matching.cut_views``, in the
uncut alignment): a pair is accepted when any of them passes, as a search accepts it. The
thresholds (share of content preserved, chroma difference, share differing thinly) are then
chosen on the development half — the most sources found (ties within ``FOUND_TIE``: the
fewest others) with at most ``DEV_BUDGET`` other pictures per query (the issue's two, less a
margin for the halves' gap), for the ten edits and for the flips alike — and the figures of
both halves are printed, per kind of picture, per family and per edit, beside plain dHash at
the original design's distance 10. Last, the trade-off curve on the test half: the development
half's frontier of thresholds, each measured there (``print_test_curve``).
``PIXDEX_BENCH_QUICK=1``: 10 source pictures per half (a smoke test).
``PIXDEX_BENCH_DEV_ONLY=1``: the development half alone (its copies are neither made nor
searched for the test half), for trying a change to the rule without looking at the test half.

Found: the query's source (or another file of its picture) is accepted. Others: accepted files
showing a different picture, per query.
"""

from __future__ import annotations

import collections
import itertools
import os
import time
from dataclasses import dataclass

import numpy as np

from benchmarks.hard_corpus import build_hard_corpus
from pixdex.evaluation.edits import apply_edit, load_rgb
from pixdex.evaluation.protocol import DEFAULT_EDITS, edit_seed
from pixdex.evaluation.rule_pairs import (
    RuleFeatures,
    candidate_pairs,
    rule_scheme,
    signature_table,
    tried_with_views,
    unpack,
)
from pixdex.matching import DEFAULT_RULE, scores_pairs

QUERIES_PER_HALF = 10 if os.environ.get("PIXDEX_BENCH_QUICK") == "1" else 150
HALVES = ("dev",) if os.environ.get("PIXDEX_BENCH_DEV_ONLY") == "1" else ("dev", "test")
"""The halves measured: both, or the development half alone (``PIXDEX_BENCH_DEV_ONLY=1``)."""
FLIP_EDITS = ["mirror", "rotate-90"]
SEED = 0
BUDGET = 2.0
"""The issue's budget: other pictures per query, for the ten edits and for the flips."""
DEV_BUDGET = 1.75
"""The budget thresholds are chosen within on the development half: an eighth below
``BUDGET``, since the test half has come out up to 0.12 others above the development half (the
flips, 2 December 2026: 1.97 on the development half, 2.09 on the test half). Set before the
run that first used it, not fitted to its result."""
FOUND_TIE = 0.005
"""Found shares within half a point of the best within the budget count as equal, and the
fewest others per query wins among them: the development half's 1,500 queries measure a share
near 88 % to about ± 0.8 points (one standard error), so a smaller lead is noise, while the
others per query have come out up to 0.26 higher on the test half (3 December 2026, 1.74 to
2.00). Set on 3 December 2026 before the run that first used it."""
WHOLE = [0]
"""The whole picture's view alone (plain dHash), as an index into the candidate views."""
ALL_VIEWS = [0, 1, 2]
"""The candidate views (whole, trim, centre: ``candidate_views("dhash")``)."""


@dataclass
class Features:
    """The rule's features of the corpus files (identity) and of the edited copies (8
    orientations each; the edits that need no flips repeat their one orientation)."""

    files: RuleFeatures
    queries: RuleFeatures
    sources: np.ndarray
    edits: np.ndarray


def drawn_sources(groups: np.ndarray, split: np.ndarray) -> dict[str, list[int]]:
    """The corpus rows whose edited copies are searched, per half: ``QUERIES_PER_HALF`` source
    pictures drawn at random (``SEED``), each by the first of its files. Drawn for both halves
    in turn, so the development half's draw is the same whichever halves are measured."""
    rng = np.random.default_rng(SEED)
    drawn = {}
    for half in ("dev", "test"):
        first: dict[str, int] = {}
        for row in np.flatnonzero(split == half).tolist():
            first.setdefault(groups[row], row)
        drawn[half] = sorted(rng.permutation(sorted(first.values()))[:QUERIES_PER_HALF].tolist())
    return drawn


def measure_features(paths: list, query_rows: list[int]) -> Features:
    """Features made as the catalog makes them (``rule_pairs.rule_scheme``): each file decoded
    from disk, each edited copy from the edited picture."""
    plain, flipped = rule_scheme("dhash"), rule_scheme("dhash", flips=True)
    stored = rule_scheme("dhash", with_cut_views=False)
    files = unpack(np.stack([stored.codes(path) for path in paths]))
    queries, sources, edits = [], [], []
    for row in query_rows:
        image = load_rgb(paths[row], 1024)
        for edit in [*DEFAULT_EDITS, *FLIP_EDITS]:
            copy = apply_edit(edit, image, edit_seed(SEED, row, edit))
            codes = (flipped if edit in FLIP_EDITS else plain).codes(copy)
            queries.append(np.repeat(codes, 8 // len(codes), axis=0))
            sources.append(row)
            edits.append(edit)
    return Features(files, unpack(np.stack(queries)), np.array(sources), np.array(edits))


def candidates(f: Features, rows: np.ndarray, radius: int, views: list[int]) -> np.ndarray:
    """``(query, orientation, file, distance)`` of every file within ``radius`` of a query in
    any pair of ``views`` and any orientation searched (``rule_pairs.candidate_pairs``)."""
    out = []
    for flips in (False, True):
        chosen = rows[np.isin(f.edits[rows], FLIP_EDITS) == flips]
        turns = 8 if flips else 1
        queries = f.queries.codes[chosen][:, :turns][:, :, views]
        pairs = candidate_pairs(queries, f.files.codes[:, 0][:, views], radius)
        pairs[:, 0] = chosen[pairs[:, 0]]
        out.append(pairs)
    return np.concatenate(out)


def tally(pairs, accepted, f: Features, groups, rows, by=None) -> dict:
    """Found share and others per query, over the ten edits and over the flips (a file
    accepted in several orientations counts once)."""
    kept = np.unique(pairs[accepted][:, [0, 2]], axis=0)
    same = groups[kept[:, 1]] == groups[f.sources[kept[:, 0]]]
    found, others = collections.defaultdict(bool), collections.Counter()
    for q, s in zip(kept[:, 0].tolist(), same.tolist(), strict=True):
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


def scored(queries: RuleFeatures, files: np.ndarray, pairs: np.ndarray) -> list[tuple]:
    """The scores of ``candidate_pairs``-like rows (query, orientation, file, distance) as a
    search verifies them (``rule_pairs.verified_pairs``): the query orientation's signature in
    every alignment, then each of its views cut from its pixels in the uncut one. ``files``
    ``(n, SIGNATURE_BYTES)``."""
    tolerance = DEFAULT_RULE.verifier.luma_tolerance
    table, index = signature_table(queries.signatures, files, pairs)
    out = [scores_pairs(table, index, tolerance)]
    for view in range(queries.cut_views.shape[2]):
        table, index = signature_table(queries.cut_views[:, :, view], files, pairs)
        out.append(scores_pairs(table, index, tolerance, uncut=True))
    return out


def accept_any(pairs: np.ndarray, score_sets: list[tuple], *thresholds: float) -> np.ndarray:
    """The verdicts a search gives ``scored``'s rows at these thresholds: accepted by the
    signature, or by a cut view on the ones it tries them on (``rule_pairs.tried_with_views``:
    nearer than every file the signature accepted)."""
    accepted = accept(score_sets[0], *thresholds)
    views = np.logical_or.reduce([accept(scores, *thresholds) for scores in score_sets[1:]])
    return accepted | (tried_with_views(pairs, accepted) & views)


def accept(
    scores, preserved: float, chroma: float, blank_tone: float, thin: float = 1.0
) -> np.ndarray:
    """The verdicts ``verification.verdict`` gives ``scores`` at these thresholds."""
    share, colour, gap, thin_share = scores
    blank = gap >= 0
    kept = (share >= preserved) & (thin_share <= thin)
    verdict = np.where(blank, gap <= blank_tone, kept) & (colour <= chroma)
    return verdict & (share >= 0)


def main() -> None:
    started = time.perf_counter()
    corpus = build_hard_corpus()
    paths = [im.path for im in corpus]
    groups = np.array([im.group for im in corpus])
    kinds = np.array([im.kind for im in corpus])
    families = np.array([im.family for im in corpus])
    split = np.array([im.split for im in corpus])
    drawn = drawn_sources(groups, split)
    f = measure_features(paths, [row for half in HALVES for row in drawn[half]])
    print(
        f"features of {len(paths)} files and {len(f.sources)} copies in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    halves = {h: np.flatnonzero(split[f.sources] == h) for h in HALVES}
    radius = DEFAULT_RULE.radius
    measured = {}
    for half, rows in halves.items():
        pairs = candidates(f, rows, radius, ALL_VIEWS)
        measured[half] = (pairs, scored(f.queries, f.files.signatures[:, 0], pairs))
        plain = candidates(f, rows, 10, WHOLE)
        base = tally(plain, np.ones(len(plain), bool), f, groups, rows)
        print(
            f"{half}: plain dHash ≤ 10: {100 * base['edits', None][0]:.1f} % found, "
            f"{base['edits', None][1]:.2f} others per query",
            flush=True,
        )
    # Preserved shares from more than a half up (``Verifier.min_preserved``: a copy keeps most
    # of its picture, and what differs must be a blob, which the thin share checks), chroma
    # (from 3 since session 30: fitted for saturation, a brighter copy's colour differs by a
    # level or two), and the thin share (1.0: no such check).
    grid = [
        (p, c, t)
        for p in (0.55, 0.6, 0.65, 0.7, 0.74, 0.77, 0.8, 0.85, 0.9)
        for c in (3, 4, 5, 6, 8, 10)
        for t in (0.12, 0.14, 0.16, 0.18, 0.2, 1.0)
    ]
    blank = DEFAULT_RULE.verifier.blank_tone
    curve = []
    pairs, scores = measured["dev"]
    for preserved, chroma, thin in grid:
        verdict = accept_any(pairs, scores, preserved, chroma, blank, thin)
        t = tally(pairs, verdict, f, groups, halves["dev"])
        curve.append((t["edits", None], t["flips", None], preserved, chroma, thin))
        print(
            f"dev: preserved ≥ {preserved}, chroma ≤ {chroma}, thin ≤ {thin}: "
            f"{100 * t['edits', None][0]:.1f} % found, {t['edits', None][1]:.2f} others; "
            f"flips {100 * t['flips', None][0]:.1f} %, {t['flips', None][1]:.2f} others"
        )
    # Both of the budgets, with DEV_BUDGET's margin: others per query for the ten
    # edits and for the mirrored and turned copies searched with flips.
    within = [c for c in curve if c[0][1] <= DEV_BUDGET and c[1][1] <= DEV_BUDGET] or curve
    best_found = max(c[0][0] for c in within)
    tied = [c for c in within if c[0][0] >= best_found - FOUND_TIE - 1e-9]
    (_, _, preserved, chroma, thin) = min(tied, key=lambda c: (c[0][1], -c[0][0]))
    shipped = DEFAULT_RULE.verifier
    print(
        f"chosen on dev: preserved ≥ {preserved}, chroma ≤ {chroma}, thin ≤ {thin} (shipped: "
        f"{shipped.min_preserved}, {shipped.max_chroma}, {shipped.max_thin})"
    )
    for half, rows in halves.items():
        pairs, scores = measured[half]
        verdict = accept_any(pairs, scores, preserved, chroma, blank, thin)
        for name, by in (
            ("all", None),
            ("kind", {r: kinds[f.sources[r]] for r in rows}),
            ("family", {r: families[f.sources[r]] for r in rows}),
            ("edit", {r: f.edits[r] for r in rows}),
        ):
            for (label, key), (found, others) in tally(pairs, verdict, f, groups, rows, by).items():
                print(
                    f"{half:4} {name:6} {label:5} {key or '':16} "
                    f"{100 * found:5.1f} % found  {others:6.2f} others"
                )
        every = every_copy_found(pairs, verdict, f, groups, rows)
        edited = edited_copies_found(f, rows, radius, (preserved, chroma, blank, thin))
        print(
            f"{half:4} all    copies pictures with several files: every file found for "
            f"{100 * every[0]:5.1f} % of {every[1]} queries; an edited copy in the catalog, "
            f"searched with its source's other edits: {100 * edited[0]:5.1f} % of {edited[1]}"
        )
    if "test" in halves:
        print_test_curve(curve, measured["test"], f, groups, halves["test"], blank)


def every_copy_found(pairs, accepted, f: Features, groups, rows) -> tuple[float, int]:
    """For the edited queries whose picture has several files in the corpus (a planted genuine
    second copy), the share that finds every one of them, and their number: the issue's "both
    are found" (a rule keeping only the nearest match would hide the second)."""
    kept = np.unique(pairs[accepted][:, [0, 2]], axis=0)
    same = groups[kept[:, 1]] == groups[f.sources[kept[:, 0]]]
    found = collections.Counter(kept[same, 0].tolist())
    files = collections.Counter(groups.tolist())
    chosen = [r for r in rows if f.edits[r] not in FLIP_EDITS and files[groups[f.sources[r]]] > 1]
    return float(np.mean([found[r] == files[groups[f.sources[r]]] for r in chosen])), len(chosen)


def edited_copies_found(f: Features, rows, radius: int, thresholds: tuple) -> tuple[float, int]:
    """A second copy that is itself edited: each source's copy by one edit taken as a catalog
    file, searched for with each of the source's other edited copies (a candidate within
    ``radius`` in a pair of views, then verified at ``thresholds``: preserved, chroma, blank
    tone, thin). The share of those (query, copy) pairs found, and their number."""
    by_source = collections.defaultdict(list)
    for r in rows:
        if f.edits[r] not in FLIP_EDITS:
            by_source[f.sources[r]].append(r)
    pairs = np.array(
        [pair for copies in by_source.values() for pair in itertools.permutations(copies, 2)],
        np.int64,
    )
    codes = f.queries.codes[:, 0]  # (queries, views, words), identity orientation
    near = np.bitwise_count(codes[pairs[:, 0], :, None] ^ codes[pairs[:, 1], None]).sum(axis=-1)
    candidate = near.min(axis=(1, 2)) <= radius
    # As candidate_pairs' rows: (query copy, identity, catalog copy, distance).
    distance = near.min(axis=(1, 2)).astype(np.int64)
    listed = np.stack([pairs[:, 0], np.zeros_like(distance), pairs[:, 1], distance], 1)
    scores = scored(f.queries.identity(), f.queries.signatures[:, 0], listed)
    # Each (query, copy) is a search of its own one-file catalog: numbered apart for the views.
    searches = np.column_stack([np.arange(len(listed)), listed[:, 1:]])
    found = candidate & accept_any(searches, scores, *thresholds)
    return float(found.mean()), len(pairs)


def frontier(curve: list[tuple]) -> list[tuple]:
    """The points of ``curve`` (as ``main`` builds it) that no other point beats on the ten
    edits — as many sources found or more with as few others or fewer, one of them strictly —
    fewest others first: the development half's best trade-offs."""
    edits = [point[0] for point in curve]
    best = [
        point
        for point, (found, others) in zip(curve, edits, strict=True)
        if not any(f >= found and o <= others and (f > found or o < others) for f, o in edits)
    ]
    unique: dict[tuple, tuple] = {}
    for point in best:
        unique.setdefault(point[0], point)  # equal points: the first of the grid
    return sorted(unique.values(), key=lambda point: point[0][1])


def print_test_curve(curve, test, f: Features, groups, rows, blank: float) -> None:
    """The trade-off curve on the test half, as the issue asks where a target is missed: the
    development half's best trade-offs (``frontier``, chosen there) each measured on the test
    half once, found against others for the ten edits and for the flips; then what the
    candidates alone would find, the ceiling no verification can pass."""
    pairs, scores = test
    print("trade-off curve: the development half's frontier, each point on both halves")
    for (found, others), _, preserved, chroma, thin in frontier(curve):
        t = tally(pairs, accept_any(pairs, scores, preserved, chroma, blank, thin), f, groups, rows)
        (test_found, test_others), (flips_found, flips_others) = t["edits", None], t["flips", None]
        print(
            f"curve: preserved ≥ {preserved}, chroma ≤ {chroma}, thin ≤ {thin}: dev "
            f"{100 * found:5.1f} % / {others:5.2f}; test {100 * test_found:5.1f} % / "
            f"{test_others:5.2f}, flips {100 * flips_found:5.1f} % / {flips_others:5.2f}"
        )
    everything = tally(pairs, np.ones(len(pairs), bool), f, groups, rows)["edits", None]
    print(
        f"ceiling: every candidate accepted (no verification): test {100 * everything[0]:5.1f} % "
        f"/ {everything[1]:6.2f} (the rest have no candidate within the radius)"
    )


if __name__ == "__main__":
    main()
