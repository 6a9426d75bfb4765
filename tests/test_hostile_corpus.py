"""One ``pixdex index`` run over hundreds of hostile files made from real images.

``tests/hostile_corpus.py`` mutates real photographs and edge-case files (truncations, bit
flips, noise, lying headers, wrong extensions, empty and text files, mode-000 files, names that
are not UTF-8) and sets traps for the walk (symbolic link loops, a dangling link, a link up the
tree, a named pipe). A 600-megapixel clip-art PNG stands for a decoder that does not finish: it
takes seconds to decode in strips, over the run's per-file time limit, so its worker is killed
and replaced mid-run. The run is a real process; its whole process tree's memory is sampled.
``python -m benchmarks hostile`` is the same with thousands of files.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import pyvips
from conftest import SKIMAGE_DATA
from hostile_corpus import Corpus, build
from process_tree import TreeMemory

from pixdex.catalog import Catalog
from pixdex.names import printable

COUNT = 200
TIME_LIMIT_S = 2.0
"""The run's per-file limit: the slow PNG takes 3-4 times this on 2 cores, a real photo a few
hundredths of it."""

PEAK_MIB = 1500
"""Bound on the sum of the resident memory of the run's processes (main, fork server, two
workers) at any instant."""

EDGE_SOURCES = ("photo.bmp", "photo.tif", "photo.webp", "photo.avif", "animated.gif")
EDGE_SOURCES += ("cmyk.jpg", "gray16.png", "clipart.png", "orientation6.jpg")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, photo_paths, edge_files) -> tuple[Path, Corpus, Path]:
    """(folder, what was written, the slow PNG)."""
    folder = tmp_path_factory.mktemp("hostile") / "library"
    sources = [*photo_paths, *(edge_files[name] for name in EDGE_SOURCES)]
    corpus = build(folder, sources, COUNT, seed=16)
    slow = folder / "slow" / "clipart-600mp.png"
    slow.parent.mkdir()
    logo = pyvips.Image.new_from_file(str(SKIMAGE_DATA / "logo.png"))
    logo.resize(49, kernel="nearest").pngsave(str(slow), compression=1, filter="none")
    return folder, corpus, slow


def test_one_run_hashes_or_reports_every_file_in_bounded_memory(hostile, tmp_path) -> None:
    folder, corpus, slow = hostile
    db = tmp_path / "pixdex.db"
    command = [sys.executable, "-m", "pixdex.cli", "index", str(folder), "--db", str(db)]
    run = subprocess.Popen(
        [*command, "--time-limit", str(TIME_LIMIT_S), "--batch-size", "50"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="strict",  # every line must be valid UTF-8, names that are not included
    )
    memory = TreeMemory(run.pid)
    out, err = run.communicate()
    memory.stop()
    assert run.returncode == 0, err
    assert "Traceback" not in err

    files = len(corpus.files) + 1
    summary = re.match(r"(\d+) files .*: (\d+) new, 0 changed, 0 unchanged, (\d+) failed", out)
    assert summary is not None, out
    total, new, failed = map(int, summary.groups())
    assert (total, new + failed) == (files, files)
    failures = [line for line in out.splitlines() if line.startswith("  failed: ")]
    assert len(failures) == failed
    for path in corpus.broken_links:
        assert f"  unreadable: {path}: " in out

    with Catalog(db, create=False) as catalog:
        stored = catalog.files_at([*corpus.files, str(slow)])
    assert len(stored) == files  # every file has its row: hashed, or failed with a reason
    for path, kind in corpus.files.items():
        error = stored[path].error
        if kind in ("copy", "extension", "unreadable"):  # real images (root reads mode 000)
            assert error is None, (path, error)
        elif kind in ("empty", "text"):
            assert error is not None, path
        if error is not None:
            assert f"  failed: {printable(path)}: {error}" in failures
    assert stored[str(slow)].error == f"hashing it took longer than {TIME_LIMIT_S:g} s (time limit)"
    assert len(memory.peak_hwm_kib) >= 4  # the run, its fork server, two workers (and more)
    assert memory.peak_sum_kib < PEAK_MIB * 1024, memory.peak_hwm_kib
