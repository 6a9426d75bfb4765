"""Peak memory of a process and everything it starts, sampled from ``/proc`` while it runs.

``ru_maxrss`` cannot answer this (see /work/shared/TESTING.md: it survives fork and exec, and
``RUSAGE_CHILDREN`` is the largest child, not the sum of those alive at once). ``TreeMemory``
samples every few milliseconds the resident memory (``VmRSS``) of the process and of all its
descendants (a worker pool's fork server and workers included), and keeps the largest sum seen
and each process's own peak (``VmHWM``).
"""

from __future__ import annotations

import threading
from pathlib import Path


class TreeMemory:
    """Samples the process tree under ``pid`` on a thread until ``stop()``; sizes in KiB."""

    def __init__(self, pid: int, interval_s: float = 0.02) -> None:
        self.peak_sum_kib = 0
        self.peak_hwm_kib: dict[int, int] = {}
        self._pid = pid
        self._interval = interval_s
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> TreeMemory:
        self._done.set()
        self._thread.join()
        return self

    @property
    def largest_process_kib(self) -> int:
        return max(self.peak_hwm_kib.values(), default=0)

    def _run(self) -> None:
        while not self._done.is_set():
            total = 0
            for pid in _tree(self._pid):
                status = _status(pid)
                total += status.get("VmRSS", 0)
                hwm = status.get("VmHWM", 0)
                self.peak_hwm_kib[pid] = max(self.peak_hwm_kib.get(pid, 0), hwm)
            self.peak_sum_kib = max(self.peak_sum_kib, total)
            self._done.wait(self._interval)


def _tree(pid: int) -> list[int]:
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        try:
            tasks = list(Path(f"/proc/{current}/task").glob("*/children"))
        except OSError:
            continue  # ended meanwhile
        for task in tasks:
            try:
                stack.extend(int(child) for child in task.read_text().split())
            except OSError:
                continue  # ended meanwhile
    return found


def _status(pid: int) -> dict[str, int]:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {
        key: int(value.split()[0])
        for key, _, value in (line.partition(":") for line in lines)
        if key in ("VmRSS", "VmHWM")
    }
