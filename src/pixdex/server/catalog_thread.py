"""How the server holds its catalog: opened on one thread that request handlers hand calls to.

An SQLite connection may only be used by the thread that opened it, and the catalog's in-memory
search index (tens of megabytes for a million codes) should exist once, not once per worker
thread. So the server opens one ``Catalog`` on a dedicated thread and runs every catalog call
there, one at a time: a search by hash takes well under a millisecond, so the queue is short,
and the event loop stays free for uploads, hashing and thumbnails, which run elsewhere.

Work too long for that thread (the duplicates view's self-join) opens the catalog again on a
worker thread. ``CatalogSource`` opens both; for a PostgreSQL catalog they draw their
connections from one pool, so reopening costs no new connection and a lost connection is
replaced by the pool.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from pixdex.catalog import Catalog
from pixdex.catalog.engine import Engine
from pixdex.catalog.location import open_pool, open_store

T = TypeVar("T")


class CatalogSource:
    """Opens the existing catalog at ``location`` as often as the server needs it, each time
    with ``engine`` (None: indexes and self-joins in the server's process).

    Raises ``CatalogError`` when a PostgreSQL catalog's server cannot be reached.
    """

    def __init__(self, location: str | os.PathLike[str], engine: Engine | None = None) -> None:
        self.location = location
        self.engine = engine
        self._pool = open_pool(location)

    def open(self) -> Catalog:
        """A new ``Catalog`` over the location (``CatalogError`` if there is no catalog)."""
        if self._pool is None:
            return Catalog(self.location, create=False, engine=self.engine)
        store = open_store(self.location, create=False, pool=self._pool)
        return Catalog(self.location, store=store, engine=self.engine)

    def close(self) -> None:
        """Close the connection pool, if any, once every catalog opened is closed."""
        if self._pool is not None:
            self._pool.close()


class CatalogThread:
    """A catalog opened by ``open_catalog`` on, and used from, one thread."""

    def __init__(self, open_catalog: Callable[[], Catalog]) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pixdex-catalog")
        try:
            self._catalog = self._executor.submit(open_catalog).result()
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
