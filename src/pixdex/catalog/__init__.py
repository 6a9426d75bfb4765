"""The persistent catalog: files, their hashes, and the search index over them.

``Catalog`` is the API; ``store.Store`` the storage interface a backend implements (``SQLiteStore``
is the embedded default, ``postgres.PostgresStore`` the shared one, imported only when a
``postgresql://`` location asks for it); ``location`` picks the backend for a location;
``walker`` finds the image files to index.

Names are imported on first use (PEP 562 ``__getattr__``), so that the command line can read the
defaults (``pixdex.catalog.defaults``) and ``CatalogError`` without importing the catalog itself.
"""

from pixdex.lazy import lazy_names

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
    "Hasher",
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

_HOMES = {
    "ActionReport": "actions",
    "UndoReport": "actions",
    "BATCH_SIZE": "defaults",
    "DEFAULT_ALGORITHM": "defaults",
    "DEFAULT_PATH": "defaults",
    "DEFAULT_INDEX_ALGORITHMS": "defaults",
    "DEFAULT_DISTANCES": "catalog",
    "Catalog": "catalog",
    "CatalogInfo": "catalog",
    "Hasher": "catalog",
    "IndexReport": "catalog",
    "Match": "catalog",
    "SearchResult": "catalog",
    "default_distance": "catalog",
    "framed_views": "catalog",
    "search_distance": "catalog",
    "KEEP_POLICIES": "duplicates",
    "DuplicateGroup": "duplicates",
    "DuplicateMember": "duplicates",
    "CatalogError": "errors",
    "SQLiteStore": "sqlite",
    "FileRecord": "store",
    "Store": "store",
    "StoredFile": "store",
    "walk_images": "walker",
}
"""The submodule each public name lives in."""


__getattr__, __dir__ = lazy_names(__name__, _HOMES)
