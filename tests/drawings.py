"""Drawn test pictures: families of look-alikes that differ in colour, in a detail, or only in
where a small drawing sits on a large canvas."""

from __future__ import annotations

import math
import random

import numpy as np
from PIL import Image, ImageColor, ImageDraw, ImageFont


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


MEMBER_WORDS = "parse lex token stream buffer read write cache index query table store run node"


def class_diagram(seed: int) -> Image.Image:
    """A small class diagram of one fixed template (two rows of three boxes, a name and four
    members each, joined by lines), its labels drawn from ``seed``: each box is as wide as its
    longest label, as graphviz sizes a node, so another seed's labels move the boxes' edges
    a little as well as changing the words."""
    rng = random.Random(seed)
    words = MEMBER_WORDS.split()
    picture = Image.new("RGB", (420, 260), "white")
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=11)
    for row in range(2):
        top, left = 10 + 128 * row, 10
        for column in range(3):
            labels = [rng.choice(words).title() + rng.choice(words).title()]
            labels += [f"+{rng.choice(words)}()" for _ in range(4)]
            right = left + max(draw.textlength(label, font=font) for label in labels) + 10
            draw.rectangle((left, top, right, top + 105), outline="black")
            draw.line((left, top + 20, right, top + 20), fill="black")
            for line, label in enumerate(labels):
                draw.text((left + 5, top + 4 + 22 * line), label, fill="black", font=font)
            if column < 2:
                draw.line((right, top + 52, right + 25, top + 52), fill="black")
            left = right + 25
    return picture


def gradient(left: str, right: str) -> Image.Image:
    """A horizontal gradient from ``left`` to ``right``: the smooth wallpapers whose look-alikes
    differ only in their palette."""
    start = np.array(ImageColor.getrgb(left), np.float64)
    end = np.array(ImageColor.getrgb(right), np.float64)
    share = np.linspace(0.0, 1.0, 480)[np.newaxis, :, np.newaxis]
    row = np.rint(start + share * (end - start)).astype(np.uint8)
    return Image.fromarray(np.repeat(row, 320, axis=0), "RGB")
