"""The hard-case corpus builder, on a tiny build of every family from the real sources."""

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest
from PIL import Image

from benchmarks.hard_corpus import (
    FAMILY_KINDS,
    PLANNERS,
    HardImage,
    SourceUnavailable,
    blank_on_white,
    build_hard_corpus,
    plan_corpus,
    plan_diagrams,
    require_dot,
    split_of,
    wallpaper_picture,
)

SIZE = 60
NUMBERED = {"graphviz-class", "graphviz-call", "graphviz-collab", "pages", "canvas-drawings"}
"""Families whose groups are numbered rather than named after their source."""


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hard")
    build_hard_corpus(SIZE, seed=0, out=folder)
    return folder


@pytest.fixture(scope="module")
def corpus(corpus_dir: Path) -> list[HardImage]:
    return build_hard_corpus(SIZE, seed=0, out=corpus_dir)


@pytest.fixture(scope="module")
def skipped(corpus_dir: Path) -> dict[str, str]:
    return json.loads((corpus_dir / "manifest.json").read_text())["skipped"]


@pytest.mark.parametrize("family", list(FAMILY_KINDS))
def test_every_family_is_built_with_a_second_copy(
    family: str, corpus: list[HardImage], skipped: dict[str, str]
) -> None:
    if family == "flags" and family in skipped:
        pytest.skip(f"{family} not built on this machine: {skipped[family]}")
    files: dict[str, list[Path]] = defaultdict(list)
    for image in corpus:
        if image.family == family:
            assert image.kind == FAMILY_KINDS[family]
            files[image.group].append(image.path)
    assert len(files) >= 2, f"{family}: a family needs look-alikes"
    copied = [paths for paths in files.values() if any(".copy-" in p.name for p in paths)]
    assert copied, f"{family}: no group with a second copy"
    assert all(len(paths) >= 2 for paths in copied)


def test_only_families_without_a_source_are_skipped(skipped: dict[str, str]) -> None:
    # graphviz is installed by `make test` (the Makefile's graphviz target): its families are
    # the hardest look-alikes and are always built; the flags need apt to reach its mirror.
    assert set(skipped) <= {"flags"}


def test_every_file_decodes(corpus: list[HardImage]) -> None:
    assert len(corpus) >= SIZE * 0.9
    for image in corpus:
        with Image.open(image.path) as opened:
            opened.load()
            if image.family == "icons-tiny":
                # The theme's own 16-48 px drawings, and their copies at 70 % size.
                assert 11 <= min(opened.size) <= max(opened.size) <= 48, image.path
            else:
                assert min(opened.size) >= 32, image.path
            if image.kind == "photo":
                assert opened.format == "JPEG"
            elif ".copy-q85" not in image.path.name:
                assert opened.format == "PNG"


def test_splits_are_by_source_picture(corpus: list[HardImage]) -> None:
    split_of_group: dict[str, set[str]] = defaultdict(set)
    for image in corpus:
        split_of_group[image.group].add(image.split)
        assert image.split == split_of(image.group)
    assert all(len(splits) == 1 for splits in split_of_group.values())
    assert {image.split for image in corpus} == {"dev", "test"}
    # Variants of one picture (a wallpaper's dark version and its crops) share its half.
    assert split_of("wall:Kay#dark#q10") == split_of("wall:Kay#dark") == split_of("wall:Kay")


def test_flags_are_upscaled_pngs(corpus: list[HardImage], skipped: dict[str, str]) -> None:
    if "flags" in skipped:
        pytest.skip(f"flags not built on this machine: {skipped['flags']}")
    flags = [im for im in corpus if im.family == "flags" and ".copy-" not in im.path.name]
    assert flags
    for image in flags:
        with Image.open(image.path) as opened:
            assert 320 <= opened.width <= 480


def test_a_rebuild_reuses_the_manifest(corpus_dir: Path, corpus: list[HardImage]) -> None:
    stamp = {im.path: im.path.stat().st_mtime_ns for im in corpus}
    assert build_hard_corpus(SIZE, seed=0, out=corpus_dir) == corpus
    assert {im.path: im.path.stat().st_mtime_ns for im in corpus} == stamp
    for row in json.loads((corpus_dir / "manifest.json").read_text())["images"]:
        assert not Path(row["path"]).is_absolute()


def test_plans_are_deterministic() -> None:
    def plan(seed: int) -> list[tuple[str, str, str]]:
        planned, _ = plan_corpus(SIZE, seed)
        return [(p.name, p.group, repr(p.draw.keywords)) for p in planned]

    assert plan(0) == plan(0)
    assert plan(0) != plan(1)


def test_diagrams_of_one_template_differ_only_in_labels() -> None:
    try:
        require_dot()
    except SourceUnavailable as error:
        pytest.fail(f"{error}: `make test` installs it")
    planned = plan_diagrams("graphviz-class", 8, seed=0)
    layouts = defaultdict(set)
    labels = set()
    for item in planned:
        source = item.draw.keywords["source"]
        layouts[item.name.split("/")[1][:2]].add(re.sub(r'label="[^"]*"', "", source))
        labels.add(tuple(re.findall(r'label="[^"]*"', source)))
    assert len(layouts) == 4
    assert all(len(structures) == 1 for structures in layouts.values())
    assert len(labels) == len(planned)


@pytest.mark.parametrize(
    ("path", "group"),
    [
        ("/x/usr/share/backgrounds/gnome/wood-l.webp", "wall:wood"),
        ("/x/usr/share/backgrounds/gnome/wood-d.webp", "wall:wood#dark"),
        ("/x/usr/share/backgrounds/mate/desktop/MATE-Stripes-Light.png", "wall:MATE-Stripes"),
        ("/x/usr/share/backgrounds/mate/desktop/MATE-Stripes-Dark.png", "wall:MATE-Stripes#dark"),
        ("/x/usr/share/wallpapers/Kay/contents/images/5120x2880.png", "wall:Kay"),
        ("/x/usr/share/wallpapers/Kay/contents/images_dark/5120x2880.png", "wall:Kay#dark"),
        ("/x/usr/share/wallpapers/DarkestHour/contents/images/800x600.jpg", "wall:DarkestHour"),
    ],
)
def test_dark_wallpapers_are_pictures_of_their_own(path: str, group: str) -> None:
    assert wallpaper_picture(Path(path)) == group
    assert split_of(group) == split_of(group.removesuffix("#dark"))


@pytest.mark.parametrize("family", sorted(NUMBERED))
def test_a_numbered_group_is_the_same_picture_at_every_size(family: str) -> None:
    if family.startswith("graphviz"):
        try:
            require_dot()
        except SourceUnavailable as error:
            pytest.fail(f"{error}: `make test` installs it")

    def pictures(count: int) -> dict[str, str]:
        return {p.group: repr(p.draw.keywords) for p in PLANNERS[family](count, 0)}

    small, large = pictures(10), pictures(40)
    assert len(small) == 10
    assert all(large[group] == drawing for group, drawing in small.items())


def test_a_wallpaper_blank_on_white_is_told_from_a_faint_one(tmp_path: Path) -> None:
    # A transparent overlay (white strokes on nothing) flattens to a white page: left out of the
    # photos. A pale wallpaper with a faint stripe is a picture and stays.
    overlay = Image.new("RGBA", (800, 500), (255, 255, 255, 0))
    overlay.paste((255, 255, 255, 200), (100, 100, 700, 140))
    overlay.save(tmp_path / "overlay.png")
    faint = Image.new("RGB", (800, 500), (250, 250, 250))
    faint.paste((232, 236, 240), (0, 200, 800, 300))
    faint.save(tmp_path / "faint.jpg", quality=90)
    assert blank_on_white(tmp_path / "overlay.png")
    assert not blank_on_white(tmp_path / "faint.jpg")
