"""The two figures of ``pixdex eval`` (matplotlib, PNG, no display needed).

- ``recall_by_edit.png``: one panel per search mode, recall of each edit against the Hamming
  distance, with the recommended and the default distance marked;
- ``tradeoff.png``: recall (all edits but the orientation ones) against the false-match rate per
  pair, one curve per mode, each point a distance (circle: recommended, square: default): the
  further up and left, the better.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # files only: works without a display, on CI and over SSH

import matplotlib.pyplot as plt  # after use(): the backend must be chosen first
import numpy as np

if TYPE_CHECKING:
    from pixdex.evaluation.command import Evaluation

DPI = 90
"""Small files: the figures go into the README and a repository."""


def plot_recall_by_edit(evaluation: Evaluation, path: Path) -> Path:
    """Per-mode panels of recall per edit against distance; returns ``path``."""
    results = evaluation.results
    columns = min(3, len(results))
    rows = math.ceil(len(results) / columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(4.2 * columns, 3.2 * rows), squeeze=False, sharey=True
    )
    colours = plt.get_cmap("tab20")
    for panel, result in zip(axes.flat, results, strict=False):
        report = result.report
        # Beyond half the bits every pair of pictures matches: nothing to see there.
        limit = report.bits // 2
        x = np.arange(limit + 1)
        for i, (edit, quality) in enumerate(report.edits.items()):
            panel.plot(x, quality.recall[: limit + 1], color=colours(i % 20), lw=1.2, label=edit)
        panel.plot(
            x,
            report.false_match_rate[: limit + 1],
            color="black",
            ls="--",
            lw=1.2,
            label="false-match rate",
        )
        if 0 <= result.recommended <= limit:
            panel.axvline(result.recommended, color="tab:red", ls=":", lw=1)
        panel.axvline(result.default, color="grey", ls=":", lw=1)
        panel.set_title(
            f"{result.mode} ({report.bits} bits): recommended {result.recommended}, "
            f"default {result.default}",
            fontsize=8,
        )
        panel.set_xlabel("Hamming distance (bits)", fontsize=8)
        panel.tick_params(labelsize=7)
        panel.grid(alpha=0.3)
    for panel in axes[:, 0]:
        panel.set_ylabel("recall / false-match rate", fontsize=8)
    for panel in list(axes.flat)[len(results) :]:
        panel.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=min(8, len(labels)), fontsize=7)
    figure.tight_layout(rect=(0, 0.06 + 0.02 * (len(labels) > 8), 1, 1))
    figure.savefig(path, dpi=DPI)
    plt.close(figure)
    return path


def plot_tradeoff(evaluation: Evaluation, path: Path) -> Path:
    """Recall against false-match rate per mode, the recommended distance marked; ``path``."""
    figure, panel = plt.subplots(figsize=(6.4, 4.4))
    # A rate of 0 cannot sit on a log axis: it is drawn at half the smallest measurable rate.
    floor = 0.5 / max(1, evaluation.pairs)
    panel.set_prop_cycle(
        color=plt.get_cmap("tab10" if len(evaluation.results) <= 10 else "tab20").colors
    )
    for result in evaluation.results:
        report = result.report
        edits = [e for e in report.edits if e not in {"mirror", "rotate-90"}] or list(report.edits)
        recall = np.array([report.recall_at(d, edits) for d in range(report.bits + 1)])
        rate = np.maximum(report.false_match_rate, floor)
        # Solid: one hash; dashed: confirmed by a second; dotted: with flips.
        style = ":" if result.mode.endswith("+flips") else "--" if "+" in result.mode else "-"
        (line,) = panel.plot(rate, recall, ls=style, lw=1.3, marker=".", ms=3, label=result.mode)
        if result.recommended >= 0:
            d = result.recommended
            panel.plot(rate[d], recall[d], "o", color=line.get_color(), ms=7, mfc="none")
        d = result.default
        panel.plot(rate[d], recall[d], "s", color=line.get_color(), ms=6, mfc="none")
    panel.axvline(evaluation.target, color="grey", ls=":", lw=1, label="target rate")
    panel.set_xscale("log")
    panel.set_xlim(floor * 0.8, 1.0)
    panel.set_ylim(0, 1.01)
    panel.set_xlabel("false-match rate per pair of different pictures (log)")
    panel.set_ylabel("recall (edits other than mirror / rotate)")
    panel.set_title(
        "recall vs false matches; circle: recommended distance, square: default", fontsize=9
    )
    panel.grid(alpha=0.3, which="both")
    panel.legend(fontsize=7, loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    plt.close(figure)
    return path
