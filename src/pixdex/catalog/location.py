"""Which backend a catalog location names, and where that catalog's local files go.

A location is an SQLite file path (the embedded default) or a PostgreSQL URI
(``postgresql://USER@HOST:PORT/DBNAME``, see ``uri.py``). This module is the one place that tells
them apart; ``Catalog``, the command line and the server only pass locations through.

Local files are a catalog's saved search indexes and its journal of duplicate actions. An SQLite
catalog keeps them beside its file. A PostgreSQL catalog keeps them on the machine that uses it,
never on the database server: in ``$XDG_CACHE_HOME/pixdex/<catalog id>/`` (by default
``~/.cache/pixdex/<catalog id>/``), keyed by the catalog's random id, so two catalogs never share
them and a database re-created under the same URI starts afresh.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from pixdex.catalog.errors import CatalogError
from pixdex.catalog.sqlite import SQLiteStore
from pixdex.catalog.store import Store
from pixdex.catalog.uri import is_postgres, redact

if TYPE_CHECKING:
    from pixdex.catalog.postgres import CatalogPool

LOCAL_NAME = "catalog"
"""The stem of a PostgreSQL catalog's local files inside its cache folder
(``catalog.<id>.dhash.g7.idx``, ``catalog.journal.jsonl``)."""


def open_store(
    location: str | os.PathLike[str], *, create: bool = True, pool: CatalogPool | None = None
) -> Store:
    """The store at ``location``: ``SQLiteStore`` for a path, ``PostgresStore`` for a URI.

    ``create=False`` refuses to make a new, empty catalog. ``pool`` (PostgreSQL only, see
    :func:`open_pool`) lends the store its connections. Raises ``CatalogError`` when the catalog
    cannot be opened, or when psycopg is not installed for a PostgreSQL location.
    """
    if not is_postgres(location):
        return SQLiteStore(location, create=create)
    return _postgres(location).PostgresStore(str(location), create=create, pool=pool)


def open_pool(location: str | os.PathLike[str]) -> CatalogPool | None:
    """A connection pool for the PostgreSQL catalog at ``location``, to share between the
    stores of one process's threads (the caller closes it); ``None`` for an SQLite catalog."""
    return _postgres(location).CatalogPool(location) if is_postgres(location) else None


def display_name(location: str | os.PathLike[str]) -> str:
    """How messages name the catalog: its path, or its URI without the password."""
    return redact(location) if is_postgres(location) else str(Path(location))


def local_files(location: str | os.PathLike[str], store: Store) -> Path:
    """The path that a catalog's local files are named after (``<it>.<id>.<algorithm>...idx``,
    ``<it>.journal.jsonl``): the SQLite file itself, or ``catalog`` in the cache folder of a
    PostgreSQL catalog (created here; if it cannot be, saving an index fails quietly and costs
    the next process a rebuild, as beside an SQLite file in a read-only folder)."""
    if not is_postgres(location):
        return Path(location)
    folder = cache_home() / "pixdex" / store.catalog_id()
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
    return folder / LOCAL_NAME


def cache_home() -> Path:
    """``$XDG_CACHE_HOME`` when it is an absolute path (as the XDG spec says), else ``~/.cache``."""
    configured = os.environ.get("XDG_CACHE_HOME", "")
    return Path(configured) if os.path.isabs(configured) else Path.home() / ".cache"


def _postgres(location: str | os.PathLike[str]):
    """The PostgreSQL backend module, imported on first use: psycopg is an optional extra."""
    try:
        from pixdex.catalog import postgres
    except ImportError as error:
        if not (error.name or "").startswith("psycopg"):
            raise
        raise CatalogError(
            f"{display_name(location)}: a PostgreSQL catalog needs psycopg: "
            "pip install 'pixdex[postgres]'"
        ) from None
    return postgres
