"""Counts and sizes read the same, and correctly, in the terminal and in the HTML reports."""

from __future__ import annotations

from pixdex.catalog import Match, SearchResult
from pixdex.hashing import Hash
from pixdex.report import render_report
from pixdex.wording import byte_size, count


def test_a_count_takes_its_noun_in_the_right_number_with_thousands_separated():
    assert count(1, "match", "matches") == "1 match"
    assert count(0, "match", "matches") == "0 matches"
    assert count(2, "file") == "2 files"
    assert count(10_000, "file") == "10,000 files"


def test_sizes_use_binary_units_with_one_decimal():
    assert byte_size(418) == "418 B"
    assert byte_size(1126) == "1.1 KiB"
    assert byte_size(644_710) == "629.6 KiB"
    assert byte_size(3 * 1024**3) == "3.0 GiB"


def test_the_search_report_says_1_match_and_says_plainly_when_nothing_matched(tmp_path):
    code = Hash.from_hex("ccc6c696d81380e0", "dhash")
    one = SearchResult("a.png", "dhash", code, 0.4, (Match(str(tmp_path / "b.png"), 3, code),))
    none = SearchResult("c.png", "dhash", code, 0.2, ())
    page = render_report([one, none])
    assert "1 match in 0.40 ms" in page and "1 matches" not in page
    assert "0 matches in 0.20 ms" in page
    assert "no match: no catalogued image is near enough to this query" in page
