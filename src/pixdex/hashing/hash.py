"""The ``Hash`` value: a perceptual hash's bits, its algorithm and its quality score."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pixdex import bits as bitops

LOW_QUALITY = 50
"""Hashes whose ``quality`` is below this are degenerate (near-blank images): search and duplicate
finding skip or flag them instead of matching thousands of unrelated blank images."""


@dataclass(frozen=True, slots=True)
class Hash:
    """An immutable perceptual hash.

    ``a - b`` is the Hamming distance in bits; ``str(h)`` is the imagehash-compatible hex string and
    ``Hash.from_hex`` reads it back; ``int(h)`` is the bits as an integer (first bit most
    significant); ``len(h)`` is the length in bits. Equality and hashing use the bits and the
    algorithm only, so hashes work as dict keys whatever their quality score.

    ``quality`` runs from 0 (a flat image: the bits are noise) to 100 (plenty of structure), on
    the same scale as PDQ's quality metric; ``is_degenerate`` is ``quality < LOW_QUALITY``.
    """

    value: int
    bits: int
    algorithm: str = "dhash"
    quality: int = field(default=100, compare=False)

    def __post_init__(self) -> None:
        if self.bits <= 0:
            raise ValueError(f"a hash needs at least one bit, got {self.bits}")
        if self.value < 0 or self.value.bit_length() > self.bits:
            raise ValueError(f"{self.value:#x} does not fit in {self.bits} bits")

    @classmethod
    def from_bits(cls, bit_array: np.ndarray, algorithm: str, quality: int = 100) -> Hash:
        """Build from a boolean array (any shape, read in C order, first bit most significant)."""
        flat = np.asarray(bit_array, dtype=bool).ravel()
        return cls(bitops.bits_to_int(flat), flat.size, algorithm, quality)

    @classmethod
    def from_hex(cls, text: str, algorithm: str = "dhash", bits: int | None = None) -> Hash:
        """Parse a hex string; ``bits`` defaults to four per hex digit."""
        value = bitops.hex_to_int(text)
        return cls(value, bits if bits is not None else 4 * len(text.strip()), algorithm)

    @property
    def hex(self) -> str:
        """Zero-padded lower-case hex, ``ceil(bits / 4)`` digits (imagehash's format)."""
        return bitops.int_to_hex(self.value, self.bits)

    @property
    def words(self) -> np.ndarray:
        """The bits as ``ceil(bits / 64)`` uint64 words, most significant first (index format)."""
        return bitops.int_to_words(self.value, self.bits)

    @property
    def is_degenerate(self) -> bool:
        """True for near-blank images whose bits say little about the picture."""
        return self.quality < LOW_QUALITY

    def to_bits(self) -> np.ndarray:
        """The bits as a flat boolean array of length ``len(self)``."""
        return bitops.int_to_bits(self.value, self.bits)

    def __sub__(self, other: Hash) -> int:
        if not isinstance(other, Hash):
            return NotImplemented
        if other.bits != self.bits or other.algorithm != self.algorithm:
            raise ValueError(
                f"cannot compare a {self.bits}-bit {self.algorithm} hash "
                f"with a {other.bits}-bit {other.algorithm} hash"
            )
        return (self.value ^ other.value).bit_count()

    def __int__(self) -> int:
        return self.value

    def __index__(self) -> int:
        return self.value

    def __len__(self) -> int:
        return self.bits

    def __str__(self) -> str:
        return self.hex

    def __repr__(self) -> str:
        return f"Hash({self.hex!r}, algorithm={self.algorithm!r}, quality={self.quality})"
