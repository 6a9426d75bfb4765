"""Shared fixtures: real photographs from scikit-image's bundled sample data."""

from pathlib import Path

import pytest
import skimage

SKIMAGE_DATA = Path(skimage.__file__).parent / "data"

PHOTOS = [
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "motorcycle_left.png",
    "rocket.jpg",
    "retina.jpg",
    "hubble_deep_field.jpg",
    "camera.png",
    "moon.png",
    "coins.png",
    "page.png",
    "brick.png",
    "grass.png",
    "gravel.png",
]
"""Real, mutually different photographs (colour and grayscale) shipped by scikit-image."""


@pytest.fixture(scope="session")
def photo_paths() -> list[Path]:
    """Paths of real, mutually different photographs."""
    paths = [SKIMAGE_DATA / name for name in PHOTOS]
    missing = [p for p in paths if not p.exists()]
    assert not missing, f"scikit-image sample images missing: {missing}"
    return paths
