"""Shared fixtures: real photographs from scikit-image's bundled sample data."""

from pathlib import Path

import edge_cases
import pytest
import skimage
from PIL import Image

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


@pytest.fixture(scope="session")
def edge_files(tmp_path_factory) -> dict[str, Path]:
    """Edge-case files (see tests/edge_cases.py) made from real photographs: name → path."""
    photo = Image.open(SKIMAGE_DATA / "chelsea.png")
    other = Image.open(SKIMAGE_DATA / "coffee.png")
    drawing = Image.open(SKIMAGE_DATA / "logo.png")
    return edge_cases.make_all(photo, other, drawing, tmp_path_factory.mktemp("edge"))
