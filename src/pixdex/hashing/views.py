"""Hashes of a view of the picture: ``ALG:trim`` (inside its uniform margins) and ``ALG:centre``.

``get_algorithm("pdq:trim")`` is PDQ computed on the picture with its uniform margins trimmed;
``"pdq:centre"`` is PDQ of the centre (10 % cut per side), margins trimmed as well. A catalog
that stores both can match an added border (trim) and a cropped copy (the copy's whole meets the
original's centre) that the plain hash of the whole frame misses; ``ALG:framed`` in the catalog
names that pair (see ``pixdex.catalog``). Each view is an ``Algorithm`` of its own, with its own
name in the catalog and on every ``Hash`` it makes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from PIL import Image

from pixdex.framing import centre, trim_margins
from pixdex.hashing.algorithm import Algorithm
from pixdex.hashing.hash import Hash

CENTRE_FRACTION = 0.1
"""Share of each side the centre view cuts away: a 10 % crop of the copy is then matched."""

VIEWS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "trim": trim_margins,
    "centre": lambda image: trim_margins(centre(image, CENTRE_FRACTION)),
}
"""Each view by name: the pixels it hashes, from the decoded picture."""

SEPARATOR = ":"


def split_name(name: str) -> tuple[str, str | None]:
    """``"pdq:trim"`` → ``("pdq", "trim")``; a plain name → ``(name, None)``."""
    base, _, view = name.partition(SEPARATOR)
    return base, view or None


def view_algorithm(base: Algorithm, view: str) -> Algorithm:
    """``base`` computed on the ``view`` of the picture, named ``"BASE:VIEW"``."""
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}; choose one of: {', '.join(VIEWS)}")
    crop = VIEWS[view]
    name = f"{base.name}{SEPARATOR}{view}"

    def compute(image: Image.Image, hash_size: int) -> Hash:
        value = base.compute(crop(image), hash_size)
        return replace(value, algorithm=name)

    return replace(base, name=name, compute=compute)
