"""The ``pixdex`` command on real photographs: index, search (text, JSON, HTML), info, errors;
on every backend (``--db`` an SQLite file, or a PostgreSQL URI).

The commands run as a user runs them, in a subprocess of the installed entry point, so exit
statuses, stdout and stderr are the real ones (no traceback may reach a user).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import new_location
from folders import photo_folder

from pixdex.evaluation.edits import write_edited_copies

PIXDEX = [sys.executable, "-m", "pixdex.cli"]


def pixdex(*args: str | Path, db: str | Path) -> subprocess.CompletedProcess[str]:
    """Run ``pixdex ARGS`` against the catalog ``db`` (a path or a URI); the completed process."""
    env = {**os.environ, "PIXDEX_DB": str(db)}
    return subprocess.run(
        [*PIXDEX, *map(str, args)], capture_output=True, text=True, env=env, check=False
    )


@pytest.fixture(scope="module")
def library(tmp_path_factory, photo_paths: list[Path], request, backend) -> tuple[Path, str, str]:
    """A folder of real photos indexed into a catalog, a broken file among them:
    (folder, db, what the first ``index`` printed)."""
    root = tmp_path_factory.mktemp("cli")
    folder = root / "photos"
    photo_folder(folder, photo_paths)
    (folder / "broken.jpg").write_bytes(photo_paths[4].read_bytes()[:300])
    db = new_location(request, backend, root)
    first = pixdex("index", folder, "--workers", "1", db=db)
    assert first.returncode == 0, first.stderr
    return folder, db, first.stdout


def test_index_summarises_and_a_second_run_reads_nothing(library, photo_paths):
    folder, db, first = library
    assert f"{len(photo_paths)} new, 0 changed, 0 unchanged, 1 failed" in first.splitlines()[0]
    failure = next(line for line in first.splitlines() if "failed:" in line)
    assert "broken.jpg" in failure and "truncated" in failure
    second = pixdex("index", folder, "--workers", "1", db=db)
    assert second.returncode == 0, second.stderr
    # The broken file is known and unchanged: it is not read again either.
    expected = f"0 new, 0 changed, {len(photo_paths) + 1} unchanged, 0 failed"
    assert expected in second.stdout.splitlines()[0]


def test_search_finds_the_source_of_edited_copies_sorted_with_json(library, tmp_path):
    folder, db, _ = library
    copies = write_edited_copies(folder / "astronaut.png", tmp_path, ["red-square", "resize-50"])
    result = pixdex("search", *copies.values(), "--json", db=db)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 2
    for line in lines:
        assert set(line) == {"query", "algorithm", "hash", "took_ms", "verified", "matches"}
        assert line["algorithm"] == "dhash" and len(line["hash"]) == 16
        paths = [m["path"] for m in line["matches"]]
        assert str(folder / "astronaut.png") in paths
        keys = [(m["distance"], m["path"]) for m in line["matches"]]
        assert keys == sorted(keys) and all(m["distance"] <= 10 for m in line["matches"])
        assert all(set(m) == {"path", "distance", "hash"} for m in line["matches"])


def test_search_prints_distance_hash_and_path_and_writes_an_html_report(library, tmp_path):
    folder, db, _ = library
    report = tmp_path / "report.html"
    result = pixdex("search", folder / "coffee.png", "--report", report, db=db)
    assert result.returncode == 0, result.stderr
    first, best = result.stdout.splitlines()[:2]
    assert "coffee.png" in first and "ms" in first
    assert best.split()[0] == "0" and best.split()[-1] == str(folder / "coffee.png")
    page = report.read_text()
    assert "<img" in page and "data:image/" in page and "coffee.png" in page


def test_search_by_hash_with_k(library):
    folder, db, _ = library
    listed = pixdex("search", folder / "camera.png", "--json", db=db)
    stored = json.loads(listed.stdout)["hash"]
    result = pixdex("search", "--hash", stored, "-k", "1", "--distance", "64", "--json", db=db)
    assert result.returncode == 0, result.stderr
    matches = json.loads(result.stdout)["matches"]
    assert [m["path"] for m in matches] == [str(folder / "camera.png")]


def test_info_counts_images_hashes_and_failures(library, photo_paths):
    _, db, _ = library
    result = pixdex("info", db=db)
    assert result.returncode == 0, result.stderr
    assert f"images:   {len(photo_paths)}" in result.stdout
    assert f"dhash (64 bits): {len(photo_paths)}" in result.stdout
    assert "failures: 1" in result.stdout


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("search", "--hash", "abcd"), "16-bit hash"),
        (("search", "--hash", "zz"), "not a hex hash"),
        (("search", "--hash", "0" * 16, "--algorithm", "nohash"), "unknown algorithm"),
        (("index", "/no/such/folder"), "no such file or folder"),
        (("search", "/no/such/query.png"), "no such file or folder"),
        (("search", "--hash", "0" * 16, "--include-low-quality"), "applies to --no-verify"),
        (("dupes", "--no-chain"), "apply to --no-verify"),
    ],
)
def test_user_errors_print_one_line_and_exit_2(library, args, reason):
    _, db, _ = library
    result = pixdex(*args, db=db)
    assert result.returncode == 2
    assert reason in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_an_unreadable_query_and_a_missing_catalog_are_user_errors(library, tmp_path):
    _, db, _ = library
    text = tmp_path / "notes.png"
    text.write_text("not an image at all\n")
    unreadable = pixdex("search", text, db=db)
    assert unreadable.returncode == 2 and "notes.png" in unreadable.stderr
    assert "Traceback" not in unreadable.stderr
    missing = pixdex("info", db=tmp_path / "absent.db")
    assert missing.returncode == 2 and "absent.db" in missing.stderr
    assert "Traceback" not in missing.stderr
