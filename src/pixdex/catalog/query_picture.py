"""What a search looks up for one orientation of its query: the query's hashes and its content
signature. A module of its own so that a search by hash builds one without importing the image
decoder (``pixdex.catalog.orientations`` makes them from an image)."""

from __future__ import annotations

from dataclasses import dataclass

from pixdex.hashing import Hash


@dataclass(frozen=True)
class QueryPicture:
    """One orientation of a query: its hashes by algorithm, its content signature
    (``pixdex.signature``) when the search verifies with one, and then its views at the
    verification's cuts, made from its pixels (``pixdex.matching.cut_views``; none for a query
    given by hash)."""

    hashes: dict[str, Hash]
    signature: bytes | None
    views: tuple[bytes | None, ...] = ()
