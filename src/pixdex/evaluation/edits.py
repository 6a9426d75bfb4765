"""Edited copies of an image: the ground truth of "near-duplicate".

Every edit is a function ``(image, rng) -> image`` on RGB PIL images; ``rng`` is a
``numpy.random.Generator`` and the only source of randomness, so a seed fixes the result. Sizes
are relative to the image (a fraction of the shorter side) so the same edit means the same thing
for a 64-pixel icon and a 4K wallpaper.

The set follows the original design's demo (a small filled red square in a corner, found at
distance 4; large coloured shapes plus red text, found at distance 9) and the everyday edits people
make before re-posting a picture: resize, low-quality JPEG, crop, brightness, contrast, blur,
grayscale, added border, aspect-ratio squash, mirror, 90° rotation.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

Edit = Callable[[Image.Image, np.random.Generator], Image.Image]

RED = (220, 20, 30)


def _short_side(image: Image.Image) -> int:
    return min(image.size)


def identity(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """An unchanged copy: the control every measurement starts from (distance 0)."""
    return image.copy()


def red_square(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A filled red square, 1/8 of the shorter side, in a corner the seed picks.

    The original design's first demo edit: a sticker or watermark covering about 1.5 % of the
    picture, inset from the edge by a quarter of its side.
    """
    out = image.copy()
    width, height = out.size
    side = max(2, _short_side(out) // 8)
    inset = side // 4
    right, bottom = rng.integers(0, 2, size=2)
    left = width - inset - side if right else inset
    top = height - inset - side if bottom else inset
    ImageDraw.Draw(out).rectangle([left, top, left + side - 1, top + side - 1], fill=RED)
    return out


def shapes_and_text(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Large coloured shapes (an ellipse, a rectangle, a triangle) plus a line of red text.

    The original design's second demo edit: each shape spans about a quarter of the shorter
    side, placed and coloured by the seed, and the caption is 1/10 of the height tall.
    """
    out = image.copy()
    draw = ImageDraw.Draw(out)
    width, height = out.size
    side = max(4, _short_side(out) // 4)
    for shape in ("ellipse", "rectangle", "triangle"):
        left = int(rng.integers(0, max(1, width - side)))
        top = int(rng.integers(0, max(1, height - side)))
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        box = [left, top, left + side - 1, top + side - 1]
        if shape == "ellipse":
            draw.ellipse(box, fill=colour)
        elif shape == "rectangle":
            draw.rectangle(box, fill=colour)
        else:
            draw.polygon(
                [
                    (left, top + side - 1),
                    (left + side // 2, top),
                    (left + side - 1, top + side - 1),
                ],
                fill=colour,
            )
    # Pillow's bundled font (FreeType, no system font needed): works offline and on CI.
    font = ImageFont.load_default(size=max(8, height // 10))
    text_left = int(rng.integers(0, max(1, width // 3)))
    text_top = int(rng.integers(height // 2, max(height // 2 + 1, height - height // 8)))
    draw.text((text_left, text_top), "COPY 2024", fill=RED, font=font)
    return out


def resize_half(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Half the width and height (Lanczos): a thumbnail or a re-posted smaller copy."""
    width, height = image.size
    return image.resize((max(1, width // 2), max(1, height // 2)), Image.Resampling.LANCZOS)


def jpeg_q30(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Re-encoded as JPEG at quality 30 (blocking, colour bleeding) and decoded again."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=30)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return decoded.convert("RGB")


def _crop(fraction: float) -> Edit:
    def crop(image: Image.Image, rng: np.random.Generator) -> Image.Image:
        width, height = image.size
        dx, dy = round(width * fraction), round(height * fraction)
        return image.crop((dx, dy, width - dx, height - dy))

    crop.__doc__ = f"{fraction:.0%} cut from every side (the centre {1 - 2 * fraction:.0%} kept)."
    return crop


def brightness(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """30 % brighter (every channel × 1.3, clipped)."""
    return ImageEnhance.Brightness(image).enhance(1.3)


def contrast(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """40 % more contrast around the mean grey."""
    return ImageEnhance.Contrast(image).enhance(1.4)


def blur(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Gaussian blur of radius 1/200 of the shorter side (8 px on a 1600-pixel-tall photo)."""
    return image.filter(ImageFilter.GaussianBlur(radius=max(1.0, _short_side(image) / 200)))


def grayscale(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Colour removed (ITU-R 601 luma), stored as RGB again like a re-saved file would be."""
    return image.convert("L").convert("RGB")


def border(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A white frame 1/16 of the shorter side wide added around the picture (canvas grows)."""
    return ImageOps.expand(image, border=max(1, _short_side(image) // 16), fill=(255, 255, 255))


def squash(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Aspect ratio changed: width × 0.75, height kept (a stretched re-upload)."""
    width, height = image.size
    return image.resize((max(1, round(width * 0.75)), height), Image.Resampling.LANCZOS)


def mirror(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Flipped left to right."""
    return ImageOps.mirror(image)


def rotate_90(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Rotated a quarter turn counter-clockwise (lossless transpose)."""
    return image.transpose(Image.Transpose.ROTATE_90)


EDITS: dict[str, Edit] = {
    "identity": identity,
    "red-square": red_square,
    "shapes-text": shapes_and_text,
    "resize-50": resize_half,
    "jpeg-30": jpeg_q30,
    "crop-5": _crop(0.05),
    "crop-10": _crop(0.10),
    "brightness": brightness,
    "contrast": contrast,
    "blur": blur,
    "grayscale": grayscale,
    "border": border,
    "squash": squash,
    "mirror": mirror,
    "rotate-90": rotate_90,
}
"""Every edit by name; ``identity`` is the control."""


def apply_edit(name: str, image: Image.Image, seed: int = 0) -> Image.Image:
    """The edit called ``name`` applied to an RGB copy of ``image``, reproducible for ``seed``."""
    try:
        edit = EDITS[name]
    except KeyError:
        known = ", ".join(EDITS)
        raise ValueError(f"unknown edit {name!r}; choose one of: {known}") from None
    return edit(image.convert("RGB"), np.random.default_rng(seed))


def load_rgb(path: str | Path, max_side: int = 0) -> Image.Image:
    """An image file as the RGB picture a person sees: first frame, EXIF orientation applied,
    transparency composited onto white; shrunk (Lanczos) to at most ``max_side`` pixels per side
    when ``max_side`` > 0.

    The same normalisation the decoder gives the hashes, kept here so the edits work on what the
    viewer sees (an edit of an icon's transparent pixels would be invisible).
    """
    with Image.open(path) as opened:
        if max_side and opened.format == "JPEG":
            # Reduced-scale DCT decode: a 4K photo shrinks 4-8× almost for free.
            opened.draft("RGB", (max_side, max_side))
        image = ImageOps.exif_transpose(opened)
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            rgba = image.convert("RGBA")
            image = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            image.alpha_composite(rgba)
        image = image.convert("RGB")
    if max_side and max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return image


def write_edited_copies(
    source: str | Path,
    folder: str | Path,
    names: list[str] | None = None,
    seed: int = 0,
) -> dict[str, Path]:
    """Save edited copies of the file ``source`` as ``folder/STEM.EDIT.png``; paths by edit name.

    PNG keeps each copy exactly as the edit made it (the JPEG edit's artefacts are already in
    its pixels), so reading a copy back gives the same hash as hashing it in memory.
    """
    source, folder = Path(source), Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    image = load_rgb(source)
    written = {}
    for name in names if names is not None else list(EDITS):
        path = folder / f"{source.stem}.{name}.png"
        apply_edit(name, image, seed).save(path, format="PNG", compress_level=1)
        written[name] = path
    return written
