"""The web search page and HTTP API over a catalog: ``create_app(db_path)``; ``pixdex serve``.

``app`` holds the routes, ``query`` reads search request bodies within a byte limit,
``thumbnails`` makes and caches thumbnails, ``catalog_thread`` holds the catalog (on one thread;
a PostgreSQL catalog's connections in a pool), and ``static/`` is the single page (plain HTML,
CSS and JavaScript; no build step).
"""

from pixdex.server.app import UPLOAD_LIMITS, create_app

__all__ = ["UPLOAD_LIMITS", "create_app"]
