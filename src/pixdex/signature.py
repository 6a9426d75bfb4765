"""The content signature: a tiny colour thumbnail of the picture inside its margins.

A 64-bit hash says "similar layout and brightness"; whole families of different pictures share
that (diagrams from one template, flags that differ in colour, drawings on a white canvas). The
matching rule (``pixdex.matching``) therefore checks every hash candidate against a richer record
of each picture, made at index time from the same decode: its luma at ``LUMA_SIDE`` ×
``LUMA_SIDE`` and its two chroma planes at ``CHROMA_SIDE`` × ``CHROMA_SIDE`` (YCbCr, area
averages) of the whole frame: what a border adds or a crop removes is undone by the comparison,
and a large empty canvas is told apart from content there. It is stored as ``SIGNATURE_BYTES``
bytes: a version byte, the picture's width and height in pixels (each capped at ``SIZE_CAP``),
then the planes, row by row. The size says how much detail the planes can hold: a 16-pixel icon
spreads each of its pixels over 2 × 2 luma cells, and a copy of it halved to 8 pixels over 4 × 4
(``pixdex.matching.resolution`` compares such pictures at the detail both have).

Being a small picture, a signature can be turned (mirror, quarter turns) and cropped by array
operations alone: mirrored, rotated and cropped copies are verified without decoding again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from PIL import Image

SIGNATURE_VERSION = 2
"""The first byte of every signature; 0 marks "no signature" in arrays of them. Version 1 had no
size bytes: opening a catalog converts its version-1 signatures in place (a schema migration,
from each file's stored size); one written later is stored as none (``stored_form``), and the
next ``pixdex index`` run reads that file again."""

SIZE_CAP = 255
"""Largest width or height a signature records (one byte each): a picture three times
``LUMA_SIDE`` or more across is compared on its planes as they are
(``pixdex.matching.resolution.PIXELS_PER_CELL``), so above that its exact size does not
matter."""

PLANES_START = 3
"""Offset of the luma plane: after the version byte and the two size bytes."""

LUMA_SIDE = 32
"""Side of the luma plane, in cells: a 400-pixel diagram gives cells of about 12 pixels, fine
enough that two labels of different words differ in some cells."""

CHROMA_SIDE = 16
"""Side of each chroma plane, in cells: colour varies more slowly than luma."""

LUMA_CELLS = LUMA_SIDE * LUMA_SIDE
CHROMA_CELLS = CHROMA_SIDE * CHROMA_SIDE
LUMA_END = PLANES_START + LUMA_CELLS
"""Offset of the chroma planes (Cb, then Cr), just after the luma plane."""

SIGNATURE_BYTES = LUMA_END + 2 * CHROMA_CELLS
"""Stored size of one signature: 1,539 bytes."""


def signature(image: Image.Image) -> bytes:
    """The signature of a decoded picture (mode "RGB" or "L", transparency already composited).

    A grayscale picture gets neutral chroma (128), as a grayscale copy of a colour picture does.
    """
    picture = image
    if picture.mode not in ("RGB", "L"):
        picture = picture.convert("RGB")
    luma_plane = _area_resize(picture.convert("L"), LUMA_SIDE)
    if picture.mode == "L":
        chroma = np.full((2, CHROMA_SIDE, CHROMA_SIDE), 128, np.uint8)
    else:
        small = picture.resize(
            (LUMA_SIDE, LUMA_SIDE), Image.Resampling.BOX, reducing_gap=None
        ).convert("YCbCr")
        _, cb, cr = small.split()
        chroma = np.stack([_area_resize(cb, CHROMA_SIDE), _area_resize(cr, CHROMA_SIDE)])
    width, height = (min(SIZE_CAP, side) for side in picture.size)
    return bytes([SIGNATURE_VERSION, width, height]) + luma_plane.tobytes() + chroma.tobytes()


def _area_resize(plane: Image.Image, side: int) -> np.ndarray:
    """``plane`` (mode "L") as a ``side`` × ``side`` uint8 array of area averages."""
    return np.asarray(plane.resize((side, side), Image.Resampling.BOX), dtype=np.uint8)


def signature_array(signatures: list[bytes | None]) -> np.ndarray:
    """Signatures as an ``(n, SIGNATURE_BYTES)`` uint8 array; a missing (None) or unknown-version
    signature becomes a row of zeros, which no verification accepts."""
    out = np.zeros((len(signatures), SIGNATURE_BYTES), np.uint8)
    for row, value in enumerate(signatures):
        if value is not None and _current(value):
            out[row] = np.frombuffer(value, np.uint8)
    return out


def signatures_in_order(ids: Sequence[int], rows: Iterable[tuple[int, bytes | None]]) -> np.ndarray:
    """The signatures of ``ids`` as ``signature_array`` rows, in their order, from ``rows`` of
    (file id, stored signature) in any order.

    The stored values are copied into their rows ``_ROWS_PER_COPY`` at a time and then dropped:
    a store reading the signatures of the 700,000 files a dense million-file catalog verifies
    holds their array (1 GiB), not the same again as bytes objects first."""
    order = [int(i) for i in ids]
    first: dict[int, int] = {}
    for row, file_id in enumerate(order):
        first.setdefault(file_id, row)
    out = np.zeros((len(order), SIGNATURE_BYTES), np.uint8)
    targets: list[int] = []
    values: list[bytes] = []
    for file_id, value in rows:
        row = first.get(file_id)
        if row is not None and value is not None and _current(value):
            targets.append(row)
            values.append(value)
            if len(values) == _ROWS_PER_COPY:
                _copy_rows(out, targets, values)
    _copy_rows(out, targets, values)
    if len(first) < len(order):  # an id asked for twice: its rows after the first copy it
        out = out[[first[i] for i in order]]
    return out


_ROWS_PER_COPY = 4096
"""Signatures gathered before they are copied into their rows at once (6 MB)."""


def stored_form(value: bytes | None) -> bytes | None:
    """``value`` as a store keeps it: a signature of this version as it is, anything else (an
    older version's, restored by an ``undo`` of an older run) as none, so that the next
    ``pixdex index`` run makes the file a current one."""
    return value if value is not None and _current(value) else None


def _current(value: bytes) -> bool:
    """Whether a stored signature is one of this version (any other reads as none)."""
    return len(value) == SIGNATURE_BYTES and value[0] == SIGNATURE_VERSION


def _copy_rows(out: np.ndarray, targets: list[int], values: list[bytes]) -> None:
    """``out[targets[i]] = values[i]`` for every gathered signature, then forget them."""
    if values:
        out[targets] = np.frombuffer(b"".join(values), np.uint8).reshape(-1, SIGNATURE_BYTES)
    targets.clear()
    values.clear()


def planes(signatures: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split ``(n, SIGNATURE_BYTES)`` signatures into float32 planes: luma ``(n, LUMA_SIDE,
    LUMA_SIDE)`` and chroma ``(n, 2, CHROMA_SIDE, CHROMA_SIDE)``, both 0-255."""
    count = signatures.shape[0]
    luma = signatures[:, PLANES_START:LUMA_END].reshape(count, LUMA_SIDE, LUMA_SIDE)
    chroma = signatures[:, LUMA_END:].reshape(count, 2, CHROMA_SIDE, CHROMA_SIDE)
    return luma.astype(np.float32), chroma.astype(np.float32)


def present(signatures: np.ndarray) -> np.ndarray:
    """``(n,)`` bool: which rows of a signature array hold a signature."""
    return signatures[:, 0] == SIGNATURE_VERSION


def turned(row: np.ndarray) -> np.ndarray:
    """The ``(8, SIGNATURE_BYTES)`` signatures of one picture's eight orientations (the quarter
    turns, each also mirrored), from its signature alone: a signature is a small picture."""
    luma = row[PLANES_START:LUMA_END].reshape(LUMA_SIDE, LUMA_SIDE)
    chroma = row[LUMA_END:].reshape(2, CHROMA_SIDE, CHROMA_SIDE)
    out = np.zeros((8, SIGNATURE_BYTES), np.uint8)
    out[:, 0] = row[0]
    for k in range(4):
        for mirrored in (False, True):
            turned_luma = np.rot90(luma, k)
            turned_chroma = np.rot90(chroma, k, axes=(1, 2))
            if mirrored:
                turned_luma, turned_chroma = turned_luma[:, ::-1], turned_chroma[:, :, ::-1]
            variant = out[2 * k + mirrored]
            variant[1:PLANES_START] = row[1:PLANES_START][::-1] if k % 2 else row[1:PLANES_START]
            variant[PLANES_START:LUMA_END] = turned_luma.ravel()
            variant[LUMA_END:] = turned_chroma.ravel()
    return out
