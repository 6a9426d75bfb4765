"""Variations on a hashing scheme, to measure before building them into the product.

A plain 64-bit dHash cannot meet the quality bar by threshold alone: an added border or a 10 %
crop moves the picture inside the frame, and mostly-white clip-art collides with itself. Each
variation here wraps a scheme (or combines two) so the evaluation can measure what it buys:

- ``trimmed``: cut uniform margins (a frame, a letterbox, an icon's empty canvas) before hashing;
- ``with_centre``: also hash the central part of the picture, so a cropped copy meets the
  original's centre;
- ``confirmed``: a fast hash proposes candidates at a generous distance, a finer hash confirms
  them (the fine hash only runs on the few candidates, so it costs little at search time).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from pixdex.evaluation.protocol import Scheme
from pixdex.framing import centre, trim_margins


def trimmed(scheme: Scheme) -> Scheme:
    """``scheme`` applied after trimming uniform margins."""
    return Scheme(
        f"{scheme.name}+trim", scheme.bits, lambda image: scheme.codes(trim_margins(image))
    )


def with_centre(scheme: Scheme, fraction: float = 0.1) -> Scheme:
    """``scheme``'s codes of the whole picture and of its centre (``fraction`` cut per side).

    Two pictures then match when any of their codes are close: a copy cropped by ``fraction``
    per side hashes like the original's centre.
    """

    def codes(image: Image.Image) -> np.ndarray | None:
        whole = scheme.codes(image)
        inner = scheme.codes(centre(image, fraction))
        if whole is None or inner is None:
            return None
        return np.concatenate([whole, inner])

    return Scheme(f"{scheme.name}+centre{round(fraction * 100)}", scheme.bits, codes)


def confirmed(
    candidates: np.ndarray, fine: np.ndarray, fine_distance: int, never: int
) -> np.ndarray:
    """Distances of a candidate hash where a finer hash confirms the pair, ``never`` elsewhere.

    ``candidates`` and ``fine`` are the same pairs' distances under the two hashes; a pair then
    matches at ``d`` when its candidate distance is ≤ ``d`` and its fine distance ≤
    ``fine_distance``.
    """
    return np.where(np.asarray(fine) <= fine_distance, candidates, never)
