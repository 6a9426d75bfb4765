"""Issue 13's cost targets for the matching rule, side by side in one run.

    python -m benchmarks rule_cost                          # 200 corpus images, 1M-row catalog
    PIXDEX_BENCH_QUICK=1 python -m benchmarks rule_cost     # 100 images, 20,000 rows

1. **Indexing** the same real images (``benchmarks/corpus.py``, hard-linked into a library) into
   fresh catalogs, alternately, best of ``ROUNDS``: at defaults (dHash of the whole picture and
   of its trimmed and centre views, and the content signature) and with ``-a dhash`` (one hash;
   ``Catalog.index`` signs every file, so the signature is in both). Beside them, the hashing
   step alone (``pixdex.pipeline.hash_files``, no catalog): dHash without a signature, as
   indexing was before the rule, against the defaults with one. Target: defaults ≤ 1.5 × dHash
   alone.
2. **Search** per query image, end to end in an open catalog (decode, hash the views, look up,
   read the candidates' signatures, verify): ``Catalog.search(path)`` with the rule (the
   default) and with ``rule=None`` (``--no-verify``), on edited copies of indexed images saved
   as a user's query images (≤ 1024 pixels, JPEG q90). p50 / p95. Target ≤ 10 ms.
3. **Storage** per image: the defaults catalog against the ``-a dhash`` one (the two extra
   views' hashes and their saved search indexes), and the ``-a dhash`` catalog against a copy of
   it with the signatures removed and ``VACUUM``-ed (what the signature takes on disk). Target
   ≤ 2 KiB extra.
4. **A 1M-image catalog** (synthetic rows: every view's hash grown from the real views of half
   the library's pictures with up to 20 bits flipped, as ``bench_catalog`` grows them, and the
   real signature of a random one of those pictures), opened in a fresh process that answers one
   image query with the rule: cold (search indexes built from the catalog and saved) and warm
   (saved indexes loaded); the query an edited copy of a seed picture (thousands of candidates to
   verify: the dense case) or of a library picture that seeded nothing. Target ≤ 1 s.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.bench_catalog import grown_codes, synthetic_record
from benchmarks.corpus import CACHE, build_corpus
from pixdex.catalog import Catalog, SQLiteStore
from pixdex.catalog.search_index import saved_index_files
from pixdex.evaluation.edits import apply_edit, load_rgb
from pixdex.evaluation.protocol import edit_seed
from pixdex.hashing import Hash
from pixdex.matching import candidate_views
from pixdex.pipeline import hash_files

ROUNDS = 3
VIEWS = candidate_views("dhash")
QUERY_EDITS = ["jpeg-30", "crop-10", "red-square", "brightness"]
BATCH = 20_000
"""Synthetic rows per ``Store.write``."""


def quick() -> bool:
    return os.environ.get("PIXDEX_BENCH_QUICK") == "1"


def index_seconds(library: Path, db: Path, algorithms: tuple[str, ...] | None) -> float:
    """Seconds for ``Catalog.index`` of ``library`` into a new catalog at ``db``
    (``algorithms`` None: the defaults)."""
    for stale in [db, *saved_index_files(db)]:
        stale.unlink(missing_ok=True)
    options = {} if algorithms is None else {"algorithms": algorithms}
    with Catalog(db) as catalog:
        return catalog.index([library], **options).seconds


def hashing_seconds(paths: list[Path], algorithms: tuple[str, ...], signatures: bool) -> float:
    """Seconds for ``hash_files`` on every core (the indexer's hashing step, no catalog)."""
    started = time.perf_counter()
    for result in hash_files(paths, algorithms, signatures=signatures):
        assert result.error is None, result.error
    return time.perf_counter() - started


def compare_indexing(library: Path, work: Path) -> dict[str, Path]:
    paths = sorted(library.iterdir())
    runs: dict[str, list[float]] = {}
    dbs = {"defaults": work / "defaults.db", "-a dhash": work / "dhash.db"}
    for _ in range(ROUNDS):
        runs.setdefault("catalog -a dhash", []).append(
            index_seconds(library, dbs["-a dhash"], ("dhash",))
        )
        runs.setdefault("catalog defaults", []).append(
            index_seconds(library, dbs["defaults"], None)
        )
        runs.setdefault("hashing dhash, no signature", []).append(
            hashing_seconds(paths, ("dhash",), False)
        )
        runs.setdefault("hashing defaults + signature", []).append(
            hashing_seconds(paths, VIEWS, True)
        )
    best = {name: min(seconds) for name, seconds in runs.items()}
    print(f"1. indexing {len(paths)} corpus images ({os.cpu_count()} cores), best of {ROUNDS}:")
    for name, seconds in runs.items():
        rounds = ", ".join(f"{s:.2f}" for s in seconds)
        print(
            f"   {name:30} {best[name]:6.2f} s  ({1000 * best[name] / len(paths):.1f} ms/image; "
            f"rounds {rounds})"
        )
    print(
        f"   ratio defaults / -a dhash (both signed): "
        f"{best['catalog defaults'] / best['catalog -a dhash']:.2f}×; hashing defaults + "
        f"signature / dHash alone without: "
        f"{best['hashing defaults + signature'] / best['hashing dhash, no signature']:.2f}× "
        "(target ≤ 1.5×)"
    )
    return dbs


def compare_search(db: Path, queries: list[Path]) -> None:
    print(
        f"2. search per query image, end to end, {len(queries)} edited copies "
        f"({', '.join(QUERY_EDITS)}):"
    )
    with Catalog(db, create=False) as catalog:
        for rule in ("rule", None):
            options = {} if rule else {"rule": None}
            catalog.search(queries[0], **options)  # kernels loaded, search indexes opened
            times, matches = [], []
            for query in queries:
                started = time.perf_counter()
                result = catalog.search(query, **options)
                times.append(1000 * (time.perf_counter() - started))
                matches.append(len(result.matches))
            label = "with the rule (default)" if rule else "rule=None (--no-verify)"
            print(
                f"   {label:26} p50 {np.percentile(times, 50):6.2f} ms  p95 "
                f"{np.percentile(times, 95):6.2f} ms  max {max(times):6.2f} ms  "
                f"({np.mean(matches):.2f} matches per query; target ≤ 10 ms)"
            )


def catalog_bytes(db: Path) -> int:
    """The catalog's file and its saved search indexes, in bytes."""
    return sum(p.stat().st_size for p in [db, *saved_index_files(db)])


def compact(db: Path, statement: str | None = None) -> None:
    """Run ``statement`` (if any) on the SQLite file ``db``, then ``VACUUM`` it and fold the
    write-ahead log back in, so that its size is what it holds."""
    connection = sqlite3.connect(db, isolation_level=None)
    try:
        if statement:
            connection.execute(statement)
        connection.execute("VACUUM")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def compare_storage(dbs: dict[str, Path], count: int, work: Path) -> None:
    unsigned = work / "unsigned.db"
    shutil.copyfile(dbs["-a dhash"], unsigned)
    connection = sqlite3.connect(unsigned)
    (signed,) = connection.execute("SELECT SUM(LENGTH(signature)) FROM files").fetchone()
    connection.close()
    compact(unsigned, "UPDATE files SET signature = NULL")
    for db in dbs.values():
        compact(db)
    sizes = {name: catalog_bytes(db) for name, db in dbs.items()}
    views = (sizes["defaults"] - sizes["-a dhash"]) / count
    signature = (dbs["-a dhash"].stat().st_size - unsigned.stat().st_size) / count
    print(
        f"3. storage per image ({count} images; catalogs VACUUM-ed, saved search indexes counted):"
    )
    print(
        f"   defaults {sizes['defaults'] / count:7.0f} B   "
        f"-a dhash {sizes['-a dhash'] / count:7.0f} B   "
        f"-a dhash without signatures {unsigned.stat().st_size / count:7.0f} B"
    )
    print(
        f"   extra per image: signature {signature:.0f} B on disk ({signed / count:.0f} B of data)"
        f" + two more views {views:.0f} B = {signature + views:.0f} B (target ≤ 2048 B)"
    )


def synthetic_catalog(db: Path, paths: list[Path], count: int) -> float:
    """Write ``count`` synthetic rows (see the module's docstring) into a new catalog at ``db``,
    grown from the views and signatures of ``paths``; seconds to write them."""
    seeds = list(hash_files(paths, VIEWS, signatures=True))
    codes = {
        view: grown_codes(np.array([int(s.hashes[view]) for s in seeds], np.uint64), count, 20)
        for view in VIEWS
    }
    signatures = [s.signature for s in seeds]
    owner = np.random.default_rng(1).integers(0, len(seeds), count)
    started = time.perf_counter()
    store = SQLiteStore(db)
    for start in range(0, count, BATCH):
        store.write(
            [
                synthetic_record(
                    i,
                    {v: Hash(int(codes[v][i]), 64, v, 100) for v in VIEWS},
                    signatures[owner[i]],
                )
                for i in range(start, min(count, start + BATCH))
            ]
        )
    store.close()
    return time.perf_counter() - started


FIRST_QUERY = """
import sys, time
started = time.perf_counter()
from pixdex.catalog import Catalog
imported = time.perf_counter()
with Catalog(sys.argv[1], create=False) as catalog:
    result = catalog.search(sys.argv[2])
    done = time.perf_counter()
    catalog.search(sys.argv[2])
again = time.perf_counter()
print(f"{imported - started:.3f} {done - imported:.3f} {again - done:.3f} {len(result.matches)}")
"""


def first_query(db: Path, query: Path) -> tuple[float, float, float, int]:
    """In a fresh process: (import seconds, open + first query with the rule seconds, the same
    query again seconds, matches)."""
    command = [sys.executable, "-c", FIRST_QUERY, str(db), str(query)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1]), float(out[2]), int(out[3])


def compare_first_query(work: Path, seeds: list[Path], queries: dict[str, Path]) -> None:
    count = 20_000 if quick() else 1_000_000
    big = work / "big.db"
    seconds = synthetic_catalog(big, seeds, count)
    size = big.stat().st_size / 2**30
    print(
        f"4. a {count:,}-image catalog (synthetic rows grown from {len(seeds)} pictures, three "
        f"views and a signature each; {seconds:.0f} s to write, {size:.2f} GiB), one image query "
        "with the rule in a fresh process:"
    )
    for state in ("cold", "warm", "warm"):
        for name, query in queries.items():
            imported, answered, again, matches = first_query(big, query)
            print(
                f"   {state} ({name}): open + first query {answered:.3f} s (+ {imported:.2f} s "
                f"Python imports; the same query again {1000 * again:.0f} ms), {matches} matches"
            )
    print("   (cold: search indexes built from the catalog and saved; warm: loaded; target ≤ 1 s)")


def query_files(sources: list[Path], work: Path) -> list[Path]:
    """Edited copies of ``sources`` (each of ``QUERY_EDITS``) as a user's query images: at
    most 1024 pixels a side, JPEG quality 90."""
    folder = work / "queries"
    folder.mkdir()
    written = []
    for row, source in enumerate(sources):
        image = load_rgb(source, 1024)
        for edit in QUERY_EDITS:
            path = folder / f"{source.stem}.{edit}.jpg"
            apply_edit(edit, image, edit_seed(3, row, edit)).save(path, quality=90)
            written.append(path)
    return written


def main() -> None:
    corpus = [im for im in build_corpus(1000) if im.kind != "png-huge"]
    size = 100 if quick() else 200
    paths = [im.path for im in corpus[:: max(1, len(corpus) // size)]][:size]
    work = Path(tempfile.mkdtemp(prefix="bench-rule-cost-", dir=CACHE))
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"load average at the start: {load} ({os.cpu_count()} cores)")
    try:
        library = work / "library"
        library.mkdir()
        for i, path in enumerate(paths):
            os.link(path, library / f"{i:05d}{path.suffix}")
        dbs = compare_indexing(library, work)
        queries = query_files(sorted(library.iterdir())[: min(len(paths), 25)], work)
        compare_search(dbs["defaults"], queries)
        compare_storage(dbs, len(paths), work)
        # Odd library pictures seed the synthetic rows; picture 1's copy meets thousands of
        # them, picture 0's (an even one) only what happens to lie near it.
        dense = next(q for q in queries if q.name.startswith(f"{1:05d}."))
        sparse = next(q for q in queries if q.name.startswith(f"{0:05d}."))
        compare_first_query(
            work,
            paths[1::2],
            {"copy of a seed picture": dense, "copy of another picture": sparse},
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"load average at the end: {load}")


if __name__ == "__main__":
    main()
