"""A real, mixed test corpus of images, built on demand into ``.cache/corpus/`` (ignored by git).

    python -m benchmarks.corpus [--size 1000] [--huge]

What goes in (for ``--size N``; the shares are targets, met as far as the sources allow):

- ``jpeg-photo`` (N/2): the Debian wallpaper packages' JPEGs, scikit-image's JPEG photos, and
  ~4-megapixel JPEG crops and rescales of every wallpaper at qualities 50-95, so there are hundreds
  of photo-like JPEGs of a realistic size and encoding;
- ``png`` / ``png-transparent`` / ``webp``: the wallpapers' own PNG and WebP files and
  scikit-image's PNG samples (photos, microscopy, text pages);
- ``figure`` (N/20): documentation-figure-like renders (bar charts, line plots, box diagrams with
  labels) on white: the mostly-white pictures that make perceptual hashes collide;
- ``png-transparent`` / ``png`` icons (the rest): a seeded sample of ``/usr/share/icons/**.png``,
  many of them the same drawing at several sizes;
- ``png-huge`` (only with ``--huge``): one PNG of ≥ 100 megapixels tiled from a wallpaper, for
  memory-bound tests.

Each image carries a ``group``: images that are legitimately the same picture (a wallpaper and its
screenshot, its dark variant or its other resolutions; an icon at 16 and 48 pixels) share one, so
an evaluation can tell a true near-duplicate from a false match. The manifest
``.cache/corpus/manifest.json`` lists path, kind, source and group. A re-run with the same
arguments only checks that the files exist.

The wallpapers are fetched with ``apt-get download`` and unpacked with ``dpkg -x`` (no install,
no root needed for either once the package lists exist); ``apt-get update`` runs once if the
download fails.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".cache"
CORPUS = CACHE / "corpus"
MANIFEST = CORPUS / "manifest.json"
WALLPAPER_PACKAGES = [
    "gnome-backgrounds",
    "mate-backgrounds",
    "plasma-workspace-wallpapers",
    "ukui-wallpapers",
    "sway-backgrounds",
]
ICON_ROOT = Path("/usr/share/icons")
RASTER_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
PHOTO_PIXELS = 4_000_000
"""Target size of the generated JPEG crops: a typical phone or camera photo (pixels)."""
HUGE_SIDE = 10_240
"""Side of the optional huge PNG: 10,240² ≈ 105 megapixels."""
FORMAT_VERSION = 2


@dataclass(frozen=True)
class CorpusImage:
    """One corpus file: ``kind`` is one of jpeg-photo, png, png-transparent, webp, figure,
    png-huge; ``source`` says where it came from; ``group`` names the picture it shows."""

    path: Path
    kind: str
    source: str
    group: str


def skimage_data() -> Path:
    """scikit-image's bundled sample images (a dev/benchmark dependency)."""
    import skimage

    return Path(skimage.__file__).parent / "data"


# ----------------------------------------------------------------------------- sources


def fetch_wallpapers(cache: Path = CACHE) -> Path:
    """Download and unpack the Debian wallpaper packages once; returns the unpacked root."""
    root = cache / "wall"
    done = root / ".unpacked"
    if done.exists():
        return root
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    download = ["apt-get", "download", *WALLPAPER_PACKAGES]
    if subprocess.run(download, cwd=debs, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update"], check=True, capture_output=True)
        subprocess.run(download, cwd=debs, check=True, capture_output=True)
    for deb in sorted(debs.glob("*.deb")):
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    done.touch()
    return root


def wallpaper_group(path: Path) -> str:
    """The picture a wallpaper file shows: its Plasma theme folder, or its name without the
    resolution, orientation and light/dark suffixes."""
    parts = path.parts
    if "wallpapers" in parts and "contents" in parts:
        return "wall:" + parts[parts.index("contents") - 1]
    stem = path.stem
    stem = re.sub(r"_\d+x\d+", "", stem)
    stem = re.sub(r"([-_](l|d|dark|light|portrait|Portrait))+$", "", stem)
    return "wall:" + stem


def wallpapers(root: Path) -> list[Path]:
    """Every raster wallpaper file, sorted; tiny placeholder files (< 10 kB) left out."""
    return sorted(
        p
        for p in (root / "usr" / "share").rglob("*")
        if p.suffix.lower() in RASTER_SUFFIXES and p.is_file() and p.stat().st_size > 10_000
    )


def icon_paths() -> list[Path]:
    """Every PNG icon on the machine, sorted (the sample is seeded, so the order must be fixed)."""
    if not ICON_ROOT.exists():
        return []
    return sorted(p for p in ICON_ROOT.rglob("*.png") if p.is_file() and not p.is_symlink())


def icon_group(path: Path) -> str:
    """The drawing an icon file shows: its theme and name (the same drawing at every size)."""
    return f"icon:{path.relative_to(ICON_ROOT).parts[0]}/{path.stem}"


def has_alpha(path: Path) -> bool:
    """Whether an image file declares transparency (reads the header only)."""
    with Image.open(path) as image:
        return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def file_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jpg", ".jpeg"):
        return "jpeg-photo"
    if suffix == ".webp":
        return "webp"
    return "png-transparent" if has_alpha(path) else "png"


# ----------------------------------------------------------------------------- generated files


def crop_boxes(width: int, height: int) -> list[tuple[str, tuple[int, int, int, int]]]:
    """Named crop regions of a picture, in the order variants are drawn: the full frame (a
    re-encoded copy), the four quadrants, then the 3 × 3 ninths (mostly distinct views)."""
    boxes = [("full", (0, 0, width, height))]
    for row in range(2):
        for col in range(2):
            box = (
                col * width // 2,
                row * height // 2,
                (col + 1) * width // 2,
                (row + 1) * height // 2,
            )
            boxes.append((f"q{row}{col}", box))
    for row in range(3):
        for col in range(3):
            box = (
                col * width // 3,
                row * height // 3,
                (col + 1) * width // 3,
                (row + 1) * height // 3,
            )
            boxes.append((f"n{row}{col}", box))
    return boxes


def photo_variant(
    image: Image.Image, box: tuple[int, int, int, int], out: Path, quality: int
) -> None:
    """Crop ``box`` from ``image``, rescale it to about ``PHOTO_PIXELS`` and save as JPEG."""
    region = image.crop(box)
    scale = (PHOTO_PIXELS / (region.width * region.height)) ** 0.5
    size = (max(1, round(region.width * scale)), max(1, round(region.height * scale)))
    region.resize(size, Image.Resampling.LANCZOS).save(out, format="JPEG", quality=quality)


def render_figure(seed: int, out: Path) -> None:
    """A documentation-figure-like PNG: a bar chart, a line plot or a box-and-arrow diagram with
    axes and labels, black and a few colours on white."""
    rng = random.Random(seed)
    width, height = rng.choice([(800, 600), (1024, 768), (640, 480), (1200, 500)])
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(12, height // 30))
    palette = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189)]
    left, top, right, bottom = 80, 60, width - 40, height - 70
    style = ("bars", "lines", "diagram")[seed % 3]
    draw.text((left, 20), f"Figure {seed}: {style} of measured values", fill="black", font=font)
    if style == "diagram":
        boxes = rng.randint(3, 6)
        span = (right - left) // boxes
        for i in range(boxes):
            x0 = left + i * span + 10
            y0 = rng.randint(top, bottom - 80)
            draw.rectangle([x0, y0, x0 + span - 40, y0 + 60], outline="black", width=2)
            draw.text((x0 + 8, y0 + 20), f"stage {i + 1}", fill="black", font=font)
            if i:
                draw.line([x0 - 30, y0 + 30, x0, y0 + 30], fill="black", width=2)
        image.save(out, format="PNG")
        return
    draw.line([left, top, left, bottom, right, bottom], fill="black", width=2)
    for tick in range(6):
        y = bottom - tick * (bottom - top) // 5
        draw.line([left - 6, y, left, y], fill="black")
        draw.text((left - 40, y - 8), f"{tick * 20}", fill="black", font=font)
    series = rng.randint(1, 3)
    points = rng.randint(4, 12)
    step = (right - left) // points
    for s in range(series):
        values = [rng.random() for _ in range(points)]
        colour = palette[(seed + s) % len(palette)]
        if style == "bars":
            bar = max(2, step // (series + 1))
            for i, v in enumerate(values):
                x0 = left + i * step + s * bar + 4
                draw.rectangle([x0, bottom - v * (bottom - top), x0 + bar - 2, bottom], fill=colour)
        else:
            xy = [
                (left + i * step + step // 2, bottom - v * (bottom - top))
                for i, v in enumerate(values)
            ]
            draw.line(xy, fill=colour, width=3)
    for i in range(points):
        draw.text((left + i * step + 4, bottom + 8), f"x{i}", fill="black", font=font)
    image.save(out, format="PNG")


def build_huge_png(source: Path, out: Path, side: int = HUGE_SIDE) -> None:
    """A ``side`` × ``side`` PNG tiled from ``source`` (alternate tiles mirrored so the seams
    look natural); written with fast compression, it takes a minute and ~300 MB of memory."""
    with Image.open(source) as opened:
        tile = opened.convert("RGB")
    canvas = Image.new("RGB", (side, side))
    mirrored = tile.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    for row, y in enumerate(range(0, side, tile.height)):
        for col, x in enumerate(range(0, side, tile.width)):
            canvas.paste(mirrored if (row + col) % 2 else tile, (x, y))
    canvas.save(out, format="PNG", compress_level=1)


# ----------------------------------------------------------------------------- the corpus


def _copy(source: Path, out: Path) -> Path:
    if not out.exists() or out.stat().st_size != source.stat().st_size:
        shutil.copyfile(source, out)
    return out


def _safe_name(path: Path, root: Path) -> str:
    return "_".join(path.relative_to(root).parts)


def _collect(size: int, seed: int, huge: bool) -> list[CorpusImage]:
    wall_root = fetch_wallpapers()
    data = skimage_data()
    images: list[CorpusImage] = []
    (CORPUS / "photos").mkdir(parents=True, exist_ok=True)
    for sub in ("wallpapers", "samples", "figures", "icons"):
        (CORPUS / sub).mkdir(exist_ok=True)

    # Real files as they come: wallpapers and scikit-image's samples.
    walls = wallpapers(wall_root)
    for path in walls:
        out = _copy(path, CORPUS / "wallpapers" / _safe_name(path, wall_root / "usr" / "share"))
        images.append(
            CorpusImage(
                out, file_kind(out), f"debian:{path.relative_to(wall_root)}", wallpaper_group(path)
            )
        )
    for path in sorted(data.glob("*")):
        if path.suffix.lower() in RASTER_SUFFIXES:
            out = _copy(path, CORPUS / "samples" / path.name)
            images.append(
                CorpusImage(out, file_kind(out), f"skimage:{path.name}", f"skimage:{path.stem}")
            )

    # ~4 MP JPEG crops of the largest file of each wallpaper picture, round robin over pictures.
    photo_target = size // 2 - sum(im.kind == "jpeg-photo" for im in images)
    largest: dict[str, Path] = {}
    for path in walls:
        with Image.open(path) as opened:
            pixels = opened.width * opened.height
        group = wallpaper_group(path)
        if pixels >= 1_500_000 and (group not in largest or pixels > _pixels(largest[group])):
            largest[group] = path
    sources = [largest[g] for g in sorted(largest)]
    qualities = [95, 90, 85, 75, 60, 50]
    planned = []
    for round_ in range(len(crop_boxes(1, 1))):
        for index, path in enumerate(sources):
            if len(planned) >= photo_target:
                break
            planned.append((path, round_, qualities[(index + round_) % len(qualities)]))
    for path, images_of_source in _by_source(planned).items():
        group = wallpaper_group(path)
        outs = {
            (r, q): CORPUS / "photos" / f"{group[5:]}.{crop_boxes(1, 1)[r][0]}.q{q}.jpg"
            for r, q in images_of_source
        }
        missing = [key for key, out in outs.items() if not out.exists()]
        if missing:
            with Image.open(path) as opened:
                picture = opened.convert("RGB")
            boxes = crop_boxes(picture.width, picture.height)
            for r, q in missing:
                photo_variant(picture, boxes[r][1], outs[(r, q)], q)
        for (r, q), out in outs.items():
            label = crop_boxes(1, 1)[r][0]
            # The full frame shows the wallpaper itself; each crop is a picture of its own.
            crop_group = group if label == "full" else f"{group}#{label}"
            images.append(
                CorpusImage(out, "jpeg-photo", f"crop {label} q{q} of {path.name}", crop_group)
            )

    for index in range(max(1, size // 20)):
        out = CORPUS / "figures" / f"figure-{index:03d}.png"
        if not out.exists():
            render_figure(seed * 1000 + index, out)
        images.append(
            CorpusImage(out, "figure", f"render seed {seed * 1000 + index}", f"figure:{index}")
        )

    # Icons fill the rest: a seeded sample, so the same size always gives the same corpus.
    icons = icon_paths()
    wanted = max(0, size - len(images))
    for path in random.Random(seed).sample(icons, min(wanted, len(icons))):
        out = _copy(path, CORPUS / "icons" / _safe_name(path, ICON_ROOT))
        images.append(
            CorpusImage(
                out, file_kind(out), f"icon:{path.relative_to(ICON_ROOT)}", icon_group(path)
            )
        )

    if huge:
        out = CORPUS / f"huge-{HUGE_SIDE}.png"
        if not out.exists():
            build_huge_png(sources[0], out)
        images.append(CorpusImage(out, "png-huge", f"tiled from {sources[0].name}", "huge"))
    return images


def _pixels(path: Path) -> int:
    with Image.open(path) as opened:
        return opened.width * opened.height


def _by_source(planned: list[tuple[Path, int, int]]) -> dict[Path, list[tuple[int, int]]]:
    grouped: dict[Path, list[tuple[int, int]]] = {}
    for path, round_, quality in planned:
        grouped.setdefault(path, []).append((round_, quality))
    return grouped


def build_corpus(size: int = 1000, *, seed: int = 0, huge: bool = False) -> list[CorpusImage]:
    """The corpus of about ``size`` images (more if the fixed real files outnumber it), built or
    reused; sorted by path."""
    key = {"version": FORMAT_VERSION, "size": size, "seed": seed, "huge": huge}
    if MANIFEST.exists():
        saved = json.loads(MANIFEST.read_text())
        if saved.get("key") == key:
            images = [
                CorpusImage(REPO / d["path"], d["kind"], d["source"], d["group"])
                for d in saved["images"]
            ]
            if all(im.path.exists() for im in images):
                return images
    images = sorted(_collect(size, seed, huge), key=lambda im: im.path)
    rows = [asdict(im) | {"path": str(im.path.relative_to(REPO))} for im in images]
    MANIFEST.write_text(json.dumps({"key": key, "images": rows}, indent=1))
    return images


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.corpus", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--size", type=int, default=1000, help="number of images (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the icon sample and renders")
    parser.add_argument("--huge", action="store_true", help="add one ≥ 100-megapixel PNG")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    images = build_corpus(args.size, seed=args.seed, huge=args.huge)
    kinds: dict[str, int] = {}
    for image in images:
        kinds[image.kind] = kinds.get(image.kind, 0) + 1
    megabytes = sum(im.path.stat().st_size for im in images) / 1e6
    print(
        f"{len(images)} images, {megabytes:.0f} MB, {len({im.group for im in images})} pictures, "
        f"in {time.perf_counter() - started:.1f} s → {MANIFEST}"
    )
    for kind, count in sorted(kinds.items()):
        print(f"  {kind:16} {count}")


if __name__ == "__main__":
    main(sys.argv[1:])
