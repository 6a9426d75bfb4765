"""The catalog's error type: a catalog that is missing, unreadable, or asked for what it lacks."""

from __future__ import annotations

from pixdex.errors import PixdexError


class CatalogError(PixdexError):
    """A catalog problem a user can act on; the message names the catalog and the fix."""
