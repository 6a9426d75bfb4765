"""The eight orientations of a picture, and the query hashes a search needs from one decode.

A mirrored or quarter-turned copy of a photo has a perceptual hash unrelated to the original's
(dHash compares left and right neighbours; after a mirror every comparison is reversed). Instead of
storing eight hashes per file, a search with ``flips`` hashes the query in all eight orientations
of the square's symmetry group (identity, mirror, the three rotations and their mirrors) and looks
each up: the index stays as it is, and the cost is eight lookups per query instead of one.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from PIL import Image

from pixdex.catalog.query_picture import QueryPicture
from pixdex.decode import decode_image
from pixdex.hashing import get_algorithm
from pixdex.hashing.views import hash_plan
from pixdex.index.base import worker_count
from pixdex.signature import signature

ORIENTATIONS: dict[str, Image.Transpose | None] = {
    "identity": None,
    "mirror": Image.Transpose.FLIP_LEFT_RIGHT,
    "rotate-90": Image.Transpose.ROTATE_90,
    "rotate-180": Image.Transpose.ROTATE_180,
    "rotate-270": Image.Transpose.ROTATE_270,
    "flip": Image.Transpose.FLIP_TOP_BOTTOM,  # mirror, then rotate 180°
    "transpose": Image.Transpose.TRANSPOSE,  # mirror, then rotate 90°
    "transverse": Image.Transpose.TRANSVERSE,  # mirror, then rotate 270°
}
"""Each orientation by name, as the lossless Pillow transpose that makes it (None: unchanged).
Rotations are counter-clockwise, like Pillow's."""


def orientations(image: Image.Image) -> list[Image.Image]:
    """``image`` in the eight orientations of ``ORIENTATIONS``, identity first."""
    return [image if op is None else image.transpose(op) for op in ORIENTATIONS.values()]


def query_pictures(
    source: str | os.PathLike[str] | bytes | Image.Image,
    algorithms: Sequence[str],
    *,
    flips: bool = False,
    signatures: bool = False,
) -> list[QueryPicture]:
    """The hashes (and, with ``signatures``, the content signature and the decoded pixels, for
    the views at the verification's cuts: ``pixdex.matching.cut_views``) of one query image, one
    ``QueryPicture`` per orientation (identity first; only the identity without ``flips``).

    The image is decoded once, at the size the most demanding algorithm needs, and every
    orientation is hashed from those pixels (on every core for a large image:
    ``PARALLEL_PIXELS``). Raises ``ImageError`` for an unreadable image.
    """
    chosen = [get_algorithm(name) for name in algorithms]
    min_side = max(a.min_side(a.default_size) for a in chosen)
    gray = all(a.gray for a in chosen) and not signatures
    image = decode_image(source, min_side=min_side, gray=gray).image
    pictures = orientations(image) if flips else [image]
    large = image.width * image.height >= PARALLEL_PIXELS
    requests = [(a, a.default_size) for a in chosen]
    # The plans cut each orientation's views (its margins found): shared out too with flips.
    plans = _run([partial(hash_plan, p, requests) for p in pictures], parallel=large and flips)
    jobs = [job for plan in plans for job in plan.jobs]
    if signatures:
        jobs += [partial(signature, p) for p in pictures]
    done = _run(jobs, parallel=large)
    starts = list(itertools.accumulate((len(plan.jobs) for plan in plans), initial=0))
    signed = done[starts[-1] :]  # the signatures, after every orientation's hashes
    return [
        QueryPicture(
            plan.hashes(done[start : start + len(plan.jobs)]),
            signed[k] if signatures else None,
            pictures[k] if signatures else None,
        )
        for k, (plan, start) in enumerate(zip(plans, starts[:-1], strict=True))
    ]


PARALLEL_PIXELS = 1 << 16
"""Decoded pixels from which a query's hashes and signature are computed on every core: each
is a resize of the whole decoded picture, and Pillow releases the GIL while it resizes. The
three dHash views and the signature of a 1024 × 427 JPEG take about 8 ms on one core and 6.5 ms
on two; below this size handing jobs to another thread costs more than it saves."""


def _run(jobs: list[Callable[[], object]], *, parallel: bool) -> list:
    """Each job's result, in order: when ``parallel``, the calling thread runs every
    ``worker_count()``-th job and the helper threads (``_helpers``) the others, those a helper
    has not started by the time the calling thread is done included."""
    helpers = _helpers() if parallel else None
    if helpers is None:
        return [job() for job in jobs]
    share = worker_count()
    handed = [helpers.submit(_each, jobs[k::share]) for k in range(1, share)]
    done: list = [None] * len(jobs)
    done[::share] = _each(jobs[::share])
    for k, future in enumerate(handed, start=1):
        # A helper still busy with another query's jobs has not started these: run them here
        # rather than queue behind it (under load, every query would wait for one thread).
        done[k::share] = _each(jobs[k::share]) if future.cancel() else future.result()
    return done


def _each(jobs: list[Callable[[], object]]) -> list:
    """Each job's result, in order, on the thread that calls it."""
    return [job() for job in jobs]


_HELPERS: dict[int, ThreadPoolExecutor] = {}
_HELPERS_LOCK = threading.Lock()


def _helpers() -> ThreadPoolExecutor | None:
    """The threads that help hash a large query (one less than the cores; None on one core),
    started on first use and kept: starting threads for each query cost what they saved. Kept
    per process, since a forked child has none of its parent's threads."""
    if worker_count() < 2:
        return None
    with _HELPERS_LOCK:
        pool = _HELPERS.get(os.getpid())
        if pool is None:
            pool = ThreadPoolExecutor(worker_count() - 1, thread_name_prefix="pixdex-query")
            _HELPERS.clear()
            _HELPERS[os.getpid()] = pool
        return pool
