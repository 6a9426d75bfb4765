"""Thumbnails of catalogued images: made on demand, kept in a memory cache bounded in bytes.

A results page shows dozens of thumbnails and the same ones again on every re-query, so each is
made once (decoding a 4K JPEG at a reduced DCT scale takes a few milliseconds; a large PNG far
more) and kept. The cache lives in memory rather than beside the catalog: it leaves nothing to
clean up, and the key includes the file's size and modification time, so a file changed since
indexing never shows a stale picture.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from typing import NamedTuple

from pixdex.decode import DEFAULT_LIMITS, Limits, load_image

THUMBNAIL_PX = 256
"""Default longest side of a thumbnail, in pixels."""

JPEG_QUALITY = 82


class ThumbnailKey(NamedTuple):
    """What a thumbnail depends on: the file (id, bytes, mtime in ns) and the side in pixels."""

    file_id: int
    size: int
    mtime_ns: int
    side: int


def make_thumbnail(path: str, side: int, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """A JPEG of the image at ``path`` whose longest side is at most ``side`` pixels.

    The decoder applies EXIF orientation, composites transparency onto white and reduces large
    images while decoding; raises ``ImageError`` when the file cannot be decoded.
    """
    image = load_image(path, min_side=side, limits=limits)
    image.thumbnail((side, side))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


class ThumbnailCache:
    """Least-recently-used thumbnails, at most ``max_bytes`` bytes of JPEG data in all."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[ThumbnailKey, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def bytes(self) -> int:
        """The JPEG bytes held now."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: ThumbnailKey) -> bytes | None:
        """The cached thumbnail, now the most recently used; None when not cached."""
        with self._lock:
            data = self._entries.get(key)
            if data is not None:
                self._entries.move_to_end(key)
            return data

    def put(self, key: ThumbnailKey, data: bytes) -> None:
        """Keep ``data``, dropping the least recently used thumbnails past the bound."""
        if len(data) > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old)
            self._entries[key] = data
            self._bytes += len(data)
            while self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped)
