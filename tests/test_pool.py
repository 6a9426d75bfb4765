"""``pixdex.pool.supervised_map``: order, and workers that hang, crash or ask for too much memory.

The tasks are real work run in real worker processes: an item names what its task does (return
a value, sleep past the time limit, kill its own process with SIGSEGV as a crashing C decoder
would, allocate beyond the memory budget).
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from pixdex.pool import CHUNK_ITEMS, supervised_map

LIMIT_S = 2.0
"""The per-item time limit of these tests: an ordinary item takes microseconds."""


def task(item: str) -> str:
    """What the item says: "ok:N" → "N", "hang" sleeps, "crash" dies, "hog:MB" allocates."""
    kind, _, value = item.partition(":")
    if kind == "hang":
        time.sleep(3600)
    elif kind == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif kind == "hog":
        try:
            return f"got {len(bytearray(int(value) * 2**20)) // 2**20} MB"
        except MemoryError:
            return "MemoryError"
    return value


def failed(item: str, reason: str) -> str:
    return f"failed {item}: {reason}"


def run(items: list[str], workers: int = 2, **options) -> list[str]:
    options.setdefault("time_limit", LIMIT_S)
    return list(supervised_map(task, items, workers=workers, on_failure=failed, **options))


@pytest.mark.parametrize("workers", [1, 3])
def test_results_come_back_in_input_order(workers: int) -> None:
    items = [f"ok:{i}" for i in range(10 * CHUNK_ITEMS + 3)]
    assert run(items, workers) == [str(i) for i in range(len(items))]


def test_a_hung_item_is_stopped_at_the_time_limit_and_the_rest_go_on() -> None:
    items = ["ok:a", "hang", "ok:b", *[f"ok:{i}" for i in range(20)]]
    results = run(items, workers=1)
    assert results[1] == f"failed hang: took longer than {LIMIT_S:g} s (time limit)"
    assert results[:1] + results[2:] == ["a", "b", *[str(i) for i in range(20)]]


def test_a_crashed_worker_costs_its_item_only_and_is_replaced() -> None:
    items = ["crash", *[f"ok:{i}" for i in range(12)], "crash", "crash", "ok:end"]
    results = run(items, workers=2, time_limit=None)
    assert results[0] == "failed crash: crashed the worker process (SIGSEGV)"
    assert results[13] == results[14] == results[0]
    assert results[1:13] + results[15:] == [*[str(i) for i in range(12)], "end"]


def test_the_memory_budget_turns_an_oversized_allocation_into_a_memory_error() -> None:
    results = run(["hog:64", "hog:2048", "ok:after"], workers=1, memory_limit=1024 * 2**20)
    assert results == ["got 64 MB", "MemoryError", "after"]


def test_stopping_early_stops_the_workers() -> None:
    results = supervised_map(
        task, ["ok:1", "hang", "hang"], workers=2, time_limit=None, on_failure=failed
    )
    assert next(results) == "1"
    results.close()  # the hung workers are killed, not waited for
