"""The on-disk format of an index: one uncompressed ``.npz`` of plain arrays, no pickle.

Members: ``format`` (int, currently 2: the scan's codes became word-major ``columns``), ``kind``
(the structure's name: ``scan``, ``vptree`` or ``mih``), ``words`` (uint64 words per code) and the
structure's own arrays under their names, e.g. ``ids`` ``(n,)`` int64 and the codes, as ``codes``
``(n, w)`` uint64 (``vptree``, ``mih``) or word-major ``columns`` ``(w, n)`` uint64 (``scan``).
Any numpy (or a zip tool plus the ``.npy`` format) reads it; ``np.load(path, allow_pickle=False)``
refuses anything executable.

Each member's array data starts on a ``ALIGNMENT``-byte boundary of the file (the zip local
header carries padding in an extra field, which zip readers skip), so ``load`` maps the file and
hands out arrays over the mapping instead of reading it: a 1M-image index opens in a few
milliseconds instead of 0.1-0.2 s, and only the pages a search touches are read. The mapping is
copy-on-write (the arrays are writable, as the compiled kernels are built for, and nothing ever
writes to the file). A saved index is replaced by renaming a new file over it, never rewritten in
place, so a mapping always sees a whole file. A member that does not start aligned (a file
written by an earlier pixdex, or by ``np.savez``) is copied out of the mapping instead.

``load`` checks each member's layout (stored uncompressed, its header, its data inside the
file): a truncated, damaged or foreign file raises ``ValueError`` and the caller rebuilds. The
members' CRCs are not checked (that would read every page, which is what mapping avoids): a bit
flipped inside a whole, renamed file would go unnoticed, as in any memory-mapped cache.
"""

from __future__ import annotations

import io
import mmap
import struct
import zipfile
from pathlib import Path

import numpy as np

FORMAT = 2
RESERVED = ("format", "kind", "words")

ALIGNMENT = 64
"""Byte boundary each member's array data starts on (``np.lib.format`` pads an array's header
to it, so an aligned member start gives aligned data)."""

_PADDING_ID = 0x7870
"""Zip extra-field id of the padding record (a private id: readers skip unknown records)."""

_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
"""A zip local file header's fixed part (30 bytes), up to its name and extra-field lengths."""

_ZIP64_EXTRA = 20
"""Bytes of the zip64 extra record ``zipfile`` adds to a local header written with
``force_zip64``."""

_HEADER_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}


def save(path: str | Path, kind: str, words: int, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` and the header members to ``path`` (``.npz`` is not appended), each
    member's data aligned (see the module's docstring)."""
    clash = set(arrays) & set(RESERVED)
    if clash:
        raise ValueError(f"array names {sorted(clash)} are reserved for the header")
    members = {
        "format": np.int64(FORMAT),
        "kind": np.str_(kind),
        "words": np.int64(words),
        **arrays,
    }
    with open(path, "wb") as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED) as archive:
        for name, array in members.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.extra = _padding(handle.tell(), len(info.filename.encode()))
            with archive.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def _padding(offset: int, name_bytes: int) -> bytes:
    """The extra-field record that makes a member whose local header starts at ``offset`` (its
    name ``name_bytes`` long) start its data on an ``ALIGNMENT`` boundary."""
    unpadded = offset + _LOCAL_HEADER.size + name_bytes + 4 + _ZIP64_EXTRA
    fill = -unpadded % ALIGNMENT
    return struct.pack("<HH", _PADDING_ID, fill) + bytes(fill)


def load(path: str | Path) -> tuple[str, int, dict[str, np.ndarray]]:
    """Read ``(kind, words, arrays)`` from a file written by :func:`save` (arrays over a
    copy-on-write mapping of the file; see the module's docstring)."""
    try:
        members = _mapped_members(path)
    except (zipfile.BadZipFile, struct.error, EOFError) as error:
        raise ValueError(f"{path} is not a pixdex index file: {error}") from error
    missing = [name for name in RESERVED if name not in members]
    if missing:
        raise ValueError(f"{path} is not a pixdex index file: no {', '.join(missing)} member")
    version = int(members.pop("format"))
    if version != FORMAT:
        raise ValueError(f"{path} uses index format {version}; this pixdex reads {FORMAT}")
    return str(members.pop("kind")), int(members.pop("words")), members


def _mapped_members(path: str | Path) -> dict[str, np.ndarray]:
    """Every ``.npy`` member of the zip at ``path``, by name without its suffix, as an array over
    a copy-on-write mapping of the file (copied out when its data is not aligned)."""
    with open(path, "rb") as handle:
        with zipfile.ZipFile(handle) as archive:
            infos = archive.infolist()
        if not infos:
            return {}
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_COPY)
    members = {}
    for info in infos:
        name = info.filename.removesuffix(".npy")
        if info.compress_type != zipfile.ZIP_STORED:
            raise ValueError(f"{path}: member {name} is compressed")
        start = _data_start(mapped, info)
        members[name] = _array_at(mapped, start, start + info.file_size, f"{path}: {name}")
    return members


def _data_start(mapped: mmap.mmap, info: zipfile.ZipInfo) -> int:
    """Where the member ``info`` describes starts in the file: after its local header."""
    fields = _LOCAL_HEADER.unpack_from(mapped, info.header_offset)
    if fields[0] != b"PK\x03\x04":
        raise ValueError(f"member {info.filename} has no local header")
    name_length, extra_length = fields[-2:]
    return info.header_offset + _LOCAL_HEADER.size + name_length + extra_length


def _array_at(mapped: mmap.mmap, start: int, end: int, label: str) -> np.ndarray:
    """The ``.npy`` array stored at ``mapped[start:end]``."""
    header = io.BytesIO(mapped[start : min(end, start + 65536)])
    version = np.lib.format.read_magic(header)
    if version not in _HEADER_READERS:
        raise ValueError(f"{label}: .npy format {version} is not read")
    shape, fortran_order, dtype = _HEADER_READERS[version](header)
    if dtype.hasobject:
        raise ValueError(f"{label}: holds Python objects")
    data = start + header.tell()
    count = int(np.prod(shape, dtype=np.int64))
    if data + count * dtype.itemsize > min(end, len(mapped)):
        raise ValueError(f"{label}: its data runs past the member's end")
    array = np.frombuffer(mapped, dtype, count, data)
    if data % dtype.alignment:
        array = array.copy()
    return array.reshape(shape, order="F" if fortran_order else "C")
