"""The on-disk format of an index: one uncompressed ``.npz`` of plain arrays, no pickle.

Members: ``format`` (int, currently 2: the scan's codes became word-major ``columns``), ``kind``
(the structure's name: ``scan``, ``vptree`` or ``mih``), ``words`` (uint64 words per code) and the
structure's own arrays under their names, e.g. ``ids`` ``(n,)`` int64 and the codes, as ``codes``
``(n, w)`` uint64 (``vptree``, ``mih``) or word-major ``columns`` ``(w, n)`` uint64 (``scan``).
Any numpy (or a zip tool plus the ``.npy`` format) reads it; ``np.load(path, allow_pickle=False)``
refuses anything executable.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

FORMAT = 2
RESERVED = ("format", "kind", "words")


def save(path: str | Path, kind: str, words: int, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` and the header members to ``path`` (``.npz`` is not appended)."""
    clash = set(arrays) & set(RESERVED)
    if clash:
        raise ValueError(f"array names {sorted(clash)} are reserved for the header")
    with open(path, "wb") as handle:
        np.savez(
            handle,
            format=np.int64(FORMAT),
            kind=np.str_(kind),
            words=np.int64(words),
            **arrays,
        )


def load(path: str | Path) -> tuple[str, int, dict[str, np.ndarray]]:
    """Read ``(kind, words, arrays)`` from a file written by :func:`save`."""
    with np.load(path, allow_pickle=False) as archive:
        members = {name: archive[name] for name in archive.files}
    missing = [name for name in RESERVED if name not in members]
    if missing:
        raise ValueError(f"{path} is not a pixdex index file: no {', '.join(missing)} member")
    version = int(members.pop("format"))
    if version != FORMAT:
        raise ValueError(f"{path} uses index format {version}; this pixdex reads {FORMAT}")
    return str(members.pop("kind")), int(members.pop("words")), members
