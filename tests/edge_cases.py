"""Edge-case image files made at test time from real photographs.

Each function writes one kind of file that real collections contain and naive pipelines get wrong
(sideways photos with an EXIF orientation tag, CMYK JPEGs, 16-bit and 1-bit PNGs, transparent
clip-art, animated GIFs) or that must fail cleanly (truncated, empty, text named .jpg, a header
declaring 10 gigapixels). ``make_all`` writes the whole set into one folder.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

EXIF_ORIENTATION = 0x0112

# Stored pixels for an EXIF orientation: the tag says how to turn them upright, so the file holds
# the upright picture turned the other way.
_STORED_FOR_ORIENTATION = {
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_90,  # viewer rotates 90° clockwise
    8: Image.Transpose.ROTATE_270,  # viewer rotates 90° counter-clockwise
}


def upright_jpeg(photo: Image.Image, path: Path) -> Path:
    """The photo as a plain JPEG (quality 95), no orientation tag."""
    photo.convert("RGB").save(path, "JPEG", quality=95)
    return path


def exif_rotated_jpeg(photo: Image.Image, path: Path, orientation: int) -> Path:
    """A JPEG storing the photo turned sideways, with the EXIF tag that turns it back upright."""
    stored = photo.convert("RGB").transpose(_STORED_FOR_ORIENTATION[orientation])
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    stored.save(path, "JPEG", quality=95, exif=exif.tobytes())
    return path


def cmyk_jpeg(photo: Image.Image, path: Path) -> Path:
    """A CMYK JPEG (as print workflows and Photoshop write them)."""
    photo.convert("RGB").convert("CMYK").save(path, "JPEG", quality=95)
    return path


def gray16_png(photo: Image.Image, path: Path) -> Path:
    """A 16-bit grayscale PNG: each 8-bit level v stored as v × 257 (full 16-bit range)."""
    gray = np.asarray(photo.convert("L"), dtype=np.uint16) * 257
    Image.fromarray(gray).save(path, "PNG")
    assert Image.open(path).mode.startswith("I"), "Pillow should read this as a 16-bit image"
    return path


def rgb16_png(photo: Image.Image, path: Path) -> Path:
    """A 16-bit-per-channel RGB PNG (Pillow cannot write one; OpenCV can)."""
    rgb = np.asarray(photo.convert("RGB"), dtype=np.uint16) * 257
    assert cv2.imwrite(str(path), np.ascontiguousarray(rgb[..., ::-1]))
    return path


def bilevel_png(photo: Image.Image, path: Path) -> Path:
    """A 1-bit (black/white, dithered) PNG."""
    photo.convert("L").convert("1").save(path, "PNG")
    return path


def clipart_rgba(photo: Image.Image) -> Image.Image:
    """Clip-art from a real drawing: its near-white background made transparent *and black*.

    Exporters often store transparent pixels as (0, 0, 0, 0): a pipeline that drops alpha sees
    the drawing on black instead of on white.
    """
    rgba = np.asarray(photo.convert("RGBA")).copy()
    background = rgba[..., :3].min(axis=-1) > 240
    rgba[background] = 0
    return Image.fromarray(rgba, mode="RGBA")


def silhouette_rgba(photo: Image.Image) -> Image.Image:
    """A black silhouette on a transparent black background: the photo's dark half as the shape.

    With alpha dropped the whole picture is black (dHash 0); composited onto white it is a shape.
    """
    gray = np.asarray(photo.convert("L"))
    rgba = np.zeros((*gray.shape, 4), dtype=np.uint8)
    rgba[..., 3] = np.where(gray < np.median(gray), 255, 0)
    return Image.fromarray(rgba, mode="RGBA")


def rgba_png(image: Image.Image, path: Path) -> Path:
    image.save(path, "PNG")
    return path


def la_png(image: Image.Image, path: Path) -> Path:
    """Grayscale with alpha."""
    image.convert("LA").save(path, "PNG")
    return path


def palette_transparent_png(image: Image.Image, path: Path) -> Path:
    """A palette PNG whose transparent pixels use one palette entry (GIF-style transparency)."""
    rgba = np.asarray(image.convert("RGBA"))
    palette = image.convert("RGB").quantize(colors=255)
    indices = np.asarray(palette).copy()
    indices[rgba[..., 3] < 128] = 255
    out = Image.fromarray(indices, mode="P")
    colours = palette.getpalette()[: 255 * 3]
    out.putpalette([*colours, *[0] * (256 * 3 - len(colours))])  # entry 255: transparent black
    out.save(path, "PNG", transparency=255)
    assert Image.open(path).mode == "P" and "transparency" in Image.open(path).info
    return path


def animated_gif(first: Image.Image, second: Image.Image, path: Path) -> Path:
    """A two-frame animated GIF: ``first`` then ``second`` (resized to the first's size)."""
    frames = [first.convert("RGB"), second.convert("RGB").resize(first.size)]
    frames[0].save(path, "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0)
    return path


def still_gif(photo: Image.Image, path: Path) -> Path:
    """The photo as a single-frame GIF (same palette quantisation as an animation's frame 0)."""
    photo.convert("RGB").save(path, "GIF")
    return path


def saved_as(photo: Image.Image, path: Path, image_format: str, **options) -> Path:
    """The photo written losslessly in another container: BMP, TIFF, lossless WebP, PNG."""
    photo.convert("RGB").save(path, image_format, **options)
    return path


def truncated(source: Path, path: Path, keep: float = 0.5) -> Path:
    """The first ``keep`` fraction of a real image file."""
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def zero_byte(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def text_named_jpg(path: Path) -> Path:
    """A text file with an image's extension."""
    path.write_text("This is not a picture, only text saved with a .jpg name.\n" * 20)
    return path


def png_header(path: Path, width: int, height: int) -> Path:
    """A valid PNG signature and IHDR declaring ``width`` × ``height`` RGB pixels, tiny IDAT.

    A decompression bomb in spirit: a few dozen bytes that ask for gigabytes once decoded.
    """

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    return path


def heic_header(path: Path) -> Path:
    """The first box of a HEIC file (ISO base media 'ftyp', brand 'heic'): what identifies one."""
    ftyp = b"ftyp" + b"heic" + struct.pack(">I", 0) + b"mif1heic"
    path.write_bytes(struct.pack(">I", 4 + len(ftyp)) + ftyp + b"\x00" * 64)
    return path


def make_all(photo: Image.Image, other: Image.Image, drawing: Image.Image, folder: Path) -> dict:
    """Write every edge case into ``folder``; returns name → path.

    ``photo`` and ``other`` are two different real colour photographs; ``drawing`` a real drawing
    on a white background (for the clip-art cases).
    """
    folder.mkdir(parents=True, exist_ok=True)
    clipart = clipart_rgba(drawing)
    files = {
        "upright.jpg": upright_jpeg(photo, folder / "upright.jpg"),
        "orientation3.jpg": exif_rotated_jpeg(photo, folder / "orientation3.jpg", 3),
        "orientation6.jpg": exif_rotated_jpeg(photo, folder / "orientation6.jpg", 6),
        "orientation8.jpg": exif_rotated_jpeg(photo, folder / "orientation8.jpg", 8),
        "photo.png": saved_as(photo, folder / "photo.png", "PNG"),
        "photo.bmp": saved_as(photo, folder / "photo.bmp", "BMP"),
        "photo.tif": saved_as(photo, folder / "photo.tif", "TIFF", compression="tiff_lzw"),
        "photo.webp": saved_as(photo, folder / "photo.webp", "WEBP", lossless=True),
        "photo.avif": saved_as(photo, folder / "photo.avif", "AVIF", quality=90),
        "cmyk.jpg": cmyk_jpeg(photo, folder / "cmyk.jpg"),
        "gray.png": saved_as(photo.convert("L"), folder / "gray.png", "PNG"),
        "gray16.png": gray16_png(photo, folder / "gray16.png"),
        "rgb16.png": rgb16_png(photo, folder / "rgb16.png"),
        "bilevel.png": bilevel_png(photo, folder / "bilevel.png"),
        "clipart.png": rgba_png(clipart, folder / "clipart.png"),
        "clipart_la.png": la_png(clipart, folder / "clipart_la.png"),
        "clipart_palette.png": palette_transparent_png(clipart, folder / "clipart_palette.png"),
        "silhouette.png": rgba_png(silhouette_rgba(photo), folder / "silhouette.png"),
        "silhouette_other.png": rgba_png(silhouette_rgba(other), folder / "silhouette_other.png"),
        "animated.gif": animated_gif(photo, other, folder / "animated.gif"),
        "still.gif": still_gif(photo, folder / "still.gif"),
        "other.gif": still_gif(other.resize(photo.size), folder / "other.gif"),
        "zero.jpg": zero_byte(folder / "zero.jpg"),
        "text.jpg": text_named_jpg(folder / "text.jpg"),
        "bomb.png": png_header(folder / "bomb.png", 100_000, 100_000),
        "over_limit.png": png_header(folder / "over_limit.png", 12_000, 12_000),
        "photo.heic": heic_header(folder / "photo.heic"),
    }
    files["truncated.jpg"] = truncated(files["upright.jpg"], folder / "truncated.jpg")
    files["truncated.png"] = truncated(files["photo.png"], folder / "truncated.png")
    return files
