"""Drawn test pictures: families of look-alikes that differ in colour, in a detail, or only in
where a small drawing sits on a large canvas."""

from __future__ import annotations

import math

from PIL import Image, ImageDraw


def tricolour(colours: tuple[str, str, str]) -> Image.Image:
    """A flag of three vertical bands: a family whose members differ only in colour."""
    flag = Image.new("RGB", (480, 320))
    draw = ImageDraw.Draw(flag)
    for band, colour in enumerate(colours):
        draw.rectangle([band * 160, 0, band * 160 + 159, 319], fill=colour)
    return flag


def star(points: int, fill: str = "#1e3cc8", outline: bool = False) -> Image.Image:
    """A star on white, filled with ``fill`` (or drawn in it as a thick ``outline``): families
    whose members differ in their point count, or only in their colour."""
    image = Image.new("RGB", (400, 400), "white")
    corners = [
        (
            200 + (170 if k % 2 == 0 else 70) * math.cos(math.pi * k / points - math.pi / 2),
            200 + (170 if k % 2 == 0 else 70) * math.sin(math.pi * k / points - math.pi / 2),
        )
        for k in range(2 * points)
    ]
    if outline:
        ImageDraw.Draw(image).polygon(corners, outline=fill, width=8)
    else:
        ImageDraw.Draw(image).polygon(corners, fill=fill)
    return image


def on_canvas(drawing: Image.Image, position: tuple[int, int]) -> Image.Image:
    """A small drawing on a large white canvas: mostly white pictures that hash alike."""
    canvas = Image.new("RGB", (1200, 900), "white")
    canvas.paste(drawing.resize((120, 120)), position)
    return canvas
