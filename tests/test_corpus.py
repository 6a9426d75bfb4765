"""The benchmark corpus builder's pieces, on the real files they work with."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchmarks.corpus import (
    ICON_ROOT,
    crop_boxes,
    file_kind,
    icon_group,
    icon_paths,
    photo_variant,
    render_figure,
    wallpaper_group,
)


@pytest.mark.parametrize(
    ("path", "group"),
    [
        ("/x/usr/share/wallpapers/Flow/contents/images_dark/720x1440.jpg", "wall:Flow"),
        ("/x/usr/share/wallpapers/Flow/contents/screenshot.png", "wall:Flow"),
        ("/x/usr/share/backgrounds/gnome/wood-d.webp", "wall:wood"),
        ("/x/usr/share/backgrounds/gnome/wood-l.webp", "wall:wood"),
        (
            "/x/usr/share/backgrounds/sway/Sway_Wallpaper_Blue_768x1024_Portrait.png",
            "wall:Sway_Wallpaper_Blue",
        ),
        ("/x/usr/share/backgrounds/mate/nature/Aqua.jpg", "wall:Aqua"),
    ],
)
def test_wallpaper_variants_share_a_group(path: str, group: str) -> None:
    assert wallpaper_group(Path(path)) == group


def test_crop_boxes_tile_the_picture() -> None:
    boxes = dict(crop_boxes(300, 200))
    assert boxes["full"] == (0, 0, 300, 200)
    quadrant_area = sum(
        (x1 - x0) * (y1 - y0) for k, (x0, y0, x1, y1) in boxes.items() if k[0] == "q"
    )
    ninth_area = sum((x1 - x0) * (y1 - y0) for k, (x0, y0, x1, y1) in boxes.items() if k[0] == "n")
    assert quadrant_area == ninth_area == 300 * 200


def test_photo_variant_is_a_4_megapixel_jpeg(photo_paths: list[Path], tmp_path: Path) -> None:
    with Image.open(photo_paths[0]) as opened:
        picture = opened.convert("RGB")
    out = tmp_path / "crop.jpg"
    photo_variant(picture, (0, 0, 256, 256), out, quality=60)
    with Image.open(out) as saved:
        assert saved.format == "JPEG"
        assert abs(saved.width * saved.height - 4_000_000) < 10_000


def test_figures_are_mostly_white_and_reproducible(tmp_path: Path) -> None:
    for seed in range(3):
        render_figure(seed, tmp_path / "a.png")
        render_figure(seed, tmp_path / "b.png")
        a = np.asarray(Image.open(tmp_path / "a.png"))
        np.testing.assert_array_equal(a, np.asarray(Image.open(tmp_path / "b.png")))
        white = (a == 255).all(axis=-1).mean()
        assert 0.5 < white < 0.995


@pytest.mark.skipif(not ICON_ROOT.exists(), reason="no icon themes on this machine")
def test_icons_are_grouped_by_theme_and_name() -> None:
    icons = icon_paths()
    assert len(icons) > 100
    groups = {icon_group(p) for p in icons}
    assert len(groups) < len(icons)  # the same drawing comes in several sizes
    kinds = {file_kind(p) for p in icons[:200]}
    assert "png-transparent" in kinds
