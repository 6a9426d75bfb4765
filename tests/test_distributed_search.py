"""Sharded exact search and the sharded self-join on a real Dask cluster (issue 15).

The cluster is the session's ``dask`` fixture (``dask scheduler`` and two ``dask worker``
processes on 127.0.0.1); the catalog is a private PostgreSQL database of real photographs and
edited copies of some of them. ``ShardedIndex`` must answer exactly as ``LinearScan`` on the same
codes and ``sharded_pairs_within`` find exactly the pairs of ``pairs_within``; the commands with
``--dask`` must print what they print without it. A worker killed under a ``ShardedIndex`` (on a
cluster of the test's own): a catalog's index is rebuilt from the catalog on the survivors and
answers the same; a bare index raises ``ShardLostError``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from folders import photo_folder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from live_server import wait_until_healthy

from benchmarks.dask_cluster import DaskCluster, available
from pixdex.evaluation.edits import write_edited_copies
from pixdex.index import LinearScan, pairs_within

pytestmark = pytest.mark.skipif(not available(), reason="needs the distributed extra")

PIXDEX = [sys.executable, "-m", "pixdex.cli"]
EDITED = {"astronaut.png": ["resize-50", "jpeg-30"], "coffee.png": ["red-square", "brightness"]}
"""Edited copies put beside the photographs, so the catalog holds duplicate groups."""


@pytest.fixture(scope="module")
def client(dask: DaskCluster) -> Iterator:
    from distributed import Client

    with Client(dask.address, set_as_default=False) as client:
        yield client


# --- ShardedIndex == LinearScan ----------------------------------------------------------------


@st.composite
def code_sets(draw) -> tuple[np.ndarray, np.ndarray]:
    """Up to 60 codes of 1 or 4 words: a few seeds with 0-12 bits flipped (clusters, exact
    duplicates among them), and distinct ids in a random order."""
    words = draw(st.sampled_from([1, 4]))
    n = draw(st.integers(0, 60))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    seeds = rng.integers(0, 2**64, (draw(st.integers(1, 4)), words), dtype=np.uint64)
    codes = seeds[rng.integers(0, seeds.shape[0], n)]
    for row in range(n):
        for bit in rng.integers(0, 64 * words, rng.integers(0, 13)).tolist():
            codes[row, bit // 64] ^= np.uint64(1) << np.uint64(bit % 64)
    ids = rng.permutation(10 * n + 1)[:n].astype(np.int64)
    return codes, ids


def same_arrays(got, want) -> bool:
    return len(got) == len(want) and all(
        a.dtype == b.dtype and np.array_equal(a, b) for a, b in zip(got, want, strict=True)
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=code_sets(),
    shards=st.integers(1, 5),
    radius=st.integers(0, 80),
    k=st.integers(0, 70),
)
def test_sharded_index_answers_exactly_as_a_linear_scan(client, data, shards, radius, k):
    from pixdex.distributed import ShardedIndex

    codes, ids = data
    sharded = ShardedIndex(client, codes, ids, shards=shards)
    scan = LinearScan(codes, ids)
    rng = np.random.default_rng(radius)
    queries = np.concatenate(
        [codes[:3], rng.integers(0, 2**64, (2, codes.shape[1]), dtype=np.uint64)]
    )
    assert len(sharded) == len(scan) and sharded.shards == shards
    assert same_arrays(
        sharded.range_search_batch(queries, radius), scan.range_search_batch(queries, radius)
    )
    assert same_arrays(sharded.knn_batch(queries, k), scan.knn_batch(queries, k))
    assert same_arrays(
        sharded.range_search(queries[0], radius), scan.range_search(queries[0], radius)
    )
    assert same_arrays(sharded.knn(queries[-1], k), scan.knn(queries[-1], k))


def test_sharded_index_refuses_what_an_index_refuses(client):
    from pixdex.distributed import ShardedIndex

    sharded = ShardedIndex(client, np.arange(10, dtype=np.uint64)[:, None])
    with pytest.raises(ValueError, match="non-negative"):
        sharded.range_search(np.zeros(1, np.uint64), -1)
    with pytest.raises(ValueError, match="non-negative"):
        sharded.knn(np.zeros(1, np.uint64), -2)
    with pytest.raises(ValueError, match="words per code"):
        sharded.range_search_batch(np.zeros((2, 4), np.uint64), 3)


# --- sharded self-join == pairs_within ---------------------------------------------------------


def pair_set(found) -> set[tuple[int, int, int]]:
    left, right, dists = found
    assert left.dtype == right.dtype == np.int64 and dists.dtype == np.int32
    pairs = list(zip(left.tolist(), right.tolist(), dists.tolist(), strict=True))
    assert len(pairs) == len(set(pairs)), "a pair reported twice"
    return set(pairs)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=code_sets(), radius=st.integers(0, 70), partitions=st.integers(1, 4))
def test_sharded_self_join_finds_the_pairs_of_pairs_within(client, data, radius, partitions):
    from pixdex.distributed import sharded_pairs_within

    codes, ids = data
    got = sharded_pairs_within(client, codes, ids, radius, partitions=partitions)
    assert pair_set(got) == pair_set(pairs_within(codes, ids, radius))


def test_sharded_self_join_of_clustered_codes_with_large_groups(client):
    """20,000 codes in 1,000 clusters; at 12 bits the 13 substrings are 5 bits wide, so groups
    hold ~600 codes and go through the local join (``pairs_within``), not the all-pairs pass."""
    from pixdex.distributed import sharded_pairs_within

    rng = np.random.default_rng(15)
    seeds = rng.integers(0, 2**64, (1000, 1), dtype=np.uint64)
    codes = seeds[rng.integers(0, 1000, 20_000)]
    for _ in range(5):
        codes[:, 0] ^= np.uint64(1) << rng.integers(0, 64, 20_000).astype(np.uint64)
    ids = rng.permutation(20_000).astype(np.int64)
    for radius in (4, 12):
        want = pair_set(pairs_within(codes, ids, radius))
        assert pair_set(sharded_pairs_within(client, codes, ids, radius)) == want
        assert len(want) > 1000


# --- the commands on a PostgreSQL catalog ------------------------------------------------------


def pixdex(*args: str | Path, db: str, **env_vars: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PIXDEX_DB": db, **env_vars}
    return subprocess.run(
        [*PIXDEX, *map(str, args)], capture_output=True, text=True, env=env, check=False
    )


@pytest.fixture(scope="module")
def library(tmp_path_factory, photo_paths: list[Path], postgres) -> tuple[Path, str]:
    """Real photographs and edited copies of two of them, indexed into a PostgreSQL catalog:
    (folder, catalog URI)."""
    folder = tmp_path_factory.mktemp("sharded") / "photos"
    photo_folder(folder, photo_paths)
    for name, edits in EDITED.items():
        write_edited_copies(folder / name, folder / "copies", edits)
    uri = postgres.create_database()
    indexed = pixdex("index", folder, "--workers", "1", db=uri)
    assert indexed.returncode == 0, indexed.stderr
    return folder, uri


def without_times(output: str) -> list[dict]:
    lines = [json.loads(line) for line in output.splitlines()]
    for line in lines:
        line.pop("took_ms", None)
    return lines


@pytest.mark.parametrize("options", [[], ["--no-verify", "-k", "3", "-d", "24"]])
def test_search_on_the_cluster_prints_the_local_answers(library, dask, options):
    folder, uri = library
    local = pixdex("search", folder, "--json", *options, db=uri)
    sharded = pixdex("search", folder, "--json", *options, "--dask", dask.address, db=uri)
    assert local.returncode == sharded.returncode == 0, sharded.stderr
    answers = without_times(local.stdout)
    assert len(answers) == 14 + 4 and sum(len(a["matches"]) for a in answers) > len(answers)
    assert without_times(sharded.stdout) == answers


@pytest.mark.parametrize("options", [[], ["--no-verify", "--no-chain", "-d", "20"]])
def test_dupes_on_the_cluster_prints_the_local_groups(library, dask, options):
    _, uri = library
    local = pixdex("dupes", "--json", *options, db=uri)
    sharded = pixdex("dupes", "--json", *options, "--dask", dask.address, db=uri)
    assert local.returncode == sharded.returncode == 0, sharded.stderr
    assert len(local.stdout.splitlines()) >= 2
    assert sharded.stdout == local.stdout


def test_serve_on_the_cluster_answers_a_search(library, dask, photo_paths):
    folder, uri = library
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [*PIXDEX, "serve", "--db", uri, "--port", str(port), "--dask", dask.address],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, lambda: server.poll() is None)
        photo = folder / "astronaut.png"
        with photo.open("rb") as image:
            found = httpx.post(
                f"{url}/api/search", files={"image": (photo.name, image)}, timeout=60
            )
        assert found.status_code == 200, found.text
        paths = [m["path"] for m in found.json()["matches"]]
        local = without_times(pixdex("search", photo, "--json", db=uri).stdout)[0]
        assert paths[: len(local["matches"])] == [m["path"] for m in local["matches"]]
        assert str(photo) in paths and any("astronaut.resize-50" in p for p in paths)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_an_unreachable_scheduler_is_one_line_and_exit_2(library):
    _, uri = library
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once the probe is closed
    address = f"tcp://127.0.0.1:{port}"
    result = pixdex(
        "search", "--hash", "0" * 16, "--dask", address, db=uri,
        DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="2s",
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith(f"pixdex: {address}: cannot reach the Dask scheduler")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


# --- a worker killed under a ShardedIndex ------------------------------------------------------


def test_a_worker_killed_under_the_index_loses_no_answer(library):
    """Three workers hold the catalog's shards; one is killed between two searches. The
    catalog's index rebuilds its shards from the catalog on the two survivors and answers the
    same; duplicates are found on the survivors too. An index without a catalog behind it
    raises ShardLostError instead, naming the lost worker."""
    from distributed import Client

    from pixdex.catalog import Catalog
    from pixdex.distributed import ShardedIndex
    from pixdex.distributed.engine import DaskEngine
    from pixdex.distributed.sharded import ShardLostError

    folder, uri = library
    photo = folder / "coffee.png"
    with DaskCluster.start(workers=3) as cluster, Client(cluster.address) as client:
        with Catalog(uri, create=False) as local:
            want = local.search(photo)
            want_groups = local.duplicates()
        bare = ShardedIndex(client, np.arange(30, dtype=np.uint64)[:, None], shards=3)
        with Catalog(uri, create=False, engine=DaskEngine(client)) as catalog:
            assert catalog.search(photo).matches == want.matches
            cluster.kill_worker(0)
            assert catalog.search(photo).matches == want.matches
            assert catalog.duplicates() == want_groups
        with pytest.raises(ShardLostError, match="left the cluster"):
            bare.knn(np.zeros(1, np.uint64), 3)
        assert len(want.matches) >= 3  # the photograph and its two copies
