"""Hashing on a Dask cluster: ``index_on_cluster`` indexes folders into a catalog with the files
read, decoded and hashed by the workers of a Dask cluster.

The cluster is only ``Catalog.index``'s hashing stage (its ``hasher``): this process, the client,
lists the folders (on storage every worker sees under the same paths), compares them with the
catalog, sends only new and changed files, and commits the results in batches as they come back,
so the progress, the summary, the per-file errors and the incremental runs are those of a local
run. Paths travel in tasks of ``FILES_PER_TASK``; at most ``TASKS_PER_THREAD`` tasks per worker
thread are out at once, so a collection of millions of files is never one huge graph. Each worker
thread hashes in a supervised child process of its own (``pixdex.pipeline.hashing_pool``), kept
for the tasks that follow: a file that hangs or crashes its decoder costs that file, as locally.

A worker lost mid-run loses nothing: the scheduler runs its tasks again on the others (Dask's own
recovery, up to its ``distributed.scheduler.allowed-failures``). A task that fails or is given up
stops the run with a ``ClusterError`` (an infrastructure problem, not a file's: the files'
own failures are results); the batches committed so far are kept, and so are those of a client
killed mid-run, whose tasks the scheduler then drops: the next run hashes only what is missing.
"""

from __future__ import annotations

import os
import threading
from asyncio import CancelledError
from collections.abc import Iterable, Iterator, Sequence

from distributed import Client, Future, as_completed

from pixdex.catalog import BATCH_SIZE, DEFAULT_INDEX_ALGORITHMS, Catalog, IndexReport
from pixdex.catalog.catalog import ProgressCallback
from pixdex.catalog.defaults import FILE_TIME_LIMIT_S
from pixdex.distributed.connection import ClusterError, connect
from pixdex.pipeline import FileHashes, hashing_pool
from pixdex.pool import SupervisedPool
from pixdex.wording import count

FILES_PER_TASK = 16
"""Files per Dask task: enough to amortise a task's round trip through the scheduler (a few
milliseconds) over files that take tens of milliseconds each, few enough that the workers
stay evenly busy to the end and a lost worker's tasks are little to redo."""

TASKS_PER_THREAD = 3
"""Tasks out per worker thread: one running, the next ones already there when it ends."""

TASK_RETRIES = 2
"""Times Dask runs a task again after it raised (a worker's transient fault: no memory for a
new process, say) before the run stops. Workers lost mid-task are not counted here: the
scheduler reschedules their tasks on its own."""


def index_on_cluster(
    catalog: Catalog,
    paths: Iterable[str | os.PathLike[str]],
    scheduler: str,
    *,
    algorithms: Sequence[str] = DEFAULT_INDEX_ALGORITHMS,
    prune: bool = False,
    progress: ProgressCallback | None = None,
    batch_size: int = BATCH_SIZE,
    time_limit: float | None = FILE_TIME_LIMIT_S,
    files_per_task: int = FILES_PER_TASK,
) -> IndexReport:
    """``catalog.index(paths, ...)`` with the files hashed on the Dask cluster at ``scheduler``.

    Args:
        catalog: the catalog to bring up to date; only this process writes it (PostgreSQL or
            SQLite alike).
        paths: folders or files, at paths every worker sees too.
        scheduler: the Dask scheduler's address, ``tcp://HOST:8786``.
        algorithms, prune, progress, batch_size, time_limit: as ``Catalog.index``'s.
        files_per_task: files per Dask task.

    Returns:
        The run's ``IndexReport``, as a local run's.

    Raises:
        ClusterError: when the scheduler cannot be reached, has no workers, a worker cannot run
            pixdex, or a task fails for good (committed batches are kept).
        CatalogError: as ``Catalog.index``.
    """
    if files_per_task < 1:
        raise ValueError(f"files_per_task must be at least 1, got {files_per_task}")
    with connect(scheduler, starts_processes=True) as client:
        return catalog.index(
            paths,
            algorithms=algorithms,
            prune=prune,
            progress=progress,
            batch_size=batch_size,
            time_limit=time_limit,
            hasher=ClusterHasher(client, files_per_task),
        )


class ClusterHasher:
    """A ``Catalog.index`` hasher that sends the paths to the workers of ``client``'s cluster in
    tasks of ``files_per_task`` and yields the results as the tasks end."""

    def __init__(self, client: Client, files_per_task: int = FILES_PER_TASK) -> None:
        self._client = client
        self._files_per_task = files_per_task

    def __call__(
        self, paths: Sequence[str], algorithms: tuple[str, ...], time_limit: float | None
    ) -> Iterator[FileHashes]:
        step = self._files_per_task
        tasks = (paths[start : start + step] for start in range(0, len(paths), step))
        window = TASKS_PER_THREAD * max(1, sum(self._client.nthreads().values()))
        out: dict[Future, Sequence[str]] = {}
        done = as_completed(loop=self._client.loop)

        def send_next() -> None:
            chunk = next(tasks, None)
            if chunk is not None:
                future = self._client.submit(
                    hash_task, chunk, algorithms, time_limit, pure=False, retries=TASK_RETRIES
                )
                out[future] = chunk
                done.add(future)

        try:
            for _ in range(window):
                send_next()
            for future in done:
                chunk = out.pop(future)
                results = _results(future, chunk)
                send_next()
                yield from results
        finally:  # also when the caller stops early (Ctrl-C): the cluster drops the rest
            if out:
                self._client.cancel(list(out))


def _results(future: Future, chunk: Sequence[str]) -> list[FileHashes]:
    try:
        return future.result()
    except (Exception, CancelledError) as error:  # cancelled: the scheduler restarted, say
        why = " ".join(str(error).split())  # one line, whatever Dask's message holds
        raise ClusterError(
            f"the Dask cluster could not hash a batch of {count(len(chunk), 'file')} from "
            f"{chunk[0]} ({type(error).__name__}: {why}); the committed batches are kept: run "
            "again to resume"
        ) from None


_worker = threading.local()
"""On a worker: each thread's hashing pool and the arguments it was made for."""


def hash_task(
    paths: Sequence[str], algorithms: tuple[str, ...], time_limit: float | None
) -> list[FileHashes]:
    """Run on a worker: one ``FileHashes`` (with signature) per path, in order, from this
    thread's supervised hashing process, started on the thread's first task and kept for the
    next ones with the same arguments."""
    key = (algorithms, time_limit)
    pool: SupervisedPool[str, FileHashes] | None = getattr(_worker, "pool", None)
    if pool is not None and _worker.key != key:
        pool.close()
        pool = None
    if pool is None:
        pool = hashing_pool(algorithms, 1, signatures=True, time_limit=time_limit)
        _worker.pool, _worker.key = pool, key
    try:
        return list(pool.map(paths))
    except BaseException:  # a map stopped half-way leaves the pool unusable
        _worker.pool = None
        pool.close()
        raise
