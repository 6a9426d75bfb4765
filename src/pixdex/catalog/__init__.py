"""The persistent catalog: files, their hashes, and the search index over them.

``Catalog`` is the API; ``store.Store`` the storage interface a backend implements (``SQLiteStore``
is the embedded default, ``postgres.PostgresStore`` the shared one, imported only when a
``postgresql://`` location asks for it); ``location`` picks the backend for a location;
``walker`` finds the image files to index.
"""

from pixdex.catalog.actions import ActionReport, UndoReport
from pixdex.catalog.catalog import (
    BATCH_SIZE,
    DEFAULT_ALGORITHM,
    DEFAULT_DISTANCES,
    DEFAULT_INDEX_ALGORITHMS,
    DEFAULT_PATH,
    Catalog,
    CatalogInfo,
    IndexReport,
    Match,
    SearchResult,
    default_distance,
    framed_views,
    search_distance,
)
from pixdex.catalog.duplicates import KEEP_POLICIES, DuplicateGroup, DuplicateMember
from pixdex.catalog.errors import CatalogError
from pixdex.catalog.sqlite import SQLiteStore
from pixdex.catalog.store import FileRecord, Store, StoredFile
from pixdex.catalog.walker import walk_images

__all__ = [
    "BATCH_SIZE",
    "DEFAULT_ALGORITHM",
    "DEFAULT_DISTANCES",
    "DEFAULT_INDEX_ALGORITHMS",
    "DEFAULT_PATH",
    "KEEP_POLICIES",
    "ActionReport",
    "Catalog",
    "CatalogError",
    "CatalogInfo",
    "DuplicateGroup",
    "DuplicateMember",
    "FileRecord",
    "IndexReport",
    "Match",
    "SQLiteStore",
    "SearchResult",
    "Store",
    "StoredFile",
    "UndoReport",
    "default_distance",
    "framed_views",
    "search_distance",
    "walk_images",
]
