"""The persistent catalog: files, their hashes, and the search index over them.

``store.Store`` is the storage interface a backend implements (``SQLiteStore`` is the embedded
default); ``walker`` finds the image files to index.
"""

from pixdex.catalog.errors import CatalogError
from pixdex.catalog.sqlite import SQLiteStore
from pixdex.catalog.store import FileRecord, Store
from pixdex.catalog.walker import walk_images

__all__ = ["CatalogError", "FileRecord", "SQLiteStore", "Store", "walk_images"]
