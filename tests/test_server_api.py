"""The HTTP API on a real catalog of photographs: uploads of edited copies, hashes, thumbnails,
files, live re-indexing, and every bad input answering 4xx JSON; on every backend (an SQLite file,
a PostgreSQL database served through a connection pool)."""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import new_location
from fastapi.testclient import TestClient
from folders import photo_folder
from PIL import Image

from pixdex.catalog import Catalog, CatalogError, search_distance
from pixdex.decode import Limits
from pixdex.evaluation.edits import write_edited_copies
from pixdex.matching import DEFAULT_RULE
from pixdex.pipeline import hash_image
from pixdex.server import create_app
from pixdex.server.thumbnails import ThumbnailCache, ThumbnailKey

INDEXED = 10
"""The first photos are catalogued; the rest stay outside the catalog as unrelated queries."""


@pytest.fixture(scope="module")
def library(tmp_path_factory, photo_paths: list[Path], request, backend) -> tuple[str, Path]:
    """A catalog of real photographs: ``(catalog location, photo folder)``."""
    root = tmp_path_factory.mktemp("library")
    folder = root / "photos"
    photo_folder(folder, photo_paths[:INDEXED])
    db = new_location(request, backend, root)
    with Catalog(db) as catalog:
        report = catalog.index([folder], workers=1)
    assert report.new == INDEXED
    return db, folder


@pytest.fixture(scope="module")
def client(library):
    with TestClient(create_app(library[0])) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def edited(tmp_path_factory, library) -> dict[str, Path]:
    """Edited copies (red square, JPEG q30, resize) of the catalogued chelsea.png."""
    _, folder = library
    out = tmp_path_factory.mktemp("edited")
    return write_edited_copies(folder / "chelsea.png", out, ["red-square", "jpeg-30", "resize-50"])


def _upload(client: TestClient, path: Path, **params) -> object:
    with open(path, "rb") as file:
        return client.post("/api/search", params=params, files={"image": (path.name, file)})


@pytest.mark.parametrize("edit", ["red-square", "jpeg-30", "resize-50"])
def test_upload_of_an_edited_copy_finds_its_source_first(client, library, edited, edit):
    _, folder = library
    source = folder / "chelsea.png"
    response = _upload(client, edited[edit])
    assert response.status_code == 200
    body = response.json()
    assert body["hash"] == hash_image(edited[edit]).hex
    assert body["matches"], f"{edit}: no match"
    best = body["matches"][0]
    assert best["path"] == str(source.resolve()) and body["verified"]
    # The distance in the nearest of the candidate views (whole, trimmed, centre).
    assert best["distance"] <= hash_image(edited[edit]) - hash_image(source)
    assert best["distance"] <= body["distance"] == DEFAULT_RULE.radius_for(64)
    with Image.open(source) as image:
        assert (best["width"], best["height"]) == image.size
    assert best["size"] == source.stat().st_size
    # The id addresses the same file everywhere.
    assert client.get(f"/api/images/{best['id']}").json()["path"] == best["path"]


def test_distance_and_k_bound_the_matches(client, library, edited):
    # Hash distances alone (verify=false): the bounds are the index's.
    edit = edited["red-square"]
    distance = hash_image(edit) - hash_image(library[1] / "chelsea.png")
    assert distance > 0, "the red square should move some bits"
    below = _upload(client, edit, distance=distance - 1, verify=False).json()
    at = _upload(client, edit, distance=distance, verify=False).json()
    assert "chelsea.png" not in {Path(m["path"]).name for m in below["matches"]}
    assert Path(at["matches"][0]["path"]).name == "chelsea.png"
    everything = _upload(client, edit, distance=64, verify=False).json()
    dhash = client.get("/api/stats").json()["algorithms"][0]
    assert len(everything["matches"]) == dhash["count"] - dhash["low_quality"]  # all searchable
    distances = [m["distance"] for m in everything["matches"]]
    assert distances == sorted(distances)
    narrow = _upload(client, edit, distance=16, k=1, verify=False).json()  # range cut to k
    assert [m["id"] for m in narrow["matches"]] == [everything["matches"][0]["id"]]
    nearest = _upload(client, edit, distance=64, k=3, verify=False).json()  # k nearest
    assert [m["id"] for m in nearest["matches"]] == [m["id"] for m in everything["matches"][:3]]


def test_search_by_json_hash_and_by_raw_bytes(client, library):
    path = library[1] / "coffee.png"
    code = hash_image(path)
    by_hash = client.post("/api/search", json={"hash": code.hex, "algorithm": "dhash"}).json()
    assert by_hash["matches"][0]["path"] == str(path.resolve())
    assert by_hash["matches"][0]["distance"] == 0
    raw = client.post(
        "/api/search", content=path.read_bytes(), headers={"content-type": "image/png"}
    ).json()
    assert raw["hash"] == code.hex
    assert raw["matches"][0]["id"] == by_hash["matches"][0]["id"]


def test_an_unrelated_photo_has_no_match(client, photo_paths):
    outside = photo_paths[INDEXED]  # not in the catalog, not a copy of anything in it
    body = _upload(client, outside, distance=4).json()
    assert body["matches"] == []


def test_flips_find_a_mirrored_copy_that_plain_search_misses(client, library, tmp_path):
    source = str((library[1] / "chelsea.png").resolve())
    mirrored = write_edited_copies(library[1] / "chelsea.png", tmp_path, ["mirror"])["mirror"]
    plain = _upload(client, mirrored).json()
    assert plain["flips"] is False
    assert source not in {m["path"] for m in plain["matches"]}
    flipped = _upload(client, mirrored, flips="true").json()
    assert flipped["flips"] is True
    best = flipped["matches"][0]
    assert best["path"] == source
    assert best["distance"] <= 2  # a lossless mirror: (nearly) the same hash, turned back


@pytest.fixture(scope="module")
def two_hashes(tmp_path_factory, library, request, backend) -> str:
    """The library's photos catalogued with two hashes, dHash and pHash: the catalog location."""
    db = new_location(request, backend, tmp_path_factory.mktemp("two-hashes"))
    with Catalog(db) as catalog:
        catalog.index([library[1]], algorithms=["dhash", "phash"], workers=1)
    return db


def test_confirm_keeps_a_subset_with_the_true_match(two_hashes, library, edited):
    source = str((library[1] / "chelsea.png").resolve())
    query = edited["red-square"]
    with TestClient(create_app(two_hashes)) as client:
        loose = _upload(client, query, distance=64, verify=False).json()
        confirmed = _upload(client, query, distance=64, confirm="phash", verify=False).json()
    assert loose["algorithm"] == confirmed["algorithm"] == "dhash"
    assert confirmed["confirm"] == "phash"
    assert confirmed["confirm_distance"] == search_distance("phash", 64) == 12
    found = {m["path"]: m["distance"] for m in loose["matches"]}
    kept = {m["path"]: m["distance"] for m in confirmed["matches"]}
    assert len(found) == INDEXED  # every photo is within 64 bits
    assert source in kept and set(kept) < set(found)
    assert all(found[p] == d for p, d in kept.items())  # distances are still dHash's


def test_confirm_distance_bounds_the_confirming_hash(two_hashes, library, edited):
    source = library[1] / "chelsea.png"
    phash_apart = hash_image(edited["red-square"], "phash") - hash_image(source, "phash")
    assert phash_apart > 0, "the red square should move some pHash bits"
    with TestClient(create_app(two_hashes)) as client:
        for reach, kept in ((phash_apart, True), (phash_apart - 1, False)):
            body = _upload(
                client, edited["red-square"], confirm="phash", confirm_distance=reach
            ).json()
            assert body["confirm_distance"] == reach
            assert (str(source.resolve()) in {m["path"] for m in body["matches"]}) == kept


def test_thumbnail_is_a_small_jpeg_of_the_file_and_is_cached(client, library):
    source = library[1] / "astronaut.png"
    found = client.post("/api/search", json={"hash": hash_image(source).hex}).json()
    file_id = found["matches"][0]["id"]
    first = client.get(f"/api/images/{file_id}/thumbnail")
    assert first.status_code == 200
    assert first.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(first.content)) as thumb:
        assert thumb.format == "JPEG"
        assert max(thumb.size) == 256
        # The thumbnail is the same picture: its hash is near the original's.
        assert hash_image(thumb.convert("RGB")) - hash_image(source) <= 4
    again = client.get(f"/api/images/{file_id}/thumbnail")
    assert again.content == first.content
    small = client.get(f"/api/images/{file_id}/thumbnail", params={"size": 64})
    with Image.open(io.BytesIO(small.content)) as thumb:
        assert max(thumb.size) == 64


def test_file_is_served_byte_for_byte(client, library):
    source = library[1] / "rocket.jpg"
    found = client.post("/api/search", json={"hash": hash_image(source).hex}).json()
    response = client.get(f"/api/images/{found['matches'][0]['id']}/file")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.content == source.read_bytes()


def test_stats_and_health(client):
    stats = client.get("/api/stats").json()
    assert stats["images"] == INDEXED
    assert stats["algorithms"][0]["name"] == "dhash"
    assert stats["algorithms"][0]["bits"] == 64
    assert stats["algorithms"][0]["count"] == INDEXED
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"


def test_page_and_openapi_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'id="drop"' in page.text
    assert client.get("/static/app.js").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/api/search",
        "/api/images/{file_id}",
        "/api/images/{file_id}/thumbnail",
        "/api/images/{file_id}/file",
        "/api/duplicates",
        "/api/stats",
        "/healthz",
    } <= set(paths)
    assert "multipart/form-data" in paths["/api/search"]["post"]["requestBody"]["content"]


def test_images_indexed_while_running_are_found_without_restart(tmp_path, photo_paths, location):
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(photo_paths[0], folder)
    db = location
    with Catalog(db) as catalog:
        catalog.index([folder], workers=1)
    late = photo_paths[1]
    with TestClient(create_app(db)) as client:
        assert _upload(client, late, distance=0).json()["matches"] == []
        shutil.copy(late, folder)
        with Catalog(db) as indexer:  # another writer, as `pixdex index` would be
            indexer.index([folder], workers=1)
        matches = _upload(client, late, distance=0).json()["matches"]
        assert [Path(m["path"]).name for m in matches] == [late.name]
        assert client.get("/api/stats").json()["images"] == 2


def test_missing_catalog_is_refused(location):
    with pytest.raises(CatalogError, match="no catalog"):
        create_app(location)


def test_thumbnail_cache_drops_the_least_recently_used():
    cache = ThumbnailCache(max_bytes=100)
    keys = [ThumbnailKey(i, 1, 1, 256) for i in range(4)]
    cache.put(keys[0], b"a" * 40)
    cache.put(keys[1], b"b" * 40)
    assert cache.get(keys[0]) is not None  # 0 is now more recent than 1
    cache.put(keys[2], b"c" * 40)
    assert cache.get(keys[1]) is None
    assert cache.get(keys[0]) == b"a" * 40 and cache.get(keys[2]) == b"c" * 40
    assert cache.bytes == 80
    cache.put(keys[3], b"d" * 101)  # larger than the whole cache: not kept
    assert cache.get(keys[3]) is None and len(cache) == 2


# -- bad input: 4xx JSON, never a 500 ---------------------------------------------------------


def _refused(response, status: int, kind: str | None = None) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]
    if kind is not None:
        assert body["kind"] == kind
    return body["error"]


def _post_file(client: TestClient, name: str, data: bytes, **params):
    return client.post("/api/search", params=params, files={"image": (name, data)})


def test_not_an_image(client):
    message = _refused(
        _post_file(client, "notes.png", b"shopping list\n" * 20), 422, "not-an-image"
    )
    assert "notes.png" in message and "not an image" in message


def test_truncated_image(client, library):
    data = (library[1] / "coffee.png").read_bytes()
    message = _refused(_post_file(client, "cut.png", data[: len(data) // 3]), 422, "not-an-image")
    assert "cut.png" in message and "truncated" in message


def test_empty_upload(client):
    assert "empty" in _refused(_post_file(client, "empty.png", b""), 422, "not-an-image")


def test_upload_over_the_byte_limit(library):
    data = (library[1] / "coffee.png").read_bytes()
    limits = Limits(max_pixels=64_000_000, max_bytes=len(data) - 1)
    with TestClient(create_app(library[0], limits=limits)) as client:
        _refused(_post_file(client, "coffee.png", data), 413, "too-large")
        raw = client.post("/api/search", content=data, headers={"content-type": "image/png"})
        _refused(raw, 413, "too-large")
        assert _post_file(client, "small.png", data[:100]).status_code == 422  # under: decoded


def test_upload_over_the_pixel_limit(library):
    with TestClient(create_app(library[0], limits=Limits(max_pixels=400 * 400))) as client:
        path = library[1] / "coffee.png"  # 600 × 400 pixels
        message = _refused(_post_file(client, "coffee.png", path.read_bytes()), 413, "too-large")
        assert "pixels" in message


def test_wrong_hash_length(client):
    message = _refused(client.post("/api/search", json={"hash": "abcdef"}), 400)
    assert "24-bit" in message and "64 bits" in message


@pytest.mark.parametrize("text", ["not-hex!", "", "0x"])
def test_hash_that_is_not_hex(client, text):
    _refused(client.post("/api/search", json={"hash": text}), 400)


def test_unknown_algorithm(client):
    for response in (
        client.post("/api/search", params={"algorithm": "md5"}, json={"hash": "00" * 8}),
        client.post("/api/search", json={"hash": "00" * 8, "algorithm": "md5"}),
    ):
        assert "unknown algorithm" in _refused(response, 400)


def test_algorithm_absent_from_the_catalog(client):
    message = _refused(
        client.post("/api/search", json={"hash": "0" * 16, "algorithm": "phash"}), 400
    )
    assert "no phash hashes" in message


def test_unknown_or_absent_confirming_algorithm(client, library):
    photo = library[1] / "coffee.png"
    unknown = _refused(_upload(client, photo, confirm="md5"), 400)
    assert "unknown algorithm" in unknown and "md5" in unknown
    assert "one algorithm" in _refused(_upload(client, photo, confirm="phash:framed"), 400)
    # This catalog holds dHash only: nothing to confirm with, and the message says how to fix it.
    absent = _refused(_upload(client, photo, confirm="phash"), 400, "catalog")
    assert "no phash hashes to confirm with" in absent and "--algorithm dhash,phash" in absent
    _refused(_upload(client, photo, confirm="phash", confirm_distance=-1), 422, "validation")


@pytest.mark.parametrize("params", [{"flips": "true"}, {"confirm": "dhash"}])
def test_flips_and_confirm_need_an_image(client, params):
    message = _refused(client.post("/api/search", params=params, json={"hash": "0" * 16}), 400)
    assert "need an image query" in message


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b'{"algorithm": "dhash"}', "application/json"),
        (b'["0000000000000000"]', "application/json"),
        (b'{"hash": 12345}', "application/json"),
        (b'{"hash": "0000000000000000", "algorithm": 3}', "application/json"),
        (b"\xff\xfe\x00", "application/json"),
    ],
)
def test_malformed_json(client, body, content_type):
    _refused(client.post("/api/search", content=body, headers={"content-type": content_type}), 400)


def test_unsupported_content_type_and_empty_form(client):
    _refused(
        client.post("/api/search", content=b"hello", headers={"content-type": "text/plain"}), 415
    )
    _refused(client.post("/api/search", files={"note": (None, "no file")}), 400)
    _refused(client.post("/api/search", data={"note": "no file"}), 415)
    _refused(client.post("/api/search"), 415)
    broken = client.post(
        "/api/search",
        content=b"--xyz\r\nContent-Disposition: form-data\r\n\r\n",
        headers={"content-type": "multipart/form-data; boundary=xyz"},
    )
    assert 400 <= broken.status_code < 500 and "error" in broken.json()


@pytest.mark.parametrize(
    "params", [{"k": 0}, {"k": 100_000}, {"distance": -1}, {"distance": "far"}, {"k": "x"}]
)
def test_bad_query_parameters(client, params):
    _refused(client.post("/api/search", params=params, json={"hash": "0" * 16}), 422, "validation")


def test_unknown_and_malformed_ids(client):
    for suffix in ("", "/thumbnail", "/file"):
        _refused(client.get(f"/api/images/999999{suffix}"), 404, "not-found")
        _refused(client.get(f"/api/images/abc{suffix}"), 422, "validation")
        _refused(client.get(f"/api/images/{2**63 - 1}{suffix}"), 404, "not-found")
    _refused(client.get("/api/images/1/thumbnail", params={"size": 5}), 422)


@pytest.mark.parametrize("file_id", [2**63, 10**20, -1])
@pytest.mark.parametrize("suffix", ["", "/thumbnail", "/file"], ids=["metadata", "thumb", "file"])
def test_ids_outside_64_bits_are_malformed(client, file_id, suffix):
    """Beyond what SQLite stores (a signed 64-bit id) is a malformed id, not a server error."""
    _refused(client.get(f"/api/images/{file_id}{suffix}"), 422, "validation")


def test_no_path_is_ever_read_from_the_request(client):
    for url in (
        "/api/images/..%2F..%2F..%2Fetc%2Fpasswd/file",
        "/api/images/%2Fetc%2Fpasswd/file",
        "/static/..%2F..%2Fapp.py",
        "/api/images/1/file/../../../../etc/passwd",
    ):
        response = client.get(url)
        assert 400 <= response.status_code < 500, url
        assert b"root:" not in response.content


def test_files_gone_or_changed_since_indexing_are_not_served(tmp_path, photo_paths, location):
    folder = tmp_path / "photos"
    folder.mkdir()
    for path in photo_paths[:2]:
        shutil.copy(path, folder)
    db = location
    with Catalog(db) as catalog:
        catalog.index([folder], workers=1)
    gone, changed = (folder / p.name for p in photo_paths[:2])
    with TestClient(create_app(db)) as client:
        ids = {
            Path(m["path"]).name: m["id"]
            for m in client.post(
                "/api/search", params={"distance": 64}, json={"hash": "0" * 16}
            ).json()["matches"]
        }
        gone.unlink()
        with open(changed, "ab") as file:
            file.write(b"\0" * 10)
        os.utime(changed, ns=(1, 1))
        for suffix in ("/file", "/thumbnail"):
            _refused(client.get(f"/api/images/{ids[gone.name]}{suffix}"), 404, "gone")
            _refused(client.get(f"/api/images/{ids[changed.name]}{suffix}"), 409, "changed")


@pytest.fixture(scope="module")
def planted(tmp_path_factory, photo_paths: list[Path], request, backend) -> dict[str, object]:
    """A catalog of ten photos plus planted copies: coffee re-encoded and with shapes and text,
    rocket copied byte for byte."""
    root = tmp_path_factory.mktemp("planted")
    folder = root / "photos"
    photo_folder(folder, photo_paths[:INDEXED])
    made = write_edited_copies(folder / "coffee.png", folder / "copies", ["jpeg-30", "shapes-text"])
    shutil.copy(folder / "rocket.jpg", folder / "copies" / "rocket-copy.jpg")
    db = new_location(request, backend, root)
    with Catalog(db) as catalog:
        catalog.index([folder], workers=1)
    return {"db": db, "folder": folder, "edited": made}


def test_duplicates_are_the_planted_copies(planted):
    with TestClient(create_app(planted["db"])) as client:
        response = client.get("/api/duplicates", params={"distance": 10})
        assert response.status_code == 200
        body = response.json()
        assert body["distance"] == 10 and body["algorithm"] == "dhash"
        groups = {frozenset(Path(m["path"]).name for m in g["members"]): g for g in body["groups"]}
        assert set(groups) == {
            frozenset({"coffee.png", "coffee.jpeg-30.png", "coffee.shapes-text.png"}),
            frozenset({"rocket.jpg", "rocket-copy.jpg"}),
        }
        for group in body["groups"]:
            keeper, *others = group["members"]
            assert keeper["path"] == group["keeper"] and keeper["distance"] == 0
            for member in others:
                pair = {Path(member["path"]).name, Path(keeper["path"]).name}
                member_hash = hash_image(member["path"])
                assert member["distance"] == member_hash - hash_image(keeper["path"])
                assert member["exact"] == (pair == {"rocket.jpg", "rocket-copy.jpg"})
            for member in group["members"]:  # every member is served by its id
                assert client.get(f"/api/images/{member['id']}").json()["path"] == member["path"]
                assert client.get(f"/api/images/{member['id']}/thumbnail").status_code == 200

        # Below the shapes' distance that copy leaves the coffee group.
        shapes = hash_image(planted["edited"]["shapes-text"]) - hash_image(
            planted["folder"] / "coffee.png"
        )
        jpeg = hash_image(planted["edited"]["jpeg-30"]) - hash_image(
            planted["folder"] / "coffee.png"
        )
        assert jpeg < shapes
        tighter = client.get("/api/duplicates", params={"distance": shapes - 1}).json()
        names = [{Path(m["path"]).name for m in g["members"]} for g in tighter["groups"]]
        assert {"coffee.png", "coffee.jpeg-30.png"} in names
        assert all("coffee.shapes-text.png" not in n for n in names)

        first = client.get("/api/duplicates", params={"distance": 10, "limit": 1}).json()
        assert first["total_groups"] == 2 and len(first["groups"]) == 1
        assert len(first["groups"][0]["members"]) == 3  # largest group first


def test_duplicates_bad_input(client):
    _refused(client.get("/api/duplicates", params={"distance": -2}), 422, "validation")
    _refused(client.get("/api/duplicates", params={"limit": 0}), 422, "validation")
    _refused(client.get("/api/duplicates", params={"algorithm": "md5"}), 400)
    assert "no phash hashes" in _refused(
        client.get("/api/duplicates", params={"algorithm": "phash"}), 400
    )


def test_pixdex_serve_command(library, location):
    """The CLI command serves the catalog on 127.0.0.1, and refuses a missing catalog."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "pixdex.cli", "serve", "--db", library[0]]
    server = subprocess.Popen([*command, "--port", str(port)], stderr=subprocess.PIPE)
    try:
        for _ in range(600):
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz")
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read().decode()
                time.sleep(0.1)
        assert health.status_code == 200
        stats = httpx.get(f"http://127.0.0.1:{port}/api/stats").json()
        assert stats["images"] == INDEXED
    finally:
        server.terminate()
        server.wait()
    missing = subprocess.run(
        [sys.executable, "-m", "pixdex.cli", "serve", "--db", location],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2
    assert "no catalog here" in missing.stderr


WARM_UP_CHECK = """
import sys
from fastapi.testclient import TestClient
from pixdex.server import create_app
with TestClient(create_app(sys.argv[1])):
    from pixdex.catalog import keeper_groups
    from pixdex.matching import verification
    compiled = [keeper_groups._speculate, verification._score_against]
    print(" ".join(str(len(kernel.signatures)) for kernel in compiled))
"""


def test_the_server_compiles_search_and_duplicate_finding_before_its_first_request(
    tmp_path: Path, photo_paths: list[Path]
) -> None:
    """In a fresh process, a started server has its verification and keeper loop compiled
    before any request: a first duplicate listing compiling them would hold the interpreter for
    tens of seconds on a fresh install, and every other request would be shed meanwhile."""
    folder = tmp_path / "photos"
    photo_folder(folder, photo_paths[:3])
    with Catalog(tmp_path / "pixdex.db") as catalog:
        catalog.index([folder], workers=1)
    started = subprocess.run(
        [sys.executable, "-c", WARM_UP_CHECK, str(tmp_path / "pixdex.db")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert started.stdout.split() == ["1", "1"]
