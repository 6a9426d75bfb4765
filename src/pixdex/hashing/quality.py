"""How much structure a hash's thumbnail holds, on PDQ's 0-100 quality scale."""

from __future__ import annotations

import numpy as np

FULL_STRUCTURE = 1.0
"""Placeholder until calibrated."""


def gradient_quality(gray: np.ndarray) -> int:
    """0-100 score of a small grayscale array: placeholder."""
    array = gray.astype(np.float32)
    steps = np.abs(np.diff(array, axis=0)).mean() + np.abs(np.diff(array, axis=1)).mean()
    return int(min(100.0, 100.0 * steps / 2 / FULL_STRUCTURE))


def mean_step(gray: np.ndarray) -> float:
    array = gray.astype(np.float32)
    return float((np.abs(np.diff(array, axis=0)).mean() + np.abs(np.diff(array, axis=1)).mean()) / 2)
