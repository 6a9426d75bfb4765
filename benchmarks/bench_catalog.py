"""Issue 5's figures: the catalog against the original two-script design, and at a million images.

    python -m benchmarks catalog                          # corpus + 1M-image catalog
    PIXDEX_BENCH_QUICK=1 python -m benchmarks catalog     # 200 images, 20k-image catalog

1. Indexing the real corpus (benchmarks/corpus.py), side by side in one run:
   - the original design's indexer: OpenCV full decode → dHash → ``{hash: [paths]}`` →
     ``vptree.VPTree`` → two pickle files, one process;
   - ``pixdex index`` (``Catalog.index``, every core), then a second run over the unchanged tree
     (target: ≤ 5 % of the first run's time).
2. Searching: the original searcher (load both pickles, hash the query, ``get_all_in_range(q,
   10)``) against ``Catalog`` (open, hash the query, search at 10), per query.
3. A catalog of 1M images (synthetic rows: hashes grown from the corpus's real dHash values with up
   to 20 bits flipped) opened in a fresh process: time to open it and answer the first query,
   cold (search index built from the catalog and saved) and warm (saved index loaded). Target
   ≤ 1 s.
"""

from __future__ import annotations

import os
import pickle  # the original design's storage, measured here as the baseline only
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.corpus import CACHE, build_corpus
from pixdex.catalog import Catalog, FileRecord, SQLiteStore
from pixdex.hashing import Hash
from pixdex.pipeline import hash_image


def quick() -> bool:
    return os.environ.get("PIXDEX_BENCH_QUICK") == "1"


def original_dhash(path: Path) -> int | None:
    """The tutorial's dHash: cv2 full decode, gray, 9 × 8 resize, compare, pack."""
    import cv2

    image = cv2.imread(str(path))
    if image is None:
        return None
    small = cv2.resize(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), (9, 8))
    bits = (small[:, 1:] > small[:, :-1]).flatten()
    return sum(2**i for i, v in enumerate(bits.tolist()) if v)


def hamming_int(a: int, b: int) -> int:
    """The tutorial's distance (``vptree`` hands over numpy scalars, hence ``int``)."""
    return bin(int(a) ^ int(b)).count("1")


def original_index(paths: list[Path], folder: Path) -> float:
    """The original indexer: seconds to hash, build the VP-tree and pickle both."""
    import vptree

    started = time.perf_counter()
    by_hash: dict[int, list[str]] = {}
    for path in paths:
        value = original_dhash(path)
        if value is not None:
            by_hash.setdefault(value, []).append(str(path))
    tree = vptree.VPTree(list(by_hash), hamming_int)
    (folder / "tree.pickle").write_bytes(pickle.dumps(tree))
    (folder / "hashes.pickle").write_bytes(pickle.dumps(by_hash))
    return time.perf_counter() - started


def original_search(folder: Path, query: Path) -> tuple[float, int]:
    """The original searcher: seconds to load the pickles, hash, search at 10; results."""
    started = time.perf_counter()
    tree = pickle.loads((folder / "tree.pickle").read_bytes())
    pickle.loads((folder / "hashes.pickle").read_bytes())  # hash → paths, as the original loads
    found = sorted(tree.get_all_in_range(original_dhash(query), 10), key=lambda hit: hit[0])
    return time.perf_counter() - started, len(found)


def pixdex_search(db: Path, query: Path) -> tuple[float, int]:
    started = time.perf_counter()
    with Catalog(db, create=False) as catalog:
        result = catalog.search(str(query))
    return time.perf_counter() - started, len(result.matches)


def grown_codes(seeds: np.ndarray, count: int, max_flips: int, seed: int = 0) -> np.ndarray:
    """``count`` 64-bit codes: random seeds with 0..max_flips random bits flipped."""
    rng = np.random.default_rng(seed)
    codes = seeds[rng.integers(0, len(seeds), count)].copy()
    flips = rng.integers(0, max_flips + 1, count)
    for bit in range(max_flips):
        chosen = flips > bit
        codes[chosen] ^= np.uint64(1) << rng.integers(0, 64, chosen.sum()).astype(np.uint64)
    return codes


def synthetic_record(i: int, hashes: dict[str, Hash], signature: bytes | None = None) -> FileRecord:
    """The ``i``-th row of a synthetic catalog, as if indexed from a photo library."""
    return FileRecord(
        path=f"/library/{i // 1000:04d}/IMG_{i:07d}.jpg",
        size=2_000_000 + i,
        mtime_ns=1_700_000_000_000_000_000 + i,
        digest=f"{i:032x}",
        width=4000,
        height=3000,
        format="JPEG",
        hashes=hashes,
        signature=signature,
    )


def write_synthetic_catalog(db: Path, codes: np.ndarray) -> float:
    """Rows for ``codes`` as if indexed from a photo library; seconds to write them."""
    started = time.perf_counter()
    store = SQLiteStore(db)
    batch = 20_000
    for start in range(0, len(codes), batch):
        store.write(
            [
                synthetic_record(i, {"dhash": Hash(int(code), 64, "dhash", 100)})
                for i, code in enumerate(codes[start : start + batch], start)
            ]
        )
    store.close()
    return time.perf_counter() - started


FIRST_QUERY = """
import sys, time
started = time.perf_counter()
from pixdex.catalog import Catalog
from pixdex.hashing import Hash
imported = time.perf_counter()
with Catalog(sys.argv[1], create=False) as catalog:
    result = catalog.search(Hash.from_hex(sys.argv[2], "dhash"), max_distance=10)
done = time.perf_counter()
print(f"{imported - started:.3f} {done - imported:.3f} {len(result.matches)}")
"""


def first_query(db: Path, query: str) -> tuple[float, float, int]:
    """In a fresh process: (import seconds, open + first query seconds, matches)."""
    out = subprocess.run(
        [sys.executable, "-c", FIRST_QUERY, str(db), query],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def main() -> None:
    corpus = [im for im in build_corpus(1000) if im.kind != "png-huge"]
    if quick():
        corpus = corpus[:: max(1, len(corpus) // 200)]
    paths = [im.path for im in corpus]
    work = Path(tempfile.mkdtemp(prefix="bench-catalog-", dir=CACHE))
    try:
        library = work / "library"
        library.mkdir()
        for i, path in enumerate(paths):
            os.link(path, library / f"{i:05d}{path.suffix}")
        print(f"indexing {len(paths)} corpus images ({os.cpu_count()} cores):")
        original = original_index(sorted(library.iterdir()), work)
        print(f"  original (cv2 + vptree + pickle, 1 process)   {original:7.2f} s")
        db = work / "pixdex.db"
        with Catalog(db) as catalog:
            first = catalog.index([library])
            second = catalog.index([library])
        print(f"  pixdex index, first run                       {first.seconds:7.2f} s")
        print(
            f"  pixdex index, second run (nothing changed)    {second.seconds:7.2f} s = "
            f"{second.seconds / first.seconds:.1%} of the first (target ≤ 5 %)"
        )
        print(f"  ratio original / pixdex first run: {original / first.seconds:.1f}×")

        queries = sorted(library.iterdir())[:: max(1, len(paths) // 20)]
        pixdex_search(db, queries[0])  # the saved search index is built once here
        ours = [pixdex_search(db, q) for q in queries]
        theirs = [original_search(work, q) for q in queries]
        ours_ms = 1000 * np.median([t for t, _ in ours])
        theirs_ms = 1000 * np.median([t for t, _ in theirs])
        print(
            f"search at distance 10, {len(queries)} queries, load + hash + search, median: "
            f"original {theirs_ms:.1f} ms, pixdex {ours_ms:.1f} ms "
            f"(ratio {theirs_ms / ours_ms:.1f}×)"
        )

        count = 20_000 if quick() else 1_000_000
        seeds = np.array(
            [int(hash_image(p)) for p in paths[:: max(1, len(paths) // 300)]], dtype=np.uint64
        )
        codes = grown_codes(seeds, count, 20)
        big = work / "big.db"
        seconds = write_synthetic_catalog(big, codes)
        print(f"a {count:,}-image catalog (synthetic rows, {seconds:.0f} s to write):")
        query = f"{int(codes[count // 2]) ^ 0b101:016x}"
        for label in ("cold: index built from the catalog and saved", "warm: saved index loaded"):
            imported, answered, matches = first_query(big, query)
            print(
                f"  {label:46} open + first query {answered:.3f} s "
                f"(+ {imported:.2f} s Python imports), {matches} matches (target ≤ 1 s)"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
