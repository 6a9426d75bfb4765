"""The matching rule on look-alike families: edited copies found, siblings of a family not."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from drawings import on_canvas, star, tricolour

from pixdex.catalog import Catalog
from pixdex.decode import decode_image
from pixdex.evaluation.edits import apply_edit, load_rgb
from pixdex.matching import Verifier, verify
from pixdex.signature import SIGNATURE_BYTES, signature


@pytest.fixture
def library(tmp_path: Path, photo_paths: list[Path]) -> Path:
    folder = tmp_path / "library"
    folder.mkdir()
    pictures = {
        "flag-fr.png": tricolour(("#0055a4", "#ffffff", "#ef4135")),
        "flag-it.png": tricolour(("#009246", "#ffffff", "#ce2b37")),
        "flag-ie.png": tricolour(("#169b62", "#ffffff", "#ff883e")),
        **{f"star-{n}.png": star(n) for n in (5, 6, 7, 8)},
        "canvas-star.png": on_canvas(star(5), (100, 100)),
        "canvas-star-elsewhere.png": on_canvas(star(5), (900, 600)),
        "canvas-flag.png": on_canvas(tricolour(("#000", "#ff0", "#f00")), (100, 100)),
    }
    for name, picture in pictures.items():
        picture.save(folder / name)
    for photo in photo_paths[:6]:
        shutil.copy(photo, folder / photo.name)
    return folder


@pytest.fixture
def catalog(tmp_path: Path, library: Path):
    with Catalog(tmp_path / "pixdex.db") as opened:
        opened.index([library], workers=1)
        yield opened


SOURCES = ["flag-fr.png", "flag-it.png", "star-6.png", "star-7.png", "canvas-star.png"]
EDITS = ["jpeg-30", "resize-50", "red-square", "grayscale", "blur"]
SPARSE_STICKER = pytest.mark.xfail(
    strict=True,
    reason="known limit (BENCHMARKS.md): a sticker as large as a sparse drawing's own content "
    "fails the share of content that must agree",
)


@pytest.mark.parametrize(
    ("source", "edit"),
    [
        pytest.param(
            source,
            edit,
            marks=[SPARSE_STICKER] if (source, edit) == ("canvas-star.png", "red-square") else [],
        )
        for source in SOURCES
        for edit in EDITS
    ],
)
def test_an_edited_family_member_finds_itself_and_no_sibling(
    catalog: Catalog, library: Path, tmp_path: Path, source: str, edit: str
) -> None:
    query = tmp_path / f"{edit}-{source}"
    apply_edit(edit, load_rgb(library / source), seed=3).save(query)
    found = [Path(m.path).name for m in catalog.search(query).matches]
    if edit == "grayscale" and source.startswith("flag"):
        # Colour is all that tells these flags apart: a grayscale copy cannot choose among them.
        assert source in found
    else:
        assert found == [source]


def test_an_edited_photo_finds_its_source_and_every_genuine_copy(
    catalog: Catalog, library: Path, tmp_path: Path, photo_paths: list[Path]
) -> None:
    source = library / photo_paths[0].name
    second = library / "second-copy.jpg"
    load_rgb(source).save(second, quality=85)
    catalog.index([library], workers=1)
    query = tmp_path / "query.png"
    apply_edit("red-square", load_rgb(source), seed=1).save(query)
    found = {Path(m.path).name for m in catalog.search(query).matches}
    assert found == {source.name, second.name}


def test_the_same_drawing_elsewhere_on_a_canvas_is_another_picture(
    catalog: Catalog, library: Path
) -> None:
    found = [Path(m.path).name for m in catalog.search(library / "canvas-star.png").matches]
    assert found == ["canvas-star.png"]


def test_the_plain_hash_search_confuses_the_family_the_rule_does_not(
    catalog: Catalog, library: Path
) -> None:
    # The three tricolours have one dHash (only their colours differ): what the issue is about.
    query = library / "flag-fr.png"
    plain = {Path(m.path).name for m in catalog.search(query, rule=None).matches}
    assert plain == {"flag-fr.png", "flag-it.png", "flag-ie.png"}
    ruled = {Path(m.path).name for m in catalog.search(query).matches}
    assert ruled == {"flag-fr.png"}


def test_a_missing_signature_is_never_verified(photo_paths: list[Path]) -> None:
    own = np.frombuffer(signature(decode_image(photo_paths[0], min_side=288).image), np.uint8)
    candidates = np.stack([own, np.zeros(SIGNATURE_BYTES, np.uint8)])
    assert verify(own, candidates, Verifier()).tolist() == [True, False]


COLOUR_VARIANTS = {
    "star-black.png": star(6, "#000000"),
    "star-red.png": star(6, "#e02020"),
    "star-blue.png": star(6, "#2040e0"),
    "outline-red.png": star(6, "#e02020", outline=True),
    "outline-blue.png": star(6, "#2040e0", outline=True),
    "outline-green.png": star(6, "#20a040", outline=True),
}
"""One drawing in several colours: a black star and a red one differ in tone as well as colour,
and outlines differ only in the few cells their lines cross."""


@pytest.fixture
def colour_library(tmp_path: Path) -> tuple[Catalog, Path]:
    folder = tmp_path / "variants"
    folder.mkdir()
    for name, picture in COLOUR_VARIANTS.items():
        picture.save(folder / name)
    with Catalog(tmp_path / "variants.db") as opened:
        opened.index([folder], workers=1)
        yield opened, folder


def test_a_drawing_in_another_colour_is_another_picture(
    colour_library: tuple[Catalog, Path],
) -> None:
    catalog, folder = colour_library
    for name in COLOUR_VARIANTS:
        assert [Path(m.path).name for m in catalog.search(folder / name).matches] == [name]
    assert catalog.duplicates() == []


def test_a_grayscale_copy_still_finds_its_colour_original(
    colour_library: tuple[Catalog, Path], tmp_path: Path
) -> None:
    catalog, _ = colour_library
    for name in ("star-red.png", "outline-blue.png"):
        query = tmp_path / f"gray-{name}"
        COLOUR_VARIANTS[name].convert("L").save(query)
        found = {Path(m.path).name for m in catalog.search(query).matches}
        assert name in found, found
        if name.startswith("star"):
            # A gray star may also be the black one made lighter: only colour could tell. (A gray
            # outline's thin lines barely move the 16 x 16 luma: it may find its siblings too.)
            assert found <= {name, "star-black.png"}, found
