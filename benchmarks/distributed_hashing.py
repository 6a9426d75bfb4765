"""Hashing through a Dask cluster against the local pool (issue 15), part of
``python -m benchmarks distributed``; alone: ``python -m benchmarks.distributed_hashing``.

    PIXDEX_BENCH_QUICK=1 python -m benchmarks.distributed_hashing   # 100 images instead of 1,000

The same 1,000 real images of the corpus (``benchmarks/corpus.py``, hard-linked into one folder)
are indexed into a new PostgreSQL catalog (a private server, ``benchmarks/postgres_cluster.py``)
twice per round: by ``Catalog.index`` on the local pool of two hashing processes, and by
``index_on_cluster`` through a private cluster of this machine (``benchmarks/dask_cluster.py``:
``dask scheduler`` and two ``dask worker`` processes of one thread each, each hashing in its one
supervised child). The two share the machine's cores the same way; rounds alternate which goes
first, since the machine is shared, and each keeps its best files/s. The cluster's workers keep
their hashing processes between runs, as a running cluster does; its first round includes
starting them. Target: the cluster ≥ 0.85× the local pool's files/s (Dask's overhead).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from benchmarks.corpus import CACHE, build_corpus
from benchmarks.dask_cluster import DaskCluster
from benchmarks.postgres_cluster import PostgresCluster
from pixdex.catalog import Catalog, IndexReport
from pixdex.distributed import index_on_cluster

ROUNDS = 3
"""Alternating rounds of the comparison."""

WORKERS = 2
"""Hashing processes on each side: the local pool's, and the cluster's workers (one thread
each)."""


def quick() -> bool:
    return os.environ.get("PIXDEX_BENCH_QUICK") == "1"


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def files_per_s(report: IndexReport, count: int) -> float:
    if report.hashed != count:
        raise RuntimeError(f"hashed {report.hashed} of {count} files")
    return report.hashed / report.seconds


def main() -> None:
    corpus = [im for im in build_corpus(1000) if im.kind != "png-huge"]
    if quick():
        corpus = corpus[:: max(1, len(corpus) // 100)]
    work = Path(tempfile.mkdtemp(prefix="bench-dask-hashing-", dir=CACHE))
    os.environ["XDG_CACHE_HOME"] = str(work / "cache")  # the PostgreSQL catalogs' local files
    library = work / "library"
    library.mkdir()
    for i, image in enumerate(corpus):
        os.link(image.path, library / f"{i:05d}{image.path.suffix}")
    count = len(corpus)
    print(f"hashing {count:,} corpus images into a new PostgreSQL catalog, {WORKERS} processes:")
    print(f"   {os.cpu_count()} cores; load average before: {load_average()}")
    rates: dict[str, list[float]] = {"local pool": [], "Dask cluster": []}
    try:
        with (
            PostgresCluster.start() as postgres,
            DaskCluster.start(workers=WORKERS, threads=1) as dask,
        ):
            for round_ in range(ROUNDS):
                order = ("local pool", "Dask cluster")[:: 1 if round_ % 2 == 0 else -1]
                for side in order:
                    with Catalog(postgres.create_database()) as catalog:
                        if side == "local pool":
                            report = catalog.index([library], workers=WORKERS)
                        else:
                            report = index_on_cluster(catalog, [library], dask.address)
                    rates[side].append(files_per_s(report, count))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for side, measured in rates.items():
        rounds = ", ".join(f"{rate:.1f}" for rate in measured)
        print(f"   {side:<13} best {max(measured):6.1f} files/s  (rounds: {rounds})")
    ratio = max(rates["Dask cluster"]) / max(rates["local pool"])
    print(f"   Dask cluster / local pool: {ratio:.2f}× (target ≥ 0.85×)")
    print(f"   load average after: {load_average()}")


if __name__ == "__main__":
    main()
