"""Packed binary codes: bit arrays ⇄ uint64 words ⇄ int ⇄ hex, and Hamming distance.

A hash of ``b`` bits is stored as ``w = ceil(b / 64)`` unsigned 64-bit words, most significant word
first, with the bits right-aligned in the integer they spell (zero padding sits in the top of word
0). The first bit of a hash's flattened bit array is its most significant bit: the convention of the
imagehash library, so hex strings written by imagehash users read back as the same bits.

A collection of ``n`` hashes is an ``(n, w)`` ``uint64`` array: the format every index takes.
"""

from __future__ import annotations

import numpy as np

WORD_BITS = 64


def word_count(bits: int) -> int:
    """Number of uint64 words that hold a hash of ``bits`` bits."""
    if bits <= 0:
        raise ValueError(f"a hash needs at least one bit, got {bits}")
    return -(-bits // WORD_BITS)


def int_to_words(value: int, bits: int) -> np.ndarray:
    """Split a non-negative int of ``bits`` bits into uint64 words, most significant first."""
    if value < 0 or value.bit_length() > bits:
        raise ValueError(f"{value:#x} does not fit in {bits} bits")
    count = word_count(bits)
    mask = (1 << WORD_BITS) - 1
    return np.array(
        [(value >> (WORD_BITS * (count - 1 - i))) & mask for i in range(count)], dtype=np.uint64
    )


def words_to_int(words: np.ndarray) -> int:
    """Join uint64 words (most significant first) into one Python int."""
    value = 0
    for word in np.asarray(words, dtype=np.uint64).ravel():
        value = (value << WORD_BITS) | int(word)
    return value


def bits_to_int(bit_array: np.ndarray) -> int:
    """Read a boolean array, flattened in C order, as an int whose first bit is most significant."""
    flat = np.asarray(bit_array, dtype=bool).ravel()
    if flat.size == 0:
        raise ValueError("empty bit array")
    return int.from_bytes(np.packbits(flat, bitorder="big").tobytes(), "big") >> (-flat.size % 8)


def int_to_bits(value: int, bits: int) -> np.ndarray:
    """The inverse of :func:`bits_to_int`: a flat boolean array of length ``bits``."""
    if value < 0 or value.bit_length() > bits:
        raise ValueError(f"{value:#x} does not fit in {bits} bits")
    nbytes = -(-bits // 8)
    raw = np.frombuffer((value << (nbytes * 8 - bits)).to_bytes(nbytes, "big"), dtype=np.uint8)
    return np.unpackbits(raw, bitorder="big")[:bits].astype(bool)


def hex_digits(bits: int) -> int:
    """Length of the hex string for a hash of ``bits`` bits (imagehash's width: ceil(bits / 4))."""
    return -(-bits // 4)


def int_to_hex(value: int, bits: int) -> str:
    """Zero-padded lower-case hex of ``value``, ``ceil(bits / 4)`` digits long."""
    return f"{value:0{hex_digits(bits)}x}"


def hex_to_int(text: str) -> int:
    """Parse a hex string (no prefix, either case) into an int; ValueError names the bad text."""
    cleaned = text.strip().lower()
    if not cleaned or any(c not in "0123456789abcdef" for c in cleaned):
        raise ValueError(f"not a hex hash: {text!r}")
    return int(cleaned, 16)


def codes_from_ints(values: list[int], bits: int) -> np.ndarray:
    """An ``(n, w)`` uint64 code array from Python ints of ``bits`` bits."""
    out = np.zeros((len(values), word_count(bits)), dtype=np.uint64)
    for row, value in enumerate(values):
        out[row] = int_to_words(value, bits)
    return out


def codes_from_hex(texts: list[str], bits: int) -> np.ndarray:
    """An ``(n, w)`` uint64 code array from hex strings of ``bits`` bits."""
    return codes_from_ints([hex_to_int(t) for t in texts], bits)


def hamming(codes: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Hamming distances (bits) between each row of ``codes`` ``(n, w)`` and ``query`` ``(w,)``.

    Also accepts ``codes`` and ``query`` of the same shape ``(n, w)`` for row-wise distances.
    Returns an ``(n,)`` int array.
    """
    codes = np.asarray(codes, dtype=np.uint64)
    query = np.asarray(query, dtype=np.uint64)
    if codes.ndim == 1:
        codes = codes[np.newaxis, :]
    return np.bitwise_count(codes ^ query).sum(axis=-1, dtype=np.int64)
