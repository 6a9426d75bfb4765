"""A folder of hostile files grown from real images: what ``pixdex index`` must get through.

``build(folder, sources, count, seed)`` writes ``count`` files, each a real image (from
``sources``) or a mutation of one: truncated, bit-flipped, overwritten with noise, with a header
that lies about its size (checksums fixed, so the parser believes it), under another format's
extension, empty, text under an image name, unreadable (mode 000), or named with bytes that are
not UTF-8. Beside them, what a walk must not trip on: symbolic link loops, a dangling link, a
link back up the tree, a named pipe and a folder under image names.

It returns a ``Corpus``: ``files`` are the regular files a run must hash or report (every one of
them), ``broken_links`` the image-named entries it must report as unreadable. The same seed
writes the same corpus.
"""

from __future__ import annotations

import os
import random
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

MUTATIONS = (
    "copy",
    "truncate",
    "bitflip",
    "noise",
    "header",
    "extension",
    "empty",
    "text",
    "unreadable",
)
"""How each file is made (drawn uniformly, except that one file in five is a plain copy)."""

_EXTENSIONS = (".jpg", ".png", ".gif", ".webp", ".tif", ".bmp", ".avif")


@dataclass(frozen=True)
class Corpus:
    """What ``build`` wrote: the regular files (absolute paths, as ``os.fsdecode`` gives them)
    by mutation, and the entries a walk must report as unreadable."""

    files: dict[str, str]
    broken_links: tuple[str, ...]


def build(folder: Path, sources: list[Path], count: int, seed: int = 0) -> Corpus:
    """Write ``count`` hostile files made from ``sources`` into ``folder`` (see module doc)."""
    rng = random.Random(seed)
    originals = [p.read_bytes() for p in sources]
    files: dict[str, str] = {}
    for number in range(count):
        source = rng.randrange(len(sources))
        kind = "copy" if rng.random() < 0.2 else rng.choice(MUTATIONS)
        data, suffix = _mutate(kind, originals[source], sources[source].suffix.lower(), rng)
        sub = folder / f"part{number % 7}"
        sub.mkdir(parents=True, exist_ok=True)
        name = f"{number:05d}-{kind}".encode()
        if rng.random() < 0.1:
            name = b"\xe9t\xe9-" + name + b"\xff"[: rng.randrange(2)]  # not UTF-8
        name += suffix.encode()
        path = os.path.join(os.fsencode(sub), name)
        with open(path, "wb") as handle:
            handle.write(data)
        if kind == "unreadable":
            os.chmod(path, 0)
        files[os.fsdecode(path)] = kind
    return Corpus(files, _traps(folder))


def _traps(folder: Path) -> tuple[str, ...]:
    """Entries a walk must survive; returns those it must report (image-named links that lead
    nowhere)."""
    traps = folder / "traps"
    traps.mkdir()
    os.symlink("loop-b.jpg", traps / "loop-a.jpg")
    os.symlink("loop-a.jpg", traps / "loop-b.jpg")
    os.symlink("missing.png", traps / "dangling.png")
    os.symlink("..", traps / "up")  # a link back up the tree: walked once
    os.mkfifo(traps / "pipe.jpg")  # reading it would block: not a regular file
    (traps / "folder.png").mkdir()
    return tuple(str(traps / n) for n in ("dangling.png", "loop-a.jpg", "loop-b.jpg"))


def _mutate(kind: str, data: bytes, suffix: str, rng: random.Random) -> tuple[bytes, str]:
    """The mutated bytes and the file name's extension."""
    if kind == "truncate":
        return data[: rng.randrange(1, len(data))], suffix
    if kind == "bitflip":
        flipped = bytearray(data)
        for _ in range(rng.randint(1, 32)):
            at = rng.randrange(len(flipped))
            flipped[at] ^= 1 << rng.randrange(8)
        return bytes(flipped), suffix
    if kind == "noise":
        noisy = bytearray(data)
        start = rng.randrange(len(noisy))
        length = min(len(noisy) - start, rng.randint(1, 4096))
        noisy[start : start + length] = rng.randbytes(length)
        return bytes(noisy), suffix
    if kind == "header":
        return _lying_header(data, rng), suffix
    if kind == "extension":
        return data, rng.choice([s for s in _EXTENSIONS if s != suffix])
    if kind == "empty":
        return b"", suffix
    if kind == "text":
        return b"not a picture\n" * rng.randint(1, 500), suffix
    return data, suffix  # copy, unreadable


_SIZES = (0, 1, 7, 65_535, 100_000, 2**31 - 1, 2**32 - 1)


def _lying_header(data: bytes, rng: random.Random) -> bytes:
    """A PNG whose IHDR (CRC fixed) or a JPEG whose frame header declares another size; other
    formats get their first 64 bytes scrambled."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        ihdr = bytearray(data[16:29])
        ihdr[0:8] = struct.pack(">II", rng.choice(_SIZES), rng.choice(_SIZES))
        crc = struct.pack(">I", zlib.crc32(b"IHDR" + bytes(ihdr)) & 0xFFFFFFFF)
        return data[:16] + bytes(ihdr) + crc + data[33:]
    frame = _jpeg_frame(data)
    if frame is not None:
        lied = bytearray(data)
        lied[frame + 5 : frame + 9] = struct.pack(
            ">HH", rng.choice(_SIZES) & 0xFFFF, rng.choice(_SIZES) & 0xFFFF
        )
        return bytes(lied)
    head = bytearray(data[:64])
    rng.shuffle(head)
    return bytes(head) + data[64:]


def _jpeg_frame(data: bytes) -> int | None:
    """Offset of a JPEG's start-of-frame marker, or None."""
    if not data.startswith(b"\xff\xd8"):
        return None
    at = 2
    while at + 4 <= len(data) and data[at] == 0xFF:
        marker = data[at + 1]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return at
        at += 2 + struct.unpack(">H", data[at + 2 : at + 4])[0]
    return None
