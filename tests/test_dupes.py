"""Duplicate groups, safe actions and undo on a catalog of real photographs with planted copies,
on every backend (SQLite, PostgreSQL)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from folders import photo_folder
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from typer.testing import CliRunner

from pixdex.catalog import Catalog, CatalogError, FileRecord
from pixdex.catalog.actions import journal_path
from pixdex.catalog.duplicates import KEEP_POLICIES, _keep_rank, _keeper_order
from pixdex.catalog.location import open_store
from pixdex.catalog.store import StoredFile
from pixdex.cli import app
from pixdex.evaluation.edits import write_edited_copies
from pixdex.hashing import Hash

SOURCES = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg")
"""Photographs that get planted copies; the other photos in ``photo_paths`` get none."""

EDITS = ["identity", "resize-50", "jpeg-30", "brightness", "red-square"]
"""Edits dHash sees through at the default distance (see BENCHMARKS.md, quality section)."""


@pytest.fixture
def collection(tmp_path, photo_paths) -> tuple[Path, dict[str, str]]:
    """A folder of real photos, with edited copies and a byte-identical copy of ``SOURCES``
    planted in a subfolder. Returns the folder and each file's source photo (by file name)."""
    root = tmp_path / "photos"
    planted = root / "planted"
    planted.mkdir(parents=True)
    source_of = {}
    for photo in photo_paths:
        shutil.copy(photo, root / photo.name)
        source_of[str(root / photo.name)] = photo.name
    for name in SOURCES:
        for path in write_edited_copies(root / name, planted, EDITS).values():
            source_of[str(path)] = name
        twin = planted / f"twin-{name}"
        shutil.copy(root / name, twin)
        source_of[str(twin)] = name
    return root, source_of


@pytest.fixture
def catalog(location, collection):
    root, _ = collection
    with Catalog(location) as opened:
        opened.index([root], workers=1)
        yield opened


def group_paths(groups) -> list[set[str]]:
    return [{m.path for m in g.members} for g in groups]


@pytest.mark.parametrize("chain", [True, False])
def test_planted_copies_land_in_their_sources_group(catalog, collection, chain):
    _, source_of = collection
    groups = catalog.duplicates(chain=chain)
    for name in SOURCES:
        copies = {path for path, source in source_of.items() if source == name}
        holding = [paths for paths in group_paths(groups) if paths & copies]
        assert len(holding) == 1, f"{name}'s copies are split over {len(holding)} groups"
        assert holding[0] == copies
    # No unrelated photographs grouped: every group shows a single source photo.
    for paths in group_paths(groups):
        assert len({source_of[p] for p in paths}) == 1, paths
    assert len(groups) == len(SOURCES)


def test_members_describe_the_files_and_the_keeper_comes_first(catalog):
    for group in catalog.duplicates(keep="largest"):
        keeper = group.keeper
        assert keeper.distance == 0 and keeper.exact
        pixels = [m.width * m.height for m in group.members]
        assert keeper.width * keeper.height == max(pixels)
        for member in group.members:
            with Image.open(member.path) as image:
                assert (member.width, member.height) == image.size
            assert member.size == os.path.getsize(member.path)
            assert member.exact == (
                Path(member.path).read_bytes() == Path(keeper.path).read_bytes()
            )
        distances = [m.distance for m in group.others]
        assert distances == sorted(distances)


@pytest.mark.parametrize("keep", ["newest", "oldest", "shortest-path"])
def test_keep_policies(catalog, keep):
    for group in catalog.duplicates(keep=keep):
        if keep == "shortest-path":
            assert len(group.keeper.path) == min(len(m.path) for m in group.members)
        else:
            mtimes = [m.mtime_ns for m in group.members]
            wanted = max(mtimes) if keep == "newest" else min(mtimes)
            assert group.keeper.mtime_ns == wanted


def test_chaining_is_optional(location, photo_paths):
    """Five files whose hashes form a chain, each 4 bits from the next: one connected component,
    but groups around representatives keep every member within the distance of one file."""
    store = open_store(location)
    value, records = 0, []
    for step, photo in enumerate(photo_paths[:5]):
        if step:
            value ^= 0b1111 << (8 * step)  # four fresh bits per link
        stat = photo.stat()
        records.append(
            FileRecord(
                str(photo),
                stat.st_size,
                stat.st_mtime_ns,
                digest=f"{step:032x}",
                width=10,
                height=10,
                format="PNG",
                hashes={"dhash": Hash(value, 64, "dhash", 100)},
            )
        )
    store.write(records)
    store.close()
    with Catalog(location) as catalog:
        # The hash-distance grouping (no rule: these records have no signatures).
        chained = catalog.duplicates(max_distance=5, rule=None)
        assert len(chained) == 1 and len(chained[0].members) == 5
        split = catalog.duplicates(max_distance=5, chain=False, rule=None)
        assert sorted(len(g.members) for g in split) == [2, 3]
        for group in split:
            hashes = {
                m.path: records[photo_paths.index(Path(m.path))].hashes["dhash"]
                for m in group.members
            }
            assert any(all(h - other <= 5 for other in hashes.values()) for h in hashes.values())


def test_blank_images_group_only_with_their_own_kind(tmp_path, location):
    folder = tmp_path / "blank"
    folder.mkdir()
    Image.new("RGB", (300, 200), (255, 255, 255)).save(folder / "white.png")
    Image.new("RGB", (320, 240), (254, 254, 254)).save(folder / "white-too.jpg", quality=95)
    Image.new("RGB", (300, 200), (20, 20, 20)).save(folder / "black.png")
    Image.new("RGB", (300, 200), (200, 30, 30)).save(folder / "red.png")
    with Catalog(location) as catalog:
        catalog.index([folder], workers=1)
        # The rule: two white pages are one picture; black and red ones are others.
        (group,) = catalog.duplicates()
        assert {Path(m.path).name for m in group.members} == {"white.png", "white-too.jpg"}
        # Hash distance alone: degenerate hashes (all blank pictures hash alike) form no group
        # unless asked, and then every blank picture lands in one.
        assert catalog.duplicates(rule=None) == []
        (group,) = catalog.duplicates(include_low_quality=True, rule=None)
        assert len(group.members) == 4


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_move_acts_on_exactly_the_non_keepers_and_undo_restores_them(catalog, collection, tmp_path):
    root, _ = collection
    before = snapshot(root)
    groups = catalog.duplicates()
    others = {m.path for g in groups for m in g.others}
    keepers = {g.keeper.path for g in groups}
    quarantine = tmp_path / "quarantine"

    done = catalog.remove_duplicates(groups, move_to=quarantine)

    assert {source for source, _ in done.moved} == others
    assert done.skipped == () and done.deleted == ()
    for source, target in done.moved:
        assert not os.path.exists(source)
        assert Path(target) == quarantine / Path(source).relative_to(root)
        assert Path(target).read_bytes() == before[source]
    assert all(os.path.exists(k) for k in keepers)
    assert catalog.duplicates() == []  # the catalog no longer lists the moved files
    lines = journal_path(catalog.path).read_text().splitlines()
    actions = [json.loads(line)["action"] for line in lines]  # each move journaled, then done
    assert actions == ["move", "done"] * len(others)

    undone = catalog.undo()
    assert undone.run == done.run and undone.failed == ()
    assert snapshot(root) == before  # every file back, byte for byte
    assert group_paths(catalog.duplicates()) == group_paths(groups)
    assert catalog.undo().run is None  # nothing left to undo
    nothing = catalog.remove_duplicates([], move_to=quarantine)
    assert nothing.moved == nothing.skipped == ()


def test_a_file_changed_after_indexing_is_left_alone(catalog):
    groups = catalog.duplicates()
    changed = groups[0].others[0].path
    with open(changed, "ab") as handle:
        handle.write(b"edited after indexing")
    touched = groups[1].others[0].path
    stat = os.stat(touched)
    os.utime(touched, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))

    done = catalog.remove_duplicates(groups, delete=True)

    skipped = dict(done.skipped)
    assert set(skipped) == {changed, touched}
    assert "size changed" in skipped[changed] and "modified" in skipped[touched]
    assert os.path.exists(changed) and os.path.exists(touched)
    expected = {m.path for g in groups for m in g.others} - {changed, touched}
    assert set(done.deleted) == expected
    assert not any(os.path.exists(p) for p in expected)
    assert set(catalog.undo().not_undoable) == set(done.deleted)


def test_a_file_rewritten_with_its_size_and_mtime_restored_is_caught_by_its_digest(
    catalog, tmp_path
):
    groups = catalog.duplicates()
    changed = groups[0].others[0].path
    before = os.stat(changed)
    data = bytearray(Path(changed).read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte flipped: same size
    Path(changed).write_bytes(data)
    os.utime(changed, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(changed)
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)

    done = catalog.remove_duplicates(groups, move_to=tmp_path / "quarantine")

    ((skipped, reason),) = done.skipped
    assert skipped == changed and "digest differs" in reason
    assert Path(changed).read_bytes() == data  # left where it was, as it was
    expected = {m.path for g in groups for m in g.others} - {changed}
    assert {source for source, _ in done.moved} == expected


def test_a_group_whose_keeper_changed_is_not_touched(catalog):
    groups = catalog.duplicates()
    keeper = groups[0].keeper.path
    Path(keeper).write_bytes(Path(keeper).read_bytes() + b"!")
    done = catalog.remove_duplicates(groups[:1], delete=True)
    assert done.deleted == ()
    assert {p for p, _ in done.skipped} == {m.path for m in groups[0].members}
    assert all(os.path.exists(m.path) for m in groups[0].members)


def test_moving_into_the_collection_is_refused(catalog, collection):
    root, _ = collection
    with pytest.raises(CatalogError, match="inside the collection"):
        catalog.remove_duplicates(catalog.duplicates(), move_to=root / "dupes")


def test_cli_json_lines(catalog, location):
    result = CliRunner().invoke(app, ["dupes", "--db", location, "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == len(SOURCES)
    for group in lines:
        assert set(group) == {"keeper", "implausible", "members"}
        assert group["members"][0]["path"] == group["keeper"]
        assert group["members"][0]["distance"] == 0
        for member in group["members"]:
            assert set(member) == {"path", "distance", "size", "width", "height", "exact"}
            assert isinstance(member["exact"], bool)
            assert member["size"] == os.path.getsize(member["path"])


def test_cli_moves_then_undoes(catalog, collection, tmp_path, location):
    root, _ = collection
    before = snapshot(root)
    db = location
    moved = CliRunner().invoke(app, ["dupes", "--db", db, "--move-to", str(tmp_path / "q")])
    assert moved.exit_code == 0, moved.output
    assert snapshot(root) != before
    undone = CliRunner().invoke(app, ["undo", "--db", db])
    assert undone.exit_code == 0, undone.output
    assert snapshot(root) == before


def test_cli_report_and_csv(catalog, tmp_path, location):
    db = location
    page = tmp_path / "dupes.html"
    assert CliRunner().invoke(app, ["dupes", "--db", db, "--report", str(page)]).exit_code == 0
    text = page.read_text()
    assert text.count("<section>") == len(SOURCES) and "data:image/jpeg;base64," in text
    table = tmp_path / "dupes.csv"
    assert CliRunner().invoke(app, ["dupes", "--db", db, "--csv", str(table)]).exit_code == 0
    rows = table.read_text().splitlines()
    members = sum(len(g.members) for g in catalog.duplicates())
    assert rows[0].startswith("group,keeper,path") and len(rows) == members + 1


@pytest.mark.parametrize(
    "arguments",
    [
        ["--delete"],
        ["--keep", "prettiest"],
        ["--json", "--csv", "x.csv"],
        ["--algorithm", "nope"],
        ["--no-chain"],  # only hash distance alone (--no-verify) chains
        ["--include-low-quality"],
    ],
)
def test_cli_user_errors_are_one_line_with_status_2(catalog, location, arguments):
    result = CliRunner().invoke(app, ["dupes", "--db", location, *arguments])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "pixdex:" in result.stderr


def test_cli_dupes_without_verification_groups_blank_pictures_by_hash_alone(tmp_path, location):
    folder = tmp_path / "blank"
    folder.mkdir()
    Image.new("RGB", (300, 200), (255, 255, 255)).save(folder / "white.png")
    Image.new("RGB", (300, 200), (20, 20, 20)).save(folder / "black.png")
    Image.new("RGB", (300, 200), (200, 30, 30)).save(folder / "red.png")
    with Catalog(location) as catalog:
        catalog.index([folder], workers=1)

    def groups(*options: str) -> list[set[str]]:
        result = CliRunner().invoke(app, ["dupes", "--db", location, "--json", *options])
        assert result.exit_code == 0, result.output
        lines = [json.loads(line) for line in result.stdout.splitlines()]
        return [{Path(m["path"]).name for m in g["members"]} for g in lines]

    assert groups() == []  # the rule: three different blank pictures
    assert groups("--no-verify") == []  # degenerate hashes left out
    assert groups("--no-verify", "--include-low-quality") == [{"white.png", "black.png", "red.png"}]


def test_flips_group_mirrored_and_rotated_copies_that_plain_grouping_misses(
    tmp_path, location, photo_paths
):
    root = tmp_path / "photos"
    photo_folder(root, photo_paths)
    turned = write_edited_copies(root / "coffee.png", tmp_path / "turned", ["mirror", "rotate-90"])
    for path in turned.values():
        shutil.move(path, root / path.name)
    with Catalog(location) as catalog:
        catalog.index([root], workers=1)
        plain = group_paths(catalog.duplicates())
        flipped = catalog.duplicates(flips=True)
    expected = {str(root / "coffee.png")} | {str(root / p.name) for p in turned.values()}
    assert not any(group & expected for group in plain)
    assert expected in group_paths(flipped)
    group = next(g for g in flipped if {m.path for m in g.members} == expected)
    assert all(m.distance <= 10 for m in group.members)  # in each copy's nearest orientation
    # Nothing else joins: the other photos' turned hashes are far from everything.
    assert sum(len(g.members) for g in flipped) - len(expected) == sum(len(g) for g in plain)


def test_cli_dupes_flips(tmp_path, location, photo_paths):
    root = tmp_path / "photos"
    photo_folder(root, photo_paths[:4])
    (mirrored,) = write_edited_copies(root / photo_paths[0].name, root, ["mirror"]).values()
    with Catalog(location) as catalog:
        catalog.index([root], workers=1)
    result = CliRunner().invoke(app, ["dupes", "--db", location, "--flips", "--json"])
    assert result.exit_code == 0, result.output
    groups = [json.loads(line) for line in result.output.splitlines()]
    assert [sorted(m["path"] for m in g["members"]) for g in groups] == [
        sorted([str(root / photo_paths[0].name), str(mirrored)])
    ]


stored_files = st.builds(
    StoredFile,
    file_id=st.integers(1, 10**6),
    path=st.text(st.sampled_from("/ab-é\udcff0"), max_size=6),
    size=st.integers(0, 3),
    mtime_ns=st.integers(0, 2**62).map(lambda t: t - t % 2**60),  # ties likely
    digest=st.none(),
    width=st.none() | st.integers(0, 3),
    height=st.none() | st.integers(0, 3),
    format=st.none(),
    error=st.none(),
)


@given(files=st.lists(st.none() | stored_files, max_size=30), keep=st.sampled_from(KEEP_POLICIES))
def test_keepers_are_ranked_in_the_order_the_keep_policy_ranks_them(files, keep):
    # The duplicate finder ranks its files as arrays; a group's keeper is then chosen by the
    # policy's key: the two orders must agree, ties and file names outside ASCII included.
    # A file gone from the catalog meanwhile (None) ranks last.
    expected = sorted(
        range(len(files)),
        key=lambda i: (files[i] is None, () if files[i] is None else _keep_rank(files[i], keep)),
    )
    assert _keeper_order(files, keep).tolist() == expected


def test_a_cropped_or_bordered_copy_is_grouped_with_its_source(location, tmp_path, photo_paths):
    # A 10 % crop or a border moves the picture in its frame: its whole picture's hash is far
    # from its source's, and only the views inside the margins and of the centre bring the two
    # together, as they do for the search. (One edit per source: a member is verified against
    # its keeper, and a crop of the picture is not the same picture as a bordered copy's frame.)
    root = tmp_path / "photos"
    root.mkdir()
    for photo in photo_paths:
        shutil.copy(photo, root / photo.name)
    planted = {
        name: write_edited_copies(root / name, root / "edited", [edit])[edit]
        for name, edit in zip(SOURCES, ["crop-10", "border"] * 2, strict=True)
    }
    with Catalog(location) as catalog:
        catalog.index([root], workers=1)
        groups = group_paths(catalog.duplicates())
    for name, copy in planted.items():
        assert {str(root / name), str(copy)} in groups
