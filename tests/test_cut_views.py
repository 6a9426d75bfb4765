"""A query's views at the verification's cuts, made from its pixels (``matching.cut_views``)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchmarks.hard_corpus import font_files, render_glyph
from pixdex.catalog import Catalog
from pixdex.decode import decode_image
from pixdex.evaluation.edits import apply_edit
from pixdex.evaluation.rule_pairs import tried_with_views
from pixdex.matching import cut_views, verification
from pixdex.signature import LUMA_END, PLANES_START, signature

LETTERS = "LEFTPb"


def test_the_cuts_are_the_verifications() -> None:
    assert cut_views.CUT_SHARES == verification.CROP_FRACTIONS
    assert len(verification.CROP_FRACTIONS) * 2 == cut_views.VIEWS


@pytest.fixture
def glyphs(tmp_path: Path) -> Path:
    """Letters of one face, each alone on a white square, as the hard corpus draws them."""
    folder = tmp_path / "glyphs"
    folder.mkdir()
    face = next(iter(font_files().values()))
    for letter in LETTERS:
        render_glyph(folder / f"{letter}.png", letter, face)
    return folder


def luma(picture: Image.Image) -> np.ndarray:
    """The 32 × 32 luma plane of ``picture``'s signature."""
    return np.frombuffer(signature(picture), np.uint8)[PLANES_START:LUMA_END].astype(float)


def test_a_bordered_copys_window_is_its_original(glyphs: Path) -> None:
    # Cut from the copy's pixels, the window of a copy with a border is the original's frame,
    # line for line; the original shrunk into the copy's frame from its signature spreads each
    # stroke over a cell more, far beyond JPEG noise.
    original = decode_image(glyphs / "F.png", min_side=288).image
    bordered = apply_edit("border", original, seed=0)
    views = cut_views.cut_view_signatures(bordered)
    own = np.frombuffer(views[0], np.uint8)[PLANES_START:LUMA_END].astype(float)
    assert np.abs(own - luma(original)).mean() < 1.5
    first, weights, _ = verification._LUMA_TABLES
    plane = luma(original).reshape(32, 32).astype(np.float32)
    shrunk = verification._shrink(plane, 1, first, weights)
    inside = verification._FINE_MASKS[1].reshape(32, 32)
    bordered_luma = luma(bordered).reshape(32, 32)
    assert np.abs(shrunk - bordered_luma)[inside].max() > 40


def test_a_picture_without_a_background_gets_no_framed_views() -> None:
    rng = np.random.default_rng(3)
    noise = Image.fromarray(rng.integers(0, 256, size=(120, 160, 3), dtype=np.uint8))
    views = cut_views.cut_view_signatures(noise)
    assert all(view is not None for view in views[: len(cut_views.CUT_SHARES)])
    assert all(view is None for view in views[len(cut_views.CUT_SHARES) :])
    assert cut_views.background_colour(noise) is None
    white = Image.new("RGB", (90, 60), "white")
    assert cut_views.background_colour(white) == (255, 255, 255)


@pytest.mark.parametrize("edit", ["border", "crop-10"])
def test_a_glyph_with_a_border_or_cropped_is_found_and_no_other_letter(
    tmp_path: Path, glyphs: Path, edit: str
) -> None:
    # Shrunk from its signature into the copy's frame, a letter's strokes came out a cell
    # wider than the copy shows them, and every stroke differed thinly: the search missed
    # its letter. Its views cut from the query's pixels line up with the original exactly.
    query = tmp_path / f"{edit}.png"
    apply_edit(edit, Image.open(glyphs / "L.png"), seed=0).save(query)
    with Catalog(str(tmp_path / "catalog.db")) as catalog:
        catalog.index([glyphs], workers=1)
        found = {Path(m.path).name for m in catalog.search(query).matches}
    assert found == {"L.png"}


def test_a_query_matched_at_its_nearest_candidate_makes_no_views(
    tmp_path: Path, glyphs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The views are tried on the candidates nearer than every match the signature found: the
    # letter itself, matched at distance 0, makes none; its bordered copy makes them once.
    made = []

    def counted(image: Image.Image) -> tuple:
        made.append(image.size)
        return views(image)

    views = cut_views.cut_view_signatures
    monkeypatch.setattr(cut_views, "cut_view_signatures", counted)
    bordered = tmp_path / "border.png"
    apply_edit("border", Image.open(glyphs / "L.png"), seed=0).save(bordered)
    with Catalog(str(tmp_path / "catalog.db")) as catalog:
        catalog.index([glyphs], workers=1)
        assert {Path(m.path).name for m in catalog.search(glyphs / "L.png").matches} == {"L.png"}
        assert made == []
        assert {Path(m.path).name for m in catalog.search(bordered).matches} == {"L.png"}
        assert len(made) == 1


def test_views_are_tried_on_the_nearest_rejected_candidates_nearer_than_every_match() -> None:
    # Rows (query, orientation, file, distance). Of the rows the signature rejected, those whose
    # file is nearer (over the orientations) than every file it accepted for the query; per
    # query orientation, the NEAREST nearest of them (by distance, then file).
    rng = np.random.default_rng(5)
    count = 4000
    pairs = np.stack(
        [
            rng.integers(0, 8, count),
            rng.integers(0, 2, count),
            rng.integers(0, 1500, count),
            rng.integers(0, 17, count),
        ],
        1,
    )
    pairs = pairs[np.unique(pairs[:, :3], axis=0, return_index=True)[1]]
    accepted = (rng.random(len(pairs)) < 0.01) & (pairs[:, 0] < 4)
    tried = tried_with_views(pairs, accepted)
    distance = {}
    for query, _, file, bits in pairs.tolist():
        distance[query, file] = min(bits, distance.get((query, file), bits))
    for query, turn in itertools.product(range(8), range(2)):
        match = min(
            (distance[q, f] for q, _, f, _ in pairs[accepted].tolist() if q == query), default=99
        )
        rows = [
            row
            for row in np.flatnonzero((pairs[:, 0] == query) & (pairs[:, 1] == turn)).tolist()
            if not accepted[row] and distance[query, pairs[row, 2]] < match
        ]
        nearest = sorted(rows, key=lambda row: (distance[query, pairs[row, 2]], pairs[row, 2]))
        mine = (pairs[:, 0] == query) & (pairs[:, 1] == turn)
        assert set(np.flatnonzero(tried & mine).tolist()) == set(nearest[: cut_views.NEAREST])
    assert tried[pairs[:, 0] >= 4].sum() == 4 * 2 * cut_views.NEAREST  # nothing matched there
    assert not tried_with_views(pairs[:0], accepted[:0]).any()
