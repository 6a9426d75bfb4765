"""The Catalog API on real photographs: incremental indexing, pruning, failures, search; on every
backend (SQLite, PostgreSQL), then what only an SQLite file has (its saved indexes beside it)."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import new_location
from PIL import Image

from pixdex import ImageError
from pixdex.catalog import Catalog, CatalogError, SQLiteStore, default_distance
from pixdex.catalog.search_index import saved_index_files
from pixdex.evaluation.edits import write_edited_copies
from pixdex.hashing import Hash
from pixdex.pipeline import hash_image


@pytest.fixture
def photos(tmp_path: Path, photo_paths: list[Path]) -> Path:
    """A folder of real photographs, in a subfolder as well, copied so tests may change them."""
    folder = tmp_path / "photos"
    (folder / "more").mkdir(parents=True)
    for index, path in enumerate(photo_paths):
        shutil.copy(path, (folder / "more" if index % 3 == 0 else folder) / path.name)
    return folder


@pytest.fixture
def catalog(location: str):
    with Catalog(location) as opened:
        yield opened


def test_first_run_hashes_everything_and_a_second_run_nothing(
    catalog: Catalog, photos: Path, photo_paths: list[Path]
) -> None:
    first = catalog.index([photos], workers=1)
    assert (first.new, first.changed, first.unchanged, first.failed) == (len(photo_paths), 0, 0, ())
    second = catalog.index([photos], workers=1)
    assert (second.hashed, second.unchanged) == (0, len(photo_paths))
    assert catalog.info().images == len(photo_paths)


def test_changed_files_are_rehashed_and_their_new_hash_found(
    catalog: Catalog, photos: Path, photo_paths: list[Path]
) -> None:
    catalog.index([photos], workers=1)
    target = photos / photo_paths[1].name
    # Replace the content with another photograph: same name, new size and time.
    shutil.copy(photo_paths[2], target)
    os.utime(target, ns=(1, 1))
    report = catalog.index([photos], workers=1)
    assert (report.new, report.changed, report.unchanged) == (0, 1, len(photo_paths) - 1)
    result = catalog.search(photo_paths[2], max_distance=0)
    assert {m.path for m in result.matches} >= {str(target), str(photos / photo_paths[2].name)}


def test_prune_drops_entries_of_deleted_files_only_when_asked(
    catalog: Catalog, photos: Path, photo_paths: list[Path]
) -> None:
    catalog.index([photos], workers=1)
    gone = photos / photo_paths[1].name
    gone.unlink()
    kept = catalog.index([photos], workers=1)
    assert kept.pruned == 0
    assert str(gone) in {m.path for m in catalog.search(photo_paths[1], max_distance=0).matches}
    pruned = catalog.index([photos], workers=1, prune=True)
    assert pruned.pruned == 1
    assert catalog.search(photo_paths[1], max_distance=0).matches == ()
    assert catalog.info().images == len(photo_paths) - 1


def test_prune_is_limited_to_the_folders_given(
    catalog: Catalog, photos: Path, tmp_path: Path, photo_paths: list[Path]
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(photo_paths[0], other / "x.png")
    catalog.index([photos, other], workers=1)
    (other / "x.png").unlink()
    assert catalog.index([photos], workers=1, prune=True).pruned == 0
    assert catalog.index([other], workers=1, prune=True).pruned == 1


def test_failures_are_reported_kept_and_not_retried(
    catalog: Catalog, photos: Path, photo_paths: list[Path]
) -> None:
    (photos / "fake.jpg").write_text("a text file named like a JPEG")
    data = photo_paths[4].read_bytes()  # rocket.jpg
    (photos / "truncated.jpg").write_bytes(data[: len(data) // 3])
    (photos / "empty.png").write_bytes(b"")

    first = catalog.index([photos], workers=1)
    failed = dict(first.failed)
    assert set(failed) >= {str(photos / "fake.jpg"), str(photos / "empty.png")}
    assert all(reason for reason in failed.values())
    assert first.new == len(photo_paths) + 3 - len(failed)

    second = catalog.index([photos], workers=1)
    assert (second.hashed, second.failed) == (0, ())
    assert set(dict(catalog.info().failures)) == set(failed)


def test_edited_copies_are_found_within_the_default_distance(
    catalog: Catalog, photos: Path, tmp_path: Path, photo_paths: list[Path]
) -> None:
    catalog.index([photos], workers=1)
    original = photo_paths[0]  # astronaut.png
    edited = write_edited_copies(original, tmp_path / "queries", ["red-square", "resize-50"])
    for query in edited.values():
        result = catalog.search(query)
        assert result.matches, f"{query.name} found nothing"
        best = result.matches[0]
        assert Path(best.path).name == original.name
        assert best.distance <= default_distance(64)
        assert best.distance == hash_image(query) - hash_image(original)


def test_results_are_sorted_by_distance_then_path_and_k_keeps_the_nearest(
    catalog: Catalog, photos: Path, photo_paths: list[Path]
) -> None:
    # Three identical copies tie at distance 0: their order must be by path.
    for name in ("c.png", "a.png", "b.png"):
        shutil.copy(photo_paths[0], photos / name)
    catalog.index([photos], workers=1)
    # Hash distances alone: every photo is within 64 bits.
    everything = catalog.search(
        photo_paths[0], max_distance=64, include_low_quality=True, rule=None
    )
    keys = [(m.distance, m.path) for m in everything.matches]
    assert keys == sorted(keys) and len(keys) == len(photo_paths) + 3
    copies = [photos / "more" / photo_paths[0].name] + [
        photos / n for n in ("a.png", "b.png", "c.png")
    ]
    assert [m.path for m in everything.matches[:4]] == sorted(str(p) for p in copies)
    nearest = catalog.search(photo_paths[0], max_distance=64, k=2)
    assert [m.distance for m in nearest.matches] == [0, 0]
    assert all(m.hash - everything.hash == m.distance for m in everything.matches)


def test_search_by_hash_and_hashes_of_the_wrong_length(
    catalog: Catalog, photos: Path, photo_paths: list[Path]
) -> None:
    catalog.index([photos], workers=1)
    code = hash_image(photo_paths[3])
    by_hash = catalog.search(code, max_distance=0)
    assert by_hash.query == f"hash:{code.hex}"
    assert [Path(m.path).name for m in by_hash.matches] == [photo_paths[3].name]
    with pytest.raises(CatalogError, match="128-bit hash"):
        catalog.search(Hash.from_hex("ab" * 16))


def test_user_errors_are_catalog_or_image_errors(
    catalog: Catalog, photos: Path, tmp_path: Path, request, backend: str
) -> None:
    with pytest.raises(CatalogError, match="no dhash hashes"):
        catalog.search(Hash.from_hex("ab" * 8))
    catalog.index([photos], workers=1)
    with pytest.raises(CatalogError, match="unknown algorithm"):
        catalog.search(Hash.from_hex("ab" * 8), algorithm="nohash")
    with pytest.raises(CatalogError, match="unknown algorithm"):
        catalog.index([photos], algorithms=["dhash", "nohash"])
    with pytest.raises(CatalogError, match="no such file or folder"):
        catalog.index([tmp_path / "missing"])
    (tmp_path / "notes.jpg").write_text("not an image")
    with pytest.raises(ImageError):
        catalog.search(tmp_path / "notes.jpg")
    with pytest.raises(CatalogError, match="no catalog here"):
        Catalog(new_location(request, backend, tmp_path / "more"), create=False)


def test_near_blank_images_find_their_copies_and_nothing_else(
    catalog: Catalog, photos: Path, tmp_path: Path
) -> None:
    # Two different near-blank pictures: their hashes are noise, and "match" by chance.
    Image.new("RGB", (320, 240), (250, 250, 250)).save(photos / "white.png")
    Image.new("RGB", (320, 240), (30, 30, 32)).save(photos / "black.png")
    Image.new("RGB", (640, 480), (252, 252, 252)).save(tmp_path / "white-copy.jpg", quality=40)
    catalog.index([photos], workers=1)
    blank = photos / "white.png"
    assert hash_image(blank).is_degenerate and hash_image(photos / "black.png").is_degenerate
    # The matching rule: a blank page finds its copies (its hash is not left out), and neither
    # the black page nor any photo, whatever the radius.
    found = {m.path for m in catalog.search(tmp_path / "white-copy.jpg", max_distance=64).matches}
    assert found == {str(blank)}
    # The plain hash search leaves degenerate hashes out unless asked.
    plain = catalog.search(blank, max_distance=64, rule=None)
    assert plain.matches[0].path != str(blank)
    with_blanks = catalog.search(blank, max_distance=0, include_low_quality=True, rule=None)
    assert str(blank) in {m.path for m in with_blanks.matches}


def test_the_search_index_is_saved_and_replaced_when_stale(
    location: str, photos: Path, photo_paths: list[Path]
) -> None:
    with Catalog(location) as catalog:
        catalog.index([photos], workers=1)
    # Built by the indexing run: the index the matching rule searches (low quality included).
    saved = [p for p in saved_index_files(catalog.path) if ".dhash-all." in p.name]
    assert len(saved) == 1
    with Catalog(location, create=False) as reopened:
        assert reopened.search(photo_paths[0], max_distance=0).matches
        shutil.copy(photo_paths[0], photos / "copy.png")
        reopened.index([photos], workers=1)
        after = [p for p in saved_index_files(reopened.path) if ".dhash-all." in p.name]
        assert len(after) == 1 and after != saved
        found = reopened.search(photo_paths[0], max_distance=0).matches
        names = {Path(m.path).name for m in found}
        assert names == {photo_paths[0].name, "copy.png"}


def test_a_damaged_saved_index_is_rebuilt(location: str, photos: Path, photo_paths) -> None:
    with Catalog(location) as catalog:
        catalog.index([photos], algorithms=["dhash"], workers=1)
        (saved,) = saved_index_files(catalog.path)
    saved.write_bytes(b"not an index file at all")
    with Catalog(location, create=False) as reopened:
        found = reopened.search(photo_paths[0], max_distance=0).matches
        names = {Path(m.path).name for m in found}
    assert names == {photo_paths[0].name}
    assert saved.read_bytes()[:2] == b"PK"  # rewritten as a real (zip) index file


def test_an_interrupted_run_keeps_its_work_and_the_next_run_resumes(
    catalog: Catalog, photos: Path, photo_paths: list[Path]
) -> None:
    def interrupt_after_five(done: int, total: int) -> None:
        if done == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        catalog.index([photos], workers=1, batch_size=2, progress=interrupt_after_five)
    resumed = catalog.index([photos], workers=1)
    assert (resumed.new, resumed.unchanged) == (len(photo_paths) - 5, 5)


# -- SQLite only -----------------------------------------------------------------------------------


def test_a_new_catalog_at_a_deleted_catalogs_path_does_not_load_its_saved_index(
    tmp_path: Path, photo_paths: list[Path]
) -> None:
    # What `make demo` does: the catalog file deleted, its saved index files left beside it, and
    # a new catalog indexed at the same path counts its generations from 0 again.
    first, second = tmp_path / "a", tmp_path / "b"
    for folder, photos in ((first, photo_paths[:7]), (second, photo_paths[7:])):
        folder.mkdir()
        for path in photos:
            shutil.copy(path, folder / path.name)
    db = tmp_path / "pixdex.db"
    with Catalog(db) as catalog:
        catalog.index([first], algorithms=["dhash"], workers=1)
        generation = catalog.generation()
    (old,) = saved_index_files(db)
    # The same index under the name an older pixdex gave it, without the catalog id.
    legacy = tmp_path / f"pixdex.db.dhash.g{generation}.idx"
    shutil.copy(old, legacy)
    db.unlink()

    with Catalog(db) as catalog:
        catalog.index([second], algorithms=["dhash"], workers=1)
        assert catalog.generation() == generation
        query = second / photo_paths[7].name
        found = catalog.search(query, max_distance=0)
    assert [m.path for m in found.matches] == [str(query)]
    assert not old.exists() and not legacy.exists()  # stale files do not pile up
    assert len(saved_index_files(db)) == 1


def test_a_catalog_works_on_a_store_opened_by_the_caller(
    tmp_path: Path, photos: Path, photo_paths: list[Path]
) -> None:
    # The way another backend plugs in: the catalog's own files go beside ``path``.
    store = SQLiteStore(tmp_path / "elsewhere.db")
    with Catalog(tmp_path / "catalog", store=store) as catalog:
        catalog.index([photos], algorithms=["dhash"], workers=1)
        found = catalog.search(photo_paths[0], max_distance=0).matches
    assert [Path(m.path).name for m in found] == [photo_paths[0].name]
    assert len(saved_index_files(tmp_path / "catalog")) == 1
    assert not (tmp_path / "catalog").exists()
    with pytest.raises(sqlite3.ProgrammingError):  # closed with the catalog
        store.generation()
