"""Framed views on real photographs: trimming margins, the centre view, and ``ALG:framed`` search
in the catalog, the command line and the HTTP API."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import SKIMAGE_DATA
from fastapi.testclient import TestClient
from folders import photo_folder
from PIL import Image, ImageOps

from pixdex import hash_image
from pixdex.catalog import Catalog, CatalogError
from pixdex.evaluation.edits import load_rgb, write_edited_copies
from pixdex.framing import TRIM_MIN_KEPT, TRIM_TOLERANCE, centre, margin_box, trim_margins
from pixdex.hashing import get_algorithm
from pixdex.hashing.views import compute_hashes, hash_plan
from pixdex.server import create_app

PHOTOS = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png"]


def test_trimming_a_bordered_photo_gives_back_the_photo(photo_paths):
    photo = load_rgb(photo_paths[0])  # astronaut: no uniform margins of its own
    assert margin_box(photo) == (0, 0, *photo.size)
    framed = ImageOps.expand(photo, border=60, fill=(255, 255, 255))
    left, top, right, bottom = margin_box(framed)
    assert abs(left - 60) <= 2 and abs(top - 60) <= 2
    assert abs(right - 60 - photo.width) <= 2 and abs(bottom - 60 - photo.height) <= 2
    assert hash_image(trim_margins(framed), "pdq") - hash_image(photo, "pdq") <= 16


def reference_margin_box(image: Image.Image) -> tuple[int, int, int, int]:
    """``margin_box`` as its docstring says, with numpy: the majority corner colour of the
    reduced copy, content where a channel differs from it by more than the tolerance."""
    factor = max(1, max(image.size) // 256)
    small = image.convert("RGB").reduce(factor) if factor > 1 else image.convert("RGB")
    rgb = np.asarray(small, dtype=np.int16)
    height, width = rgb.shape[:2]
    full = (0, 0, *image.size)
    corners = [tuple(int(v) for v in rgb[y, x]) for y in (0, height - 1) for x in (0, width - 1)]
    background = max(set(corners), key=corners.count)
    near = [np.abs(np.subtract(c, background)).max() <= TRIM_TOLERANCE for c in corners]
    if sum(near) < 3:
        return full
    content = np.abs(rgb - np.array(background, np.int16)).max(axis=-1) > TRIM_TOLERANCE
    rows, cols = np.flatnonzero(content.any(axis=1)), np.flatnonzero(content.any(axis=0))
    if rows.size == 0:
        return full
    left, top, right, bottom = int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1
    if right - left < TRIM_MIN_KEPT * width or bottom - top < TRIM_MIN_KEPT * height:
        return full
    box = (left * factor, top * factor, right * factor, bottom * factor)
    return box[0], box[1], min(image.width, box[2]), min(image.height, box[3])


def test_the_margin_box_is_the_content_of_every_framed_photo_and_drawing(photo_paths, tmp_path):
    """Photos and a drawing, framed in several colours and widths, saved as JPEG (noisy
    margins) and as PNG, whole and cut to their centre: the box Pillow's operations find is
    the one the definition gives, pixel for pixel."""
    pictures = [load_rgb(path) for path in photo_paths] + [load_rgb(SKIMAGE_DATA / "logo.png")]
    boxes = set()
    for number, picture in enumerate(pictures):
        for fill, border in [((255, 255, 255), 40), ((0, 0, 0), 7), ((30, 120, 200), 90)]:
            framed = ImageOps.expand(picture, border=border, fill=fill)
            saved = tmp_path / f"{number}-{border}.jpg"
            framed.save(saved, quality=60)
            for image in (framed, Image.open(saved), centre(framed, 0.1), framed.convert("L")):
                box = margin_box(image)
                assert box == reference_margin_box(image)
                boxes.add(box == (0, 0, *image.size))
    assert boxes == {True, False}  # some pictures are trimmed, some are kept whole


def test_a_blank_page_is_not_trimmed_to_nothing():
    page = Image.new("RGB", (300, 200), "white")
    assert trim_margins(page).size == (300, 200)


def test_centre_cuts_the_fraction_from_each_side(photo_paths):
    photo = load_rgb(photo_paths[0])
    assert centre(photo, 0.1).size == (round(photo.width * 0.8), round(photo.height * 0.8))


def test_views_are_algorithms_named_after_their_base(photo_paths):
    value = hash_image(photo_paths[1], "pdq:centre")
    assert value.algorithm == "pdq:centre" and len(value) == 256
    assert get_algorithm("dhash:trim").min_side(8) == get_algorithm("dhash").min_side(8)
    with pytest.raises(ValueError, match="unknown algorithm"):
        get_algorithm("pdq:sideways")


@pytest.fixture(scope="module")
def framed_catalog(tmp_path_factory, photo_paths):
    """Photos indexed with dHash and PDQ framed, and edited copies: (db, photos, copies)."""
    root = tmp_path_factory.mktemp("framed")
    folder = root / "photos"
    photo_folder(folder, photo_paths)
    db = root / "pixdex.db"
    with Catalog(db) as catalog:
        catalog.index([folder], algorithms=["dhash", "pdq:framed"], workers=1)
        assert set(catalog.algorithms()) == {"dhash", "pdq:trim", "pdq:centre"}
    copies = {}
    for name in PHOTOS:
        copies[name] = write_edited_copies(folder / name, root / "copies", ["border", "crop-10"])
    return db, folder, copies


def test_framed_search_finds_bordered_and_cropped_copies_plain_dhash_misses(framed_catalog):
    db, _, copies = framed_catalog
    plain_found = framed_found = 0
    with Catalog(db, create=False) as catalog:
        for name, edits in copies.items():
            for path in edits.values():
                # Hash distance alone (rule=None): what the framed views add to a hash search.
                found = catalog.search(str(path), rule=None).matches
                plain = [Path(m.path).name for m in found]
                framed = catalog.search(str(path), algorithm="pdq:framed", rule=None)
                names = [Path(m.path).name for m in framed.matches]
                plain_found += name in plain
                framed_found += names[:1] == [name]
                keys = [(m.distance, m.path) for m in framed.matches]
                assert keys == sorted(keys)
                assert framed.hash.algorithm == "pdq:trim"
    total = sum(len(e) for e in copies.values())
    assert framed_found == total
    assert plain_found < total // 2


def test_framed_search_needs_an_image_and_the_framed_hashes(framed_catalog, tmp_path, photo_paths):
    db, folder, _ = framed_catalog
    with Catalog(db, create=False) as catalog:
        stored = catalog.search(str(folder / "coffee.png"), algorithm="pdq:framed").hash
        with pytest.raises(CatalogError, match="need the query image"):
            catalog.search(stored, algorithm="pdq:framed")
        with pytest.raises(CatalogError, match="no dhash:framed hashes"):
            catalog.search(str(folder / "coffee.png"), algorithm="dhash:framed")


def test_framed_search_from_the_command_line_and_the_api(framed_catalog):
    db, _, copies = framed_catalog
    border = copies["chelsea.png"]["border"]
    command = ["search", str(border), "--db", str(db), "-a", "pdq:framed", "--json", "--no-verify"]
    result = subprocess.run(
        [sys.executable, "-m", "pixdex.cli", *command],
        capture_output=True,
        text=True,
        check=True,
    )
    line = json.loads(result.stdout)
    assert line["algorithm"] == "pdq:framed"
    assert Path(line["matches"][0]["path"]).name == "chelsea.png"
    with TestClient(create_app(db)) as client:
        data = border.read_bytes()
        files = {"image": (border.name, data, "image/png")}
        framed = client.post(
            "/api/search", params={"algorithm": "pdq:framed", "verify": False}, files=files
        )
        assert framed.status_code == 200, framed.text
        assert Path(framed.json()["matches"][0]["path"]).name == "chelsea.png"
        files = {"image": (border.name, data, "image/png")}
        plain = client.post("/api/search", params={"verify": False}, files=files)
        plain = plain.json()["matches"]
        assert "chelsea.png" not in [Path(m["path"]).name for m in plain]
        by_hash = client.post("/api/search", json={"hash": "0" * 64, "algorithm": "pdq:framed"})
        assert by_hash.status_code == 400 and "image query" in by_hash.json()["error"]


def test_flips_through_the_api(framed_catalog, tmp_path):
    db, folder, _ = framed_catalog
    mirrored = tmp_path / "mirrored.png"
    ImageOps.mirror(load_rgb(folder / "coffee.png")).save(mirrored)
    with TestClient(create_app(db)) as client:
        files = {"image": (mirrored.name, mirrored.read_bytes(), "image/png")}
        plain = client.post("/api/search", params={"verify": False}, files=files)
        plain = plain.json()["matches"]
        assert "coffee.png" not in [Path(m["path"]).name for m in plain]
        files = {"image": (mirrored.name, mirrored.read_bytes(), "image/png")}
        flipped = client.post("/api/search", params={"flips": "true"}, files=files).json()
        assert Path(flipped["matches"][0]["path"]).name == "coffee.png"
        assert flipped["matches"][0]["distance"] == 0


def test_a_view_showing_the_whole_picture_is_hashed_once(photo_paths):
    """The trimmed view of a photo without margins is the photo: the plan computes its hash
    once, and every hash is the one its algorithm computes alone; a framed photo's trimmed
    view is its own job."""
    requests = [(get_algorithm(name), 8) for name in ("dhash", "dhash:trim", "dhash:centre")]
    photo = load_rgb(photo_paths[0])
    framed = ImageOps.expand(photo, border=60, fill=(255, 255, 255))
    for image, jobs in [(photo, 2), (framed, 3)]:
        plan = hash_plan(image, requests)
        assert len(plan.jobs) == jobs
        hashes = compute_hashes(image, requests)
        assert hashes == {a.name: a.compute(image, size) for a, size in requests}
        assert [h.algorithm for h in hashes.values()] == ["dhash", "dhash:trim", "dhash:centre"]
