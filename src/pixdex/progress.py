"""The command line's progress bars, drawn on stderr with rich.

A bar is a ``progress(done, total)`` callback, as ``Catalog.index`` and ``pixdex eval`` call it,
and appears only once there is something to count: an unchanged re-index draws no empty
``0/0`` bar, and does not even import rich's progress display (40 ms of a half-second command).
"""

from __future__ import annotations

import time
from typing import Any


class ProgressBar:
    """``LABEL ━━━━━━ 12/29 [NOUN] [12.7 files/s] 0:00:02 ETA 0:00:01`` on stderr.

    ``noun`` names what is counted after the count ("originals"); ``rate`` adds files per
    second averaged over the run so far; ``transient`` clears the bar when it stops instead of
    leaving it on screen. Use it as a context manager: leaving the block stops the bar.
    """

    def __init__(
        self, label: str, *, noun: str = "", rate: bool = False, transient: bool = False
    ) -> None:
        self._label, self._noun, self._rate, self._transient = label, noun, rate, transient
        self._progress: Any = None
        self._task: Any = None
        self._started = 0.0

    def __call__(self, done: int, total: int) -> None:
        if self._progress is None:
            if total <= 0:
                return
            self._start()
        fields = {}
        if self._rate:
            elapsed = time.perf_counter() - self._started
            fields["rate"] = f"{done / elapsed if elapsed > 0 else 0.0:,.1f} files/s"
        self._progress.update(self._task, completed=done, total=total, **fields)

    def _start(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        columns = [TextColumn(self._label), BarColumn(), MofNCompleteColumn()]
        if self._noun:
            columns.append(TextColumn(self._noun))
        if self._rate:
            columns.append(TextColumn("{task.fields[rate]}", style="progress.data.speed"))
        columns += [TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn()]
        self._progress = Progress(*columns, console=Console(stderr=True), transient=self._transient)
        self._progress.start()
        self._started = time.perf_counter()
        self._task = self._progress.add_task(self._label, total=None, rate="")

    def stop(self) -> None:
        """Stop drawing (the bar stays on screen unless ``transient``)."""
        if self._progress is not None:
            self._progress.stop()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
