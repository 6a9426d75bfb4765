"""Hashes of a view of the picture: ``ALG:trim`` (inside its uniform margins) and ``ALG:centre``.

``get_algorithm("pdq:trim")`` is PDQ computed on the picture with its uniform margins trimmed;
``"pdq:centre"`` is PDQ of the centre (10 % cut per side), margins trimmed as well. A catalog
that stores both can match an added border (trim) and a cropped copy (the copy's whole meets the
original's centre) that the plain hash of the whole frame misses; ``ALG:framed`` in the catalog
names that pair (see ``pixdex.catalog``). Each view is an ``Algorithm`` of its own, with its own
name in the catalog and on every ``Hash`` it makes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial

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

    return replace(base, name=name, compute=compute, view=crop, base=base)


@dataclass(frozen=True)
class HashPlan:
    """The distinct hash computations some requested algorithms make of one image: ``jobs``
    (each returns a ``Hash``), and for each requested name the job that answers it."""

    jobs: list[Callable[[], Hash]]
    answers: dict[str, int]

    def hashes(self, done: Sequence[Hash]) -> dict[str, Hash]:
        """The requested hashes by name, from the jobs' results in order."""
        return {name: replace(done[job], algorithm=name) for name, job in self.answers.items()}


def hash_plan(image: Image.Image, requests: Sequence[tuple[Algorithm, int]]) -> HashPlan:
    """What hashing ``image`` with each ``(algorithm, hash_size)`` of ``requests`` takes.

    A view whose pixels are the whole image (``trim`` of a picture without uniform margins:
    most photos) is answered by the whole image's hash of its base algorithm when that is
    requested too, instead of computing the same hash twice: the views are cut here, and each
    distinct (base, pixels, size) is one job.
    """
    computed: list[tuple[str, Image.Image, int]] = []
    jobs: list[Callable[[], Hash]] = []
    answers: dict[str, int] = {}
    for algorithm, size in requests:
        base = algorithm.base or algorithm
        pixels = image if algorithm.view is None else algorithm.view(image)
        same = (
            k
            for k, (name, seen, seen_size) in enumerate(computed)
            if name == base.name and seen is pixels and seen_size == size
        )
        job = next(same, None)
        if job is None:
            job = len(jobs)
            computed.append((base.name, pixels, size))
            jobs.append(partial(base.compute, pixels, size))
        answers[algorithm.name] = job
    return HashPlan(jobs, answers)


def compute_hashes(
    image: Image.Image, requests: Sequence[tuple[Algorithm, int]]
) -> dict[str, Hash]:
    """``image``'s hash for each ``(algorithm, hash_size)`` of ``requests``, by name
    (``hash_plan``'s jobs run in turn)."""
    plan = hash_plan(image, requests)
    return plan.hashes([job() for job in plan.jobs])
