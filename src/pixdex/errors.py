"""Error types a user can act on: each names the file (or thing) and the reason."""

from __future__ import annotations


class PixdexError(Exception):
    """Base class of every error pixdex raises on purpose."""


class ImageError(PixdexError):
    """A file, byte string or stream that cannot be hashed; the message names it and says why."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason
