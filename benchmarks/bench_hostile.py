"""Issue 16: thousands of hostile files in one ``pixdex index`` run.

    python -m benchmarks hostile                       # 3,000 files
    PIXDEX_HOSTILE_FILES=500 python -m benchmarks hostile

``tests/hostile_corpus.py`` mutates real images (the corpus's JPEG photos and crops, wallpapers,
PNG, WebP, figures and icons, ``benchmarks.corpus``) into truncations, bit flips, noise, lying
headers, wrong extensions, empty, text and mode-000 files and names that are not UTF-8, beside
symbolic link loops, a dangling link, a link up the tree and a named pipe. One real
``pixdex index`` process (every core, the default per-file time limit) indexes them; its process
tree's resident memory is sampled throughout (``tests/process_tree.py``).

Reported: files found, hashed and failed (by mutation), walk entries reported unreadable, wall
time, the peak of the tree's summed resident memory and the largest single process's.
"""

from __future__ import annotations

import collections
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.corpus import CACHE, build_corpus

TESTS = Path(__file__).resolve().parent.parent / "tests"
FILES = int(os.environ.get("PIXDEX_HOSTILE_FILES", "3000"))
SOURCES = 300
"""Real images the mutations start from, drawn evenly from the corpus (huge PNG excluded)."""


def main() -> None:
    sys.path.insert(0, str(TESTS))
    from hostile_corpus import build
    from process_tree import TreeMemory

    from pixdex.catalog import Catalog

    images = [im.path for im in build_corpus(1000) if im.kind != "png-huge"]
    sources = images[:: max(1, len(images) // SOURCES)]
    work = CACHE / "hostile"
    shutil.rmtree(work, ignore_errors=True)
    folder = work / "library"
    corpus = build(folder, sources, FILES, seed=16)
    db = work / "pixdex.db"
    size = sum(os.lstat(p).st_size for p in corpus.files) / 2**20
    print(f"{len(corpus.files):,} hostile files ({size:,.0f} MiB) from {len(sources)} real images")
    print("  by mutation:", dict(collections.Counter(corpus.files.values())))

    started = time.perf_counter()
    run = subprocess.Popen(
        [sys.executable, "-m", "pixdex.cli", "index", str(folder), "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="strict",
    )
    memory = TreeMemory(run.pid)
    out, err = run.communicate()
    memory.stop()
    seconds = time.perf_counter() - started
    print(f"pixdex index: exit status {run.returncode}, {seconds:.1f} s, {os.cpu_count()} cores")
    print(f"  {out.splitlines()[0]}")
    print(f"  traceback in stderr: {'Traceback' in err}")
    print(f"  walk entries reported unreadable: {len(re.findall('  unreadable: ', out))}")
    with Catalog(db, create=False) as catalog:
        stored = catalog.files_at(list(corpus.files))
    missing = len(corpus.files) - len(stored)
    hashed = collections.Counter(
        k for p, k in corpus.files.items() if p in stored and stored[p].error is None
    )
    failed = collections.Counter(
        k for p, k in corpus.files.items() if p in stored and stored[p].error
    )
    print(f"  files without a catalog row: {missing}")
    print(f"  hashed by mutation: {dict(hashed)}")
    print(f"  failed by mutation: {dict(failed)}")
    stopped = [p for p, f in stored.items() if f.error and f.error.startswith("hashing it ")]
    print(f"  stopped by the time limit or a crashed worker: {len(stopped)}")
    largest = memory.largest_process_kib / 1024
    print(
        f"  peak memory: {memory.peak_sum_kib / 1024:,.0f} MiB summed over "
        f"{len(memory.peak_hwm_kib)} processes; largest process {largest:,.0f} MiB"
    )
