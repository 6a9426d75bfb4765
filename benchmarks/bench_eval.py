"""`pixdex eval` on the real mixed corpus: which algorithm, distance and search mode to default.

    python -m benchmarks eval                  # 300 originals of the 1,000-image corpus
    python -m benchmarks.bench_eval --quick    # smoke test in seconds (PIXDEX_BENCH_QUICK=1 too)

The corpus (``benchmarks.corpus``: JPEG photos and crops, wallpapers, PNG and WebP, rendered
figures, icons) is built on demand; its manifest's picture groups tell the evaluation which files
legitimately show the same picture (a wallpaper at two resolutions), so those are not counted as
false matches. Results (eval.csv, eval.json, the plots) go to ``.cache/eval/``.

Peers: the same measurement with ``imagehash``'s pHash and the ``pdqhash`` reference PDQ is in
``bench_quality``; this benchmark compares pixdex's own modes with each other.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time

from rich.console import Console

from benchmarks.corpus import CACHE, REPO, build_corpus
from pixdex.evaluation.command import DEFAULT_EVAL_EDITS, Evaluation, run_eval
from pixdex.evaluation.plots import plot_tradeoff

MODES = [
    "dhash",
    "ahash",
    "phash",
    "whash",
    "pdq",
    "dhash+flips",
    "dhash+lowq",
    "phash+lowq",
    "dhash+pdq",
    "dhash+pdq:50",
    "dhash+pdq:70",
    "dhash+phash",
    "dhash+phash:16",
    "phash+pdq",
]
OUT = CACHE / "eval"
DOC_MODES = ["dhash", "phash", "pdq", "dhash+flips", "dhash+pdq:70", "dhash+phash:16"]
"""The modes of the README's table and figure: the default, the best single hashes, the modes."""
DOC_FIGURE = REPO / "docs" / "eval-tradeoff.png"


def markdown_table(evaluation: Evaluation, modes: list[str]) -> str:
    """The README's evidence: each mode at its recommended and at its default distance."""
    lines = [
        "| mode | distance | recall, 13 edits | recall, 11 edits (no mirror/rotate) "
        "| false-match rate per pair | other pictures per query |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for result in evaluation.results:
        if result.mode not in modes:
            continue
        for label, d in (("recommended", result.recommended), ("default", result.default)):
            if d < 0:
                lines.append(f"| {result.mode} | none meets the target | | | | |")
                continue
            at = result.at(d)
            lines.append(
                f"| {result.mode} | {d} ({label}) | {100 * at['recall']:.1f} % "
                f"| {100 * at['recall_no_orientation']:.1f} % | {at['false_match_rate']:.1e} "
                f"| {at['others_per_query']:.3f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_eval")
    parser.add_argument("--quick", action="store_true", help="a small smoke-test run")
    parser.add_argument("--size", type=int, default=1000, help="corpus size (default 1000)")
    parser.add_argument("--sample", type=int, default=300, help="originals (default 300)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", type=float, default=1e-4, help="false-match rate per pair")
    parser.add_argument("--max-side", type=int, default=1024, help="decode size, pixels")
    parser.add_argument(
        "--kinds", default="", help="only these corpus kinds, comma-separated (e.g. jpeg-photo)"
    )
    parser.add_argument("--modes", default=",".join(MODES), help="modes, comma-separated")
    args = parser.parse_args(argv or [])
    quick = args.quick or os.environ.get("PIXDEX_BENCH_QUICK") == "1"
    sample, max_side = (20, 256) if quick else (args.sample, args.max_side)
    corpus = build_corpus(200 if quick else args.size)
    kinds = {k for k in args.kinds.split(",") if k}
    if kinds:
        corpus = [im for im in corpus if im.kind in kinds]
    groups = {str(im.path.resolve()): im.group for im in corpus}
    modes = [m for m in args.modes.split(",") if m]
    custom = modes != MODES
    name = "quick" if quick else "corpus" + ("-" + "-".join(sorted(kinds)) if kinds else "")
    name += "-custom" if custom else ""
    started = time.perf_counter()
    console = Console(width=160)
    evaluation = run_eval(
        [im.path for im in corpus],
        REPO,
        modes=modes,
        edits=DEFAULT_EVAL_EDITS,
        sample=sample,
        seed=args.seed,
        out=OUT / name,
        target=args.target,
        max_side=max_side,
        groups=groups,
        console=console,
    )
    if not quick and not kinds and not custom:
        shown = [r for r in evaluation.results if r.mode in DOC_MODES]
        DOC_FIGURE.parent.mkdir(exist_ok=True)
        plot_tradeoff(dataclasses.replace(evaluation, results=tuple(shown)), DOC_FIGURE)
        console.print(f"→ {DOC_FIGURE}")
    print(markdown_table(evaluation, DOC_MODES))
    console.print(
        f"{len(evaluation.originals)} originals of {evaluation.found} corpus files, "
        f"{len(evaluation.edits)} edits, {len(modes)} modes in "
        f"{time.perf_counter() - started:.0f} s → {OUT / name}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
