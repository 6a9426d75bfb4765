"""Where the picture is inside its frame: uniform margins trimmed, the centre cut out.

An added border or a 10 % crop moves the whole picture inside the frame, and a perceptual hash
of the whole frame changes with it (dHash finds about a fifth of such copies at distance 10, see
BENCHMARKS.md). Hashing the picture inside its uniform margins undoes an added border (or a
letterbox, or an icon's empty canvas); hashing its centre meets a cropped copy half way. These
are the pixels-to-pixels steps; ``pixdex.hashing.views`` turns them into hash algorithms.
"""

from __future__ import annotations

from PIL import Image, ImageChops

TRIM_TOLERANCE = 24
"""Largest difference (0-255, any channel) from the background colour still counted as margin:
enough to absorb JPEG noise around a flat frame, far below the contrast of picture content."""
TRIM_MIN_KEPT = 0.1
"""Never trim to less than this fraction of either side: a picture that is nearly all margin
(a blank page, a thin line) is kept whole rather than reduced to a sliver."""


def margin_box(image: Image.Image) -> tuple[int, int, int, int]:
    """The bounding box (left, top, right, bottom) of the picture inside uniform margins.

    The background is the colour of the majority of the four corners (a frame colours them all;
    a picture rarely has three equal corners). Without such a majority, nothing is trimmed.
    Content is every pixel that differs from the background by more than ``TRIM_TOLERANCE`` in
    some channel; the box is computed by Pillow's own operations (difference, channel maximum,
    threshold, bounding box), since every query image is trimmed twice (the trimmed and the
    centre views) and numpy's reduction over three channels cost a search about 2 ms.
    """
    # Look at a copy of at most ~256 pixels per side: margins are wide, and the box is then
    # scaled back, accurate to ``factor`` pixels.
    factor = max(1, max(image.size) // 256)
    rgb = image if image.mode == "RGB" else image.convert("RGB")  # read only: no copy
    small = rgb.reduce(factor) if factor > 1 else rgb
    width, height = small.size
    full = (0, 0, *image.size)
    corners = [small.getpixel((x, y)) for y in (0, height - 1) for x in (0, width - 1)]
    background = max(set(corners), key=corners.count)
    distances = [max(abs(a - b) for a, b in zip(c, background, strict=True)) for c in corners]
    if sum(distance <= TRIM_TOLERANCE for distance in distances) < 3:
        return full
    solid = Image.new("RGB", small.size, background)
    red, green, blue = ImageChops.difference(small, solid).split()
    largest = ImageChops.lighter(ImageChops.lighter(red, green), blue)
    box = largest.point(_CONTENT_LEVELS).getbbox()
    if box is None:
        return full
    left, top, right, bottom = box
    if right - left < TRIM_MIN_KEPT * width or bottom - top < TRIM_MIN_KEPT * height:
        return full
    return (
        left * factor,
        top * factor,
        min(image.width, right * factor),
        min(image.height, bottom * factor),
    )


_CONTENT_LEVELS = [255 if level > TRIM_TOLERANCE else 0 for level in range(256)]
"""``Image.point``'s table: a channel difference above ``TRIM_TOLERANCE`` marks content."""


def trim_margins(image: Image.Image) -> Image.Image:
    """``image`` without its uniform margins (unchanged when it has none)."""
    box = margin_box(image)
    return image if box == (0, 0, *image.size) else image.crop(box)


def centre(image: Image.Image, fraction: float) -> Image.Image:
    """The central part of ``image`` with ``fraction`` of each side cut away."""
    width, height = image.size
    dx, dy = round(width * fraction), round(height * fraction)
    return image.crop((dx, dy, width - dx, height - dy))
