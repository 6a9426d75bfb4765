"""Search modes on real photographs: flips (the query's eight orientations) and a confirming
second hash."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from pixdex.catalog import Catalog, CatalogError
from pixdex.catalog.orientations import ORIENTATIONS, orientations, query_pictures
from pixdex.cli import app
from pixdex.evaluation.edits import write_edited_copies
from pixdex.pipeline import hash_image


@pytest.fixture(scope="module")
def library(tmp_path_factory, photo_paths: list[Path]) -> Path:
    """Real photographs, plus edited copies (sticker, shapes + text, JPEG q30) of two of them."""
    folder = tmp_path_factory.mktemp("library")
    for path in photo_paths:
        shutil.copy(path, folder / path.name)
    for path in photo_paths[:2]:
        write_edited_copies(path, folder / "copies", ["red-square", "shapes-text", "jpeg-30"], 3)
    return folder


@pytest.fixture(scope="module")
def catalog(library: Path, tmp_path_factory):
    with Catalog(tmp_path_factory.mktemp("db") / "pixdex.db") as opened:
        report = opened.index([library], algorithms=["dhash", "pdq"], workers=1)
        assert not report.failed
        yield opened


@pytest.fixture(scope="module")
def turned(photo_paths: list[Path], tmp_path_factory) -> dict[str, Path]:
    """The first photograph mirrored, rotated and transposed, saved as PNG outside the catalog."""
    folder = tmp_path_factory.mktemp("turned")
    with Image.open(photo_paths[0]) as image:
        pictures = dict(zip(ORIENTATIONS, orientations(image.convert("RGB")), strict=True))
    paths = {}
    for name in ("mirror", "rotate-90", "rotate-180", "transverse"):
        paths[name] = folder / f"{name}.png"
        pictures[name].save(paths[name])
    return paths


def test_the_eight_orientations_are_distinct_and_include_the_inverse_of_each(
    photo_paths: list[Path],
) -> None:
    with Image.open(photo_paths[2]) as image:
        pictures = orientations(image.convert("RGB"))
    assert len({(p.size, p.tobytes()) for p in pictures}) == 8
    original = pictures[0].tobytes()
    # Every orientation, turned by some orientation, is the original again (a group).
    for picture in pictures:
        assert any(q.tobytes() == original for q in orientations(picture))


def test_flips_find_mirrored_and_rotated_copies_that_plain_search_misses(
    catalog: Catalog, turned: dict[str, Path], library: Path, photo_paths: list[Path]
) -> None:
    original = str(library / photo_paths[0].name)
    for name, query in turned.items():
        plain = {m.path for m in catalog.search(query).matches}
        flipped = {m.path: m.distance for m in catalog.search(query, flips=True).matches}
        assert original not in plain, name
        assert flipped.get(original, 99) <= 2, name  # lossless turn: (nearly) the same hash
        assert plain <= set(flipped)


def test_flips_never_lose_a_match_and_keep_distances_no_larger(
    catalog: Catalog, library: Path
) -> None:
    for query in sorted(library.rglob("*.png"))[:6]:
        # Hash distances alone (no verification): the property is the index's.
        plain = {
            m.path: m.distance for m in catalog.search(query, max_distance=14, rule=None).matches
        }
        flipped = catalog.search(query, max_distance=14, flips=True, rule=None).matches
        flipped = {m.path: m.distance for m in flipped}
        assert set(plain) <= set(flipped)
        assert all(flipped[p] <= d for p, d in plain.items())
        nearest = catalog.search(query, max_distance=64, k=3, flips=True, rule=None).matches
        assert len(nearest) == 3 and [m.distance for m in nearest] == sorted(
            m.distance for m in nearest
        )


def test_a_confirming_hash_keeps_a_subset_with_the_true_matches(
    catalog: Catalog, library: Path, photo_paths: list[Path]
) -> None:
    query = library / photo_paths[0].name
    copies = {str(p) for p in (library / "copies").glob(f"{photo_paths[0].stem}.*")}
    truth = copies | {str(query)}

    def found(**options) -> dict[str, int]:
        result = catalog.search(query, max_distance=26, rule=None, **options)
        return {m.path: m.distance for m in result.matches}

    # A generous dHash distance: the copies, and unrelated photos too (chelsea is 26 bits away).
    loose = found()
    assert truth <= set(loose)
    # Unrelated photos are 120+ bits apart in PDQ, the heavily drawn-on copy 40: a confirming
    # distance of 64 keeps every copy and drops every unrelated photo.
    confirmed = found(confirm="pdq", confirm_distance=64)
    assert set(confirmed) == truth < set(loose)
    assert all(loose[p] == d for p, d in confirmed.items())
    # PDQ's own threshold (31 of 256 bits) is stricter: the sticker and JPEG copies stay.
    strict = found(confirm="pdq")
    assert {p for p in truth if "shapes-text" not in p} == set(strict)
    # A confirming distance of 0 keeps only files whose PDQ equals the query's: the file itself.
    assert list(found(confirm="pdq", confirm_distance=0)) == [str(query)]


def test_flips_and_confirm_together_find_a_turned_copy(
    catalog: Catalog, turned: dict[str, Path], photo_paths: list[Path]
) -> None:
    result = catalog.search(turned["rotate-90"], flips=True, confirm="pdq")
    assert any(m.path.endswith("/" + photo_paths[0].name) for m in result.matches)


def test_modes_need_an_image_and_the_confirming_hashes(
    catalog: Catalog, library: Path, tmp_path: Path, photo_paths: list[Path]
) -> None:
    code = hash_image(photo_paths[0], "dhash")
    with pytest.raises(CatalogError, match="need the query image"):
        catalog.search(code, flips=True)
    with pytest.raises(CatalogError, match="need the query image"):
        catalog.search(code, confirm="pdq")
    with pytest.raises(CatalogError, match="no phash hashes"):
        catalog.search(photo_paths[0], confirm="phash")
    with pytest.raises(CatalogError, match="unknown algorithm"):
        catalog.search(photo_paths[0], confirm="sha1")


def test_query_pictures_decode_once_for_every_algorithm(photo_paths: list[Path]) -> None:
    (single,) = query_pictures(photo_paths[1], ["dhash", "pdq"])
    assert single.hashes == {a: hash_image(photo_paths[1], a) for a in ("dhash", "pdq")}
    assert single.signature is None
    turned = query_pictures(photo_paths[1], ["dhash"], flips=True, signatures=True)
    assert len(turned) == 8 and turned[0].hashes == {"dhash": single.hashes["dhash"]}
    assert len({t.signature for t in turned}) == 8  # each orientation its own signature


def test_command_line_flips_and_confirm(
    catalog: Catalog, turned: dict[str, Path], photo_paths: list[Path]
) -> None:
    runner = CliRunner()
    base = ["search", str(turned["mirror"]), "--db", str(catalog.path), "--json"]
    plain = json.loads(runner.invoke(app, base).output)
    flipped = runner.invoke(app, [*base, "--flips", "--confirm", "pdq"])
    assert flipped.exit_code == 0, flipped.output
    name = "/" + photo_paths[0].name
    assert not any(m["path"].endswith(name) for m in plain["matches"])
    assert any(m["path"].endswith(name) for m in json.loads(flipped.output)["matches"])
    missing = runner.invoke(app, [*base, "--confirm", "whash"])
    assert missing.exit_code == 2 and "no whash hashes" in missing.output


def test_a_large_query_is_hashed_on_every_core_to_the_same_values(
    photo_paths: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from pixdex.catalog import orientations as module

    views = ["dhash", "dhash:trim", "dhash:centre", "pdq"]
    signed_on: set[str] = set()
    sign = module.signature

    def recorded(picture: Image.Image) -> bytes:
        signed_on.add(threading.current_thread().name.split("_")[0])
        return sign(picture)

    monkeypatch.setattr(module, "worker_count", lambda: 2)
    monkeypatch.setattr(module, "_HELPERS", {})
    monkeypatch.setattr(module, "signature", recorded)
    for path in photo_paths:
        size = Image.open(path).size
        assert size[0] * size[1] >= module.PARALLEL_PIXELS  # every photo is hashed in threads
        parallel = query_pictures(path, views, flips=True, signatures=True)
        serial = module.PARALLEL_PIXELS
        monkeypatch.setattr(module, "PARALLEL_PIXELS", 10**12)
        assert query_pictures(path, views, flips=True, signatures=True) == parallel
        monkeypatch.setattr(module, "PARALLEL_PIXELS", serial)
    assert signed_on == {"MainThread", "pixdex-query"}


def test_a_query_does_not_wait_for_a_helper_busy_with_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under load the one helper thread is busy with other queries' jobs: a query runs the
    jobs it handed over itself instead of queueing behind them."""
    import threading

    from pixdex.catalog import orientations as module

    monkeypatch.setattr(module, "worker_count", lambda: 2)
    monkeypatch.setattr(module, "_HELPERS", {})
    release = threading.Event()
    busy = module._helpers().submit(release.wait, 10)  # another query's job, still running
    try:
        done = module._run([lambda value=value: value for value in range(6)], parallel=True)
        assert done == list(range(6))
        assert not busy.done()  # answered while the helper was still busy
    finally:
        release.set()
        busy.result()
