"""What the decoder fuzzer checks of each input, and the real seed files it starts from.

``check(data)`` is the fuzz target of ``tests/fuzz_decode.py`` (run under atheris) and of
``tests/test_fuzz.py`` (which replays the inputs the fuzzer once found, ``tests/fuzz_findings/``):
every input must end as hashes (every algorithm, and the content signature) or as one
``ImageError`` of one line. The limits are scaled down so that one input costs at most tens of
milliseconds: ``FUZZ_LIMITS`` sends any image over 0.25 megapixels through the streamed
(libvips) path, up to 4 megapixels, so both decoders are fuzzed.

The seeds are small real files: scikit-image's photographs and drawing, 48 pixels a side, in
every format pixdex decodes, and the edge cases of ``tests/edge_cases.py`` made from them.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from pixdex.decode import Limits, decode_image
from pixdex.errors import ImageError
from pixdex.hashing import ALGORITHMS, get_algorithm
from pixdex.signature import signature

FUZZ_LIMITS = Limits(max_pixels=250_000, max_bytes=1 << 20, max_streamed_pixels=4_000_000)
"""Limits of the fuzzed decodes: see the module docstring."""

MIN_SIDE = max(get_algorithm(a).min_side(get_algorithm(a).default_size) for a in ALGORITHMS)
"""The decode size every algorithm can hash from (what ``hash_files`` asks for)."""

SEED_SIDE = 48
"""Side of the seed images, in pixels: small files mutate and decode fast."""

FORMATS = ("jpeg", "png", "webp", "gif", "bmp", "tiff", "avif", "other")
"""Seed groups: the README's formats, and the other formats Pillow opens (ICO, PPM, TGA, ...)."""


def check(data: bytes) -> None:
    """Decode ``data`` as ``hash_files`` does and compute every hash and the signature from it.

    Inputs of even length are decoded for luma only (``gray``, the path dHash alone takes:
    JPEG straight to "L"), odd ones in colour, so mutations reach both.
    """
    try:
        decoded = decode_image(data, min_side=MIN_SIDE, limits=FUZZ_LIMITS, gray=len(data) % 2 == 0)
    except ImageError as error:
        if "\n" in str(error):
            raise AssertionError(f"an ImageError of several lines: {error!r}") from error
        return
    for name in ALGORITHMS:
        algorithm = get_algorithm(name)
        algorithm.compute(decoded.image, algorithm.default_size)
    signature(decoded.image.convert("RGB"))


def write_seeds(folder: Path) -> dict[str, list[Path]]:
    """Small real images in every format, in ``folder/<group>/`` for each of ``FORMATS``."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        made = _make_seeds(Path(scratch))
        groups: dict[str, list[Path]] = {name: [] for name in FORMATS}
        for path in made:
            group = _group_of(path)
            target = folder / group / f"{path.parent.name}-{path.name}"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            groups[group].append(target)
    return groups


def _make_seeds(folder: Path) -> list[Path]:
    import edge_cases
    import skimage

    data = Path(skimage.__file__).parent / "data"

    def small(name: str) -> Image.Image:
        with Image.open(data / name) as image:
            image.load()
            image.thumbnail((SEED_SIDE, SEED_SIDE))
            return image

    photo, other, drawing, gray = (
        small(n) for n in ("chelsea.png", "coffee.png", "logo.png", "camera.png")
    )
    written = list(edge_cases.make_all(photo, other, drawing, folder / "edge").values())
    made = folder / "made"
    made.mkdir(parents=True, exist_ok=True)
    rgb = photo.convert("RGB")
    extra = [
        ("gray.jpg", gray, "JPEG", {"quality": 80}),
        ("progressive.jpg", rgb, "JPEG", {"progressive": True, "quality": 70}),
        ("gray.webp", gray.convert("RGB"), "WEBP", {"quality": 60}),
        ("alpha.webp", drawing.convert("RGBA"), "WEBP", {"lossless": True}),
        ("palette.gif", drawing.convert("P"), "GIF", {}),
        ("rle.bmp", drawing.convert("P"), "BMP", {}),
        ("rgba.bmp", drawing.convert("RGBA"), "BMP", {}),
        ("cmyk.tif", rgb.convert("CMYK"), "TIFF", {}),
        ("deflate.tif", rgb, "TIFF", {"compression": "tiff_adobe_deflate"}),
        ("jpeg.tif", rgb, "TIFF", {"compression": "jpeg"}),
        ("gray16.tif", gray.convert("I;16"), "TIFF", {}),
        ("float.tif", gray.convert("F"), "TIFF", {}),
        ("rgba.avif", drawing.convert("RGBA"), "AVIF", {"quality": 60}),
        ("icon.ico", drawing.convert("RGBA"), "ICO", {}),
        ("photo.ppm", rgb, "PPM", {}),
        ("photo.tga", rgb, "TGA", {"compression": "tga_rle"}),
        ("photo.pcx", rgb, "PCX", {}),
        ("photo.qoi", rgb, "QOI", {}),
        ("photo.dds", drawing.convert("RGBA"), "DDS", {}),
        ("photo.jp2", rgb, "JPEG2000", {}),
    ]
    for name, image, image_format, options in extra:
        path = made / name
        image.save(path, image_format, **options)
        written.append(path)
    return written


def _group_of(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(16)
    try:
        with Image.open(io.BytesIO(path.read_bytes())) as image:
            found = (image.format or "").lower()
    except Exception:  # broken edge cases (truncated, empty, text) go by their name
        found = path.suffix.lower().lstrip(".")
    aliases = {"jpg": "jpeg", "tif": "tiff", "mpo": "jpeg", "heic": "other"}
    found = aliases.get(found, found)
    if head[4:8] == b"ftyp" and b"avif" in head:
        found = "avif"
    return found if found in FORMATS else "other"
