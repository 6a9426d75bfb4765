"""The algorithms pixdex knows, by name."""

from __future__ import annotations

from pixdex.hashing.ahash import AHASH
from pixdex.hashing.algorithm import Algorithm
from pixdex.hashing.dhash import DHASH
from pixdex.hashing.pdq import PDQ
from pixdex.hashing.phash import PHASH
from pixdex.hashing.whash import WHASH

ALGORITHMS: dict[str, Algorithm] = {a.name: a for a in (DHASH, AHASH, PHASH, WHASH, PDQ)}


def get_algorithm(name: str) -> Algorithm:
    """The algorithm called ``name``; ValueError lists the known names otherwise."""
    try:
        return ALGORITHMS[name]
    except KeyError:
        known = ", ".join(sorted(ALGORITHMS))
        raise ValueError(f"unknown algorithm {name!r}; choose one of: {known}") from None
