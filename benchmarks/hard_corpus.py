"""A development corpus of look-alike pictures, built on demand into ``.cache/hard/`` (git-ignored).

    python -m benchmarks.hard_corpus [--size 2000] [--seed 0] [--out DIR]

A corpus of photos and distinct icons flatters every hash. Real collections hold families of
pictures that share a layout, and pairs inside such a family are where false matches come from
(issue 13, ../shared/DATA.md). This corpus is made of such families, each a share of ``--size``
(met as far as the sources allow):

- ``flags`` (clip-art): the famfamfam 16×11 flags upscaled to 320-480 px wide, LANCZOS or
  NEAREST: tricolours that differ only in colour;
- ``graphviz-class``, ``graphviz-call``, ``graphviz-collab`` (figure): class, call and
  collaboration diagrams in doxygen's style rendered by ``dot`` at their natural size, four
  templates per family whose instances differ only in their labels;
- ``icons-symbolic`` (clip-art): Adwaita's monochrome glyphs upscaled to 256-384 px, transparent
  or on white, one per mirror/rotation family;
- ``icons-tiny`` (clip-art, format 3): Adwaita's icons at the sizes the theme draws them, 16-48
  px, transparent or on white: half monochrome glyphs (16, 24, 32 or 48 px; a glyph that
  ``icons-symbolic`` also shows is the same picture, so it shares that group), half full-colour
  legacy icons (24 or 48 px; battery levels, volume steps, file types: look-alikes at few
  pixels), none of those a canvas drawing shows;
- ``stars``, ``polygons`` (clip-art): stars with 5-12 points, polygons with 3-12 sides, one size,
  a few colours, filled or outlined, on white;
- ``glyphs`` (clip-art): letters and digits in four DejaVu faces, 240 px on white (one of each
  set that are one another's mirror or rotation: b d p q, n u, 6 9);
- ``gradients`` (gradient): vertical, diagonal and radial two-colour gradients, no two of them a
  mirror or rotation of each other;
- ``pages`` (document): white pages with a few lines of text, a heading only, or one small mark;
- ``canvas-drawings`` (clip-art): one small icon or scribble (2-12 % of the area) on a large white
  canvas;
- ``photos`` (photo): scikit-image's photos, the Debian wallpapers (a picture at two resolutions
  is one group; a dark variant is a picture of its own) and quadrant crops of them, as JPEG of at
  most 2048 px a side. Transparent overlay wallpapers that are blank once flattened on white are
  left out (format 2): six of them and their crops were one white picture under 17 labels.

Every file has a ``group``, the source picture it shows: files of one group are the same picture
(a flag that two countries share, a wallpaper at two resolutions), files of different groups are
not. For about 5 % of the groups of every family a **second genuine copy** is added (the picture
at 70 % size, or re-saved as JPEG at quality 85), so an evaluation can check that both copies are
found. ``split`` ("dev" or "test") halves every family by source picture: it is a stable hash of
the group's name up to its first ``#``, so a wallpaper's crops and dark variant (``wall:Kay#dark``)
fall in the same half as the wallpaper. For one seed a group's name denotes the same picture at
every size, so no picture in one build's dev half is in another build's test half.

The manifest ``<out>/manifest.json`` holds ``{"key": ..., "skipped": {family: reason},
"images": [row, ...]}``, each row with ``path`` (relative to the manifest's folder), ``kind``,
``family``, ``group`` and ``split``. A re-run with the same size and seed only checks that the
files exist; a build that had to skip a family is built again.

Sources, all offline: the flags come from ``apt-get download famfamfam-flag-png`` + ``dpkg -x``
into ``.cache/flags`` (``apt-get update`` runs once if the download fails); the diagrams need
graphviz's ``dot`` (``apt-get install graphviz``); a family whose source is missing is skipped
with its reason and the others are built. Photos beyond scikit-image's come from the wallpapers
of ``benchmarks.corpus.fetch_wallpapers``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import re
import shutil
import string
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from benchmarks.corpus import CACHE, crop_boxes, fetch_wallpapers, skimage_data, wallpaper_group
from benchmarks.corpus import wallpapers as wallpaper_files

HARD = CACHE / "hard"
FORMAT_VERSION = 3
FLAG_PACKAGE = "famfamfam-flag-png"
ADWAITA = Path("/usr/share/icons/Adwaita")
FONT_ROOT = Path("/usr/share/fonts")
FONT_FILES = {
    "sans": "DejaVuSans.ttf",
    "sans-bold": "DejaVuSans-Bold.ttf",
    "serif": "DejaVuSerif.ttf",
    "mono": "DejaVuSansMono.ttf",
}
SKIMAGE_PHOTOS = [
    "astronaut.png",
    "brick.png",
    "camera.png",
    "chelsea.png",
    "coffee.png",
    "coins.png",
    "grass.png",
    "gravel.png",
    "hubble_deep_field.jpg",
    "ihc.png",
    "moon.png",
    "motorcycle_left.png",
    "retina.jpg",
    "rocket.jpg",
]
"""scikit-image's photographs. ``motorcycle_right`` is left out: a stereo view shifted by a few
per cent is neither clearly the same picture as its left twin nor clearly another."""
PHOTO_SIDE = 2048
"""Longest side of the photo files (pixels): a realistic ~3-megapixel photo that keeps the build
and the benchmarks hashing it fast; smaller sources keep their own size."""
SECOND_COPY_SHARE = 0.05
"""Share of the groups of every family (at least one) that get a second genuine copy."""
PALETTE = {
    "gold": (245, 190, 20),
    "red": (215, 40, 45),
    "blue": (35, 90, 210),
    "green": (40, 150, 70),
    "black": (25, 25, 25),
}
"""The few colours of the generated shapes and drawings: distinct hues, so two colours never
differ by a brightness edit only."""
GRADIENT_COLOURS = [
    (230, 57, 70),
    (241, 143, 1),
    (252, 211, 77),
    (67, 170, 139),
    (29, 53, 87),
    (69, 123, 157),
    (131, 56, 236),
    (248, 248, 242),
]
"""The gradients' colours: six hues, two blues and an off-white, so some pairs of gradients are
near-identical in layout and colour, as smooth wallpapers are."""
WORDS = (  # noqa: SIM905 (a paragraph of words reads better than a hundred quoted ones)
    "buffer frame pool session header parser stream reader writer cache index token node graph "
    "edge vertex queue stack socket packet route handler request response client server store "
    "record entry table column schema query cursor batch task worker thread lock event signal "
    "timer clock config option setting profile account user group policy rule filter matcher "
    "image pixel colour layer canvas brush shape path point vector matrix tensor model layout "
    "widget window panel button label dialog menu action command plugin module package loader "
    "resolver builder factory adapter proxy bridge visitor observer channel pipe codec encoder "
    "decoder hash digest key value map list set tree heap trie bloom shard replica journal log"
).split()
"""Word parts of the random identifiers and page texts."""
GLYPHS = "".join(c for c in string.ascii_letters + string.digits if c not in "dpqu9")
"""The characters drawn: letters and digits, but one of each set that are one another's mirror
or rotation in the DejaVu faces (b d p q, n u, 6 9: within 1-5 grey levels a pixel when turned),
which a ``--flips`` search rightly calls copies."""
TYPES = ["int", "str", "bool", "float", "bytes", "list", "dict", "Path", "None"]
"""Type names of the class diagrams' fields and methods."""

FAMILY_KINDS = {
    "flags": "clip-art",
    "graphviz-class": "figure",
    "graphviz-call": "figure",
    "graphviz-collab": "figure",
    "icons-symbolic": "clip-art",
    "icons-tiny": "clip-art",
    "stars": "clip-art",
    "polygons": "clip-art",
    "glyphs": "clip-art",
    "gradients": "gradient",
    "pages": "document",
    "canvas-drawings": "clip-art",
    "photos": "photo",
}
FAMILY_SHARES = {
    "flags": 0.12,
    "graphviz-class": 0.09,
    "graphviz-call": 0.08,
    "graphviz-collab": 0.08,
    "icons-symbolic": 0.10,
    "icons-tiny": 0.08,
    "stars": 0.04,
    "polygons": 0.04,
    "glyphs": 0.08,
    "gradients": 0.06,
    "pages": 0.06,
    "canvas-drawings": 0.07,
    "photos": 0.13,
}
"""Share of ``--size`` drawn by each family; they sum to 1.03, the second copies add ~5 %
(``icons-tiny`` came last, format 3, on top of the others so their pictures stay the same)."""
TINY_GLYPH_SIDES = (16, 24, 32, 48)
"""Sizes at which Adwaita ships its monochrome glyphs (``<side>x<side>/*/*.symbolic.png``)."""
TINY_COLOUR_SIDES = (24, 48)
"""Sizes at which Adwaita ships its full-colour legacy icons (``legacy`` and the others)."""


@dataclass(frozen=True)
class HardImage:
    """One corpus file: ``kind`` is photo, clip-art, figure, gradient or document; ``family`` the
    look-alike set it belongs to; ``group`` the source picture it shows; ``split`` dev or test."""

    path: Path
    kind: str
    family: str
    group: str
    split: str


@dataclass(frozen=True)
class Planned:
    """A file to draw: its name inside the corpus folder, its family and group, and ``draw``, a
    picklable callable (so worker processes can run it) called with the file's path, and for a
    file drawn from another corpus file (a crop, a second copy) with that ``source``'s path too;
    those are drawn after every other file exists."""

    name: str
    family: str
    group: str
    draw: Callable[..., None]
    source: str | None = None


class SourceUnavailable(Exception):
    """A family's source cannot be had on this machine; the message says how to get it."""


def split_of(group: str) -> str:
    """The half a group belongs to, "dev" or "test": a stable hash of its source picture (the
    group's name up to ``#``), so variants of one picture never straddle the split."""
    source = group.split("#", 1)[0]
    return "dev" if hashlib.sha256(source.encode()).digest()[0] % 2 == 0 else "test"


# ----------------------------------------------------------------------------- sources


def fetch_flags(cache: Path = CACHE) -> Path:
    """Download and unpack famfamfam's flags once; returns the folder of their PNGs.

    Raises:
        SourceUnavailable: apt cannot download the package (no apt, no package lists, offline).
    """
    root = cache / "flags"
    flags = root / "usr" / "share" / "flags"
    if (root / ".unpacked").exists():
        return flags
    root.mkdir(parents=True, exist_ok=True)
    download = ["apt-get", "download", FLAG_PACKAGE]
    try:
        if subprocess.run(download, cwd=root, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update"], capture_output=True)
            subprocess.run(download, cwd=root, check=True, capture_output=True)
        for deb in sorted(root.glob("*.deb")):
            subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    except (OSError, subprocess.CalledProcessError) as error:
        raise SourceUnavailable(f"`apt-get download {FLAG_PACKAGE}` failed: {error}") from error
    (root / ".unpacked").touch()
    return flags


def require_dot() -> None:
    """Raises SourceUnavailable unless graphviz's ``dot`` is on the PATH."""
    if shutil.which("dot") is None:
        raise SourceUnavailable("graphviz's `dot` is not installed (apt-get install graphviz)")


def dihedral_key(pixels: np.ndarray) -> bytes:
    """The same bytes for an array and its 7 mirrored / rotated versions: pictures that are one
    another's mirror image count as copies in a ``--flips`` search, so a family keeps only one."""
    turns = [np.rot90(pixels, k) for k in range(4)]
    return min(np.ascontiguousarray(a).tobytes() for a in turns + [t[:, ::-1] for t in turns])


def symbolic_icons() -> list[Path]:
    """Adwaita's 96-pixel monochrome icons, one per drawing up to mirroring and rotation (the
    theme ships ``go-next`` and ``go-previous``, ``-rtl`` twins and renamed copies), sorted."""
    seen: dict[bytes, Path] = {}
    for path in sorted(ADWAITA.glob("96x96/*/*.symbolic.png")):
        with Image.open(path) as opened:
            key = dihedral_key(np.asarray(opened.convert("RGBA"))[..., 3])
        seen.setdefault(key, path)
    return sorted(seen.values())


def colour_icons() -> list[Path]:
    """Adwaita's full-colour 512-pixel icons (devices, places, ...), sorted."""
    return sorted(p for p in ADWAITA.glob("512x512/*/*.png") if "symbolic" not in p.name)


def tiny_colour_icons() -> list[str]:
    """File names of Adwaita's full-colour icons drawn at every size of ``TINY_COLOUR_SIDES``,
    without those ``colour_icons`` has (a canvas drawing may show them), sorted."""
    on_canvas = {p.name for p in colour_icons()}
    present = [
        {p.name for p in ADWAITA.glob(f"{side}x{side}/*/*.png") if "symbolic" not in p.name}
        for side in TINY_COLOUR_SIDES
    ]
    return sorted(set.intersection(*present) - on_canvas)


def theme_files(name: str, sides: tuple[int, ...]) -> list[Path]:
    """The theme's own drawings of icon ``name`` at those of ``sides`` it has (the first
    category holding it at each)."""
    found = (sorted(ADWAITA.glob(f"{side}x{side}/*/{name}"))[:1] for side in sides)
    return [path for paths in found for path in paths]


def font_files() -> dict[str, Path | None]:
    """The DejaVu faces by short name; ``{"default": None}`` (Pillow's own font) without them."""
    found = {p.name: p for p in FONT_ROOT.rglob("*.ttf")} if FONT_ROOT.exists() else {}
    faces: dict[str, Path | None] = {
        face: found[name] for face, name in FONT_FILES.items() if name in found
    }
    return faces or {"default": None}


def load_font(face: Path | None, size: int) -> ImageFont.FreeTypeFont:
    """A font at ``size`` pixels: the TrueType file, or Pillow's built-in one for ``None``."""
    return ImageFont.truetype(str(face), size) if face else ImageFont.load_default(size=size)


# ----------------------------------------------------------------------------- drawing one file


def save_flag(out: Path, source: Path, width: int, nearest: bool) -> None:
    """A flag upscaled to ``width`` pixels: NEAREST keeps its blocks, LANCZOS smooths them (real
    collections hold both)."""
    with Image.open(source) as opened:
        flag = _on_white(opened)
    height = round(flag.height * width / flag.width)
    resample = Image.Resampling.NEAREST if nearest else Image.Resampling.LANCZOS
    flag.resize((width, height), resample).save(out, format="PNG")


def save_icon(out: Path, source: Path, side: int, on_white: bool) -> None:
    """A monochrome icon upscaled to ``side`` pixels, kept transparent or flattened on white."""
    with Image.open(source) as opened:
        icon = opened.convert("RGBA").resize((side, side), Image.Resampling.LANCZOS)
    if on_white:
        icon = _on_white(icon)
    icon.save(out, format="PNG")


def save_tiny_icon(out: Path, source: Path, on_white: bool) -> None:
    """An icon at the size the theme draws it, kept transparent or flattened on white."""
    with Image.open(source) as opened:
        icon = opened.convert("RGBA")
    if on_white:
        icon = _on_white(icon)
    icon.save(out, format="PNG")


def _on_white(image: Image.Image) -> Image.Image:
    """The image composited on white, as RGB: how viewers (and pixdex's decoder) show it."""
    canvas = Image.new("RGBA", image.size, "white")
    return Image.alpha_composite(canvas, image.convert("RGBA")).convert("RGB")


def star_points(points: int, radius: float, centre: float) -> list[tuple[float, float]]:
    """Vertices of a star with ``points`` tips, the first pointing up; inner radius 0.45 R."""
    vertices = []
    for i in range(2 * points):
        r = radius if i % 2 == 0 else 0.45 * radius
        angle = -math.pi / 2 + i * math.pi / points
        vertices.append((centre + r * math.cos(angle), centre + r * math.sin(angle)))
    return vertices


def polygon_points(sides: int, radius: float, centre: float) -> list[tuple[float, float]]:
    """Vertices of a regular polygon with ``sides`` sides, the first vertex up."""
    return [
        (
            centre + radius * math.cos(-math.pi / 2 + 2 * math.pi * i / sides),
            centre + radius * math.sin(-math.pi / 2 + 2 * math.pi * i / sides),
        )
        for i in range(sides)
    ]


def render_shape(out: Path, star: bool, corners: int, colour: str, filled: bool) -> None:
    """A star or regular polygon, 260 px across, centred on a 320 px white square; drawn at 4×
    and reduced, so its edges are anti-aliased like any drawing program's."""
    scale, side = 4, 320
    big = Image.new("RGB", (side * scale, side * scale), "white")
    centre, radius = side * scale / 2, 130 * scale
    vertices = (star_points if star else polygon_points)(corners, radius, centre)
    draw = ImageDraw.Draw(big)
    if filled:
        draw.polygon(vertices, fill=PALETTE[colour])
    else:
        draw.polygon(vertices, outline=PALETTE[colour], width=10 * scale)
    big.resize((side, side), Image.Resampling.LANCZOS).save(out, format="PNG")


def render_glyph(out: Path, char: str, face: Path | None) -> None:
    """One character at 240 px, black, centred on a 320 px white square."""
    side = 320
    image = Image.new("RGB", (side, side), "white")
    font = load_font(face, 240)
    left, top, right, bottom = font.getbbox(char)
    xy = ((side - (right - left)) / 2 - left, (side - (bottom - top)) / 2 - top)
    ImageDraw.Draw(image).text(xy, char, fill="black", font=font)
    image.save(out, format="PNG")


def render_dot(out: Path, source: str) -> None:
    """Render a graphviz graph at its natural size (96 dpi)."""
    subprocess.run(
        ["dot", "-Tpng", "-o", str(out)], input=source.encode(), check=True, capture_output=True
    )


RADIAL_CENTRES = {
    "radial-centre": (0.5, 0.5),
    "radial-corner": (0.0, 0.0),
    "radial-top": (0.5, 0.0),
    "radial-third": (1 / 3, 1 / 3),
}
"""Centres of the radial gradients (fractions of width and height)."""


def render_gradient(
    out: Path, size: tuple[int, int], style: str, colours: tuple[tuple[int, int, int], ...]
) -> None:
    """A smooth gradient from ``colours[0]`` to ``colours[1]``: "vertical" (top to bottom),
    "diagonal" (top-left to bottom-right) or radial from one of ``RADIAL_CENTRES`` out to the
    farthest corner."""
    width, height = size
    y = np.arange(height, dtype=np.float32)[:, None]
    x = np.arange(width, dtype=np.float32)[None, :]
    if style == "vertical":
        t = np.broadcast_to(y / (height - 1), (height, width))
    elif style == "diagonal":
        t = (x / (width - 1) + y / (height - 1)) / 2
    else:
        cx, cy = RADIAL_CENTRES[style]
        distance = np.hypot(x - cx * (width - 1), y - cy * (height - 1))
        t = distance / distance.max()
    start, end = (np.array(c, np.float32) for c in colours)
    pixels = start + (end - start) * t[..., None]
    Image.fromarray(np.round(pixels).astype(np.uint8)).save(out, format="PNG")


def render_page(
    out: Path,
    size: tuple[int, int],
    faces: tuple[Path | None, Path | None],
    heading: str,
    lines: list[str],
    mark: tuple[str, int, int, int] | None,
) -> None:
    """A white page: a bold ``heading`` and ``lines`` of body text from the top margin (either may
    be empty), and optionally one ``mark`` ("dot", "cross", "check" or "circle", at x, y, of the
    given side in pixels). ``faces`` are the regular and bold fonts."""
    width = size[0]
    page = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(page)
    margin, text_size = width // 10, width // 55
    y = margin
    if heading:
        draw.text((margin, y), heading, fill="black", font=load_font(faces[1], 2 * text_size))
        y += 4 * text_size
    body = load_font(faces[0], text_size)
    for line in lines:
        draw.text((margin, y), line, fill=(30, 30, 30), font=body)
        y += round(1.6 * text_size)
    if mark:
        _draw_mark(draw, *mark)
    page.save(out, format="PNG")


def _draw_mark(draw: ImageDraw.ImageDraw, kind: str, x: int, y: int, side: int) -> None:
    """One small mark of a near-blank page: a dot, a circle, a cross or a check mark."""
    pen = max(2, side // 8)
    if kind == "dot":
        draw.ellipse([x, y, x + side, y + side], fill="black")
    elif kind == "circle":
        draw.ellipse([x, y, x + side, y + side], outline=(30, 60, 160), width=pen)
    elif kind == "cross":
        draw.line([x, y, x + side, y + side], fill="black", width=pen)
        draw.line([x, y + side, x + side, y], fill="black", width=pen)
    else:
        draw.line(
            [x, y + side // 2, x + side // 3, y + side, x + side, y], fill=(200, 30, 30), width=pen
        )


def scribble(side: int, seed: int, colour: str) -> Image.Image:
    """A transparent ``side``-pixel square with a few smooth random strokes: a small drawing no
    other file in the corpus contains (drawn at 4× and reduced, so it is anti-aliased)."""
    rng = random.Random(seed)
    scale = 4
    big = Image.new("RGBA", (side * scale, side * scale), (255, 255, 255, 0))
    draw = ImageDraw.Draw(big)
    for _ in range(rng.randint(2, 5)):
        points = [
            (rng.uniform(0.05, 0.95) * side * scale, rng.uniform(0.05, 0.95) * side * scale)
            for _ in range(rng.randint(4, 9))
        ]
        width = rng.randint(max(2, side // 40), max(3, side // 12)) * scale
        draw.line(points, fill=PALETTE[colour], width=width, joint="curve")
    return big.resize((side, side), Image.Resampling.LANCZOS)


def render_on_canvas(
    out: Path, canvas: tuple[int, int], box: tuple[int, int, int], drawing: Path | int, colour: str
) -> None:
    """A small drawing pasted on a large white canvas at ``box`` (x, y, side in pixels): an icon
    file resized to the box, or, for an int, the ``scribble`` of that seed in ``colour``."""
    x, y, side = box
    if isinstance(drawing, Path):
        with Image.open(drawing) as opened:
            picture = opened.convert("RGBA").resize((side, side), Image.Resampling.LANCZOS)
    else:
        picture = scribble(side, drawing, colour)
    page = Image.new("RGB", canvas, "white")
    page.paste(picture, (x, y), picture)
    page.save(out, format="PNG")


def save_photo(out: Path, source: Path, quality: int) -> None:
    """A photo re-encoded as JPEG at ``quality``, reduced to at most ``PHOTO_SIDE`` pixels a side
    (JPEG sources are decoded at a reduced scale); transparency is flattened on white and
    grayscale stays grayscale."""
    with Image.open(source) as opened:
        opened.thumbnail((PHOTO_SIDE, PHOTO_SIDE), Image.Resampling.LANCZOS)
        picture = opened if opened.mode in ("L", "RGB") else _on_white(opened)
        picture.save(out, format="JPEG", quality=quality)


def save_crop(out: Path, source: Path, label: str, quality: int) -> None:
    """One of ``benchmarks.corpus.crop_boxes``' regions of a photo (a quadrant for "q01"), as
    JPEG: a picture of its own, not a copy of its source."""
    with Image.open(source) as opened:
        boxes = dict(crop_boxes(opened.width, opened.height))
        opened.crop(boxes[label]).save(out, format="JPEG", quality=quality)


def save_second_copy(out: Path, source: Path, as_jpeg: bool) -> None:
    """A genuine second copy of a corpus file: re-saved as JPEG at quality 85 (transparency on
    white, as any viewer shows it), or at 70 % of its size in its own format (JPEG sources at
    quality 85)."""
    with Image.open(source) as opened:
        picture = opened.copy()
    if as_jpeg:
        picture = picture if picture.mode in ("L", "RGB") else _on_white(picture)
        picture.save(out, format="JPEG", quality=85)
        return
    size = (round(picture.width * 0.7), round(picture.height * 0.7))
    smaller = picture.resize(size, Image.Resampling.LANCZOS)
    if source.suffix == ".jpg":
        smaller.save(out, format="JPEG", quality=85)
    else:
        smaller.save(out, format="PNG")


# ----------------------------------------------------------------------------- diagram sources

DOT_HEADER = """digraph G {{
  graph [rankdir={rankdir}];
  edge [fontname="Helvetica", fontsize=10, labelfontname="Helvetica", labelfontsize=10];
  node [fontname="Helvetica", fontsize=10, shape={shape}, height=0.2, width=0.4];
"""
"""Doxygen's graph style: the look of the documentation figures real collections are full of."""


def identifier(rng: random.Random, style: str) -> str:
    """A random identifier of 2-3 words: "class" → FramePoolReader, "function" → parse_frame,
    "member" → m_frame_pool."""
    words = rng.sample(WORDS, rng.randint(2, 3))
    if style == "class":
        return "".join(w.capitalize() for w in words)
    if style == "member":
        return "m_" + "_".join(words[:2])
    return "_".join(words)


@dataclass(frozen=True)
class DiagramTemplate:
    """A diagram's fixed structure; instances of one template differ only in their labels.
    ``parents`` gives the parent of each node after the first (a tree); ``items`` per node the
    number of fields (a class box, which has 4 − items methods) or of member names (on the edge
    of a collaboration diagram)."""

    parents: tuple[int, ...]
    items: tuple[int, ...]


def diagram_template(rng: random.Random, nodes: int) -> DiagramTemplate:
    """A random tree of ``nodes`` nodes with 1-3 items each."""
    return DiagramTemplate(
        tuple(rng.randrange(i) for i in range(1, nodes)),
        tuple(rng.randint(1, 3) for _ in range(nodes)),
    )


def class_diagram(template: DiagramTemplate, rng: random.Random) -> str:
    """A UML class diagram (subclass → base): each box a class name, its fields and methods."""
    lines = [DOT_HEADER.format(rankdir="BT", shape="record")]
    for node, count in enumerate(template.items):
        fields = "".join(
            f"+ {identifier(rng, 'function')} : {rng.choice(TYPES)}\\l" for _ in range(count)
        )
        methods = "".join(
            f"+ {identifier(rng, 'function')}() : {rng.choice(TYPES)}\\l" for _ in range(4 - count)
        )
        fill = ', style=filled, fillcolor="grey75"' if node == 0 else ""
        lines.append(
            f'  n{node} [label="{{{identifier(rng, "class")}|{fields}|{methods}}}"{fill}];'
        )
    for child, parent in enumerate(template.parents, start=1):
        lines.append(f"  n{child} -> n{parent} [color=midnightblue, arrowhead=empty];")
    return "\n".join(lines) + "\n}\n"


def call_graph(template: DiagramTemplate, rng: random.Random) -> str:
    """A doxygen call graph (caller → callee, left to right): every node a ``Class::function``."""
    lines = [DOT_HEADER.format(rankdir="LR", shape="box")]
    for node in range(len(template.items)):
        label = f"{identifier(rng, 'class')}::{identifier(rng, 'function')}"
        fill = ', style=filled, fillcolor="grey75"' if node == 0 else ""
        lines.append(f'  n{node} [label="{label}"{fill}];')
    for child, parent in enumerate(template.parents, start=1):
        lines.append(f"  n{parent} -> n{child} [color=midnightblue];")
    return "\n".join(lines) + "\n}\n"


def collaboration_diagram(template: DiagramTemplate, rng: random.Random) -> str:
    """A doxygen collaboration diagram: odd nodes are members of their parent (dashed purple edges
    labelled with the member names), even nodes its base classes."""
    lines = [DOT_HEADER.format(rankdir="BT", shape="box")]
    for node in range(len(template.items)):
        fill = ', style=filled, fillcolor="grey75"' if node == 0 else ""
        lines.append(f'  n{node} [label="{identifier(rng, "class")}"{fill}];')
    for child, parent in enumerate(template.parents, start=1):
        if child % 2:
            names = [f" {identifier(rng, 'member')}" for _ in range(template.items[child])]
            members = "\\n".join(names)
            style = f'color=darkorchid3, style=dashed, label="{members}"'
        else:
            style = "color=midnightblue, arrowhead=empty"
        lines.append(f"  n{child} -> n{parent} [{style}];")
    return "\n".join(lines) + "\n}\n"


DIAGRAMS: dict[str, Callable[[DiagramTemplate, random.Random], str]] = {
    "graphviz-class": class_diagram,
    "graphviz-call": call_graph,
    "graphviz-collab": collaboration_diagram,
}
TEMPLATE_NODES = (3, 4, 5, 6)
"""The templates of each diagram family: one tree of each of these sizes (boxes)."""


# ----------------------------------------------------------------------------- families


def _family_rng(seed: int, family: str, *parts: object) -> random.Random:
    """A generator of its own for each family (and item), so one family's size never changes
    another's pictures (string seeds are hashed with SHA-512, independent of the hash seed)."""
    return random.Random(":".join(map(str, (seed, family, *parts))))


def plan_flags(count: int, seed: int) -> list[Planned]:
    """A seeded sample of the flags, each upscaled to 320-480 px wide; flags with identical
    pixels (Norway, Svalbard and Bouvet Island) are one picture, so they share a group, named
    after the first of them whether or not it is in the sample."""
    rng = _family_rng(seed, "flags")
    groups = flag_groups(fetch_flags())
    planned = []
    for path in sorted(rng.sample(sorted(groups), min(count, len(groups)))):
        draw = partial(
            save_flag, source=path, width=rng.choice([320, 400, 480]), nearest=rng.random() < 0.5
        )
        planned.append(Planned(f"flags/{path.stem}.png", "flags", groups[path], draw))
    return planned


def flag_groups(folder: Path) -> dict[Path, str]:
    """Every flag file under ``folder`` and its group: ``flags:<code>`` of the first file (in
    sorted order) with the same pixels."""
    first: dict[bytes, str] = {}
    groups = {}
    for path in sorted(folder.rglob("*.png")):
        with Image.open(path) as opened:
            flag = _on_white(opened)
        pixels = repr(flag.size).encode() + flag.tobytes()
        groups[path] = first.setdefault(pixels, f"flags:{path.stem}")
    return groups


def plan_diagrams(family: str, count: int, seed: int) -> list[Planned]:
    """``count`` diagrams of one graphviz family, spread over its templates: every instance of a
    template has the same structure and new random labels."""
    require_dot()
    diagram = DIAGRAMS[family]
    templates = [
        diagram_template(_family_rng(seed, family, "template", nodes), nodes)
        for nodes in TEMPLATE_NODES
    ]
    planned = []
    for index in range(count):
        number = index % len(templates)
        source = diagram(templates[number], _family_rng(seed, family, index))
        name = f"t{number}-{index:04d}"
        draw = partial(render_dot, source=source)
        planned.append(Planned(f"{family}/{name}.png", family, f"{family}:{name}", draw))
    return planned


def plan_icons(count: int, seed: int) -> list[Planned]:
    """A seeded sample of Adwaita's monochrome glyphs at 256-384 px, half of them on white."""
    icons = symbolic_icons()
    if not icons:
        raise SourceUnavailable(
            f"no symbolic icons under {ADWAITA} (apt-get install adwaita-icon-theme)"
        )
    rng = _family_rng(seed, "icons-symbolic")
    planned = []
    for path in sorted(rng.sample(icons, min(count, len(icons)))):
        name = path.name.removesuffix(".symbolic.png")
        draw = partial(
            save_icon, source=path, side=rng.choice([256, 320, 384]), on_white=rng.random() < 0.5
        )
        group = f"icons-symbolic:{name}"
        planned.append(Planned(f"icons-symbolic/{name}.png", "icons-symbolic", group, draw))
    return planned


def plan_tiny_icons(count: int, seed: int) -> list[Planned]:
    """``count`` icons at the theme's own small sizes: half monochrome glyphs (one per mirror /
    rotation family, as ``symbolic_icons`` gives them, and one per picture at the size drawn),
    half full-colour icons (``tiny_colour_icons``, one per picture up to mirroring); each icon's
    size and background come from its own generator, so it is the same picture at every
    ``count``."""
    glyphs = symbolic_icons()
    colours = tiny_colour_icons()
    if not glyphs or not colours:
        raise SourceUnavailable(
            f"no small icons under {ADWAITA} (apt-get install adwaita-icon-theme)"
        )
    rng = _family_rng(seed, "icons-tiny")
    planned: list[Planned] = []
    seen: set[bytes] = set()
    for monochrome, pool, wanted in (
        (True, [p.name for p in glyphs], count // 2),
        (False, colours, count - count // 2),
    ):
        chosen = 0
        for name in rng.sample(pool, len(pool)):
            if chosen == wanted:
                break
            sides = theme_files(name, TINY_GLYPH_SIDES if monochrome else TINY_COLOUR_SIDES)
            if not sides:
                continue
            own = _family_rng(seed, "icons-tiny", name)
            source = own.choice(sides)
            with Image.open(source) as opened:
                key = dihedral_key(np.asarray(opened.convert("RGBA")))
            if key in seen:
                continue
            seen.add(key)
            chosen += 1
            stem = name.removesuffix(".png").removesuffix(".symbolic")
            group = f"icons-symbolic:{stem}" if monochrome else f"icons-tiny:{stem}"
            draw = partial(save_tiny_icon, source=source, on_white=own.random() < 0.5)
            name_at_size = f"icons-tiny/{stem}-{source.parent.parent.name}.png"
            planned.append(Planned(name_at_size, "icons-tiny", group, draw))
    return sorted(planned, key=lambda item: item.name)


def plan_shapes(family: str, count: int, seed: int) -> list[Planned]:
    """Stars with 5-12 points or polygons with 3-12 sides, every colour of ``PALETTE``, filled or
    outlined: a seeded sample of ``count`` of them."""
    star = family == "stars"
    specs = [
        (corners, colour, filled)
        for corners in (range(5, 13) if star else range(3, 13))
        for colour in PALETTE
        for filled in (True, False)
    ]
    planned = []
    for corners, colour, filled in _family_rng(seed, family).sample(specs, min(count, len(specs))):
        name = f"{corners}-{colour}-{'filled' if filled else 'outline'}"
        draw = partial(render_shape, star=star, corners=corners, colour=colour, filled=filled)
        planned.append(Planned(f"{family}/{name}.png", family, f"{family}:{name}", draw))
    return planned


def plan_glyphs(count: int, seed: int) -> list[Planned]:
    """Letters and digits in each DejaVu face (Pillow's own font without them): a seeded sample."""
    faces = font_files()
    specs = [(face, char) for face in faces for char in GLYPHS]
    planned = []
    for face, char in _family_rng(seed, "glyphs").sample(specs, min(count, len(specs))):
        # File names carry the code point: "a" and "A" must not collide on a case-blind disk.
        name = f"glyphs/{face}-U{ord(char):04X}.png"
        draw = partial(render_glyph, char=char, face=faces[face])
        planned.append(Planned(name, "glyphs", f"glyphs:{face}/{char}", draw))
    return planned


def plan_gradients(count: int, seed: int) -> list[Planned]:
    """Two-colour gradients from ``GRADIENT_COLOURS``: vertical and diagonal ones for each pair of
    colours (their order swapped is the same gradient mirrored, so only one order), radial ones
    for each ordered pair. Many share a layout and differ in colour only."""
    colours = range(len(GRADIENT_COLOURS))
    specs = [
        (style, a, b)
        for style in ("vertical", "diagonal")
        for a in colours
        for b in colours
        if a < b
    ]
    specs += [(style, a, b) for style in RADIAL_CENTRES for a in colours for b in colours if a != b]
    rng = _family_rng(seed, "gradients")
    planned = []
    for style, a, b in rng.sample(specs, min(count, len(specs))):
        name = f"{style}-{a}{b}"
        size = rng.choice([(1920, 1080), (1280, 800), (1024, 768)])
        pair = (GRADIENT_COLOURS[a], GRADIENT_COLOURS[b])
        draw = partial(render_gradient, size=size, style=style, colours=pair)
        planned.append(Planned(f"gradients/{name}.png", "gradients", f"gradients:{name}", draw))
    return planned


def plan_pages(count: int, seed: int) -> list[Planned]:
    """Near-blank pages: half with a heading and 2-12 lines of text, a quarter with a heading
    only, a quarter blank but for one small mark."""
    faces = font_files()
    regular = faces.get("serif", next(iter(faces.values())))
    bold = faces.get("sans-bold", regular)
    planned = []
    for index in range(count):
        rng = _family_rng(seed, "pages", index)
        size = rng.choice([(794, 1123), (850, 1100), (1240, 1754)])
        layout = rng.choice(["text", "text", "heading", "mark"])
        heading = " ".join(rng.sample(WORDS, rng.randint(2, 4))).capitalize()
        lines = [
            " ".join(rng.choices(WORDS, k=rng.randint(6, 10))) for _ in range(rng.randint(2, 12))
        ]
        mark = None
        if layout == "mark":
            side = rng.randint(16, 60)
            x, y = rng.randrange(size[0] - side), rng.randrange(size[1] - side)
            mark = (rng.choice(["dot", "circle", "cross", "check"]), x, y, side)
        draw = partial(
            render_page,
            size=size,
            faces=(regular, bold),
            heading="" if layout == "mark" else heading,
            lines=lines if layout == "text" else [],
            mark=mark,
        )
        planned.append(Planned(f"pages/page-{index:04d}.png", "pages", f"pages:{index:04d}", draw))
    return planned


def plan_canvas_drawings(count: int, seed: int) -> list[Planned]:
    """One small drawing per large white canvas, covering 2-12 % of it at a random place: every
    other canvas shows one of Adwaita's colour icons (each used once, while they last), the rest
    scribbles of their own. Canvas ``i`` is the same picture at every ``count``."""
    icons = colour_icons()
    _family_rng(seed, "canvas-drawings").shuffle(icons)
    planned = []
    for index in range(count):
        rng = _family_rng(seed, "canvas-drawings", index)
        canvas = rng.choice([(1200, 900), (1600, 1200), (1280, 720), (1000, 1000)])
        side = round(math.sqrt(rng.uniform(0.02, 0.12) * canvas[0] * canvas[1]))
        box = (rng.randrange(canvas[0] - side), rng.randrange(canvas[1] - side), side)
        use_icon = index % 2 == 0 and index // 2 < len(icons)
        drawing = icons[index // 2] if use_icon else rng.randrange(2**32)
        colour = rng.choice(list(PALETTE))
        draw = partial(render_on_canvas, canvas=canvas, box=box, drawing=drawing, colour=colour)
        name, group = f"canvas-drawings/canvas-{index:04d}.png", f"canvas-drawings:{index:04d}"
        planned.append(Planned(name, "canvas-drawings", group, draw))
    return planned


def _size(path: Path) -> tuple[int, int]:
    """Width and height of an image file (reads the header only)."""
    with Image.open(path) as opened:
        return opened.size


def wallpaper_picture(path: Path) -> str:
    """The group of a wallpaper file: ``benchmarks.corpus.wallpaper_group``, except that a dark
    variant is a picture of its own, ``<light group>#dark`` (a recoloured drawing is a look-alike,
    not a copy, but it belongs in the same split as its light twin)."""
    group = re.sub(r"[-_](light|dark)$", "", wallpaper_group(path), flags=re.IGNORECASE)
    dark = "images_dark" in path.parts or re.search(r"[-_](d|dark)$", path.stem, re.IGNORECASE)
    return group + "#dark" if dark else group


BLANK_SPREAD = 4
"""Largest spread of a channel (0-255, over a 64 × 64 thumbnail) of a wallpaper taken as
blank once flattened on white."""


def blank_on_white(path: Path) -> bool:
    """Whether a wallpaper shows one flat colour once its transparency is flattened on white,
    as the corpus stores it: a transparent overlay wallpaper is a blank JPEG here, and several
    of them were the same white picture under different labels."""
    with Image.open(path) as opened:
        opened.draft("RGB", (256, 256))
        opened.thumbnail((64, 64), Image.Resampling.BOX)
        picture = opened if opened.mode in ("L", "RGB") else _on_white(opened)
        channels = np.asarray(picture.convert("RGB"), dtype=np.int16).reshape(-1, 3)
    return int((channels.max(axis=0) - channels.min(axis=0)).max()) <= BLANK_SPREAD


def wallpaper_pictures(root: Path, rng: random.Random) -> dict[str, list[Path]]:
    """The wallpaper pictures by group, each with its largest file and, when the picture ships at
    another size of the same aspect ratio (±1 %), one such file chosen at random: a genuine
    second resolution. Portrait versions are other framings and are left out, and so are
    wallpapers that are blank on white (``blank_on_white``)."""
    variants: dict[str, list[Path]] = {}
    for path in wallpaper_files(root):
        variants.setdefault(wallpaper_picture(path), []).append(path)
    pictures = {}
    for group, paths in sorted(variants.items()):
        sizes = {path: _size(path) for path in paths}
        largest = max(paths, key=lambda p: (sizes[p][0] * sizes[p][1], sizes[p][0], str(p)))
        if blank_on_white(largest):
            continue
        width, height = sizes[largest]
        others = {
            sizes[p]: p
            for p in paths
            if sizes[p] != sizes[largest]
            and abs(sizes[p][0] / sizes[p][1] / (width / height) - 1) < 0.01
        }
        pictures[group] = [largest] + ([others[rng.choice(sorted(others))]] if others else [])
    return pictures


def plan_photos(count: int, seed: int) -> list[Planned]:
    """``count`` photo files, whole pictures at a time: scikit-image's photos first, then the
    wallpapers (fetched only when needed), then quadrant crops of the wallpapers, each tier in a
    seeded order. JPEG at quality 80-95."""
    rng = _family_rng(seed, "photos")
    data = skimage_data()
    tiers: list[list[list[Planned]]] = [
        [
            [_photo(f"skimage-{Path(name).stem}", f"skimage:{Path(name).stem}", data / name, rng)]
            for name in SKIMAGE_PHOTOS
        ]
    ]
    if count > len(SKIMAGE_PHOTOS):
        tiers += _wallpaper_tiers(rng)
    planned: list[Planned] = []
    for tier in tiers:
        rng.shuffle(tier)
        for picture in tier:
            names = {p.name for p in planned}
            sourced = all(p.source is None or p.source in names for p in picture)
            if sourced and len(planned) + len(picture) <= count:
                planned += picture
    return planned


def _photo(name: str, group: str, source: Path, rng: random.Random) -> Planned:
    """A photo file re-encoded from ``source`` at a random quality."""
    draw = partial(save_photo, source=source, quality=rng.choice([80, 85, 90, 95]))
    return Planned(f"photos/{name}.jpg", "photos", group, draw)


def _wallpaper_tiers(rng: random.Random) -> list[list[list[Planned]]]:
    """The wallpapers (one picture: its files) and their quadrant crops (one picture each); none
    when the wallpaper packages cannot be fetched, which leaves scikit-image's photos."""
    try:
        root = fetch_wallpapers()
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"photos: no wallpapers ({error}); scikit-image's photos only", file=sys.stderr)
        return []
    walls, crops = [], []
    for group, paths in wallpaper_pictures(root, rng).items():
        stem = group.removeprefix("wall:").replace("#", "-")
        files = [_photo(stem, group, paths[0], rng)]
        files += [
            _photo(f"{stem}.{w}x{h}", group, p, rng) for p in paths[1:] for w, h in [_size(p)]
        ]
        walls.append(files)
        for label, _ in crop_boxes(1, 1)[1:5]:
            draw = partial(save_crop, label=label, quality=rng.choice([80, 90]))
            name, crop_group = f"photos/{stem}.{label}.jpg", f"{group}#{label}"
            crops.append([Planned(name, "photos", crop_group, draw, source=files[0].name)])
    return [walls, crops]


def plan_second_copies(planned: list[Planned]) -> list[Planned]:
    """A genuine second copy for ``SECOND_COPY_SHARE`` of the groups of every family (at least
    one), chosen by a stable hash of the group: a JPEG at quality 85, or the file at 70 % of its
    size (always the latter for photos, already JPEG)."""
    first: dict[str, Planned] = {}
    for item in planned:
        if item.source is None:
            first.setdefault(item.group, item)
    copies = []
    for family in FAMILY_KINDS:
        groups = sorted((g for g, p in first.items() if p.family == family), key=_copy_rank)
        for group in groups[: max(1, round(SECOND_COPY_SHARE * len(groups)))]:
            item = first[group]
            as_jpeg = family != "photos" and _copy_rank(group)[1] % 2 == 0
            stem, suffix = item.name.rsplit(".", 1)
            name = f"{stem}.copy-q85.jpg" if as_jpeg else f"{stem}.copy-70.{suffix}"
            draw = partial(save_second_copy, as_jpeg=as_jpeg)
            copies.append(Planned(name, family, group, draw, source=item.name))
    return copies


def _copy_rank(group: str) -> bytes:
    """The order in which groups get a second copy: a hash independent of the split's."""
    return hashlib.sha256(f"second copy of {group}".encode()).digest()


PLANNERS: dict[str, Callable[[int, int], list[Planned]]] = {
    "flags": plan_flags,
    "graphviz-class": partial(plan_diagrams, "graphviz-class"),
    "graphviz-call": partial(plan_diagrams, "graphviz-call"),
    "graphviz-collab": partial(plan_diagrams, "graphviz-collab"),
    "icons-symbolic": plan_icons,
    "icons-tiny": plan_tiny_icons,
    "stars": partial(plan_shapes, "stars"),
    "polygons": partial(plan_shapes, "polygons"),
    "glyphs": plan_glyphs,
    "gradients": plan_gradients,
    "pages": plan_pages,
    "canvas-drawings": plan_canvas_drawings,
    "photos": plan_photos,
}
"""Each family's planner: (number of files, seed) → the files to draw."""


# ----------------------------------------------------------------------------- the corpus


def plan_corpus(size: int, seed: int) -> tuple[list[Planned], dict[str, str]]:
    """Every file of a corpus of about ``size`` images, and the families skipped (with the
    reason) because their source is missing on this machine."""
    planned: list[Planned] = []
    skipped: dict[str, str] = {}
    for family, planner in PLANNERS.items():
        try:
            planned += planner(max(1, round(FAMILY_SHARES[family] * size)), seed)
        except SourceUnavailable as error:
            skipped[family] = str(error)
            print(f"{family}: skipped, {error}", file=sys.stderr)
    return planned + plan_second_copies(planned), skipped


def _draw(job: tuple[Planned, Path]) -> None:
    """Draw one planned file into the corpus folder (run in a worker process)."""
    item, folder = job
    if item.source is None:
        item.draw(folder / item.name)
    else:
        item.draw(folder / item.name, folder / item.source)


def draw_all(planned: list[Planned], folder: Path) -> None:
    """Draw every planned file into ``folder`` on all cores, after removing the family folders
    (a previous build's files must not linger beside the manifest); files drawn from other
    corpus files come second."""
    for family in FAMILY_KINDS:
        shutil.rmtree(folder / family, ignore_errors=True)
    for name in {item.name for item in planned}:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for second in (False, True):
            jobs = [(item, folder) for item in planned if (item.source is not None) == second]
            list(pool.map(_draw, jobs, chunksize=4))


def build_hard_corpus(size: int = 2000, *, seed: int = 0, out: Path = HARD) -> list[HardImage]:
    """The hard-case corpus of about ``size`` images in ``out``, built or reused; sorted by path.

    Args:
        size: target number of files, shared among the families by ``FAMILY_SHARES`` (families
            with a finite source, such as the flags or the stars, stop at its size).
        seed: seed of every sample, label and layout; the same size and seed give the same files.
        out: the corpus folder; ``out/manifest.json`` lists the files relative to it.

    Returns:
        One ``HardImage`` per file. A family whose source is missing (see ``SourceUnavailable``)
        is absent, and named in the manifest's ``skipped``.
    """
    key = {"version": FORMAT_VERSION, "size": size, "seed": seed}
    manifest = out / "manifest.json"
    reused = _reuse(manifest, key)
    if reused is not None:
        return reused
    planned, skipped = plan_corpus(size, seed)
    out.mkdir(parents=True, exist_ok=True)
    draw_all(planned, out)
    images = sorted(
        (
            HardImage(out / p.name, FAMILY_KINDS[p.family], p.family, p.group, split_of(p.group))
            for p in planned
        ),
        key=lambda im: im.path,
    )
    rows = [asdict(im) | {"path": str(im.path.relative_to(out))} for im in images]
    manifest.write_text(json.dumps({"key": key, "skipped": skipped, "images": rows}, indent=1))
    return images


def _reuse(manifest: Path, key: dict[str, int]) -> list[HardImage] | None:
    """The images of a previous build with the same key, if it skipped no family and every file
    is still there; otherwise None."""
    if not manifest.exists():
        return None
    saved = json.loads(manifest.read_text())
    if saved.get("key") != key or saved.get("skipped"):
        return None
    folder = manifest.parent
    images = [HardImage(**row | {"path": folder / row["path"]}) for row in saved["images"]]
    return images if all(im.path.exists() for im in images) else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.hard_corpus", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--size", type=int, default=2000, help="number of images (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the samples and renders")
    parser.add_argument("--out", type=Path, default=HARD, help=f"corpus folder (default {HARD})")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    images = build_hard_corpus(args.size, seed=args.seed, out=args.out)
    megabytes = sum(im.path.stat().st_size for im in images) / 1e6
    print(
        f"{len(images)} images, {megabytes:.0f} MB, {len({im.group for im in images})} pictures, "
        f"in {time.perf_counter() - started:.1f} s → {args.out / 'manifest.json'}"
    )
    print(f"  {'family':16} {'kind':9} {'files':>5} {'groups':>6} {'dev':>4} {'test':>4}")
    for family, kind in FAMILY_KINDS.items():
        members = [im for im in images if im.family == family]
        groups = {im.group: im.split for im in members}
        dev = sum(split == "dev" for split in groups.values())
        print(
            f"  {family:16} {kind:9} {len(members):5} {len(groups):6} {dev:4} {len(groups) - dev:4}"
        )
    for label, counts in (
        ("kind", Counter(im.kind for im in images)),
        ("split", Counter(im.split for im in images)),
    ):
        print(f"  files by {label}: " + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())))


if __name__ == "__main__":
    main(sys.argv[1:])
