"""Sharded exact search and the sharded self-join on a private Dask cluster (issue 15, part 2).

    python -m benchmarks distributed                        # with the hashing part; ~15 min here
    PIXDEX_BENCH_QUICK=1 python -m benchmarks distributed   # 1M / 200k codes, a smoke run
    PIXDEX_BENCH_SHARDED_CODES=50000000 python -m benchmarks distributed  # another search size

A cluster of ``WORKERS`` worker processes (``dask worker``, one thread each) on 127.0.0.1, as in
the tests. Codes are grown from real dHash values (photos and icons, ``bench_index.seed_codes``):
for the search as the index benchmark grows them (``bench_index.make_codes("clustered", ...)``: a
real seed with 0-20 random bits flipped), for the self-join as the duplicates benchmark does
(``bench_dupes.clustered_codes``: clusters of geometric size, mean 8, around real and derived
centres), whose pairs grow linearly with the codes as a collection's duplicates do.

- Search: ``SEARCH_CODES`` codes in one shard per worker (``ShardedIndex``) against one
  in-process index of the same codes (``build_index``). Every query's answer is compared between
  the two, and ``CHECKED`` of them against a brute-force numpy scan of all the codes. Single
  queries one at a time, interleaved (p50 / p99, ms); a batch on both; each shard's index bytes
  and its worker's resident memory.
- Self-join: ``JOIN_CODES`` codes at D = ``JOIN_RADIUS`` with ``sharded_pairs_within`` across
  the workers against ``pairs_within`` in this process: the same pairs, and both times.
"""

from __future__ import annotations

import os
import time

import numpy as np
import psutil

from benchmarks.bench_dupes import clustered_codes
from benchmarks.bench_index import make_codes, make_queries, seed_codes
from benchmarks.dask_cluster import DaskCluster

QUICK = os.environ.get("PIXDEX_BENCH_QUICK") == "1"
SEARCH_CODES = int(
    os.environ.get("PIXDEX_BENCH_SHARDED_CODES", 1_000_000 if QUICK else 100_000_000)
)
JOIN_CODES = 200_000 if QUICK else 10_000_000
WORKERS = 4
RADIUS = 10
JOIN_RADIUS = 8
QUERIES = 100 if QUICK else 400
"""Single queries timed on each side (near-duplicate queries: stored codes with 0-6 bits
flipped, as in the index benchmark)."""
BATCH = 1000 if QUICK else 4000
CHECKED = 10 if QUICK else 40
"""Queries whose answers are also checked against a brute-force scan of every code."""
K = 10


def main() -> None:
    from distributed import Client

    rng = np.random.default_rng(15)
    print(
        f"{'quick' if QUICK else 'full'} run, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB; a Dask cluster of {WORKERS} worker "
        "processes (one thread each) on 127.0.0.1"
    )
    with (
        DaskCluster.start(workers=WORKERS) as cluster,
        Client(cluster.address, direct_to_workers=True) as client,
    ):
        sharded_search(client, rng)
        sharded_self_join(client, rng)


def sharded_search(client, rng: np.random.Generator) -> None:
    """ShardedIndex against one in-process index of the same codes."""
    from pixdex.distributed import ShardedIndex
    from pixdex.index import build_index

    started = time.perf_counter()
    codes = make_codes("clustered", 64, SEARCH_CODES, rng)
    ids = np.arange(SEARCH_CODES, dtype=np.int64)
    made = time.perf_counter() - started
    print(
        f"\n# sharded search: {SEARCH_CODES:,} clustered 64-bit codes "
        f"({codes.nbytes / 2**20:,.0f} MiB raw, + ids), made in {made:.0f} s"
    )
    started = time.perf_counter()
    local = build_index(codes, ids)
    print(
        f"one in-process index ({local.kind}): built in {time.perf_counter() - started:.1f} s, "
        f"{local.nbytes / 2**20:,.0f} MiB"
    )
    started = time.perf_counter()
    sharded = ShardedIndex(client, codes, ids)
    placed = time.perf_counter() - started
    print(f"ShardedIndex, {sharded.shards} shards: placed and built in {placed:.1f} s")
    for shard, memory in enumerate(sharded.memory(), 1):
        print(
            f"  shard {shard}: index {memory['nbytes'] / 2**20:,.0f} MiB, "
            f"worker RSS {memory['rss'] / 2**20:,.0f} MiB"
        )

    queries = make_queries("near", codes, QUERIES, rng)
    times = {"local": [], "sharded": []}
    for query in queries:
        begun = time.perf_counter()
        want = local.range_search(query, RADIUS)
        times["local"].append(time.perf_counter() - begun)
        begun = time.perf_counter()
        got = sharded.range_search(query, RADIUS)
        times["sharded"].append(time.perf_counter() - begun)
        assert all(np.array_equal(a, b) for a, b in zip(got, want, strict=True)), "answers differ"
    hits = sum(local.range_search(q, RADIUS)[0].shape[0] for q in queries[:CHECKED])
    for query in queries[:CHECKED]:
        assert _same(sharded.range_search(query, RADIUS), brute_force(codes, query, RADIUS))
        assert _same(sharded.knn(query, K), local.knn(query, K))
    print(
        f"exact: {QUERIES} queries at r = {RADIUS} answered identically by both; {CHECKED} of them "
        f"({hits:,} hits) also equal to a brute-force scan, and their {K}-NN equal"
    )
    for name, spent in times.items():
        ms = np.asarray(spent) * 1000
        print(
            f"  single query, r = {RADIUS}, {name:8}: p50 {np.percentile(ms, 50):7.2f} ms   "
            f"p99 {np.percentile(ms, 99):7.2f} ms"
        )
    batch = make_queries("near", codes, BATCH, rng)
    for name, index in (("local", local), ("sharded", sharded)):
        begun = time.perf_counter()
        index.range_search_batch(batch, RADIUS)
        rate = BATCH / (time.perf_counter() - begun)
        print(f"  batch of {BATCH:,}, r = {RADIUS}, {name:8}: {rate:9,.0f} queries/s")
    print(f"client process RSS {psutil.Process().memory_info().rss / 2**20:,.0f} MiB")


def sharded_self_join(client, rng: np.random.Generator) -> None:
    """sharded_pairs_within against pairs_within on the same codes."""
    from pixdex.distributed import sharded_pairs_within
    from pixdex.index import pairs_within

    codes = clustered_codes(seed_codes(64).ravel(), JOIN_CODES, rng)
    ids = np.arange(JOIN_CODES, dtype=np.int64)
    print(f"\n# sharded self-join: {JOIN_CODES:,} clustered 64-bit codes, D = {JOIN_RADIUS}")
    begun = time.perf_counter()
    want = pairs_within(codes, ids, JOIN_RADIUS)
    local_s = time.perf_counter() - begun
    begun = time.perf_counter()
    got = sharded_pairs_within(client, codes, ids, JOIN_RADIUS)
    sharded_s = time.perf_counter() - begun
    same = np.array_equal(_sorted_pairs(got), _sorted_pairs(want))
    print(
        f"pairs_within (this process, {os.cpu_count()} threads): {want[0].shape[0]:,} pairs in "
        f"{local_s:.1f} s\nsharded_pairs_within ({WORKERS} workers, {JOIN_RADIUS + 1} substrings): "
        f"{got[0].shape[0]:,} pairs in {sharded_s:.1f} s; the same pairs: {same}"
    )
    assert same, "the sharded self-join found other pairs"


def brute_force(codes: np.ndarray, query: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """Ids (rows) and distances of every code within ``radius`` of ``query``, by distance then
    id: the answer checked without any index."""
    distances = np.bitwise_count(codes[:, 0] ^ query[0]).astype(np.int32)
    rows = np.flatnonzero(distances <= radius)
    order = np.lexsort((rows, distances[rows]))
    return rows[order].astype(np.int64), distances[rows][order]


def _same(got: tuple[np.ndarray, ...], want: tuple[np.ndarray, ...]) -> bool:
    return all(np.array_equal(a, b) for a, b in zip(got, want, strict=True))


def _sorted_pairs(pairs: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    left, right, dists = pairs
    stacked = np.stack([left, right, dists.astype(np.int64)], axis=1)
    return stacked[np.lexsort((stacked[:, 1], stacked[:, 0]))]
