"""Issue 14's figures: the PostgreSQL catalog side by side with SQLite, in one run.

    python -m benchmarks postgres                       # 1,000 / 2,000 images, 1M-image catalogs
    PIXDEX_BENCH_QUICK=1 python -m benchmarks postgres  # 100 / 200 images, 20k-image catalogs

PostgreSQL is a private server started for the run (``benchmarks/postgres_cluster.py``: Debian's
PostgreSQL 15 with its default settings, every commit durable) on this machine, reached over its
Unix socket; it shares the cores with pixdex, as SQLite does. The catalogs' local files go to a
temporary cache folder. Every comparison alternates the backends and keeps each one's best (or
median) of several rounds, since the machine is shared.

1. Indexing the same 1,000 real images of the corpus (``benchmarks/corpus.py``) into a new
   catalog of each backend with ``Catalog.index`` (every core). Target: PostgreSQL within 1.2×.
2. Four writers: a 2,000-image tree (the corpus twice, as hard links) cut into four disjoint
   quarter folders, indexed by four concurrent ``pixdex index`` processes (one quarter each) into
   one PostgreSQL catalog, and by one ``pixdex index`` of the whole tree into another. The two
   catalogs must hold exactly the same rows (ids and indexing times aside); wall times compared.
3. A million images: the codes of ``bench_server`` (90 % distinct pictures, 10 % near copies of
   them) in rows shaped like ``bench_catalog``'s, written into each backend through
   ``Store.write`` in batches of 100,000 (PostgreSQL: binary COPY), then opened in a fresh process
   to answer one query: cold (no saved index: every code read, the index built and saved) and
   warm (the saved index loaded). Targets for PostgreSQL: ≤ 2 s cold, ≤ 1 s warm.
   (``bench_catalog``'s own codes grow from ~300 seeds, so a query near one matches ~5,500 files
   and a search is mostly fetching them: a worst case for the HTTP figure below, not its subject.)
4. HTTP search by hash on those catalogs: ``pixdex serve`` on each, 8 concurrent clients and
   ``bench_server``'s queries (half a planted picture with 2 bits flipped, half random codes).
   Target: PostgreSQL ≥ 80 % of SQLite's requests per second.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.bench_catalog import synthetic_record
from benchmarks.bench_server import (
    SEED,
    free_port,
    load,
    query_hashes,
    start_server,
    stop_server,
    synthetic_codes,
)
from benchmarks.corpus import CACHE, build_corpus
from benchmarks.postgres_cluster import PostgresCluster
from pixdex.catalog import Catalog, FileRecord, Store
from pixdex.catalog.location import open_store
from pixdex.catalog.search_index import saved_index_files
from pixdex.hashing import Hash

ROUNDS = 3
"""Rounds of each alternating comparison."""

BATCH = 100_000
"""Synthetic rows per ``Store.write`` when growing the million-image catalogs."""

CLIENTS = 8

HTTP_ROUNDS = 5
"""Alternating rounds of the HTTP comparison: a round is seconds long, and the shared host's load
moves one backend's rate by up to 2× between rounds."""


def quick() -> bool:
    return os.environ.get("PIXDEX_BENCH_QUICK") == "1"


def index_in_process(location: str, library: Path) -> float:
    """Seconds for ``Catalog.index`` of ``library`` into the new catalog at ``location``."""
    with Catalog(location) as catalog:
        return catalog.index([library]).seconds


def compare_indexing(cluster: PostgresCluster, library: Path, work: Path, count: int) -> None:
    print(f"1. indexing {count:,} corpus images into a new catalog (Catalog.index, every core):")
    times: dict[str, list[float]] = {"SQLite": [], "PostgreSQL": []}
    for round_ in range(ROUNDS):
        times["SQLite"].append(index_in_process(str(work / f"index-{round_}.db"), library))
        times["PostgreSQL"].append(index_in_process(cluster.create_database(), library))
    best = {name: min(seconds) for name, seconds in times.items()}
    for name, seconds in times.items():
        rounds = ", ".join(f"{s:.2f}" for s in seconds)
        print(f"   {name:<11} best {best[name]:6.2f} s  (rounds: {rounds})")
    ratio = best["PostgreSQL"] / best["SQLite"]
    print(f"   PostgreSQL / SQLite: {ratio:.2f}× (target ≤ 1.2×)")


def catalog_rows(location: str) -> dict[str, FileRecord]:
    """Every file record of a catalog, by path (ids and indexing times are not in records)."""
    with open_store(location, create=False) as store:
        paths = list(store.states("/"))
        ids = [f.file_id for f in store.files_by_path(paths).values()]
        return {r.path: r for r in store.records(ids).values()}


def index_processes(folders: list[Path], location: str) -> float:
    """Seconds for one ``pixdex index`` process per folder, all at once, into ``location``."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "pixdex.cli", "index"]
    runs = [
        subprocess.Popen(
            [*command, str(folder), "--db", location],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for folder in folders
    ]
    for run in runs:
        if run.wait() != 0:
            raise RuntimeError(run.stderr.read().decode())
    return time.perf_counter() - started


def compare_writers(cluster: PostgresCluster, paths: list[Path], work: Path) -> None:
    tree = work / "tree"
    quarters = [tree / f"q{k}" for k in range(4)]
    for quarter in quarters:
        quarter.mkdir(parents=True)
    names = [(copy, i, path) for copy in range(2) for i, path in enumerate(paths)]
    for n, (copy, i, path) in enumerate(names):
        os.link(path, quarters[n % 4] / f"{copy}-{i:05d}{path.suffix}")
    print(f"2. a {len(names):,}-image tree in four quarters (pixdex index processes, every core):")
    times: dict[str, list[float]] = {"four": [], "one": []}
    for round_ in range(2):  # four first, then one first: the host's load drifts
        for kind in ("four", "one") if round_ == 0 else ("one", "four"):
            location = cluster.create_database()
            folders = quarters if kind == "four" else [tree]
            times[kind].append(index_processes(folders, location))
            rows = catalog_rows(location)
            if kind == "four":
                union = rows
            else:
                one = rows
    verdict = "equal, row for row" if union == one else "DIFFERENT"
    together, single = min(times["four"]), min(times["one"])
    for label, kind in (
        ("4 concurrent indexers, one quarter each", "four"),
        ("1 indexer, whole tree", "one"),
    ):
        rounds = ", ".join(f"{t:.1f}" for t in times[kind])
        print(f"   {label:<40} best {min(times[kind]):6.1f} s  (rounds: {rounds})")
    print(
        f"   ratio {together / single:.2f}×; union of the four: {len(union):,} files, "
        f"one indexer: {len(one):,} files: {verdict}"
    )


def synthetic_rows(codes: np.ndarray, start: int, stop: int) -> list[FileRecord]:
    """The rows of ``bench_catalog.write_synthetic_catalog``: as if indexed from a photo library."""
    return [
        synthetic_record(i, {"dhash": Hash(int(code), 64, "dhash", 100)})
        for i, code in enumerate(codes[start:stop], start)
    ]


def grow(store: Store, codes: np.ndarray) -> float:
    """Write the synthetic rows of ``codes`` into ``store``; seconds."""
    seconds = 0.0
    with store:
        for start in range(0, len(codes), BATCH):
            rows = synthetic_rows(codes, start, start + BATCH)
            started = time.perf_counter()
            store.write(rows)
            seconds += time.perf_counter() - started
    return seconds


FIRST_QUERY = """
import sys, time
started = time.perf_counter()
import pixdex.catalog.postgres  # psycopg: a Python import too, made up front for both backends
from pixdex.catalog import Catalog
from pixdex.hashing import Hash
imported = time.perf_counter()
with Catalog(sys.argv[1], create=False) as catalog:
    result = catalog.search(Hash.from_hex(sys.argv[2], "dhash"), max_distance=10)
done = time.perf_counter()
print(f"{imported - started:.3f} {done - imported:.3f} {len(result.matches)}")
"""
"""``bench_catalog``'s first query, with the PostgreSQL backend's imports (psycopg, 0.1-0.3 s)
counted with Python's rather than inside "open": SQLite's are imported by ``pixdex.catalog``."""


def first_query(location: str, query: str) -> tuple[float, float, int]:
    """In a fresh process: (import seconds, open + first query seconds, matches)."""
    command = [sys.executable, "-c", FIRST_QUERY, location, query]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def forget_saved_indexes(location: str) -> None:
    with Catalog(location, create=False) as catalog:
        for path in saved_index_files(catalog.path):
            path.unlink()


def compare_first_query(locations: dict[str, str], query: str, count: int) -> None:
    print(f"3b. open the {count:,}-image catalog and answer one query, in a fresh process:")
    first_query(locations["SQLite"], query)  # compiles (or loads) the search kernels once
    results: dict[tuple[str, str], list[float]] = {}
    imports: dict[str, list[float]] = {name: [] for name in locations}
    for _ in range(ROUNDS):
        for location in locations.values():
            forget_saved_indexes(location)
        for state in ("cold", "warm"):
            for name, location in locations.items():
                imported, seconds, matches = first_query(location, query)
                results.setdefault((name, state), []).append(seconds)
                imports[name].append(imported)
    targets = {"cold": "≤ 2 s", "warm": "≤ 1 s"}
    for state, label in (("cold", "no saved index"), ("warm", "saved index loaded")):
        for name in locations:
            seconds = results[(name, state)]
            rounds = ", ".join(f"{s:.2f}" for s in seconds)
            target = f"  (target {targets[state]})" if name == "PostgreSQL" else ""
            print(
                f"   {state} ({label}) {name:<11} median {statistics.median(seconds):5.2f} s "
                f"(rounds: {rounds}){target}"
            )
    spent = ", ".join(f"{n} {statistics.median(s):.2f} s" for n, s in imports.items())
    print(f"   ({matches} matches within 10 bits; Python imports not counted: median {spent})")


async def requests_per_second(port: int, bodies: list[tuple[bytes, str]], requests: int) -> float:
    """``requests`` searches from ``CLIENTS`` clients, after a short warm-up; requests/s."""
    await load(port, "warm-up", 4, 200, bodies, 60)
    level = await load(port, "search", CLIENTS, requests, bodies, 120)
    if level.errors:
        raise RuntimeError(f"{level.errors} of {level.requests} requests failed")
    return level.rate


def compare_http(locations: dict[str, str], queries: list[str], requests: int) -> None:
    print(f"4. HTTP search by hash, {CLIENTS} clients, {requests:,} requests per run:")
    by_hash = [(json.dumps({"hash": q}).encode(), "application/json") for q in queries]
    rates: dict[str, list[float]] = {name: [] for name in locations}
    for _ in range(HTTP_ROUNDS):
        for name, location in locations.items():
            process, _ = start_server(location, port := free_port())
            try:
                rates[name].append(asyncio.run(requests_per_second(port, by_hash, requests)))
            finally:
                stop_server(process)
    for name, measured in rates.items():
        rounds = ", ".join(f"{r:,.0f}" for r in measured)
        print(f"   {name:<11} best {max(measured):6,.0f} req/s  (rounds: {rounds})")
    ratio = max(rates["PostgreSQL"]) / max(rates["SQLite"])
    print(f"   PostgreSQL / SQLite: {ratio:.0%} (target ≥ 80 %)")


def main() -> None:
    corpus = [im for im in build_corpus(1000) if im.kind != "png-huge"]
    if quick():
        corpus = corpus[:: max(1, len(corpus) // 100)]
    paths = [im.path for im in corpus]
    work = Path(tempfile.mkdtemp(prefix="bench-postgres-", dir=CACHE))
    os.environ["XDG_CACHE_HOME"] = str(work / "cache")  # the PostgreSQL catalogs' local files
    print(f"{os.cpu_count()} cores; PostgreSQL 15 (default settings) over a Unix socket")
    try:
        with PostgresCluster.start(durable=True) as cluster:
            library = work / "library"
            library.mkdir()
            for i, path in enumerate(paths):
                os.link(path, library / f"{i:05d}{path.suffix}")
            compare_indexing(cluster, library, work, len(paths))
            compare_writers(cluster, paths, work)

            count = 20_000 if quick() else 1_000_000
            codes, _ = synthetic_codes(count, np.random.default_rng(SEED))
            locations = {"SQLite": str(work / "big.db"), "PostgreSQL": cluster.create_database()}
            print(f"3a. a {count:,}-image catalog (synthetic rows, Store.write of {BATCH:,}):")
            for name, location in locations.items():
                seconds = grow(open_store(location), codes)
                print(f"   {name:<11} written in {seconds:6.1f} s")
            # What autovacuum does after a bulk load, done now rather than at a random moment
            # of the measurements below: table statistics, visibility map, hint bits.
            started = time.perf_counter()
            cluster.sql("VACUUM ANALYZE", cluster.database(locations["PostgreSQL"]))
            print(f"   PostgreSQL  VACUUM ANALYZE {time.perf_counter() - started:6.1f} s")
            query = f"{int(codes[count // 2]) ^ 0b101:016x}"
            compare_first_query(locations, query, count)
            queries = query_hashes(512, count, np.random.default_rng(1))
            compare_http(locations, queries, 200 if quick() else 3_000)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
