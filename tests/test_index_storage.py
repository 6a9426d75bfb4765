"""The saved index format: a plain ``.npz`` whose members are aligned, loaded over a mapping of
the file, and refused (``ValueError``: the caller rebuilds) when it is not whole."""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from pixdex.catalog import Catalog
from pixdex.catalog.search_index import saved_index_files
from pixdex.index import MultiIndexHash, load_index, storage

ARRAYS = {
    "ids": np.arange(1000, dtype=np.int64),
    "codes": np.random.default_rng(0).integers(0, 2**63, (1000, 2), dtype=np.uint64),
    "table": np.asfortranarray(np.arange(12, dtype=np.uint32).reshape(3, 4)),
    "empty": np.zeros((0, 1), np.uint64),
    "bytes": np.array([1, 2, 3], np.uint8),
}


def saved(tmp_path: Path) -> Path:
    path = tmp_path / "index.idx"
    storage.save(path, "mih", 2, ARRAYS)
    return path


def test_a_saved_index_is_a_plain_npz_that_loads_the_same_arrays(tmp_path: Path) -> None:
    path = saved(tmp_path)
    assert zipfile.ZipFile(path).testzip() is None  # every member's CRC is right
    with np.load(path, allow_pickle=False) as archive:
        assert all(np.array_equal(archive[name], array) for name, array in ARRAYS.items())
    kind, words, arrays = storage.load(path)
    assert (kind, words) == ("mih", 2)
    assert arrays.keys() == ARRAYS.keys()
    for name, array in arrays.items():
        assert np.array_equal(array, ARRAYS[name]) and array.dtype == ARRAYS[name].dtype
        assert array.flags.f_contiguous if name == "table" else array.flags.c_contiguous


def test_loaded_arrays_lie_over_the_file_aligned_and_writable_without_writing_it(
    tmp_path: Path,
) -> None:
    path = saved(tmp_path)
    before = path.read_bytes()
    _, _, arrays = storage.load(path)
    for array in arrays.values():
        assert array.ctypes.data % storage.ALIGNMENT == 0
        assert array.flags.aligned and array.flags.writeable
    # Not copies: every array shares the one mapping of the file.
    mapping = np.frombuffer(arrays["ids"].base.base, np.uint8)
    assert all(np.shares_memory(array, mapping) for array in arrays.values() if array.size)
    arrays["ids"][:] = -1
    assert path.read_bytes() == before
    assert np.array_equal(storage.load(path)[2]["ids"], ARRAYS["ids"])


def test_an_index_file_written_by_numpy_itself_is_read(tmp_path: Path) -> None:
    path = tmp_path / "index.npz"
    with open(path, "wb") as handle:
        np.savez(handle, format=np.int64(storage.FORMAT), kind=np.str_("mih"), words=2, **ARRAYS)
    _, _, arrays = storage.load(path)
    assert all(np.array_equal(arrays[name], array) for name, array in ARRAYS.items())


def test_a_loaded_index_keeps_its_answers_when_a_new_file_replaces_its_own(tmp_path: Path) -> None:
    codes = np.random.default_rng(1).integers(0, 2**63, (5000, 1), dtype=np.uint64)
    path = tmp_path / "index.idx"
    MultiIndexHash(codes).save(path)
    loaded = load_index(path)
    expected = loaded.range_search(codes[7], 12)
    replacement = tmp_path / "index.idx.partial"
    MultiIndexHash(codes[::-1].copy()).save(replacement)
    os.replace(replacement, path)  # how a saved index is replaced
    found = loaded.range_search(codes[7], 12)
    assert all(np.array_equal(a, b) for a, b in zip(found, expected, strict=True))
    loaded.add(codes[:10], np.arange(5000, 5010))
    assert 5007 in loaded.range_search(codes[7], 0)[0]


@pytest.mark.parametrize(
    "damage",
    ["empty", "truncated", "garbage", "compressed", "short member"],
)
def test_a_damaged_or_foreign_index_file_is_refused(tmp_path: Path, damage: str) -> None:
    path = saved(tmp_path)
    data = path.read_bytes()
    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"PK" + os.urandom(4000))
    elif damage == "compressed":
        with open(path, "wb") as handle:
            np.savez_compressed(handle, format=np.int64(2), kind=np.str_("mih"), words=2, **ARRAYS)
    else:
        # The codes member's header promises more rows than the member holds.
        header = np.lib.format.header_data_from_array_1_0(ARRAYS["codes"])
        promised = repr((1000, 2)).encode()
        assert data.count(promised) == 1 and header["shape"] == (1000, 2)
        path.write_bytes(data.replace(promised, repr((9000, 2)).encode()))
    with pytest.raises(ValueError, match=re.escape(str(path))):
        storage.load(path)


def mapped_files() -> set[str]:
    """The files mapped into this process's memory (Linux)."""
    lines = Path("/proc/self/maps").read_text().splitlines()
    return {line.split(maxsplit=5)[5] for line in lines if len(line.split(maxsplit=5)) == 6}


def test_a_catalog_maps_its_saved_indexes_while_open_and_lets_go_when_closed(
    tmp_path: Path, photo_paths: list[Path]
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    for photo in photo_paths[:3]:
        shutil.copy(photo, folder)
    with Catalog(tmp_path / "pixdex.db") as catalog:
        catalog.index([folder], workers=1)
        saved = {str(path) for path in saved_index_files(catalog.path)}
    with Catalog(tmp_path / "pixdex.db", create=False) as reopened:
        assert len(reopened.search(photo_paths[0]).matches) == 1
        assert saved and saved <= mapped_files()  # loaded by mapping, not read
    assert not saved & mapped_files()  # a folder holding them can be unmounted
