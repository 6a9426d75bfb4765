"""PDQ, Meta's 256-bit perceptual hash, with its quality score (numpy, no compiled code).

The steps follow the published description of PDQ (``hashing.pdf`` in facebook/ThreatExchange):

1. luminance ``Y = 0.299 R + 0.587 G + 0.114 B`` as floats (not rounded to 8 bits);
2. the Jarosz filter: two passes of a box filter along each axis (a tent filter), each box
   ``ceil(side / 128)`` pixels wide, then decimation to 64 × 64 by sampling the centres of a
   64 × 64 grid;
3. the 16 × 16 block of the 2-D DCT of that 64 × 64 buffer, frequencies 1-16 on each axis (the
   constant term is left out);
4. a bit per coefficient: is it above the median of the 256?

Quality is PDQ's: the summed absolute steps between neighbours of the 64 × 64 buffer, each step in
percent of full scale and truncated to an integer, divided by 90 and capped at 100. PDQ's authors
recommend discarding hashes of quality below 50, the ``LOW_QUALITY`` threshold.

Bit order: coefficient ``(row, col)`` is PDQ's bit ``k = 16 * row + col``, and PDQ's conventional
hex string prints the 256-bit integer ``Σ bit_k · 2**k`` (its 16-bit word 15 first). pixdex's
``Hash`` reads its bit array first bit most significant, so the bits are laid out from ``k = 255``
down to ``k = 0`` (:func:`pdq_bit_vector`): ``str(hash)`` is then PDQ's hex string. The ``pdqhash``
package returns its 256-element vector in that same order (checked bit for bit in the tests), so
``Hash.from_bits(vector, "pdq")`` of a ``pdqhash`` result equals pixdex's hash.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from PIL import Image

from pixdex.hashing.algorithm import Algorithm
from pixdex.hashing.hash import Hash

BUFFER_SIDE = 64
"""Side of the downsampled luminance buffer the DCT reads, in pixels."""

PDQ_DECODE_SIDE = 512
"""Smallest decoded side, in pixels, PDQ is computed from (the pipeline's reduced-scale decode):
PDQ's box filters scale with the image, so its bits depend on the decode scale more than the
64-bit hashes'; see the deviation figures in BENCHMARKS.md."""

DCT_SIDE = 16
"""Side of the block of DCT coefficients that become bits: 16 × 16 = 256 bits."""

LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def luminance(pixels: np.ndarray) -> np.ndarray:
    """Float32 luminance (0-255) of an ``(h, w, 3)`` RGB array, or a gray ``(h, w)`` array as is."""
    if pixels.ndim == 2:
        return pixels.astype(np.float32)
    return pixels[..., :3].astype(np.float32) @ LUMA_WEIGHTS


def jarosz_window(side: int) -> int:
    """Width in pixels of each box-filter pass along an axis of ``side`` pixels: ``ceil(side /
    128)``, half the distance between two of the 64 samples taken afterwards."""
    return (side + 2 * BUFFER_SIDE - 1) // (2 * BUFFER_SIDE)


def box_filter_last_axis(
    values: np.ndarray, window: int, keep: np.ndarray | None = None
) -> np.ndarray:
    """Moving average along the last axis over ``window`` pixels, clipped at the borders.

    The window around output ``i`` spans ``i - left … i + right`` with ``right = window // 2``
    and ``left = window - 1 - right`` (PDQ's placement, which leans right for even windows); near
    the borders only the pixels inside the image are averaged. ``keep`` selects which outputs to
    compute (all by default); a running sum makes the cost independent of ``window``.
    """
    side = values.shape[-1]
    right = window // 2
    left = window - 1 - right
    centres = np.arange(side) if keep is None else keep
    stop = np.minimum(centres + right + 1, side)
    start = np.maximum(centres - left, 0)
    running = np.zeros((*values.shape[:-1], side + 1), dtype=np.float64)
    np.cumsum(values, axis=-1, out=running[..., 1:])
    return (running[..., stop] - running[..., start]) / (stop - start)


def sample_centres(side: int) -> np.ndarray:
    """Indices of the pixels PDQ keeps along a side: the centres of 64 equal cells, rounded down."""
    return (((np.arange(BUFFER_SIDE) + 0.5) * side) / BUFFER_SIDE).astype(np.intp)


def jarosz_downsample(luma: np.ndarray) -> np.ndarray:
    """The 64 × 64 buffer: a tent filter (two box passes) per axis, then decimation.

    Only the outputs that survive decimation are computed in each second pass, so an ``h × w``
    image costs about three running sums over its pixels.
    """
    height, width = luma.shape
    rows, cols = sample_centres(height), sample_centres(width)
    across = box_filter_last_axis(luma, jarosz_window(width))
    across = box_filter_last_axis(across, jarosz_window(width), keep=cols)
    down = box_filter_last_axis(across.T, jarosz_window(height))
    down = box_filter_last_axis(down, jarosz_window(height), keep=rows)
    return down.T


@cache
def dct_basis() -> np.ndarray:
    """The ``(16, 64)`` DCT-II rows for frequencies 1-16, scaled by ``sqrt(2 / 64)``."""
    freq = np.arange(1, DCT_SIDE + 1)[:, np.newaxis]
    sample = np.arange(BUFFER_SIDE)[np.newaxis, :]
    basis = np.sqrt(2.0 / BUFFER_SIDE) * np.cos(np.pi / (2 * BUFFER_SIDE) * freq * (2 * sample + 1))
    basis.flags.writeable = False
    return basis


def pdq_bits(buffer: np.ndarray) -> np.ndarray:
    """The ``(16, 16)`` bits of a 64 × 64 buffer: DCT coefficient above the median of all 256."""
    basis = dct_basis()
    coefficients = basis @ buffer @ basis.T
    return coefficients > np.median(coefficients)


def pdq_quality(buffer: np.ndarray) -> int:
    """PDQ's 0-100 quality of a 64 × 64 buffer (see the module docstring)."""
    buffer = buffer.astype(np.float32)
    down = np.trunc((buffer[:-1, :] - buffer[1:, :]) * np.float32(100) / np.float32(255))
    across = np.trunc((buffer[:, :-1] - buffer[:, 1:]) * np.float32(100) / np.float32(255))
    gradient_sum = int(np.abs(down).sum(dtype=np.int64) + np.abs(across).sum(dtype=np.int64))
    return min(100, gradient_sum // 90)


def pdq_bit_vector(bits: np.ndarray) -> np.ndarray:
    """A ``(16, 16)`` bit block as the 256-vector of bits ``k = 255 … 0`` (PDQ's hex order)."""
    return np.asarray(bits, dtype=bool).ravel()[::-1]


def pdq_pixels(pixels: np.ndarray) -> tuple[np.ndarray, int]:
    """The ``(16, 16)`` bits and quality of an RGB ``(h, w, 3)`` or gray ``(h, w)`` array."""
    buffer = jarosz_downsample(luminance(pixels))
    return pdq_bits(buffer), pdq_quality(buffer)


def pdq(image: Image.Image, hash_size: int = DCT_SIDE) -> Hash:
    """The 256-bit PDQ hash of a decoded image; ``str()`` of it is PDQ's conventional hex."""
    if hash_size != DCT_SIDE:
        raise ValueError(
            f"PDQ is defined for hash_size {DCT_SIDE} (256 bits) only, got {hash_size}"
        )
    bits, quality = pdq_pixels(np.asarray(image))
    return Hash.from_bits(pdq_bit_vector(bits), "pdq", quality)


PDQ = Algorithm(
    name="pdq",
    default_size=DCT_SIDE,
    bits=lambda n: n * n,
    min_side=lambda n: PDQ_DECODE_SIDE,
    gray=False,  # PDQ's reference computes float luma from RGB; keep its input the same
    compute=pdq,
)
