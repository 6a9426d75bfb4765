"""Issue 5's quality bar: does a search find the edited copy's source, and how much else comes back?

    python -m benchmarks quality                 # full run on the 1,000-image corpus
    python -m benchmarks.bench_quality --quick   # smoke test in seconds (PIXDEX_BENCH_QUICK=1 too)

The index is every image of the corpus (``benchmarks.corpus``: photos, wallpapers, figures,
icons). Query originals are drawn from it by a fixed shuffle and split **by source picture** in
two disjoint halves: *development* queries (used to choose thresholds for the variations) and
*test* queries (only ever reported); no picture has files in both. Each query original is edited
the ten ways of the bar (red square, shapes + text, resize 50 %, JPEG q30, 10 % crop, brightness,
blur, grayscale, border, aspect squash), plus a 5 % crop reported apart as an edit no variation
was designed around.

For each scheme and distance it reports **recall** (the query's source is within the distance)
and **others** (how many index images showing a different picture are within it, per query).
The bar: the default settings find the source for ≥ 95 % of queries with ≤ 2 others per query.

The **matching rule** as shipped (``pixdex eval``'s ``rule`` mode: ``DEFAULT_RULE``'s candidates
in any pair of views, each verified on content signatures; nothing tuned here) is reported beside
the hash schemes, and against plain dHash ≤ 10 without verification (``pixdex search
--no-verify``), per edit and per kind of picture, on both halves.

Peers: where pixdex has no PDQ or pHash yet, the ``pdqhash`` and ``imagehash`` packages provide
them as reference lines.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from benchmarks.corpus import CACHE, CorpusImage, build_corpus
from pixdex import bits as bitops
from pixdex.evaluation.measure import QualityReport
from pixdex.evaluation.protocol import (
    DEFAULT_EDITS,
    HashedSample,
    Scheme,
    algorithm_scheme,
    hash_sample,
    report_from_distances,
    sample_distances,
)
from pixdex.evaluation.schemes import hashing_schemes, mode_distances, parse_mode
from pixdex.evaluation.variants import confirmed, trimmed, with_centre
from pixdex.hashing import ALGORITHMS

BAR_RECALL = 0.95
BAR_OTHERS = 2.0
SPLIT_SEED = 5
EDIT_SEED = 11
EXTRA_EDITS = ["crop-5"]
RESULTS = CACHE / "bench_quality.json"
RULE = parse_mode("rule")
PLAIN = ("dhash8-skipdegenerate", 10)
"""The search without verification (``--no-verify``): dHash ≤ 10, near-blank hashes left out."""
PLAIN_LABEL = "dHash ≤ 10, unverified"
RULE_LABEL = "rule: dHash ≤ 16 in any pair of views, verified"
KINDS = {"skimage": "photos", "debian": "wallpapers", "crop": "wallpapers", "icon": "clip-art"}
"""Kind of picture by the corpus's source prefix (``render`` → figures)."""


def picture_kind(image: CorpusImage) -> str:
    """What a corpus image shows: photos (scikit-image's samples), wallpapers (the Debian
    wallpapers and their photo-sized crops: photographs and smooth abstract gradients),
    clip-art (icons) or figures (rendered documentation figures)."""
    prefix = image.source.replace(":", " ").split()[0]
    return KINDS.get(prefix, "figures")


def peer_pdq() -> Scheme:
    """PDQ from the ``pdqhash`` package (Facebook's reference implementation, wrapped)."""
    import pdqhash

    def codes(image: Image.Image) -> np.ndarray:
        vector, _quality = pdqhash.compute(np.asarray(image.convert("RGB")))
        return bitops.int_to_words(bitops.bits_to_int(vector.astype(bool)), 256)[np.newaxis, :]

    return Scheme("pdq(peer)", 256, codes)


def peer_phash() -> Scheme:
    """pHash from the ``imagehash`` package (DCT of a 32 × 32 grayscale, 64 bits)."""
    import imagehash

    def codes(image: Image.Image) -> np.ndarray:
        value = imagehash.phash(image)
        return bitops.int_to_words(bitops.bits_to_int(value.hash), 64)[np.newaxis, :]

    return Scheme("phash(peer)", 64, codes)


def named_scheme(name: str, peer: Callable[[], Scheme]) -> Scheme:
    """pixdex's own algorithm when registered, the peer's otherwise."""
    return algorithm_scheme(name) if name in ALGORITHMS else peer()


@dataclass(frozen=True)
class Line:
    """One row of the result table: a scheme measured at one distance."""

    scheme: str
    distance: int
    chosen: str
    dev_recall: float
    dev_others: float
    recall: float
    others: float
    per_edit: dict[str, float]
    extra: dict[str, float]


def split_rows(groups: list[str], queries: int) -> tuple[list[int], list[int]]:
    """Development and test query rows from one fixed shuffle of the corpus, split by source
    picture: each picture (group) goes to the half its first file in the shuffle is dealt to,
    alternately, so no picture is in both halves."""
    order = np.random.default_rng(SPLIT_SEED).permutation(len(groups)).tolist()
    half_of: dict[str, int] = {}
    halves: tuple[list[int], list[int]] = ([], [])
    for row in order:
        half = half_of.setdefault(groups[row], len(half_of) % 2)
        if len(halves[half]) < queries:
            halves[half].append(row)
    return sorted(halves[0]), sorted(halves[1])


def select_queries(sample: HashedSample, rows: set[int]) -> HashedSample:
    """The sample restricted to the queries made from the original ``rows``."""
    keep = np.isin(sample.sources, sorted(rows))
    return HashedSample(
        paths=sample.paths,
        groups=sample.groups,
        sources=sample.sources[keep],
        edits=sample.edits[keep],
        bits=sample.bits,
        index=sample.index,
        index_ok=sample.index_ok,
        queries={k: v[keep] for k, v in sample.queries.items()},
        query_ok={k: v[keep] for k, v in sample.query_ok.items()},
    )


def within_budget(report: QualityReport, edits: list[str]) -> int:
    """The largest distance whose others-per-query stays ≤ the bar's budget (the dev rule)."""
    others = np.array([report.others_at(d, edits) for d in range(report.bits + 1)])
    return max(
        0, int(np.flatnonzero(others <= BAR_OTHERS)[-1]) if (others <= BAR_OTHERS).any() else 0
    )


def line(name: str, d: int, chosen: str, dev: QualityReport, test: QualityReport) -> Line:
    return Line(
        scheme=name,
        distance=d,
        chosen=chosen,
        dev_recall=dev.recall_at(d, DEFAULT_EDITS),
        dev_others=dev.others_at(d, DEFAULT_EDITS),
        recall=test.recall_at(d, DEFAULT_EDITS),
        others=test.others_at(d, DEFAULT_EDITS),
        per_edit={e: float(test.edits[e].recall[d]) for e in DEFAULT_EDITS},
        extra={e: float(test.edits[e].recall[d]) for e in EXTRA_EDITS},
    )


@dataclass(frozen=True)
class Figure:
    """Found share and others per query of one search (rule or plain), one half, one slice."""

    search: str
    half: str
    slice: str
    queries: int
    found: float
    others: float


def restricted(
    part: HashedSample, queries: np.ndarray, rows: list[int]
) -> tuple[HashedSample, np.ndarray]:
    """A half's sample and query distances restricted to the queries made from ``rows``."""
    keep = np.isin(part.sources, rows)
    return select_queries(part, set(rows)), queries[keep]


Distances = tuple[np.ndarray, np.ndarray]
"""A search's query × originals and originals × originals distances on one half."""


def compare_rule(
    halves: dict[str, HashedSample],
    searches: dict[str, tuple[int, dict[str, Distances]]],
    kinds: list[str],
    edits: list[str],
) -> list[Figure]:
    """Each search (name → its distance and its distances per half) per half: over ``edits``,
    per edit, and per kind of picture (over ``edits``)."""
    figures = []
    for half, part in halves.items():
        for search, (distance, by_half) in searches.items():
            queries, originals = by_half[half]
            bits = part.bits[PLAIN[0]]
            slices = [("all", sorted(set(part.sources.tolist())))]
            slices += [
                (kind, sorted({r for r in part.sources.tolist() if kinds[r] == kind}))
                for kind in sorted(set(kinds))
            ]
            for name, rows in slices:
                if not rows:
                    continue
                sub, sub_queries = restricted(part, queries, rows)
                report = report_from_distances(sub, search, bits, sub_queries, originals)
                figures.append(
                    Figure(
                        search,
                        half,
                        name,
                        int(sum(report.edits[e].queries for e in edits)),
                        report.recall_at(distance, edits),
                        report.others_at(distance, edits),
                    )
                )
                if name != "all":
                    continue
                for edit in [*edits, *EXTRA_EDITS]:
                    figures.append(
                        Figure(
                            search,
                            half,
                            edit,
                            report.edits[edit].queries,
                            report.recall_at(distance, [edit]),
                            report.others_at(distance, [edit]),
                        )
                    )
    return figures


def measure(size: int, queries: int, max_side: int) -> tuple[list[Line], list[Figure]]:
    corpus = build_corpus(size)
    paths = [im.path for im in corpus]
    groups = [im.group for im in corpus]
    kinds = [picture_kind(im) for im in corpus]
    dev_rows, test_rows = split_rows(groups, queries)
    dhash8 = algorithm_scheme("dhash", 8)
    dhash16 = algorithm_scheme("dhash", 16)
    pdq = named_scheme("pdq", peer_pdq)
    schemes = [
        dhash8,
        algorithm_scheme("dhash", 8, skip_degenerate=True),
        dhash16,
        named_scheme("phash", peer_phash),
        pdq,
        trimmed(dhash8),
        with_centre(trimmed(dhash8)),
        with_centre(trimmed(dhash16)),
        with_centre(trimmed(pdq)),
    ]
    started = time.perf_counter()
    sample = hash_sample(
        paths,
        [*schemes, *hashing_schemes([RULE])],
        dev_rows + test_rows,
        [*DEFAULT_EDITS, *EXTRA_EDITS],
        seed=EDIT_SEED,
        max_side=max_side,
        groups=groups,
    )
    print(
        f"hashed {len(paths)} originals and {len(sample.sources)} edited copies with "
        f"{len(schemes)} schemes in {time.perf_counter() - started:.0f} s "
        f"(dev {len(dev_rows)} / test {len(test_rows)} query originals)",
        flush=True,
    )
    dev, test = select_queries(sample, set(dev_rows)), select_queries(sample, set(test_rows))

    def reports(name: str) -> tuple[QualityReport, QualityReport]:
        dev_q, dev_o = sample_distances(dev, name)
        test_q, test_o = sample_distances(test, name)
        return (
            report_from_distances(dev, name, dev.bits[name], dev_q, dev_o),
            report_from_distances(test, name, test.bits[name], test_q, test_o),
        )

    lines = []
    fixed = {dhash8.name: [10, 12], pdq.name: [31], "phash8": [10], "phash(peer)": [10]}
    for scheme in schemes:
        dev_report, test_report = reports(scheme.name)
        for d in fixed.get(scheme.name, []):
            lines.append(line(scheme.name, d, "fixed", dev_report, test_report))
        d = within_budget(dev_report, DEFAULT_EDITS)
        if d not in fixed.get(scheme.name, []):
            lines.append(line(scheme.name, d, "dev: others ≤ 2", dev_report, test_report))

    # Candidates from the fast trimmed dHash (whole + centre), confirmed by a finer hash; both
    # thresholds chosen on the development queries (best recall with ≤ 2 others per query).
    fast = with_centre(trimmed(dhash8)).name
    distances = {}
    for part_name, part in (("dev", dev), ("test", test)):
        for name in (fast, with_centre(trimmed(pdq)).name, with_centre(trimmed(dhash16)).name):
            distances[part_name, name] = sample_distances(part, name)
    for fine, grid in (
        (with_centre(trimmed(pdq)).name, range(20, 100, 4)),
        (with_centre(trimmed(dhash16)).name, range(20, 100, 4)),
    ):

        def combined(part_name: str, fine_distance: int, fine: str = fine) -> QualityReport:
            part = dev if part_name == "dev" else test
            q_fast, o_fast = distances[part_name, fast]
            q_fine, o_fine = distances[part_name, fine]
            never = part.bits[fast] + 1
            return report_from_distances(
                part,
                f"{fast} ✓ {fine}≤{fine_distance}",
                part.bits[fast],
                confirmed(q_fast, q_fine, fine_distance, never),
                confirmed(o_fast, o_fine, fine_distance, never),
            )

        best = None
        for fine_distance in grid:
            dev_report = combined("dev", fine_distance)
            d = within_budget(dev_report, DEFAULT_EDITS)
            key = (dev_report.recall_at(d, DEFAULT_EDITS), -fine_distance)
            if best is None or key > best[0]:
                best = (key, fine_distance, d, dev_report)
        _, fine_distance, d, dev_report = best
        test_report = combined("test", fine_distance)
        lines.append(line(test_report.scheme, d, "dev: both thresholds", dev_report, test_report))

    started = time.perf_counter()
    halves = {"dev": dev, "test": test}
    rule = {n: mode_distances(part, RULE) for n, part in halves.items()}
    plain = {n: sample_distances(part, PLAIN[0]) for n, part in halves.items()}
    radius = RULE.default_distance(dhash8.bits)
    rule_reports = [
        report_from_distances(part, RULE.name, dhash8.bits, *rule[n]) for n, part in halves.items()
    ]
    lines.append(line(RULE_LABEL, radius, "shipped", *rule_reports))
    searches = {"dHash ≤ 10": (PLAIN[1], plain), "rule": (radius, rule)}
    figures = compare_rule(halves, searches, kinds, DEFAULT_EDITS)
    print(f"the rule verified in {time.perf_counter() - started:.0f} s", flush=True)
    return lines, figures


def print_table(lines: list[Line]) -> None:
    short = {e: e[:7] for e in DEFAULT_EDITS + EXTRA_EDITS}
    header = f"{'scheme':58} {'d':>3} {'recall':>7} {'others':>7} {'bar':>4} │ dev rec/oth │ "
    print(
        header + " ".join(f"{short[e]:>7}" for e in DEFAULT_EDITS) + " │ " + " ".join(EXTRA_EDITS)
    )
    for ln in lines:
        bar = "yes" if ln.recall >= BAR_RECALL and ln.others <= BAR_OTHERS else "no"
        cells = " ".join(f"{100 * ln.per_edit[e]:6.0f}%" for e in DEFAULT_EDITS)
        extra = " ".join(f"{100 * ln.extra[e]:5.0f}%" for e in EXTRA_EDITS)
        print(
            f"{ln.scheme:58} {ln.distance:>3} {100 * ln.recall:6.1f}% {ln.others:7.2f} {bar:>4} │"
            f" {100 * ln.dev_recall:4.0f}% {ln.dev_others:5.2f} │ {cells} │ {extra}"
        )


def print_comparison(figures: list[Figure]) -> None:
    """Found share / others per query of each search on each half, per slice (all ten edits,
    each kind of picture, each edit): one row per slice."""
    columns = list(dict.fromkeys((f.search, f.half) for f in figures))
    cells = {(f.search, f.half, f.slice): f for f in figures}
    width = 24
    print(
        f"{'found % / others':22}"
        + "".join(f"{f'{s} ({h})'[:width]:>{width + 2}}" for s, h in columns)
    )
    for name in dict.fromkeys(f.slice for f in figures):
        row = []
        for search, half in columns:
            f = cells.get((search, half, name))
            row.append(
                "—" if f is None else f"{100 * f.found:5.1f} % / {f.others:5.2f} ({f.queries})"
            )
        print(f"{name:22}" + "".join(f"{c:>{width + 2}}" for c in row))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_quality")
    parser.add_argument("--quick", action="store_true", help="a small smoke-test run")
    parser.add_argument("--size", type=int, default=1000, help="corpus size (default 1000)")
    parser.add_argument("--queries", type=int, default=150, help="query originals per split")
    parser.add_argument("--max-side", type=int, default=1024, help="decode size, pixels")
    args = parser.parse_args(argv or [])
    quick = args.quick or os.environ.get("PIXDEX_BENCH_QUICK") == "1"
    size, queries = (200, 10) if quick else (args.size, args.queries)
    max_side = 256 if quick else args.max_side
    lines, figures = measure(size, queries, max_side)
    print_table(lines)
    print(
        f"bar: recall ≥ {BAR_RECALL:.0%} with ≤ {BAR_OTHERS:g} others per query, over the "
        f"{len(DEFAULT_EDITS)} edits of the bar on the test queries; 'dev:' distances were chosen "
        "on the development queries only"
    )
    print(
        f"\nthe rule as shipped against {PLAIN_LABEL} (`--no-verify`): over the ten edits "
        "('all'), per kind of picture, per edit; queries in brackets"
    )
    print_comparison(figures)
    if not quick:
        results = {"lines": [ln.__dict__ for ln in lines], "rule": [f.__dict__ for f in figures]}
        RESULTS.write_text(json.dumps(results, indent=1))
        print(f"→ {RESULTS}")


if __name__ == "__main__":
    main(sys.argv[1:])
