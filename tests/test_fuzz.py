"""The decoder fuzzer: its findings replayed, and a short bounded run of it.

``tests/fuzz_findings/`` holds every input the fuzzer (``tests/fuzz_decode.py``, atheris) found
that crashed, hung or escaped as something other than an ``ImageError``, each fixed since; they
must end as hashes or a one-line ``ImageError``. The short run fuzzes a fixed number of inputs
from a fixed libFuzzer seed, so it is the same run every time; ``python -m benchmarks fuzz`` is
the long one.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from fuzz_target import FORMATS, check, write_seeds

TESTS = Path(__file__).parent
FINDINGS = sorted((TESTS / "fuzz_findings").iterdir())

RUNS = 1500
"""Inputs of the short run: about 10 s on a loaded 2-core machine."""


@pytest.mark.parametrize("finding", FINDINGS, ids=[f.name for f in FINDINGS])
def test_each_input_the_fuzzer_found_ends_as_hashes_or_one_image_error(finding: Path) -> None:
    check(finding.read_bytes())


def test_seeds_cover_every_format(tmp_path: Path) -> None:
    groups = write_seeds(tmp_path)
    assert all(len(groups[name]) >= 2 for name in FORMATS), {k: len(v) for k, v in groups.items()}


def test_a_short_fuzzing_run_finds_nothing(tmp_path: Path) -> None:
    write_seeds(tmp_path / "seeds")
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    done = subprocess.run(
        [
            sys.executable,
            "-W",
            "ignore",
            str(TESTS / "fuzz_decode.py"),
            "run",
            str(tmp_path / "seeds"),
            f"-runs={RUNS}",
            "-seed=1",
            "-timeout=60",
            "-rss_limit_mb=2048",
            f"-artifact_prefix={artifacts}/",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    report = done.stderr[-3000:]
    assert done.returncode == 0, report
    assert not list(artifacts.iterdir()), report
    assert re.search(rf"Done {RUNS} runs", done.stderr), report
