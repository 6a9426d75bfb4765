"""One thread that owns the catalog; request handlers hand it their calls.

An SQLite connection may only be used by the thread that opened it, and the catalog's in-memory
search index (tens of megabytes for a million codes) should exist once, not once per worker
thread. So the server opens one ``Catalog`` on a dedicated thread and runs every catalog call
there, one at a time: a search by hash takes well under a millisecond, so the queue is short,
and the event loop stays free for uploads, hashing and thumbnails, which run elsewhere.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from pixdex.catalog import Catalog

T = TypeVar("T")


class CatalogThread:
    """The catalog at ``path`` (which must exist), opened on and used from one thread."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pixdex-catalog")
        try:
            self._catalog = self._executor.submit(Catalog, path, create=False).result()
        except BaseException:
            self._executor.shutdown()
            raise

    async def call(self, work: Callable[[Catalog], T]) -> T:
        """Run ``work(catalog)`` on the catalog's thread and return its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, work, self._catalog)

    def close(self) -> None:
        """Close the catalog on its own thread and stop the thread."""
        self._executor.submit(self._catalog.close).result()
        self._executor.shutdown()
