"""The algorithms pixdex knows, by name."""

from __future__ import annotations

from pixdex.hashing.algorithm import Algorithm
from pixdex.hashing.dhash import DHASH

ALGORITHMS: dict[str, Algorithm] = {a.name: a for a in (DHASH,)}


def get_algorithm(name: str) -> Algorithm:
    """The algorithm called ``name``; ValueError lists the known names otherwise."""
    try:
        return ALGORITHMS[name]
    except KeyError:
        known = ", ".join(sorted(ALGORITHMS))
        raise ValueError(f"unknown algorithm {name!r}; choose one of: {known}") from None
