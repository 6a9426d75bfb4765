"""The edited copies: each edit changes the pixels it claims to and keeps the picture."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from pixdex.evaluation.edits import EDITS, apply_edit, load_rgb, write_edited_copies
from pixdex.hashing import ALGORITHMS

DHASH = ALGORITHMS["dhash"]


@pytest.fixture(scope="module")
def photos(photo_paths: list[Path]) -> list[Image.Image]:
    return [load_rgb(p) for p in photo_paths[:6]]


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


@pytest.mark.parametrize("name", [n for n in EDITS if n != "identity"])
def test_every_edit_changes_pixels(photos: list[Image.Image], name: str) -> None:
    for photo in photos:
        edited = apply_edit(name, photo, seed=3)
        assert edited.mode == "RGB"
        if edited.size == photo.size:
            assert np.abs(pixels(edited) - pixels(photo)).max() > 0, name


@pytest.mark.parametrize("name", list(EDITS))
def test_edits_are_deterministic_for_a_seed(photos: list[Image.Image], name: str) -> None:
    first = pixels(apply_edit(name, photos[0], seed=11))
    again = pixels(apply_edit(name, photos[0], seed=11))
    np.testing.assert_array_equal(first, again)


def test_seed_moves_the_random_edits(photos: list[Image.Image]) -> None:
    photo = photos[0]
    layouts = {pixels(apply_edit("shapes-text", photo, seed=s)).tobytes() for s in range(4)}
    assert len(layouts) == 4


def test_identity_is_the_same_picture(photos: list[Image.Image]) -> None:
    for photo in photos:
        np.testing.assert_array_equal(pixels(apply_edit("identity", photo)), pixels(photo))


def test_red_square_changes_one_small_corner_to_red(photos: list[Image.Image]) -> None:
    for seed, photo in enumerate(photos):
        before, after = pixels(photo), pixels(apply_edit("red-square", photo, seed=seed))
        changed = np.argwhere(np.any(before != after, axis=-1))
        height, width = before.shape[:2]
        # Under 2 % of the picture changes, all of it within one corner quadrant...
        assert len(changed) < 0.02 * height * width
        rows, cols = changed[:, 0], changed[:, 1]
        assert (rows.max() < height / 4) or (rows.min() > 3 * height / 4)
        assert (cols.max() < width / 4) or (cols.min() > 3 * width / 4)
        # ...and what changed is now red.
        red = after[rows, cols]
        assert (red[:, 0] > 200).all() and (red[:, 1:] < 50).all()


def test_shapes_and_text_cover_a_large_but_minor_part(photos: list[Image.Image]) -> None:
    for seed, photo in enumerate(photos):
        before, after = pixels(photo), pixels(apply_edit("shapes-text", photo, seed=seed))
        changed = np.any(before != after, axis=-1).mean()
        assert 0.05 < changed < 0.35
        # Some of the text is red.
        redness = (after[..., 0] > 200) & (after[..., 1] < 50) & (after[..., 2] < 60)
        assert redness.sum() > redness.size * 0.001


@pytest.mark.parametrize(
    ("name", "scale"),
    [
        ("resize-50", (0.5, 0.5)),
        ("crop-5", (0.9, 0.9)),
        ("crop-10", (0.8, 0.8)),
        ("squash", (0.75, 1)),
    ],
)
def test_geometric_edits_have_the_stated_size(
    photos: list[Image.Image], name: str, scale: tuple[float, float]
) -> None:
    for photo in photos:
        width, height = apply_edit(name, photo).size
        assert abs(width - photo.width * scale[0]) <= 1
        assert abs(height - photo.height * scale[1]) <= 1


def test_border_surrounds_the_unchanged_picture(photos: list[Image.Image]) -> None:
    photo = photos[1]
    framed = pixels(apply_edit("border", photo))
    pad = (framed.shape[0] - photo.height) // 2
    assert pad > 0
    np.testing.assert_array_equal(framed[pad:-pad, pad:-pad], pixels(photo))
    assert (framed[:pad] == 255).all() and (framed[:, :pad] == 255).all()


def test_grayscale_has_equal_channels(photos: list[Image.Image]) -> None:
    gray = pixels(apply_edit("grayscale", photos[0]))
    assert (gray[..., 0] == gray[..., 1]).all() and (gray[..., 1] == gray[..., 2]).all()


def test_mirror_and_rotation_are_exact_permutations(photos: list[Image.Image]) -> None:
    photo = pixels(photos[0])
    np.testing.assert_array_equal(pixels(apply_edit("mirror", photos[0])), photo[:, ::-1])
    np.testing.assert_array_equal(pixels(apply_edit("rotate-90", photos[0])), np.rot90(photo))


@pytest.mark.parametrize(
    "name",
    ["red-square", "resize-50", "jpeg-30", "brightness", "contrast", "blur", "grayscale", "squash"],
)
def test_mild_edits_keep_the_picture_recognisable(photos: list[Image.Image], name: str) -> None:
    # Recognisable: the copy's dHash stays far closer to its own original than to other photos.
    originals = [DHASH.compute(p, 8) for p in photos]
    for seed, photo in enumerate(photos):
        copy = DHASH.compute(apply_edit(name, photo, seed=seed), 8)
        own = copy - originals[seed]
        others = min(copy - h for i, h in enumerate(originals) if i != seed)
        assert own <= 10 < others


@settings(max_examples=25, deadline=None)
@given(
    width=st.integers(3, 120),
    height=st.integers(3, 120),
    seed=st.integers(0, 2**32 - 1),
    name=st.sampled_from(sorted(EDITS)),
)
def test_edits_work_on_any_small_size(width: int, height: int, seed: int, name: str) -> None:
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    edited = apply_edit(name, image, seed=seed)
    assert edited.mode == "RGB" and min(edited.size) >= 1


def test_unknown_edit_names_the_choices(photos: list[Image.Image]) -> None:
    with pytest.raises(ValueError, match="red-square"):
        apply_edit("sepia", photos[0])


def test_load_rgb_composites_transparency_on_white(tmp_path: Path) -> None:
    icon = Image.new("RGBA", (40, 30), (0, 0, 0, 0))
    icon.paste((10, 20, 200, 255), (10, 10, 20, 20))
    icon.save(tmp_path / "icon.png")
    loaded = pixels(load_rgb(tmp_path / "icon.png"))
    assert (loaded[0, 0] == 255).all()
    assert tuple(loaded[15, 15]) == (10, 20, 200)


def test_write_edited_copies_round_trips(photo_paths: list[Path], tmp_path: Path) -> None:
    written = write_edited_copies(photo_paths[0], tmp_path, ["red-square", "jpeg-30"], seed=5)
    assert sorted(written) == ["jpeg-30", "red-square"]
    original = load_rgb(photo_paths[0])
    for name, path in written.items():
        assert path.parent == tmp_path and path.name.startswith(photo_paths[0].stem)
        np.testing.assert_array_equal(
            pixels(Image.open(path)), pixels(apply_edit(name, original, seed=5))
        )
