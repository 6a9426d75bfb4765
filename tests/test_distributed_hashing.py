"""Hashing on a real Dask cluster (``pixdex index --dask``, ``index_on_cluster``): the
session's cluster (``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1) and
catalogs in the session's private PostgreSQL.

A cluster run must leave the catalog a local run leaves, row for row (hashes, signatures, the
bad files' errors), print the same summary, send nothing for an unchanged tree, and lose nothing
when a worker or the client is killed mid-run.
"""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dask import config
from distributed import Client, LocalCluster
from typer.testing import CliRunner

from benchmarks.dask_cluster import DaskCluster
from pixdex.catalog import Catalog, FileRecord
from pixdex.catalog.location import open_store
from pixdex.cli import app
from pixdex.distributed import index_on_cluster
from pixdex.distributed.connection import ClusterError
from pixdex.distributed.hashing import ClusterHasher

PIXDEX = [sys.executable, "-m", "pixdex.cli"]

BAD_FILES = ("zero.jpg", "text.jpg", "truncated.jpg", "truncated.png", "bomb.png", "photo.heic")
"""Edge files that cannot be hashed, each for its own reason."""


def pixdex(*args: str | Path) -> subprocess.CompletedProcess:
    """``pixdex ARGS`` as a user runs it: exit status, stdout, stderr."""
    return subprocess.run([*PIXDEX, *map(str, args)], capture_output=True, text=True, check=False)


def catalog_rows(location: str) -> dict[str, FileRecord]:
    """Every file record of a catalog by path (ids and indexing times aside)."""
    with open_store(location, create=False) as store:
        paths = list(store.states("/"))
        ids = [f.file_id for f in store.files_by_path(paths).values()]
        return {record.path: record for record in store.records(ids).values()}


def stored_count(location: str) -> int:
    """Files committed to the catalog so far."""
    with open_store(location, create=False) as store:
        return len(store.states("/"))


def summary(output: str) -> list[str]:
    """``pixdex index``'s report without its timings and catalog name: the counts line and the
    failed lines."""
    first, *rest = output.splitlines()
    counts = re.sub(r" in [\d.]+ s( \([\d.,]+ files/s hashed\))?:", ":", first.split(" → ")[0])
    return [counts, *rest]


def hash_tasks_started(address: str) -> int:
    """How many pixdex hashing tasks the scheduler has handed to workers so far."""
    with Client(address, set_as_default=False) as client:
        return client.run_on_scheduler(
            lambda dask_scheduler: (
                dask_scheduler.task_prefixes["hash_task"].state_counts["processing"]
                if "hash_task" in dask_scheduler.task_prefixes
                else 0
            )
        )


@pytest.fixture(scope="module")
def library(tmp_path_factory, photo_paths: list[Path], edge_files: dict[str, Path]) -> Path:
    """Real photographs, the edge cases made from them and a few files that cannot be hashed:
    45 files in two folders."""
    root = tmp_path_factory.mktemp("cluster") / "library"
    (root / "photos").mkdir(parents=True)
    (root / "edge").mkdir()
    for path in photo_paths:
        shutil.copy(path, root / "photos" / path.name)
    for name, path in edge_files.items():
        shutil.copy(path, root / "edge" / name)
    return root


@pytest.fixture(scope="module")
def local_run(postgres, library: Path) -> tuple[str, str]:
    """The library indexed on this machine's cores: (catalog URI, what ``pixdex index`` printed)."""
    uri = postgres.create_database()
    done = pixdex("index", library, "--db", uri)
    assert done.returncode == 0, done.stderr
    return uri, done.stdout


@pytest.fixture(scope="module")
def cluster_run(postgres, dask: DaskCluster, library: Path) -> tuple[str, str]:
    """The library indexed through the session's cluster: (catalog URI, what it printed)."""
    uri = postgres.create_database()
    done = pixdex("index", library, "--db", uri, "--dask", dask.address)
    assert done.returncode == 0, done.stderr
    return uri, done.stdout


def test_a_cluster_run_leaves_the_catalog_and_summary_of_a_local_run(local_run, cluster_run):
    (local, printed_here), (cluster, printed_there) = local_run, cluster_run
    rows = catalog_rows(cluster)
    assert rows == catalog_rows(local)
    failed = {Path(path).name for path, record in rows.items() if record.error is not None}
    assert set(BAD_FILES) <= failed
    assert all(r.signature and r.hashes for r in rows.values() if r.error is None)
    assert summary(printed_there) == summary(printed_here)
    assert (
        f"{len(rows) - len(failed)} new, 0 changed, 0 unchanged, {len(failed)} failed"
        in (printed_there.splitlines()[0])
    )


def test_an_unchanged_tree_sends_nothing_to_the_cluster(cluster_run, dask, library):
    uri, _ = cluster_run
    before = hash_tasks_started(dask.address)
    assert before >= 1
    again = pixdex("index", library, "--db", uri, "--dask", dask.address)
    assert again.returncode == 0, again.stderr
    assert f"0 new, 0 changed, {len(catalog_rows(uri))} unchanged, 0 failed" in again.stdout
    assert hash_tasks_started(dask.address) == before


def test_a_worker_killed_mid_run_loses_nothing(tmp_path, library, local_run):
    # Into an SQLite catalog: only the client writes the catalog, so SQLite works too.
    db = str(tmp_path / "pixdex.db")
    killed: list[int] = []
    with DaskCluster.start(workers=2) as cluster:

        def kill_after_the_first_batch(done: int, total: int) -> None:
            if done >= 4 and not killed:  # a task's results are in; the others are out
                cluster.kill_worker(0)
                killed.append(done)

        with Catalog(db) as catalog:
            report = index_on_cluster(
                catalog,
                [library],
                cluster.address,
                progress=kill_after_the_first_batch,
                batch_size=4,
                files_per_task=4,
            )
    total = len(catalog_rows(local_run[0]))
    assert killed and killed[0] < total
    assert report.new + len(report.failed) == total
    assert catalog_rows(db) == catalog_rows(local_run[0])


def test_a_client_killed_mid_run_is_completed_by_the_next_run(postgres, dask, library, local_run):
    uri = postgres.create_database()
    Catalog(uri).close()  # an empty catalog to watch
    command = [*PIXDEX, "index", str(library), "--db", uri, "--dask", dask.address]
    client = subprocess.Popen(
        [*command, "--batch-size", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while stored_count(uri) == 0 and client.poll() is None:
            time.sleep(0.02)
        client.send_signal(signal.SIGKILL)
    finally:
        client.wait()
    total = len(catalog_rows(local_run[0]))
    assert 0 < stored_count(uri) < total  # killed mid-run, with batches committed
    again = pixdex(*command[3:])
    assert again.returncode == 0, again.stderr
    assert catalog_rows(uri) == catalog_rows(local_run[0])


def test_a_cluster_that_cannot_hash_is_one_line_and_exit_status_2(tmp_path, library):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nobody = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    index = ["index", str(library), "--db", str(tmp_path / "pixdex.db"), "--dask"]
    with config.set({"distributed.comm.timeouts.connect": "2s"}):
        unreachable = CliRunner().invoke(app, [*index, nobody])
    assert unreachable.exit_code == 2
    assert unreachable.stderr.strip() == (
        f"pixdex: {nobody}: cannot reach the Dask scheduler "
        f"(Timed out trying to connect to {nobody} after 2 s)"
    )
    # Dask's default workers are daemonic processes, which may not start pixdex's hashing ones.
    with (
        config.set({"distributed.worker.daemon": True}),
        LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=":0") as daemonic,
    ):
        refused = CliRunner().invoke(app, [*index, daemonic.scheduler_address])
    assert refused.exit_code == 2
    [line] = refused.stderr.strip().splitlines()
    assert "daemonic" in line and "DASK_DISTRIBUTED__WORKER__DAEMON=False" in line
    both = CliRunner().invoke(app, [*index, nobody, "--workers", "2"])
    assert both.exit_code == 2 and both.stderr.startswith("pixdex: --workers is for hashing here")


def test_a_batch_the_cluster_gives_up_on_stops_the_run_with_one_line(dask, library):
    # A worker whose pixdex cannot hash (here: an algorithm it does not know) fails its task,
    # which Dask retries, then gives up: the run stops and names the batch; no file is recorded
    # as failed, so the next run sends it again.
    photo = str(next((library / "photos").iterdir()))
    with Client(dask.address, set_as_default=False) as client:
        hashed = ClusterHasher(client)([photo], ("no-such-hash",), None)
        with pytest.raises(ClusterError) as stopped:
            next(iter(hashed))
    assert str(stopped.value).startswith(
        f"the Dask cluster could not hash a batch of 1 file from {photo} (ValueError: "
    )
    assert "run again to resume" in str(stopped.value) and "\n" not in str(stopped.value)
