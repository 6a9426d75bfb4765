"""The algorithms pixdex knows, by name."""

from __future__ import annotations

from pixdex.hashing.ahash import AHASH
from pixdex.hashing.algorithm import Algorithm
from pixdex.hashing.dhash import DHASH
from pixdex.hashing.pdq import PDQ
from pixdex.hashing.phash import PHASH
from pixdex.hashing.views import VIEWS, split_name, view_algorithm
from pixdex.hashing.whash import WHASH

ALGORITHMS: dict[str, Algorithm] = {a.name: a for a in (DHASH, AHASH, PHASH, WHASH, PDQ)}


def get_algorithm(name: str) -> Algorithm:
    """The algorithm called ``name``: a name of ``ALGORITHMS``, or ``NAME:VIEW`` for a view of
    the picture (``pdq:trim``, ``dhash:centre``; see ``pixdex.hashing.views``). ValueError lists
    the known names otherwise."""
    base, view = split_name(name)
    if base in ALGORITHMS and (view is None or view in VIEWS):
        return ALGORITHMS[base] if view is None else _views[base, view]
    known = ", ".join(sorted(ALGORITHMS))
    views = ", ".join(VIEWS)
    raise ValueError(
        f"unknown algorithm {name!r}; choose one of: {known} (optionally :VIEW, VIEW one of "
        f"{views})"
    )


def is_algorithm(name: str) -> bool:
    """True when ``get_algorithm(name)`` knows ``name``."""
    try:
        get_algorithm(name)
    except ValueError:
        return False
    return True


_views = {(a.name, v): view_algorithm(a, v) for a in ALGORITHMS.values() for v in VIEWS}
