"""``pixdex eval DIR``: measure which hash, distance and search mode to trust on your own images.

A seeded sample of the images under DIR are the originals. Each is edited every way asked for
(``pixdex.evaluation.edits``); the copies are the queries, their own original the one right
answer. For each search mode (``pixdex.evaluation.schemes``: an algorithm, with flips, or
confirmed by a second algorithm; or the matching rule as shipped, whose "distance" is its
candidate radius, each candidate verified) the run measures, at every Hamming distance:

- recall per edit: the fraction of copies within the distance of their original;
- the false-match rate: the fraction of pairs of *different* originals within the distance;
- others per query: how many different originals a query would also return.

It recommends, per mode, the largest distance whose false-match rate stays within a target (for
the rule, at most its radius), and
writes ``eval.csv`` (every mode × distance), ``eval.json`` (the settings, the sample and every
curve; identical for identical inputs and seed) and two PNG plots to the output folder.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from pixdex.catalog import walk_images
from pixdex.evaluation.defaults import (
    DEFAULT_EVAL_EDITS,
    DEFAULT_MODES,
    DEFAULT_SAMPLE,
    DEFAULT_TARGET,
)
from pixdex.evaluation.measure import QualityReport
from pixdex.evaluation.protocol import ProgressCallback, hash_sample, report_from_distances
from pixdex.evaluation.schemes import hashing_schemes, mode_distances, parse_mode
from pixdex.hashing import get_algorithm
from pixdex.matching import DEFAULT_RULE
from pixdex.wording import count

ORIENTATION_EDITS = frozenset({"mirror", "rotate-90"})
"""Edits only a search with flips can see through; reported apart so they do not hide how the
other modes fare on everything else."""


@dataclass(frozen=True)
class ModeResult:
    """One search mode's measurement and the distances chosen from it (bits)."""

    mode: str
    report: QualityReport
    recommended: int
    default: int
    rule: bool = False
    """Whether the mode is the matching rule (its settings are then written with it)."""

    def at(self, distance: int) -> dict[str, Any]:
        """The figures at one distance threshold (all None when the distance is −1)."""
        report = self.report
        if distance < 0:
            return {"distance": distance, "recall": None, "recall_no_orientation": None}
        edits = list(report.edits)
        plain = [e for e in edits if e not in ORIENTATION_EDITS]
        return {
            "distance": distance,
            "recall": report.recall_at(distance, edits),
            "recall_no_orientation": report.recall_at(distance, plain) if plain else None,
            "false_match_rate": float(report.false_match_rate[distance]),
            "others_per_query": report.others_at(distance, edits),
            "recall_by_edit": {e: float(q.recall[distance]) for e, q in report.edits.items()},
        }


@dataclass(frozen=True)
class Evaluation:
    """A whole ``pixdex eval`` run: its settings, its sample and every mode's result."""

    folder: str
    found: int
    originals: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]
    edits: tuple[str, ...]
    seed: int
    max_side: int
    target: float
    results: tuple[ModeResult, ...]

    @property
    def pairs(self) -> int:
        """Pairs of different originals the false-match rate is measured on (an upper bound
        when groups mark some originals as the same picture)."""
        n = len(self.originals)
        return n * (n - 1) // 2

    def to_dict(self) -> dict[str, Any]:
        """The JSON form written to ``eval.json``: only inputs and measurements, no timings."""
        return {
            "folder": self.folder,
            "files_found": self.found,
            "seed": self.seed,
            "max_side": self.max_side,
            "target_false_match_rate": self.target,
            "edits": list(self.edits),
            "originals": list(self.originals),
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "modes": [
                {
                    "mode": r.mode,
                    "bits": r.report.bits,
                    "recommended_distance": r.recommended,
                    "default_distance": r.default,
                    "rule": _rule_settings() if r.rule else None,
                    "at_recommended": _rounded(r.at(r.recommended)),
                    "at_default": _rounded(r.at(r.default)),
                    "curves": {
                        "false_match_rate": _rounded(r.report.false_match_rate.tolist()),
                        "others_per_query": _rounded(
                            [r.report.others_at(d) for d in range(r.report.bits + 1)]
                        ),
                        "recall": {
                            e: _rounded(q.recall.tolist()) for e, q in r.report.edits.items()
                        },
                    },
                }
                for r in self.results
            ],
        }


def _rule_settings() -> dict[str, Any]:
    """The shipped rule's settings (``pixdex.matching.DEFAULT_RULE``) a rule mode measured."""
    return {"radius": DEFAULT_RULE.radius, **asdict(DEFAULT_RULE.verifier)}


def _rounded(value: Any) -> Any:
    """Floats rounded to 9 significant digits: stable JSON across platforms' last-bit noise."""
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def choose_originals(paths: Sequence[Path], sample: int | None, seed: int) -> list[Path]:
    """A seeded sample of ``sample`` paths (all when None or more than there are), in path
    order: the same folder and seed always give the same originals."""
    ordered = sorted(paths)
    if sample is None or sample >= len(ordered):
        return ordered
    rows = np.random.default_rng(seed).choice(len(ordered), sample, replace=False)
    return [ordered[i] for i in sorted(rows.tolist())]


def evaluate_modes(
    paths: Sequence[Path],
    modes: Sequence[str] = DEFAULT_MODES,
    edits: Sequence[str] = DEFAULT_EVAL_EDITS,
    *,
    seed: int = 0,
    max_side: int = 1024,
    target: float = DEFAULT_TARGET,
    groups: Sequence[str] | None = None,
    progress: ProgressCallback | None = None,
) -> tuple[list[ModeResult], list[Path], list[tuple[Path, str]]]:
    """Every path an original and a query source; the modes' results, the originals actually
    used and the ``(path, reason)`` of files that could not be decoded.

    ``groups`` labels originals that show the same picture (they are not false matches).
    """
    parsed = [parse_mode(m) for m in dict.fromkeys(modes)]
    sample = hash_sample(
        paths,
        hashing_schemes(parsed),
        range(len(paths)),
        list(edits),
        seed=seed,
        max_side=max_side,
        groups=groups,
        skip_unreadable=True,
        progress=progress,
    )
    results = []
    for mode in parsed:
        algorithm = get_algorithm(mode.primary)
        bits = algorithm.bits(algorithm.default_size)
        queries, originals = mode_distances(sample, mode)
        report = report_from_distances(sample, mode.name, bits, queries, originals)
        default = mode.default_distance(bits)
        recommended = report.recommended_distance(target)
        if mode.rule:
            recommended = min(recommended, default)  # the rule proposes nothing farther
        results.append(ModeResult(mode.name, report, recommended, default, mode.rule))
    return results, list(sample.paths), list(sample.skipped)


def eval_command(
    folder: str | os.PathLike[str],
    *,
    modes: Sequence[str] = DEFAULT_MODES,
    edits: Sequence[str] = DEFAULT_EVAL_EDITS,
    sample: int | None = DEFAULT_SAMPLE,
    seed: int = 0,
    out: str | os.PathLike[str] = "eval",
    target: float = DEFAULT_TARGET,
    max_side: int = 1024,
    groups: Mapping[str, str] | None = None,
    console: Console | None = None,
    progress: Callable[[int, int], None] | None = None,
    plots: bool = True,
) -> Evaluation:
    """Run ``pixdex eval``: sample, edit, hash, measure, print the table and write the files.

    ``groups`` maps a file's resolved path (absolute, symlinks followed) to a picture label.
    ``console`` receives the tables (none printed when None); ``progress(done, total)`` is called
    per original. Raises ValueError for an unknown mode or edit, or a folder without images.
    """
    root = Path(folder)
    if not root.exists():
        raise ValueError(f"{root}: no such file or folder")
    found = [Path(f.path) for f in walk_images([os.path.abspath(root)])]
    base = root if root.is_dir() else root.parent
    return run_eval(
        found,
        base,
        modes=modes,
        edits=edits,
        sample=sample,
        seed=seed,
        out=out,
        target=target,
        max_side=max_side,
        groups=groups,
        console=console,
        progress=progress,
        plots=plots,
    )


def run_eval(
    found: Sequence[Path],
    base: Path,
    *,
    modes: Sequence[str] = DEFAULT_MODES,
    edits: Sequence[str] = DEFAULT_EVAL_EDITS,
    sample: int | None = DEFAULT_SAMPLE,
    seed: int = 0,
    out: str | os.PathLike[str] = "eval",
    target: float = DEFAULT_TARGET,
    max_side: int = 1024,
    groups: Mapping[str, str] | None = None,
    console: Console | None = None,
    progress: Callable[[int, int], None] | None = None,
    plots: bool = True,
) -> Evaluation:
    """``eval_command`` on a given list of image files; paths in the output are relative to
    ``base``."""
    for mode in modes:
        parse_mode(mode)  # fail before the long part
    if not found:
        raise ValueError(f"{base}: no image files found")
    chosen = choose_originals(found, sample, seed)
    labels = None if groups is None else [groups.get(str(p.resolve()), str(p)) for p in chosen]
    results, used, skipped = evaluate_modes(
        chosen,
        modes,
        edits,
        seed=seed,
        max_side=max_side,
        target=target,
        groups=labels,
        progress=progress,
    )
    base = Path(os.path.abspath(base))
    evaluation = Evaluation(
        folder=base.name,
        found=len(found),
        originals=tuple(Path(os.path.relpath(p, base)).as_posix() for p in used),
        skipped=tuple((Path(os.path.relpath(p, base)).as_posix(), r) for p, r in skipped),
        edits=tuple(edits),
        seed=seed,
        max_side=max_side,
        target=target,
        results=tuple(results),
    )
    write_outputs(evaluation, Path(out), plots=plots)
    if console is not None:
        print_tables(evaluation, console)
    return evaluation


def write_outputs(evaluation: Evaluation, out: Path, *, plots: bool = True) -> list[Path]:
    """Write ``eval.json``, ``eval.csv`` and (with ``plots``) the PNG plots into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "eval.json", out / "eval.csv"]
    written[0].write_text(json.dumps(evaluation.to_dict(), indent=1) + "\n")
    write_csv(evaluation, written[1])
    if plots:
        from pixdex.evaluation.plots import plot_recall_by_edit, plot_tradeoff

        written.append(plot_recall_by_edit(evaluation, out / "recall_by_edit.png"))
        written.append(plot_tradeoff(evaluation, out / "tradeoff.png"))
    return written


def write_csv(evaluation: Evaluation, path: Path) -> None:
    """One row per mode and distance: false-match rate, others per query, recall (all edits,
    and per edit)."""
    edits = list(evaluation.edits)
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        header = ["mode", "bits", "distance", "false_match_rate", "others_per_query", "recall"]
        writer.writerow([*header, *(f"recall_{e}" for e in edits)])
        for result in evaluation.results:
            report = result.report
            for d in range(report.bits + 1):
                writer.writerow(
                    [
                        result.mode,
                        report.bits,
                        d,
                        f"{report.false_match_rate[d]:.9g}",
                        f"{report.others_at(d):.9g}",
                        f"{report.recall_at(d):.9g}",
                        *(f"{report.edits[e].recall[d]:.9g}" for e in edits),
                    ]
                )


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.2g}"


def _others(figures: dict[str, Any]) -> str:
    return f"{figures['others_per_query']:.2f}" if "others_per_query" in figures else "—"


def _distance(result: ModeResult) -> str:
    if result.recommended < 0:
        return "none"  # even identical hashes collide too often
    if result.recommended == result.report.bits:
        return f"{result.recommended} (any)"  # the target holds at every distance
    return str(result.recommended)


def print_tables(evaluation: Evaluation, console: Console) -> None:
    """The summary per mode (at the recommended and the default distance) and recall per edit."""
    summary = Table(
        title=f"{count(len(evaluation.originals), 'original')}, "
        f"{count(len(evaluation.edits), 'edit')}, "
        f"{evaluation.pairs:,} pairs; recommended = largest distance with false-match rate "
        f"≤ {evaluation.target:g}",
        title_justify="left",
    )
    for name in ("mode", "bits", "recommended d", "recall", "w/o mirror+rot", "false match"):
        summary.add_column(name, justify="left" if name == "mode" else "right")
    summary.add_column("others/query", justify="right")
    for name in ("default d", "recall", "false match", "others/query"):
        summary.add_column(name, justify="right", style="dim")
    for result in evaluation.results:
        best, default = result.at(result.recommended), result.at(result.default)
        summary.add_row(
            result.mode,
            str(result.report.bits),
            _distance(result),
            _percent(best["recall"]),
            _percent(best["recall_no_orientation"]),
            _rate(best.get("false_match_rate")),
            _others(best),
            str(result.default),
            _percent(default["recall"]),
            _rate(default.get("false_match_rate")),
            _others(default),
        )
    console.print(summary)

    per_edit = Table(title="recall per edit at the recommended distance", title_justify="left")
    per_edit.add_column("edit")
    for result in evaluation.results:
        per_edit.add_column(f"{result.mode} ≤{result.recommended}", justify="right")
    for edit in evaluation.edits:
        cells = []
        for result in evaluation.results:
            d = result.recommended
            cells.append(_percent(float(result.report.edits[edit].recall[d]) if d >= 0 else None))
        per_edit.add_row(edit, *cells)
    console.print(per_edit)
    if evaluation.skipped:
        skipped = len(evaluation.skipped)
        were = "was" if skipped == 1 else "were"
        console.print(f"{count(skipped, 'file')} could not be decoded and {were} left out:")
        for path, reason in evaluation.skipped:
            console.print(f"  {path}: {reason}", markup=False)
