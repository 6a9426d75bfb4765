"""Test collections on disk: a folder holding copies of real photographs."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path


def photo_folder(folder: Path, photos: Iterable[Path]) -> Path:
    """``folder``, created, holding a copy of each of ``photos`` under its own name: the small
    collection most tests index."""
    folder.mkdir(parents=True, exist_ok=True)
    for photo in photos:
        shutil.copy(photo, folder / photo.name)
    return folder
