"""The command line starts fast because it imports only what a command uses.

Guarded by which modules a fresh process has loaded, not by timing: ``import pixdex.cli`` must
not load numpy, Pillow or rich, and the everyday commands on a small catalog (``--help``,
``version``, ``info``, ``search --hash``, an unchanged ``index``) must not load numba, scipy, the
web server, matplotlib or the optional back ends (BENCHMARKS.md has the times). And the help
reads as a command line's: a flag is shown as a flag, not as ``--json <bool>``, and a value by an
upper-case name, ``--db DB`` and ``FOLDERS...``, not as ``--db <str>`` and ``{folders}...``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from folders import photo_folder

from pixdex.catalog import Catalog

HEAVY = ("numba", "llvmlite", "scipy", "fastapi", "uvicorn", "matplotlib", "psycopg", "dask")
"""Packages no start-up command may import (each costs 0.1-0.4 s)."""

SPY = """
import json, sys
from pixdex.cli import app
try:
    app(sys.argv[1:], prog_name="pixdex")
except SystemExit as stop:
    code = stop.code
else:
    code = 0
print(json.dumps({"exit": code, "modules": sorted(sys.modules)}))
"""
"""Run ``pixdex ARGS`` in this process, then print its exit status and the packages loaded."""


def loaded_by(*args: str | Path, packages: bool = True) -> tuple[int, set[str], str]:
    """Exit status, top-level packages loaded (every module's full name with ``packages=False``)
    and the output of ``pixdex ARGS`` in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", SPY, *map(str, args)], capture_output=True, text=True, check=True
    )
    *output, last = done.stdout.splitlines()
    report = json.loads(last)
    modules = {m.split(".")[0] if packages else m for m in report["modules"]}
    return report["exit"], modules, "\n".join(output)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory, photo_paths: list[Path]) -> tuple[Path, Path, str]:
    """A small catalog of real photos with its saved search index: (folder, db, a stored hash)."""
    root = tmp_path_factory.mktemp("startup")
    folder = root / "photos"
    photo_folder(folder, photo_paths[:6])
    db = root / "pixdex.db"
    with Catalog(db) as opened:
        opened.index([folder], workers=1)
        stored = opened.search(str(folder / photo_paths[0].name)).hash.hex
    return folder, db, stored


def test_importing_the_command_line_loads_neither_numpy_nor_pillow_nor_rich():
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys, pixdex.cli; print(json.dumps(sorted(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    modules = {name.split(".")[0] for name in json.loads(done.stdout)}
    assert not modules & {*HEAVY, "numpy", "PIL", "rich"}, modules


@pytest.mark.parametrize("args", [["--help"], ["version"], ["search", "--help"]])
def test_help_and_version_load_nothing_heavy(args):
    status, modules, output = loaded_by(*args)
    assert status == 0 and output
    assert not modules & {*HEAVY, "numpy", "PIL"}, modules


def test_info_search_by_hash_and_an_unchanged_index_load_no_compiled_kernels(catalog):
    folder, db, stored = catalog
    for args in (
        ["info", "--db", db],
        ["search", "--hash", stored, "--db", db],
        ["index", folder, "--db", db],
    ):
        status, modules, output = loaded_by(*args)
        assert status == 0, output
        assert not modules & set(HEAVY), (args[0], modules & set(HEAVY))


NOT_HASHING = (
    "pixdex.pipeline",
    "pixdex.decode",
    "pixdex.catalog.duplicates",
    "pixdex.catalog.actions",
)
"""The catalog's modules for hashing files, finding duplicates and acting on them: a search by
hash and an unchanged re-index use none of them, and they cost such a command 20-40 ms."""


def test_search_by_hash_and_an_unchanged_index_load_neither_the_decoder_nor_the_duplicate_finder(
    catalog,
):
    folder, db, stored = catalog
    for args in (["search", "--hash", stored, "--db", db], ["index", folder, "--db", db]):
        status, modules, output = loaded_by(*args, packages=False)
        assert status == 0, output
        assert not modules & set(NOT_HASHING), (args[0], modules & set(NOT_HASHING))


def test_search_by_hash_answers_from_the_saved_index_like_the_catalog(catalog):
    folder, db, stored = catalog
    status, _, output = loaded_by("search", "--hash", stored, "--db", db, "--json")
    assert status == 0
    answer = json.loads(output)
    with Catalog(db, create=False) as opened:
        paths = [m.path for m in opened.search(str(next(folder.glob("astronaut*")))).matches]
    assert [m["path"] for m in answer["matches"]] == paths
    assert answer["matches"][0]["distance"] == 0


def test_finding_duplicates_still_loads_what_it_needs(catalog):
    _, db, _ = catalog
    status, modules, _ = loaded_by("dupes", "--db", db)
    assert status == 0
    assert {"numba", "scipy"} <= modules


FLAGS = {"index": ["--prune"], "search": ["--json", "--flips"], "dupes": ["--json", "--yes"]}
"""Options that take no value, by command."""


@pytest.mark.parametrize("command", sorted(FLAGS))
def test_help_shows_flags_as_flags_without_a_value(command):
    status, _, output = loaded_by(command, "--help")
    assert status == 0 and "<bool>" not in output, output
    for flag in FLAGS[command]:
        line = next(line for line in output.splitlines() if line.strip().startswith(flag))
        words = line.split()
        assert words[0] == flag and not words[1].startswith("<"), line


COMMANDS = ("index", "search", "info", "eval", "dupes", "undo", "serve", "version")
"""Every command, as ``pixdex --help`` lists them."""

USAGE = {
    "index": "Usage: pixdex index [OPTIONS] FOLDERS...",
    "search": "Usage: pixdex search [OPTIONS] [QUERIES]...",
    "eval": "Usage: pixdex eval [OPTIONS] FOLDER",
    "info": "Usage: pixdex info [OPTIONS]",
}
"""The usage lines of the commands that take arguments, and of one that takes none."""

PLACEHOLDER = re.compile(r"<[A-Za-z][\w\[\], ]*>|\{[A-Za-z]\w*\}")
"""typer's type names, ``<str>``, ``<int range>``, ``<list[Path]>``, and braced arguments,
``{folders}`` (not a range such as ``0.0<=x<=1.0``)."""


def test_the_help_lists_every_command():
    status, _, output = loaded_by("--help")
    listed = [line.split()[0] for line in output.partition("Commands:")[2].splitlines() if line]
    assert status == 0 and listed == list(COMMANDS), output


@pytest.mark.parametrize("command", COMMANDS)
def test_help_names_every_value_in_capitals_without_type_placeholders(command):
    status, _, output = loaded_by(command, "--help")
    assert status == 0
    assert not PLACEHOLDER.search(output), output
    if command in USAGE:
        assert output.splitlines()[0] == USAGE[command]
    for line in output.splitlines():
        if line.startswith("  -"):
            names = line.split("  ")[1].replace(",", " ").split()
            values = [word for word in names if not word.startswith("-") and word != "/"]
            assert all(value.isupper() for value in values), line
