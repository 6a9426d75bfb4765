"""A process pool that survives its workers: a file that hangs or crashes a decoder costs that
file, never the run.

``supervised_map(task, items, workers=..., time_limit=..., on_failure=...)`` yields
``task(item)`` for every item, in input order, computed in worker processes. The pool watches
each worker: one that has spent more than ``time_limit`` seconds on one item is killed, one that
dies (a segmentation fault in a C decoder, the kernel's out-of-memory killer) is noticed; either
way the item it was working on yields ``on_failure(item, reason)``, a new worker takes its
place, and the items it had queued go to the others. ``concurrent.futures.ProcessPoolExecutor``
cannot do this: a worker that dies breaks the whole pool, and a running task cannot be stopped.

Workers start from a clean process (``forkserver``) and receive ``task`` once; items travel in
chunks (``CHUNK_ITEMS``) and results one by one, so the pool always knows which item a worker is
on, and since when (for its first item, from the worker's "ready" message: starting a worker
takes a good part of a second on a busy machine, which is not the item's time). At most
``WINDOW_CHUNKS_PER_WORKER`` chunks per worker are handed out ahead of the oldest result not yet
yielded, which bounds the results held in memory however long the input is. Each worker may
also get a data-segment budget (``RLIMIT_DATA``): a decoder that asks for more gets a
``MemoryError`` (or, in C, a failed allocation) instead of taking the machine's memory.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import resource
import signal
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

CHUNK_ITEMS = 8
"""Items sent to a worker at a time: amortises the round trip (about 0.1 ms) over several files."""

CHUNKS_QUEUED_PER_WORKER = 2
"""Chunks a worker holds at once: the next one is there when the current one ends."""

WINDOW_CHUNKS_PER_WORKER = 64
"""How far ahead of the oldest result not yet yielded the pool hands out work, in chunks per
worker: bounds the results held while one slow file holds back the in-order output."""

STOP_GRACE_S = 5.0
"""How long a worker told to stop may take to exit before it is killed, in seconds."""


def supervised_map(
    task: Callable[[Item], Result],
    items: Iterable[Item],
    *,
    workers: int,
    time_limit: float | None,
    on_failure: Callable[[Item, str], Result],
    memory_limit: int | None = None,
) -> Iterator[Result]:
    """``task(item)`` for each of ``items``, in order, from ``workers`` supervised processes.

    Args:
        task: a picklable callable (a module-level function or a bound method of a picklable
            object) that handles any item without raising.
        items: the inputs, consumed lazily.
        workers: processes to run at once (at least 1).
        time_limit: seconds one item may take, None for no limit.
        on_failure: makes the result of an item whose worker was stopped or died; its second
            argument says why, in words.
        memory_limit: bytes of data segment each worker may hold (``RLIMIT_DATA``), or None.

    Yields:
        One result per item, in input order.
    """
    with SupervisedPool(
        task,
        workers=workers,
        time_limit=time_limit,
        on_failure=on_failure,
        memory_limit=memory_limit,
    ) as pool:  # also when the caller stops early: every worker is stopped
        yield from pool.map(items)


@dataclass
class _Worker(Generic[Item]):
    """One worker process, its pipe and the items sent to it not yet answered, oldest first."""

    process: multiprocessing.process.BaseProcess
    conn: Connection
    pending: deque[tuple[int, Item]] = field(default_factory=deque)
    since: float = 0.0  # when it started on pending[0]
    ready: bool = False  # it has started up: its time runs from then

    def busy(self) -> bool:
        return bool(self.pending)


class SupervisedPool(Generic[Item, Result]):
    """``supervised_map``'s workers, kept for several maps: a caller that gets its items in
    batches (a Dask task per batch, ``pixdex.distributed.hashing``) starts its workers once,
    not once per batch. The arguments are ``supervised_map``'s; ``close()`` (or leaving the
    ``with`` block) stops the workers."""

    def __init__(
        self,
        task: Callable[[Item], Result],
        *,
        workers: int,
        time_limit: float | None,
        on_failure: Callable[[Item, str], Result],
        memory_limit: int | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        methods = multiprocessing.get_all_start_methods()
        self._context = multiprocessing.get_context(
            "forkserver" if "forkserver" in methods else "spawn"
        )
        self._task = task
        self._time_limit = time_limit
        self._on_failure = on_failure
        self._memory_limit = memory_limit
        self._workers = [self._start() for _ in range(workers)]
        self._retry: deque[tuple[int, Item]] = deque()  # items whose worker was lost
        self._results: dict[int, Result] = {}

    def _start(self) -> _Worker[Item]:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(
            target=_serve, args=(theirs, self._task, self._memory_limit), daemon=True
        )
        process.start()
        theirs.close()
        return _Worker(process, ours)

    def __enter__(self) -> SupervisedPool[Item, Result]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def map(self, items: Iterable[Item]) -> Iterator[Result]:
        """``task(item)`` for each of ``items``, in order. Consume it to the end before the next
        ``map``; a caller that stops early must ``close()`` the pool."""
        numbered = enumerate(items)
        exhausted = False
        next_out = 0
        window = len(self._workers) * WINDOW_CHUNKS_PER_WORKER * CHUNK_ITEMS
        handed = 0  # items numbered so far
        while True:
            for number, worker in enumerate(self._workers):
                if not worker.busy() and not worker.process.is_alive():
                    worker.process.join()  # died idle (the OOM killer's choice, say)
                    worker = self._workers[number] = self._start()
                while len(worker.pending) < CHUNKS_QUEUED_PER_WORKER * CHUNK_ITEMS:
                    chunk = list(self._retry_chunk())
                    if not chunk and not exhausted and handed < next_out + window:
                        chunk = _take(numbered, CHUNK_ITEMS)
                        handed += len(chunk)
                        exhausted = len(chunk) < CHUNK_ITEMS
                    if not chunk:
                        break
                    self._send(worker, chunk)
            while next_out in self._results:
                yield self._results.pop(next_out)
                next_out += 1
            if exhausted and next_out >= handed and not self._retry:
                return
            self._collect()

    def _retry_chunk(self) -> Iterator[tuple[int, Item]]:
        for _ in range(min(CHUNK_ITEMS, len(self._retry))):
            yield self._retry.popleft()

    def _send(self, worker: _Worker[Item], chunk: list[tuple[int, Item]]) -> None:
        if not worker.busy() and worker.ready:
            worker.since = time.monotonic()
        worker.pending.extend(chunk)
        with contextlib.suppress(OSError):  # it died: _collect notices and hands the chunk on
            worker.conn.send(chunk)

    def _collect(self) -> None:
        """Wait for results (or a death, or the nearest deadline) and act on what happened."""
        busy = [w for w in self._workers if w.busy()]
        if not busy:
            return  # nothing to wait for (the caller hands out work first)
        timed = [w for w in busy if w.ready]
        deadline = None
        if self._time_limit is not None and timed:
            deadline = min(w.since for w in timed) + self._time_limit
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout)
        for worker in busy:
            if worker.conn in ready or worker.process.sentinel in ready:
                self._receive(worker)
        if self._time_limit is None:
            return
        for worker in list(self._workers):
            if self._overdue(worker):
                self._drain(worker)  # a result may have come in since the wait
                if self._overdue(worker):
                    worker.process.kill()
                    self._replace(worker, f"took longer than {self._time_limit:g} s (time limit)")

    def _overdue(self, worker: _Worker[Item]) -> bool:
        assert self._time_limit is not None
        return worker.ready and worker.busy() and time.monotonic() - worker.since > self._time_limit

    def _receive(self, worker: _Worker[Item]) -> None:
        """Every result waiting in ``worker``'s pipe; a dead worker is replaced."""
        self._drain(worker)
        if not worker.process.is_alive():
            worker.process.join()
            self._replace(worker, _death(worker.process.exitcode))

    def _drain(self, worker: _Worker[Item]) -> None:
        try:
            while worker.conn.poll():
                message = worker.conn.recv()
                worker.since = time.monotonic()
                if message is None:  # started up
                    worker.ready = True
                    continue
                index, result = message
                worker.pending.popleft()
                self._results[index] = result
        except (EOFError, OSError):
            pass  # it died: its sentinel says so

    def _replace(self, worker: _Worker[Item], reason: str) -> None:
        """Fail the item ``worker`` was on, hand its other items on, start a new worker."""
        worker.process.join(STOP_GRACE_S)
        worker.conn.close()
        if worker.pending:
            index, item = worker.pending.popleft()
            self._results[index] = self._on_failure(item, reason)
            self._retry.extendleft(reversed(worker.pending))
        self._workers[self._workers.index(worker)] = self._start()

    def close(self) -> None:
        """Stop every worker: told to, then killed if busy or slow to exit."""
        for worker in self._workers:
            with contextlib.suppress(OSError):
                worker.conn.send(None)
        deadline = time.monotonic() + STOP_GRACE_S
        for worker in self._workers:
            if worker.busy():
                worker.process.kill()  # the caller stopped early: its work is not wanted
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()


def _take(numbered: Iterator[tuple[int, Item]], count: int) -> list[tuple[int, Item]]:
    chunk = []
    for pair in numbered:
        chunk.append(pair)
        if len(chunk) == count:
            break
    return chunk


def _death(exitcode: int | None) -> str:
    """Why a worker ended, in words."""
    if exitcode is not None and exitcode < 0:
        name = signal.Signals(-exitcode).name
        hint = " (out of memory?)" if -exitcode == signal.SIGKILL else ""
        return f"crashed the worker process ({name}{hint})"
    return f"crashed the worker process (exit status {exitcode})"


def _serve(conn: Connection, task: Callable, memory_limit: int | None) -> None:
    """A worker: run ``task`` on each item of each chunk received, send each result back."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if memory_limit is not None:
        resource.setrlimit(resource.RLIMIT_DATA, (memory_limit, memory_limit))
    try:
        conn.send(None)  # started: the item clock runs from here, not from the process start
    except OSError:
        return
    while True:
        try:
            chunk = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if chunk is None:
            return
        for index, item in chunk:
            result = task(item)
            try:
                conn.send((index, result))
            except OSError:
                return
