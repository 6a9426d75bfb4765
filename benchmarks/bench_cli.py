"""Issue 17's start-up bar: the first commands a user types, each timed as a fresh process.

    python -m benchmarks cli                          # a 10,000-file tree, best of 9
    PIXDEX_BENCH_QUICK=1 python -m benchmarks cli     # 500 files, best of 3

Each command is run as a user runs it, ``python -m pixdex.cli ARGS`` in a new process, and timed
wall clock from start to exit (interpreter start-up and imports included); the figure is the best
of N runs, with the median beside it and the least CPU time (user + system) of a run, after one
untimed warm-up run (which fills the OS file cache and, for the old code, numba's kernel cache).
The commands:

- ``pixdex --help`` and ``pixdex version``;
- ``pixdex info`` on the catalog of the tree;
- ``pixdex index TREE`` over the unchanged tree, every file already in the catalog;
- ``pixdex search --hash HEX`` on that catalog (its saved search index).

Side by side with the same commands at the commit before issue 17's changes (``7cc0508``, or
``PIXDEX_BENCH_BASE=<rev>``): its ``src/`` is extracted with ``git archive`` into
``.cache/bench_cli/`` and put first on ``PYTHONPATH``, so both run in the same interpreter and
venv; each version indexes the tree into its own catalog. The versions alternate run by run, so
a busy shared machine slows both alike. Targets: ``--help`` and ``version``
≤ 0.3 s; the unchanged re-index ≤ 0.6 s; ``search --hash`` ≤ 0.5 s.

The tree: small images (48-96 pixels a side, PNG and JPEG, 100 files per folder), each a seeded
random 8 × 8 pattern scaled up, so that their hashes differ; built once into
``.cache/bench_cli/tree-10000`` (``tree-500`` for the quick run).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.corpus import CACHE, REPO

QUICK = os.environ.get("PIXDEX_BENCH_QUICK") == "1"
FILES = 500 if QUICK else 10_000
RUNS = 3 if QUICK else 9
BASE = os.environ.get("PIXDEX_BENCH_BASE", "7cc0508")
WORK = CACHE / "bench_cli"
RESULTS = CACHE / "bench_cli.json"
TARGETS = {"--help": 0.3, "version": 0.3, "index (unchanged)": 0.6, "search --hash": 0.5}
"""Seconds, from issue 17."""


def build_tree(root: Path, count: int) -> Path:
    """``count`` small distinct images under ``root`` (reused when already there)."""
    if root.is_dir() and sum(1 for _ in root.rglob("*.*")) == count:
        return root
    shutil.rmtree(root, ignore_errors=True)
    rng = np.random.default_rng(17)
    for number in range(count):
        folder = root / f"{number // 100:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        side = int(rng.integers(48, 97))
        pattern = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
        image = Image.fromarray(pattern, "RGB").resize((side, side), Image.Resampling.BILINEAR)
        if number % 2:
            image.save(folder / f"{number:05d}.jpg", quality=90)
        else:
            image.save(folder / f"{number:05d}.png")
    return root


def base_sources(rev: str) -> Path:
    """The ``src/`` folder of commit ``rev``, extracted once under ``WORK``."""
    target = WORK / f"src-{rev}"
    if not (target / "src" / "pixdex" / "cli.py").is_file():
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", rev, "src"], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target / "src"


def pixdex(src: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run ``pixdex ARGS`` with the code in ``src``; the completed process."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [sys.executable, "-m", "pixdex.cli", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def run_timed(src: Path, args: list[str | Path]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one ``pixdex ARGS`` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = pixdex(src, *args)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"pixdex {args} failed: {done.stderr.strip()}")
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def prepare(src: Path, tree: Path, db: Path) -> str:
    """Index ``tree`` into ``db`` with the code in ``src`` (once); a stored hash to query."""
    if not db.is_file():
        done = pixdex(src, "index", tree, "--db", db)
        if done.returncode != 0:
            raise RuntimeError(f"indexing with {src} failed: {done.stderr.strip()}")
    query = next(tree.rglob("*.png"))
    found = pixdex(src, "search", query, "--db", db, "--json", "-k", "1")
    return json.loads(found.stdout.splitlines()[0])["hash"]


def commands(tree: Path, db: Path, code: str) -> dict[str, list[str | Path]]:
    """The measured commands, by name, against one version's catalog."""
    return {
        "--help": ["--help"],
        "version": ["version"],
        "info": ["info", "--db", db],
        "index (unchanged)": ["index", tree, "--db", db],
        "search --hash": ["search", "--hash", code, "--db", db],
    }


def compare(versions: dict[str, Path], tree: Path) -> dict[str, dict[str, dict[str, float]]]:
    """Each command with each version's code: best and median wall seconds and the least CPU
    seconds over ``RUNS`` runs, the versions alternating run by run so that both see the same
    load on a shared machine. One untimed warm-up run each first (file cache; numba's cache for
    code that compiles)."""
    plans = {}
    for label, src in versions.items():
        db = WORK / f"{label.split()[0]}-{FILES}.db"
        plans[label] = (src, commands(tree, db, prepare(src, tree, db)))
    results: dict[str, dict[str, dict[str, float]]] = {}
    for name in next(iter(plans.values()))[1]:
        for src, args in plans.values():
            run_timed(src, args[name])
        samples: dict[str, list[tuple[float, float]]] = {label: [] for label in plans}
        for _ in range(RUNS):
            for label, (src, args) in plans.items():
                samples[label].append(run_timed(src, args[name]))
        results[name] = {
            label: {
                "best": min(w for w, _ in runs),
                "median": statistics.median(w for w, _ in runs),
                "cpu": min(c for _, c in runs),
            }
            for label, runs in samples.items()
        }
    return results


def main() -> None:
    tree = build_tree(WORK / f"tree-{FILES}", FILES)
    print(
        f"{'quick' if QUICK else 'full'} run, {os.cpu_count()} cores; {FILES:,} files in {tree}; "
        f"each command a fresh `python -m pixdex.cli` process; wall: best (median) of {RUNS}, "
        f"cpu: least user + system; load average {os.getloadavg()[0]:.1f}"
    )
    before, now = f"before ({BASE})", "now"
    results = compare({before: base_sources(BASE), now: REPO / "src"}, tree)
    print(f"{'command':<18} {before:>26} {now:>26} {'ratio':>7}  target")
    for name, row in results.items():
        old, new = row[before], row[now]
        target = TARGETS.get(name)
        verdict = (
            ""
            if target is None
            else f"≤ {target} s: " + ("met" if new["best"] <= target else "missed")
        )
        print(f"{name:<18} {_cell(old)} {_cell(new)} {old['best'] / new['best']:>6.1f}×  {verdict}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    RESULTS.write_text(json.dumps({"files": FILES, "runs": RUNS, "results": results}, indent=1))


def _cell(figures: dict[str, float]) -> str:
    return f"{figures['best']:>6.3f} s ({figures['median']:.3f}) cpu {figures['cpu']:.2f} s"


if __name__ == "__main__":
    main()
