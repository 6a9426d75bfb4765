"""``pixdex eval`` on folders of real photographs: reproducible output, the files it writes, the
search modes it measures (flips, a confirming hash), and the command line."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from pixdex.cli import app
from pixdex.evaluation.command import choose_originals, eval_command
from pixdex.evaluation.schemes import Mode, parse_mode
from pixdex.matching import DEFAULT_RULE

MODES = ["dhash", "dhash+flips", "dhash+pdq"]
EDITS = ["red-square", "shapes-text", "jpeg-30", "mirror", "rotate-90"]


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory, photo_paths: list[Path]) -> Path:
    """Seven real photographs in a folder (one in a subfolder)."""
    folder = tmp_path_factory.mktemp("photos")
    (folder / "sub").mkdir()
    for i, path in enumerate(photo_paths[:7]):
        shutil.copy(path, (folder / "sub" if i == 3 else folder) / path.name)
    return folder


def run(folder: Path, out: Path, seed: int = 0, **options):
    settings = {"modes": MODES, "edits": EDITS, "sample": 6, "max_side": 256, "plots": False}
    return eval_command(folder, seed=seed, out=out, **(settings | options))


@pytest.fixture(scope="module")
def evaluation(photo_folder: Path, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval")
    return run(photo_folder, out, plots=True), out


def test_same_seed_gives_identical_json_and_another_seed_does_not(
    photo_folder: Path, tmp_path: Path, evaluation
) -> None:
    _, first = evaluation
    run(photo_folder, tmp_path / "again")
    run(photo_folder, tmp_path / "other", seed=1)
    text = (first / "eval.json").read_text()
    assert (tmp_path / "again" / "eval.json").read_text() == text
    assert (tmp_path / "again" / "eval.csv").read_text() == (first / "eval.csv").read_text()
    # Seed 1 draws another 6 of the 7 photos and places the stickers elsewhere.
    assert (tmp_path / "other" / "eval.json").read_text() != text


def test_the_sample_is_seeded_and_drawn_from_the_whole_tree(photo_folder: Path) -> None:
    paths = sorted(photo_folder.rglob("*.*"))
    first, again = choose_originals(paths, 4, 3), choose_originals(list(reversed(paths)), 4, 3)
    assert first == again and len(set(first)) == 4 and set(first) <= set(paths)
    assert choose_originals(paths, 50, 3) == paths


def test_json_and_csv_hold_the_same_curves(photo_folder: Path, evaluation) -> None:
    result, out = evaluation
    data = json.loads((out / "eval.json").read_text())
    assert [m["mode"] for m in data["modes"]] == MODES
    files = {p.relative_to(photo_folder).as_posix() for p in photo_folder.rglob("*.*")}
    assert len(data["originals"]) == 6 and set(data["originals"]) < files
    assert data["files_found"] == 7
    with (out / "eval.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 3 * 65  # distances 0..64 for each 64-bit mode
    for mode in data["modes"]:
        mine = [r for r in rows if r["mode"] == mode["mode"]]
        for edit in EDITS:
            from_csv = [float(r[f"recall_{edit}"]) for r in mine]
            assert from_csv == pytest.approx(mode["curves"]["recall"][edit])
        from_csv = [float(r["false_match_rate"]) for r in mine]
        assert from_csv == pytest.approx(mode["curves"]["false_match_rate"])
        # The recommended distance is the largest whose false-match rate is within the target.
        rates = np.array(mode["curves"]["false_match_rate"])
        d = mode["recommended_distance"]
        assert rates[d] <= data["target_false_match_rate"]
        assert d == 64 or rates[d + 1] > data["target_false_match_rate"]
    assert result.results[0].report.edits["red-square"].queries == 6


def test_plots_are_written_as_png(evaluation) -> None:
    _, out = evaluation
    for name in ("recall_by_edit.png", "tradeoff.png"):
        with Image.open(out / name) as image:
            assert image.format == "PNG" and min(image.size) > 200


def test_flips_find_mirrored_and_rotated_copies(evaluation) -> None:
    result, _ = evaluation
    plain, flips = (r.report for r in result.results[:2])
    for edit in ("mirror", "rotate-90"):
        # A mirrored photo's dHash is far from the original's; one of the eight orientations
        # of the query is the original itself.
        assert plain.edits[edit].recall[10] < 0.5
        assert flips.edits[edit].recall[10] == 1.0
    # The other edits are found at least as often as without flips.
    for edit in ("red-square", "shapes-text", "jpeg-30"):
        assert np.all(flips.edits[edit].recall >= plain.edits[edit].recall)


def test_a_confirming_hash_only_removes_matches(evaluation) -> None:
    result, _ = evaluation
    plain, confirmed = result.results[0].report, result.results[2].report
    assert np.all(confirmed.false_match_rate <= plain.false_match_rate)
    for edit in EDITS:
        assert np.all(confirmed.edits[edit].recall <= plain.edits[edit].recall)
    # PDQ confirms the small edits: a sticker and JPEG artefacts stay found.
    assert confirmed.edits["jpeg-30"].recall[10] == plain.edits["jpeg-30"].recall[10] == 1.0


RULE_EDITS = ["red-square", "jpeg-30", "crop-10", "mirror"]


@pytest.fixture(scope="module")
def rule_evaluation(photo_folder: Path, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval-rule")
    return run(photo_folder, out, modes=["rule", "rule+flips", "dhash"], edits=RULE_EDITS), out


def test_the_rule_finds_edited_photos_and_no_unrelated_one(rule_evaluation) -> None:
    result, _ = rule_evaluation
    rule, flipped, plain = result.results
    assert rule.default == flipped.default == DEFAULT_RULE.radius and plain.default == 10
    shipped = rule.at(rule.default)
    assert shipped["recall_by_edit"]["red-square"] == shipped["recall_by_edit"]["jpeg-30"] == 1.0
    # A 10 % crop moves the picture in the frame: plain dHash loses it, the centre view does not.
    assert shipped["recall_by_edit"]["crop-10"] >= 5 / 6
    assert plain.at(10)["recall_by_edit"]["crop-10"] < 0.5
    # Verified: no copy brings back another photo, no two photos are taken for one another.
    assert shipped["others_per_query"] == 0.0 and shipped["false_match_rate"] == 0.0
    assert rule.recommended == rule.default  # the rule proposes nothing beyond its radius
    # Mirrored copies: found with flips only, and still nothing else.
    assert shipped["recall_by_edit"]["mirror"] < 0.5
    with_flips = flipped.at(flipped.default)
    assert with_flips["recall_by_edit"]["mirror"] == 1.0
    assert with_flips["others_per_query"] == 0.0


def test_the_rule_modes_are_written_with_their_settings(rule_evaluation) -> None:
    _, out = rule_evaluation
    data = json.loads((out / "eval.json").read_text())
    assert [m["mode"] for m in data["modes"]] == ["rule", "rule+flips", "dhash"]
    settings = data["modes"][0]["rule"]
    assert settings["radius"] == DEFAULT_RULE.radius
    assert settings["min_preserved"] == DEFAULT_RULE.verifier.min_preserved
    assert data["modes"][2]["rule"] is None
    with (out / "eval.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert [r["mode"] for r in rows].count("rule") == 65
    at_radius = next(r for r in rows if r["mode"] == "rule+flips" and r["distance"] == "16")
    assert float(at_radius["recall_mirror"]) == 1.0 and float(at_radius["others_per_query"]) == 0


def test_views_are_measured_like_any_algorithm(photo_folder: Path, tmp_path: Path) -> None:
    options = {"sample": 5, "edits": ["border"], "modes": ["dhash", "dhash:trim"]}
    plain, trimmed = (r.report for r in run(photo_folder, tmp_path, **options).results)
    # A white frame moves the picture inside the hashed area; trimming it away undoes that.
    assert trimmed.edits["border"].recall[4] == 1.0
    assert plain.edits["border"].recall[4] < 1.0


def test_low_quality_hashes_are_matched_only_when_asked(photo_folder: Path, tmp_path: Path) -> None:
    folder = tmp_path / "blanks"
    shutil.copytree(photo_folder, folder)
    for shade in (250, 255):  # two blank pages: identical, degenerate dHashes
        Image.new("RGB", (300, 200), (shade,) * 3).save(folder / f"blank{shade}.png")
    options = {"sample": None, "edits": ["jpeg-30"], "modes": ["dhash", "dhash+lowq"]}
    plain, lowq = (r.report for r in run(folder, tmp_path / "out", **options).results)
    assert plain.false_match_rate[0] == 0 and lowq.false_match_rate[0] > 0
    # With low-quality hashes, the blank pages' JPEG copies are found; without, they are not.
    assert lowq.edits["jpeg-30"].recall[10] == 1.0
    assert plain.edits["jpeg-30"].recall[10] == pytest.approx(7 / 9)


def test_unreadable_files_are_left_out_and_listed(photo_folder: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    shutil.copytree(photo_folder, folder)
    broken = next(folder.glob("*.jpg"))
    broken.write_bytes(broken.read_bytes()[:300])  # truncated in the middle of the header
    result = run(folder, tmp_path / "out", sample=None, modes=["dhash"], edits=["jpeg-30"])
    assert [p for p, _ in result.skipped] == [broken.name]
    assert len(result.originals) == 6 and broken.name not in result.originals


def test_groups_keep_the_same_picture_out_of_the_false_matches(
    photo_folder: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "twins"
    shutil.copytree(photo_folder, folder)
    source = next(folder.glob("*.png"))
    shutil.copy(source, folder / "twin.png")
    options = {"sample": None, "modes": ["dhash"], "edits": ["jpeg-30"]}
    apart = run(folder, tmp_path / "a", **options).results[0].report
    labels = {str(source.resolve()): "same", str((folder / "twin.png").resolve()): "same"}
    together = run(folder, tmp_path / "b", groups=labels, **options).results[0].report
    assert apart.false_match_rate[0] > 0 and together.false_match_rate[0] == 0


def test_mode_names() -> None:
    assert parse_mode("DHash") == Mode("dhash", "dhash")
    assert parse_mode("dhash+flips") == Mode("dhash+flips", "dhash", flips=True)
    assert parse_mode("dhash+pdq") == Mode("dhash+pdq", "dhash", confirm="pdq")
    assert parse_mode("dhash+pdq:60") == Mode(
        "dhash+pdq:60", "dhash", confirm="pdq", confirm_distance=60
    )
    assert parse_mode("pdq+lowq") == Mode("pdq+lowq", "pdq", include_low_quality=True)
    assert parse_mode("dhash:centre+pdq:trim:40") == Mode(
        "dhash:centre+pdq:trim:40", "dhash:centre", confirm="pdq:trim", confirm_distance=40
    )
    assert parse_mode("pdq:trim+flips") == Mode("pdq:trim+flips", "pdq:trim", flips=True)
    assert parse_mode("Rule") == Mode("rule", "dhash", rule=True)
    assert parse_mode("rule+flips") == Mode("rule+flips", "dhash", flips=True, rule=True)
    bad_names = (
        "sha1",
        "dhash+sha1",
        "+pdq",
        "dhash+pdq:x",
        "dhash+flips:3",
        "dhash:7",
        "rule+pdq",
    )
    for bad in bad_names:
        with pytest.raises(ValueError, match="choose from"):
            parse_mode(bad)


def test_command_line(photo_folder: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "cli"
    args = ["eval", str(photo_folder), "-n", "3", "--modes", "rule,dhash+pdq", "-e", "jpeg-30"]
    result = runner.invoke(app, [*args, "--max-side", "128", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "dhash+pdq" in result.output and "rule" in result.output and "jpeg-30" in result.output
    assert {p.name for p in out.iterdir()} == {
        "eval.json",
        "eval.csv",
        "recall_by_edit.png",
        "tradeoff.png",
    }
    bad = runner.invoke(app, ["eval", str(photo_folder), "-a", "md5", "--out", str(out)])
    assert bad.exit_code == 2 and "md5" in bad.output
