"""A private Dask cluster of separate processes on 127.0.0.1, for tests and benchmarks.

Started the way a user starts one, with Dask's own commands: ``dask scheduler`` on a free port and
``dask worker`` processes (one thread each by default) pointed at it, no dashboards; stopped by
their process ids at the end. Tests kill single workers with ``kill_worker``.

    with DaskCluster.start(workers=2) as cluster:
        client = distributed.Client(cluster.address)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

START_TIMEOUT_S = 120.0
"""How long the scheduler and workers get to come up (imports on a loaded 2-core machine)."""


def available() -> bool:
    """Whether ``dask[distributed]`` is installed (the ``distributed`` extra)."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class DaskCluster:
    """A running scheduler at ``address`` and its worker processes (``workers``: Popen objects)."""

    def __init__(self, root: Path, port: int, threads: int) -> None:
        self.root = root
        self.address = f"tcp://127.0.0.1:{port}"
        self.threads = threads
        self.scheduler: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []

    @classmethod
    def start(cls, workers: int = 2, threads: int = 1) -> DaskCluster:
        """Start a scheduler and ``workers`` worker processes of ``threads`` threads each; wait
        until every worker has joined. Raises ``RuntimeError`` with their logs if they do not."""
        cluster = cls(Path(tempfile.mkdtemp(prefix="pixdex-dask-")), _free_port(), threads)
        try:
            cluster.scheduler = cluster._spawn(
                "scheduler",
                [
                    "scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    cluster.address.rsplit(":", 1)[1],
                    "--no-dashboard",
                ],
            )
            for _ in range(workers):
                cluster.add_worker()
            cluster.wait_for_workers(workers)
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _spawn(self, name: str, arguments: list[str]) -> subprocess.Popen:
        log = open(self.root / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        dask = Path(sys.executable).with_name("dask")
        return subprocess.Popen(
            [str(dask), *arguments],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.root,
            env={**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"},
            start_new_session=True,
        )

    def add_worker(self) -> subprocess.Popen:
        """Start one more worker process (it joins in the background)."""
        worker = self._spawn(
            f"worker{len(self.workers)}",
            [
                "worker",
                self.address,
                "--host",
                "127.0.0.1",
                "--nthreads",
                str(self.threads),
                "--nworkers",
                "1",
                "--no-dashboard",
                "--local-directory",
                str(self.root / f"space{len(self.workers)}"),
            ],
        )
        self.workers.append(worker)
        return worker

    def wait_for_workers(self, count: int) -> None:
        """Block until ``count`` workers are connected to the scheduler."""
        from distributed import Client

        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with Client(self.address, timeout=10) as client:
                    client.wait_for_workers(count, timeout=max(1.0, deadline - time.monotonic()))
                return
            except (OSError, TimeoutError) as error:
                if time.monotonic() > deadline or self.scheduler.poll() is not None:
                    raise RuntimeError(
                        f"the private Dask cluster did not start ({error}):\n{self.logs()}"
                    ) from None
                time.sleep(0.5)

    def kill_worker(self, index: int = 0) -> None:
        """SIGKILL one worker process and its children (a machine lost mid-run)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.workers[index].pid, signal.SIGKILL)
        self.workers[index].wait()

    def logs(self) -> str:
        """The scheduler's and workers' output so far, for error messages."""
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}"
            for log in sorted(self.root.glob("*.log"))
        )

    def __enter__(self) -> DaskCluster:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop every process started here (by process group) and delete the cluster's files."""
        for process in [*self.workers, self.scheduler]:
            if process is None or process.poll() is not None:
                continue
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        shutil.rmtree(self.root, ignore_errors=True)
