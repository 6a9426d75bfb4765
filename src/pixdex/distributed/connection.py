"""Reaching a Dask cluster: connect to its scheduler and check that its workers can run pixdex.

Everything pixdex sends to a worker is a function of pixdex itself, so every worker needs pixdex
installed, the version of the client; and hashing starts child processes on the workers
(``pixdex.pool``), which Dask's default daemonic worker processes may not do. Both are checked
once, before any work is sent, so that a misconfigured cluster is one clear line, not a run
whose every task fails.
"""

from __future__ import annotations

import multiprocessing
from importlib.metadata import PackageNotFoundError, version

from distributed import Client

from pixdex.errors import PixdexError


class ClusterError(PixdexError):
    """The Dask cluster cannot be reached, has no workers, or its workers cannot run pixdex."""


def connect(
    address: str, *, starts_processes: bool = False, direct_to_workers: bool = False
) -> Client:
    """A client of the Dask scheduler at ``address`` (``tcp://HOST:8786``) whose workers are
    checked with ``check_workers`` (``starts_processes``: the work sent starts child processes on
    the workers, as hashing does). ``direct_to_workers`` talks to workers without the scheduler
    in between (one hop less per call, for searches). Raises ``ClusterError`` saying what is
    wrong. How long an unanswering scheduler is waited for is Dask's setting
    ``distributed.comm.timeouts.connect`` (30 s unless configured;
    ``DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=5s``)."""
    try:
        client = Client(address, set_as_default=False, direct_to_workers=direct_to_workers)
    except (OSError, TimeoutError, ValueError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ClusterError(f"{address}: cannot reach the Dask scheduler ({reason})") from None
    try:
        check_workers(client, address, starts_processes=starts_processes)
    except BaseException:
        client.close()
        raise
    return client


def check_workers(client: Client, address: str, *, starts_processes: bool = False) -> None:
    """Raise ``ClusterError`` unless the scheduler has workers and each one can run pixdex:
    imports it, at the client's version, and (``starts_processes``) may start child
    processes."""
    if not client.nthreads():
        raise ClusterError(f"{address}: no Dask worker has joined the scheduler")
    try:
        problems = client.run(worker_problem, _pixdex_version(), starts_processes)
    except Exception as error:  # the worker could not even unpickle a pixdex function
        raise ClusterError(
            f"{address}: the Dask workers cannot run pixdex ({type(error).__name__}: {error}); "
            f"install pixdex {_pixdex_version()} on every worker"
        ) from None
    for worker, problem in sorted(problems.items()):
        if problem is not None:
            raise ClusterError(f"{address}: Dask worker {worker}: {problem}")


def worker_problem(expected_version: str, starts_processes: bool) -> str | None:
    """Run on each worker: why it cannot do this client's work, or None."""
    if _pixdex_version() != expected_version:
        return (
            f"runs pixdex {_pixdex_version()}, the client {expected_version}: install the same "
            "version everywhere"
        )
    if starts_processes and multiprocessing.current_process().daemon:
        return (
            "its worker process is daemonic and cannot start pixdex's hashing processes: start "
            "workers with DASK_DISTRIBUTED__WORKER__DAEMON=False (the Dask setting "
            "distributed.worker.daemon: false) or with `dask worker --no-nanny`"
        )
    return None


def _pixdex_version() -> str:
    try:
        return version("pixdex")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"
