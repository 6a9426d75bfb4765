"""Hamming-space index search: pixdex's structures against FAISS and the ``vptree`` package.

    python -m benchmarks index                       # full run, ~10 minutes on 2 cores
    PIXDEX_BENCH_QUICK=1 python -m benchmarks index  # tiny sizes, seconds

Data sets (64-bit and 256-bit codes):

- ``clustered``: grown from real dHash values — scikit-image's photos and the PNG icons under
  /usr/share/icons (many the same drawing at several sizes, so the seeds are clustered already);
  each code is a random seed with 0-20 random bits flipped. 256-bit codes are dHash at
  hash_size 16 of the same images. Seeds are cached in ``.cache/index-seeds-BITS.npy``.
- ``uniform``: uniform random codes.

Queries: ``near`` = stored codes with 0-6 bits flipped; ``random`` = uniform random codes.

Per structure: build time (s), memory (MB), single-query p50/p99 (ms, one thread, one query per
call; ``cpu`` is the p50 of the thread's CPU time, steadier than wall time on a shared machine)
and batch throughput (queries/s, every core), for r = 0, 4, 8, 10, 12 bits (64-bit) and
31, 63 (256-bit). Peers: faiss-cpu ``IndexBinaryFlat`` and ``IndexBinaryMultiHash`` (nflip set to
⌊r / tables⌋ so it is exact), and the pure-Python ``vptree`` package, built on a subset and its
query time scaled linearly to the full size (marked ``~``). Hit counts of every structure are
checked against the scan. Ratios are pixdex ``auto`` (``build_index``) over each peer.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pixdex.index import LinearScan, MultiIndexHash, VPTree, build_index
from pixdex.pipeline import hash_files

QUICK = os.environ.get("PIXDEX_BENCH_QUICK") == "1"
CACHE = Path(__file__).resolve().parent.parent / ".cache"
ICONS = Path("/usr/share/icons")
MAX_FLIPS = 20
"""Bits flipped (at most) when growing a clustered code from a real seed."""
QUERY_FLIPS = 6
"""Bits flipped (at most) in a near-duplicate query."""
SINGLE_QUERIES = 20 if QUICK else 200
BATCH_QUERIES = 64 if QUICK else 2000
TIME_BUDGET = 0.05 if QUICK else 0.5
"""Seconds one structure may spend on one measurement before it stops early (min. 5 queries)."""
VPTREE_PACKAGE_SIZE = 2_000 if QUICK else 50_000
"""Codes the pure-Python ``vptree`` package is built on; its query times are scaled linearly to
the full size. That flatters it: measured between 20k and 100k codes its query time grows as
about n^1.13, so the printed ratios against it are lower bounds."""
CASES = (
    [(64, 10_000), (64, 100_000), (64, 200_000), (256, 20_000)]
    if QUICK
    else [(64, 10_000), (64, 1_000_000), (64, 10_000_000), (256, 1_000_000)]
)
"""(bits, codes) per case. Every case runs clustered and uniform codes with near and random
queries, except the largest 64-bit one (clustered codes, near queries only) and, in the quick run,
every case runs just (clustered, near) and (uniform, random)."""
RUN_ALWAYS = [("clustered", "near"), ("uniform", "random")]
RADII = {64: [0, 4, 8, 10, 12], 256: [31, 63]}


# --- data --------------------------------------------------------------------------------------


def seed_codes(bits: int) -> np.ndarray:
    """Real dHash codes (``(s, w)`` uint64) of photos and icons, cached on disk."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"index-seeds-{bits}{'-quick' if QUICK else ''}.npy"
    if path.exists():
        return np.load(path, allow_pickle=False)
    import skimage

    photos = sorted((Path(skimage.__file__).parent / "data").glob("*.[pj][np]g"))
    icons = sorted(ICONS.rglob("*.png"))[: 400 if QUICK else None]
    side = 8 if bits == 64 else 16
    codes = [
        h.hashes["dhash"].words
        for h in hash_files(photos + icons, ("dhash",), hash_size=side)
        if h.ok
    ]
    seeds = np.unique(np.array(codes, dtype=np.uint64), axis=0)
    np.save(path, seeds, allow_pickle=False)
    return seeds


def flip_random_bits(codes: np.ndarray, most: int, rng: np.random.Generator) -> np.ndarray:
    """Flip up to ``most`` random bits of each row in place (0..most draws, repeats cancel)."""
    n, words = codes.shape
    for start in range(0, n, 1_000_000):
        block = codes[start : start + 1_000_000]
        count = rng.integers(0, most + 1, block.shape[0])
        for flip in range(most):
            chosen = count > flip
            bit = rng.integers(0, 64 * words, int(chosen.sum()))
            rows = np.flatnonzero(chosen)
            block[rows, bit // 64] ^= np.uint64(1) << (bit % 64).astype(np.uint64)
    return codes


def make_codes(kind: str, bits: int, n: int, rng: np.random.Generator) -> np.ndarray:
    words = bits // 64
    if kind == "uniform":
        return rng.integers(0, 2**64, size=(n, words), dtype=np.uint64)
    seeds = seed_codes(bits)
    return flip_random_bits(seeds[rng.integers(0, seeds.shape[0], n)], MAX_FLIPS, rng)


def make_queries(kind: str, codes: np.ndarray, count: int, rng: np.random.Generator):
    if kind == "random":
        return rng.integers(0, 2**64, size=(count, codes.shape[1]), dtype=np.uint64)
    near = codes[rng.integers(0, codes.shape[0], count)].copy()
    return flip_random_bits(near, QUERY_FLIPS, rng)


# --- structures under test ---------------------------------------------------------------------


@dataclass
class Contender:
    """One structure built over one code set: how to search one query and a batch."""

    name: str
    build_seconds: float
    megabytes: float
    single: object  # (query (w,), r) -> hit count
    batch: object  # (queries (nq, w), r) -> hit counts
    scale: float = 1.0
    """Factor applied to times measured on a subset (the vptree package)."""
    results: dict = field(default_factory=dict)


def pixdex_contender(name, make, codes) -> Contender:
    start = time.perf_counter()
    index = make(codes)
    seconds = time.perf_counter() - start
    return Contender(
        name,
        seconds,
        index.nbytes / 1e6,
        lambda q, r: index.range_search(q, r)[0].shape[0],
        lambda qs, r: np.diff(index.range_search_batch(qs, r)[0]),
    )


def faiss_contender(name, make, codes) -> Contender:
    import faiss

    data = faiss_bytes(codes)
    start = time.perf_counter()
    index = make(data.shape[1] * 8)
    index.add(data)
    seconds = time.perf_counter() - start
    tables = getattr(index, "nhash", 0)

    def search(queries, r, threads):
        faiss.omp_set_num_threads(threads)
        if tables:
            index.nflip = r // tables  # pigeonhole: exact for this radius
        # FAISS returns distances strictly below the radius.
        lims, _, _ = index.range_search(faiss_bytes(queries), r + 1)
        return np.diff(lims)

    return Contender(
        name,
        seconds,
        faiss.serialize_index_binary(index).nbytes / 1e6,
        lambda q, r: int(search(q[np.newaxis], r, 1)[0]),
        lambda qs, r: search(qs, r, os.cpu_count() or 1),
    )


def faiss_bytes(codes: np.ndarray) -> np.ndarray:
    """Codes as FAISS wants them, ``(n, 8w)`` uint8 (byte order is irrelevant to Hamming)."""
    return np.ascontiguousarray(codes).view(np.uint8).reshape(codes.shape[0], -1)


def vptree_package_contender(codes, rng) -> Contender:
    import vptree

    subset = codes[rng.choice(codes.shape[0], min(VPTREE_PACKAGE_SIZE, codes.shape[0]), False)]
    points = [as_int(row) for row in subset]
    start = time.perf_counter()
    tree = vptree.VPTree(points, hamming_of_ints)
    seconds = time.perf_counter() - start
    scale = codes.shape[0] / subset.shape[0]
    return Contender(
        f"vptree pkg{'~' if scale > 1 else ''}",
        seconds * scale * np.log2(codes.shape[0]) / np.log2(subset.shape[0]),
        float("nan"),
        # The package reports distances strictly below its threshold.
        lambda q, r: len(tree.get_all_in_range(as_int(q), r + 0.5)),
        None,
        scale,
    )


WORD_MASK = (1 << 64) - 1


def hamming_of_ints(a, b) -> int:
    """Hamming distance of two codes held as Python ints (the package passes numpy scalars).

    Only 64-bit codes are signed (see ``as_int``), so only their XOR can be negative.
    """
    difference = int(a) ^ int(b)
    if difference < 0:
        difference &= WORD_MASK
    return difference.bit_count()


def as_int(row: np.ndarray) -> int:
    """One code as a Python int the package can keep exactly.

    The package copies its points into a numpy array: unsigned 64-bit values above 2^63 would
    become float64 and lose bits, so a 64-bit code goes in as its signed (int64) value; a 256-bit
    one is a big int, kept as a Python object.
    """
    if row.shape[0] == 1:
        return int(row.view(np.int64)[0])
    value = 0
    for word in row:
        value = (value << 64) | int(word)
    return value


# --- measurement -------------------------------------------------------------------------------


def measure(contender: Contender, queries, batch, radius, reference):
    """Single-query p50/p99 (ms) and batch throughput (queries/s) at one radius."""
    times, cpu_times, counts = [], [], []
    contender.single(queries[0], radius)  # warm-up (compilation, caches)
    spent = time.perf_counter()
    for query in queries:
        start, cpu_start = time.perf_counter(), time.thread_time()
        counts.append(contender.single(query, radius))
        times.append(time.perf_counter() - start)
        cpu_times.append(time.thread_time() - cpu_start)
        if len(times) >= 5 and time.perf_counter() - spent > TIME_BUDGET:
            break
    common = min(len(counts), len(reference or []))
    exact = contender.scale > 1 or reference is None or counts[:common] == reference[:common]
    times_ms = np.array(times) * 1e3 * contender.scale
    throughput = float("nan")
    if contender.batch is not None:
        size = int(
            min(
                batch.shape[0],
                max(16, TIME_BUDGET * (os.cpu_count() or 1) / max(np.median(times), 1e-6)),
            )
        )
        contender.batch(batch[:16], radius)  # warm-up (threads, compilation)
        start = time.perf_counter()
        contender.batch(batch[:size], radius)
        throughput = size / (time.perf_counter() - start)
    return {
        "p50": float(np.percentile(times_ms, 50)),
        "p99": float(np.percentile(times_ms, 99)),
        "cpu": float(np.median(cpu_times)) * 1e3 * contender.scale,
        "qps": throughput,
        "hits": float(np.mean(counts)) if contender.scale == 1 else float("nan"),
        "exact": exact,
        "counts": counts,
    }


def run_case(kind: str, bits: int, n: int, queries_kind: str, rng) -> None:
    codes = make_codes(kind, bits, n, rng)
    queries = make_queries(queries_kind, codes, SINGLE_QUERIES, rng)
    batch = make_queries(queries_kind, codes, BATCH_QUERIES, rng)
    import faiss

    makers = [
        ("pixdex auto", lambda c: pixdex_contender("pixdex auto", build_index, c)),
        ("pixdex scan", lambda c: pixdex_contender("pixdex scan", LinearScan, c)),
        ("pixdex mih", lambda c: pixdex_contender("pixdex mih", MultiIndexHash, c)),
        ("pixdex vptree", lambda c: pixdex_contender("pixdex vptree", VPTree, c)),
        ("faiss flat", lambda c: faiss_contender("faiss flat", faiss.IndexBinaryFlat, c)),
        (
            "faiss multihash",
            lambda c: faiss_contender(
                "faiss multihash",
                lambda d: faiss.IndexBinaryMultiHash(d, d // 16, 16),
                c,
            ),
        ),
        ("vptree pkg", lambda c: vptree_package_contender(c, rng)),
    ]
    print(
        f"\n--- {kind} {bits}-bit, n = {n:,}, {queries_kind} queries"
        f" ({'quick' if QUICK else 'full'} run, load average {os.getloadavg()[0]:.1f}) ---"
    )
    print(
        f"{'structure':<18}{'build s':>9}{'MB':>9}{'r':>4}{'p50 ms':>10}{'p99 ms':>10}"
        f"{'cpu ms':>10}{'batch q/s':>11}{'hits/q':>9}"
    )
    reference: dict[int, list[int]] = {}
    contenders = []
    for _, make in makers:
        contender = make(codes)
        for radius in RADII[bits]:
            row = measure(contender, queries, batch, radius, reference.get(radius))
            reference.setdefault(radius, row["counts"])
            contender.results[radius] = row
            print(
                f"{contender.name:<18}{contender.build_seconds:>9.2f}{contender.megabytes:>9.1f}"
                f"{radius:>4}{row['p50']:>10.4f}{row['p99']:>10.4f}{row['cpu']:>10.4f}{row['qps']:>11.0f}"
                f"{row['hits']:>9.1f}{'' if row['exact'] else '  MISMATCH'}",
                flush=True,
            )
        contender.single = contender.batch = None  # free the structure before the next one
        contenders.append(contender)
    auto = contenders[0]
    peers = [c for c in contenders if not c.name.startswith("pixdex")]
    for radius in RADII[bits]:
        mine = auto.results[radius]
        best = min(peers[:2], key=lambda c: c.results[radius]["p50"])
        ratios = ", ".join(
            f"{c.name} {c.results[radius]['p50'] / mine['p50']:.3g}x"
            f" (cpu {c.results[radius]['cpu'] / max(mine['cpu'], 1e-6):.3g}x)"
            for c in peers
        )
        print(
            f"r={radius:>3}: pixdex auto p50 {mine['p50']:.4f} ms; peer / pixdex p50: {ratios};"
            f" best FAISS ({best.name}) / pixdex = {best.results[radius]['p50'] / mine['p50']:.2f}"
        )


VPTREE_FULL_QUERIES = 3
"""Queries timed on the ``vptree`` package built over all 1M codes (each takes seconds)."""


def vptree_package_at_full_size(rng) -> None:
    """The issue's target case measured directly, not scaled: the ``vptree`` package built on
    all 1M clustered codes, a few near queries at r = 4 and 10, against pixdex auto on the same
    queries (the scaled figures above are lower bounds, its cost grows faster than n)."""
    import vptree

    n = 1_000_000
    codes = make_codes("clustered", 64, n, rng)
    queries = make_queries("near", codes, VPTREE_FULL_QUERIES, rng)
    index = build_index(codes)
    start = time.perf_counter()
    tree = vptree.VPTree([as_int(row) for row in codes], hamming_of_ints)
    built = time.perf_counter() - start
    print(f"\n--- vptree package built on all {n:,} clustered codes in {built:.0f} s ---")
    for radius in (4, 10):
        theirs, ours = [], []
        for query in queries:
            start = time.perf_counter()
            found = len(tree.get_all_in_range(as_int(query), radius + 0.5))
            theirs.append(time.perf_counter() - start)
            start = time.perf_counter()
            for _ in range(100):
                hits = index.range_search(query, radius)[0].shape[0]
            ours.append((time.perf_counter() - start) / 100)
            assert hits == found, (hits, found)
        ratio = np.median(theirs) / np.median(ours)
        print(
            f"r={radius:>2}: vptree package median {1000 * np.median(theirs):.0f} ms, pixdex auto "
            f"{1000 * np.median(ours):.4f} ms: {ratio:,.0f}× (target ≥ 10,000× at r = 10)"
        )


def main() -> None:
    rng = np.random.default_rng(2024)
    if os.environ.get("PIXDEX_BENCH_VPTREE_FULL") == "1":
        vptree_package_at_full_size(rng)
        return
    largest = max(n for bits, n in CASES if bits == 64)
    for bits, n in CASES:
        for kind, queries_kind in [
            ("clustered", "near"),
            ("clustered", "random"),
            ("uniform", "near"),
            ("uniform", "random"),
        ]:
            if (n == largest or QUICK) and (kind, queries_kind) not in RUN_ALWAYS:
                continue
            if n == largest and kind == "uniform":
                continue
            run_case(kind, bits, n, queries_kind, rng)
    if not QUICK:
        vptree_package_at_full_size(rng)


if __name__ == "__main__":
    main()
