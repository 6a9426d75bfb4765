"""What a search looks up for one orientation of its query: the query's hashes and its content
signature. A module of its own so that a search by hash builds one without importing the image
decoder (``pixdex.catalog.orientations`` makes them from an image)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pixdex.hashing import Hash

if TYPE_CHECKING:
    from PIL import Image


@dataclass(frozen=True)
class QueryPicture:
    """One orientation of a query: its hashes by algorithm, its content signature
    (``pixdex.signature``) when the search verifies with one, and then its decoded pixels, from
    which a search that needs them makes its views at the verification's cuts
    (``pixdex.matching.cut_views``: only for candidates nearer than every match its signature
    found).
    A query given by hash has neither."""

    hashes: dict[str, Hash]
    signature: bytes | None
    pixels: Image.Image | None = field(default=None, compare=False, repr=False)
