"""Finding image files under folders: recursive, symlink-loop safe, by content as well as name.

A file is an image candidate when its extension is an image extension (it is then indexed even if
its content turns out to be broken, so the failure is reported) or when its first bytes carry an
image format's signature (an extension-less or misnamed image). Hidden files and folders (names
starting with '.') are skipped below the given roots. Symbolic links are followed; every folder is
entered once, identified by (device, inode), so link loops and links back up the tree end.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

IMAGE_EXTENSIONS = frozenset(
    {
        *(".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".gif", ".bmp", ".dib", ".tif", ".tiff"),
        *(".webp", ".heic", ".heif", ".avif", ".ico", ".ppm", ".pgm", ".pbm", ".pnm", ".tga"),
        *(".jp2", ".j2k", ".qoi", ".pcx", ".dds", ".psd"),
    }
)
"""Lower-case extensions indexed without looking at the content."""

# (offset, leading bytes) of the formats Pillow and its HEIF plugin decode.
_SIGNATURES: tuple[tuple[int, bytes], ...] = (
    (0, b"\xff\xd8\xff"),  # JPEG
    (0, b"\x89PNG\r\n\x1a\n"),
    (0, b"GIF87a"),
    (0, b"GIF89a"),
    (0, b"BM"),
    (0, b"II*\x00"),  # TIFF, little-endian
    (0, b"MM\x00*"),  # TIFF, big-endian
    (8, b"WEBP"),  # after "RIFF" and a 4-byte length
    (4, b"ftypheic"),
    (4, b"ftypheix"),
    (4, b"ftypmif1"),
    (4, b"ftypavif"),
    (0, b"\x00\x00\x01\x00"),  # ICO
    (0, b"\x00\x00\x00\x0cjP  "),  # JPEG 2000
    (0, b"qoif"),
    (0, b"8BPS"),  # Photoshop
)
_SNIFF_BYTES = 16

ErrorHandler = Callable[[str, str], None]


@dataclass(frozen=True, slots=True)
class FoundFile:
    """An image candidate: absolute path, byte size and modification time in nanoseconds."""

    path: str
    size: int
    mtime_ns: int


def has_image_signature(path: str) -> bool:
    """True if the file's first bytes are those of an image format (False if it cannot be read)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return False
    return any(head[offset : offset + len(magic)] == magic for offset, magic in _SIGNATURES)


def is_image_candidate(path: str) -> bool:
    """Index this file? Yes for an image extension, else only if its content looks like an image."""
    return os.path.splitext(path)[1].lower() in IMAGE_EXTENSIONS or has_image_signature(path)


def _ignore(path: str, reason: str) -> None:
    """The default error handler: what cannot be read is skipped silently."""


def walk_images(roots: Iterable[str], on_error: ErrorHandler = _ignore) -> Iterator[FoundFile]:
    """Every image candidate under ``roots`` (folders or files), each folder's entries by name.

    A root that is a file is yielded as given, whatever its content: the user named it. Folders
    that cannot be listed, and entries with an image extension that cannot be examined (a
    symbolic link loop, a dangling link), are reported to ``on_error(path, reason)`` and skipped.
    """
    seen_folders: set[tuple[int, int]] = set()
    for root in roots:
        path = os.path.abspath(root)
        try:
            info = os.stat(path)
        except OSError as error:
            on_error(path, error.strerror or str(error))
            continue
        if stat.S_ISDIR(info.st_mode):
            yield from _walk_folder(path, info, seen_folders, on_error)
        elif stat.S_ISREG(info.st_mode):
            yield FoundFile(path, info.st_size, info.st_mtime_ns)


def _walk_folder(
    folder: str,
    info: os.stat_result,
    seen_folders: set[tuple[int, int]],
    on_error: ErrorHandler,
) -> Iterator[FoundFile]:
    # Depth-first with an explicit stack: deep trees cannot hit the recursion limit.
    stack = [(folder, info)]
    while stack:
        folder, info = stack.pop()
        key = (info.st_dev, info.st_ino)
        if key in seen_folders:
            continue
        seen_folders.add(key)
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as error:
            on_error(folder, error.strerror or str(error))
            continue
        subfolders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                entry_info = entry.stat()  # follows symbolic links
            except OSError as error:
                # A symbolic link loop, a dangling link, a file deleted while we walk: reported
                # when its name says image, so that no image candidate vanishes unnoticed.
                if os.path.splitext(entry.name)[1].lower() in IMAGE_EXTENSIONS:
                    on_error(entry.path, error.strerror or str(error))
                continue
            if stat.S_ISDIR(entry_info.st_mode):
                subfolders.append((entry.path, entry_info))
            elif stat.S_ISREG(entry_info.st_mode) and is_image_candidate(entry.path):
                yield FoundFile(entry.path, entry_info.st_size, entry_info.st_mtime_ns)
        # Reversed onto the stack, so subfolders are walked in name order.
        stack.extend(reversed(subfolders))
