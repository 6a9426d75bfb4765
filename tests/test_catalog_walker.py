"""Finding image files: by name and by content, recursively, through symlinks without looping."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from PIL import Image

from pixdex.catalog.walker import has_image_signature, walk_images


def found_paths(*roots: Path) -> list[str]:
    return [f.path for f in walk_images([str(r) for r in roots])]


def test_images_are_recognised_by_content_as_well_as_by_extension(
    tmp_path: Path, photo_paths: list[Path]
) -> None:
    png, jpg = photo_paths[0], next(p for p in photo_paths if p.suffix == ".jpg")
    shutil.copy(png, tmp_path / "a.png")
    shutil.copy(jpg, tmp_path / "b-no-extension")
    shutil.copy(png, tmp_path / "c.dat")
    Image.open(png).convert("RGB").save(tmp_path / "d.webp")
    Image.open(png).convert("RGB").save(tmp_path / "e.tif")
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "fake.jpg").write_text("a text file named like a JPEG")
    (tmp_path / "empty").write_bytes(b"")

    names = [os.path.basename(p) for p in found_paths(tmp_path)]
    # fake.jpg is kept: its name says image, so indexing reports it as a failure with a reason.
    assert names == ["a.png", "b-no-extension", "c.dat", "d.webp", "e.tif", "fake.jpg"]
    assert not has_image_signature(str(tmp_path / "fake.jpg"))
    assert has_image_signature(str(tmp_path / "d.webp"))


def test_walk_is_recursive_in_name_order_and_skips_hidden_entries(
    tmp_path: Path, photo_paths: list[Path]
) -> None:
    for relative in ["b/z.png", "b/a/y.png", "a.png", ".hidden/x.png", "c/.x.png"]:
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(photo_paths[0], target)
    assert found_paths(tmp_path) == [
        str(tmp_path / "a.png"),
        str(tmp_path / "b/z.png"),
        str(tmp_path / "b/a/y.png"),
    ]
    # A hidden folder given as a root is walked: the user named it.
    assert found_paths(tmp_path / ".hidden") == [str(tmp_path / ".hidden/x.png")]


def test_symlink_loops_end_and_each_folder_is_walked_once(
    tmp_path: Path, photo_paths: list[Path]
) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    shutil.copy(photo_paths[0], tree / "sub" / "p.png")
    os.symlink(tree, tree / "sub" / "loop")  # a link back up the tree
    os.symlink(tree / "sub", tree / "again")  # a second way into the same folder
    os.symlink(tmp_path / "missing", tree / "dangling")

    paths = found_paths(tree)
    assert len(paths) == 1 and os.path.basename(paths[0]) == "p.png"


def test_file_roots_are_yielded_as_given_and_missing_roots_reported(
    tmp_path: Path, photo_paths: list[Path]
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("text")
    errors: list[tuple[str, str]] = []
    found = list(
        walk_images([str(notes), str(tmp_path / "gone")], lambda p, r: errors.append((p, r)))
    )
    assert [(f.path, f.size) for f in found] == [(str(notes), 4)]
    assert found[0].mtime_ns == notes.stat().st_mtime_ns
    assert errors == [(str(tmp_path / "gone"), "No such file or directory")]
