"""Issue 16: ten minutes of mixed HTTP traffic while ``pixdex index`` writes into the catalog.

    python -m benchmarks soak                          # 600 s, 16 users
    PIXDEX_SOAK_SECONDS=60 python -m benchmarks soak   # a short run

The catalog starts with 600 images of the real corpus (``benchmarks.corpus``); every
``INDEX_EVERY_S`` seconds a writer links ``INDEX_STEP`` more corpus images into the library and
runs a real ``pixdex index`` process on it, so the server sees the catalog's generation move and
rebuilds its search indexes while answering. The server is ``pixdex serve`` (default limits:
128 requests in flight, 2 decodes running and 32 waiting, 32 MiB uploads) on 127.0.0.1; the load
is locust, headless, with ``tests/locustfile.py``: searches by upload (edited copies of corpus
images and unrelated pictures) and by hash, record, thumbnail and file fetches, duplicate
listings, and bad uploads (noise, empty, 32 MiB + 1 byte, wrong Content-Type).

Recorded: requests and answers by status (5xx other than load shedding's 503 must be zero),
locust's latency percentiles per request type, the server's resident memory sampled every 5 s
(each minute's peak: it rises while two large images are decoded at once and falls back, so the
bound is the idle server plus ``DECODES_AT_ONCE`` decodes), and the index runs done meanwhile.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from benchmarks.corpus import CACHE, build_corpus

TESTS = Path(__file__).resolve().parent.parent / "tests"
SECONDS = int(os.environ.get("PIXDEX_SOAK_SECONDS", "600"))
USERS = 16
START_IMAGES = 600
INDEX_EVERY_S = 20
INDEX_STEP = 20
PIXDEX = [sys.executable, "-m", "pixdex.cli"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def writer(library: Path, db: Path, pending: list[Path], stop: threading.Event) -> list[float]:
    """Add ``INDEX_STEP`` images and index them every ``INDEX_EVERY_S`` s; each run's seconds."""
    runs = []
    while not stop.wait(INDEX_EVERY_S) and pending:
        for path in pending[:INDEX_STEP]:
            os.link(path, library / f"late-{len(runs):03d}-{path.name}")
        del pending[:INDEX_STEP]
        started = time.perf_counter()
        subprocess.run([*PIXDEX, "index", str(library), "--db", str(db)], capture_output=True)
        runs.append(time.perf_counter() - started)
    return runs


def main() -> None:
    from pixdex.evaluation.edits import write_edited_copies

    images = [im.path for im in build_corpus(1000) if im.kind != "png-huge"]
    work = CACHE / "soak"
    shutil.rmtree(work, ignore_errors=True)
    library, queries = work / "library", work / "queries"
    library.mkdir(parents=True)
    for number, path in enumerate(images[:START_IMAGES]):
        os.link(path, library / f"{number:04d}-{path.name}")
    for path in images[: START_IMAGES : START_IMAGES // 60]:
        write_edited_copies(path, queries, ["jpeg-30", "red-square"])
    for path in images[-20:]:
        shutil.copy(path, queries / path.name)
    db = work / "pixdex.db"
    subprocess.run([*PIXDEX, "index", str(library), "--db", str(db)], check=True)

    port = free_port()
    server = subprocess.Popen(
        [*PIXDEX, "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    memory: list[tuple[float, int]] = []
    stop = threading.Event()
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(600):  # the server loads its indexes first
            if (
                subprocess.run(["curl", "-sf", f"{url}/healthz"], capture_output=True).returncode
                == 0
            ):
                break
            time.sleep(0.1)
        started = time.perf_counter()

        def sample() -> None:
            while not stop.wait(5.0):
                memory.append((time.perf_counter() - started, rss_kib(server.pid)))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        index_runs: list[float] = []
        writing = threading.Thread(
            target=lambda: index_runs.extend(
                writer(library, db, list(images[START_IMAGES:]), stop)
            ),
            daemon=True,
        )
        writing.start()
        report = work / "statuses.json"
        locust = subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(TESTS / "locustfile.py"),
                "--headless",
                f"--users={USERS}",
                "--spawn-rate=4",
                f"--run-time={SECONDS}s",
                f"--host={url}",
                f"--csv={work / 'soak'}",
                "--only-summary",
                "--loglevel=WARNING",
            ],
            env={
                **os.environ,
                "PIXDEX_LOAD_QUERIES": str(queries),
                "PIXDEX_LOAD_REPORT": str(report),
            },
            capture_output=True,
            text=True,
            check=False,
        )
        stop.set()
        writing.join()
        sampler.join()
        alive = server.poll() is None
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=30)

    statuses = json.loads(report.read_text())
    by_status: dict[int, int] = {}
    for key, count in statuses.items():
        status = int(key.rsplit(" ", 1)[1])
        by_status[status] = by_status.get(status, 0) + count
    total = sum(by_status.values())
    errors = sum(c for s, c in by_status.items() if s >= 500 and s != 503)
    print(f"soak: {SECONDS} s, {USERS} locust users, pixdex serve, {os.cpu_count()} cores")
    print(f"  requests: {total:,} ({total / SECONDS:.1f}/s)")
    print(f"  by status: {dict(sorted(by_status.items()))}")
    print(f"  server errors (5xx but 503): {errors}; server alive at the end: {alive}")
    spent = sum(index_runs)
    print(f"  index runs meanwhile: {len(index_runs)} (+{INDEX_STEP} images each), {spent:.0f} s")
    with open(work / "soak_stats.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    print(
        f"  {'request':28} {'count':>7} {'fail':>5} {'p50':>6} {'p95':>6} {'p99':>6} {'max':>7} ms"
    )
    for row in rows:
        print(
            f"  {row['Name']:28} {int(row['Request Count']):>7,} {int(row['Failure Count']):>5} "
            f"{row['50%']:>6} {row['95%']:>6} {row['99%']:>6} {row['100%']:>7}"
        )
    first = max((kib for t, kib in memory if t <= 60), default=0) / 1024
    last = max((kib for t, kib in memory if t >= SECONDS - 60), default=0) / 1024
    peak = max((kib for _, kib in memory), default=0) / 1024
    print(
        f"  server RSS: first minute's peak {first:,.0f} MiB, last minute's {last:,.0f} MiB, "
        f"largest {peak:,.0f} MiB ({len(memory)} samples)"
    )
    minutes = [
        max((kib for t, kib in memory if minute * 60 <= t < minute * 60 + 60), default=0) // 1024
        for minute in range(-(-SECONDS // 60))
    ]
    print(f"  server RSS, each minute's peak (MiB): {minutes}")
    if locust.returncode not in (0, 1):
        print(locust.stderr[-2000:])
