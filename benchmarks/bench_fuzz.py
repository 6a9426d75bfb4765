"""Issue 16: the long fuzzing run of the decoders, format by format.

    python -m benchmarks fuzz                            # 180 s per format group
    PIXDEX_FUZZ_SECONDS=30 python -m benchmarks fuzz     # a shorter run

``tests/fuzz_decode.py`` (atheris over ``pixdex.decode``, every hash and the content signature)
runs on the seed files of one format group at a time (``tests/fuzz_target.FORMATS``: JPEG, PNG,
WebP, GIF, BMP, TIFF, AVIF, and the other formats Pillow opens), each for the same time, with
libFuzzer's limits of 10 s per input (a hang) and 2 GiB of resident memory (unbounded memory).
A finding stops libFuzzer: it is recorded and the run resumes with the corpus grown so far, until
the group's time is spent. Per group: inputs run, coverage reached, crashes (any exception other
than a one-line ``ImageError``, or a dead process), hangs, out-of-memory inputs, and the peak
resident memory libFuzzer reports. Findings are left in ``.cache/fuzz/findings/``: each becomes a
file in ``tests/fuzz_findings/`` and a fix.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.corpus import CACHE

TESTS = Path(__file__).resolve().parent.parent / "tests"
SECONDS = int(os.environ.get("PIXDEX_FUZZ_SECONDS", "180"))
"""Fuzzing time per format group, in seconds."""

TIMEOUT_S = 10
RSS_LIMIT_MB = 2048


@dataclass
class GroupRun:
    """What fuzzing one format group found."""

    name: str
    runs: int = 0
    seconds: float = 0.0
    coverage: int = 0
    peak_mb: int = 0
    crashes: list[str] = field(default_factory=list)
    hangs: list[str] = field(default_factory=list)
    ooms: list[str] = field(default_factory=list)


def fuzz_group(name: str, seeds: Path, work: Path) -> GroupRun:
    """Fuzz one group for ``SECONDS``, restarting after each finding."""
    corpus, findings = work / "corpus" / name, work / "findings"
    corpus.mkdir(parents=True, exist_ok=True)
    findings.mkdir(parents=True, exist_ok=True)
    result = GroupRun(name)
    deadline = time.monotonic() + SECONDS
    while (left := int(deadline - time.monotonic())) > 5:
        before = set(findings.iterdir())
        started = time.monotonic()
        done = subprocess.run(
            [
                sys.executable,
                "-W",
                "ignore",
                str(TESTS / "fuzz_decode.py"),
                "run",
                str(corpus),
                str(seeds / name),
                f"-max_total_time={left}",
                f"-timeout={TIMEOUT_S}",
                f"-rss_limit_mb={RSS_LIMIT_MB}",
                f"-artifact_prefix={findings}/{name}-",
                "-print_final_stats=1",
            ],
            capture_output=True,
            text=True,
            cwd=work,
            check=False,
        )
        result.seconds += time.monotonic() - started
        log = done.stderr
        result.runs += _last_int(r"stat::number_of_executed_units:\s+(\d+)", log)
        result.coverage = max(result.coverage, _max_int(r" cov: (\d+)", log))
        result.peak_mb = max(result.peak_mb, _max_int(r"rss: (\d+)Mb", log))
        for found in sorted(set(findings.iterdir()) - before):
            kind = found.name.removeprefix(f"{name}-").split("-")[0]
            {"timeout": result.hangs, "oom": result.ooms}.get(kind, result.crashes).append(
                f"{found.name}: {_reason(log)}"
            )
        if done.returncode == 0:
            break
    return result


def _last_int(pattern: str, text: str) -> int:
    found = re.findall(pattern, text)
    return int(found[-1]) if found else 0


def _max_int(pattern: str, text: str) -> int:
    return max((int(v) for v in re.findall(pattern, text)), default=0)


def _reason(log: str) -> str:
    for marker in ("=== Uncaught Python exception: ===", "ERROR: libFuzzer:"):
        if marker in log:
            tail = log.split(marker, 1)[1].strip().splitlines()
            return tail[0] if tail else marker
    return "(no reason printed)"


def main() -> None:
    sys.path.insert(0, str(TESTS))
    from fuzz_target import FORMATS, write_seeds

    work = CACHE / "fuzz"
    shutil.rmtree(work / "findings", ignore_errors=True)
    seeds = work / "seeds"
    shutil.rmtree(seeds, ignore_errors=True)
    counts = {k: len(v) for k, v in write_seeds(seeds).items()}
    print(f"fuzzing each format group for {SECONDS} s ({os.cpu_count()} cores; one at a time)")
    print(
        f"{'group':8} {'seeds':>5} {'inputs':>9} {'inputs/s':>8} {'cov':>6} "
        f"{'crashes':>7} {'hangs':>5} {'ooms':>4} {'peak RSS':>9}"
    )
    total = GroupRun("all")
    for name in FORMATS:
        run = fuzz_group(name, seeds, work)
        rate = run.runs / run.seconds if run.seconds else 0.0
        print(
            f"{name:8} {counts[name]:>5} {run.runs:>9,} {rate:>8.0f} {run.coverage:>6} "
            f"{len(run.crashes):>7} {len(run.hangs):>5} {len(run.ooms):>4} {run.peak_mb:>6} MB",
            flush=True,
        )
        total.runs += run.runs
        total.peak_mb = max(total.peak_mb, run.peak_mb)
        for kind in ("crashes", "hangs", "ooms"):
            getattr(total, kind).extend(getattr(run, kind))
    print(
        f"total: {total.runs:,} inputs; {len(total.crashes)} crashes, {len(total.hangs)} hangs, "
        f"{len(total.ooms)} out-of-memory; peak RSS {total.peak_mb} MB"
    )
    for finding in total.crashes + total.hangs + total.ooms:
        print(f"  {finding}")
