"""Duplicate groups written out for people and spreadsheets: an HTML page and a CSV file.

The HTML page is self-contained like the search report (thumbnails inlined as ``data:`` URIs, no
scripts, no external assets): one row of thumbnails per group, keeper first.
"""

from __future__ import annotations

import csv
import html
import os
from collections.abc import Sequence

from pixdex.catalog import DuplicateGroup
from pixdex.names import printable
from pixdex.report import thumbnail_uri
from pixdex.wording import byte_size, count

CSV_COLUMNS = (
    "group",
    "keeper",
    "path",
    "distance",
    "exact",
    "size",
    "width",
    "height",
    "format",
)
"""One CSV row per member: its group's number (from 1), whether it is the keeper, and the rest."""

_STYLE = """
body { font: 14px system-ui, sans-serif; margin: 2em; color: #222; }
section { border-top: 1px solid #ccc; padding: 1em 0; }
.members { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; width: 170px; }
figure.keeper { outline: 3px solid #2a7; outline-offset: 3px; }
figure img { max-width: 160px; max-height: 160px; display: block; }
figcaption { font-size: 12px; word-break: break-all; }
"""


def write_csv(groups: Sequence[DuplicateGroup], path: str | os.PathLike[str]) -> None:
    """Write every group's members to ``path`` as CSV with the header ``CSV_COLUMNS``."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for number, group in enumerate(groups, 1):
            for member in group.members:
                writer.writerow(
                    (
                        number,
                        int(member is group.keeper),
                        printable(member.path),
                        member.distance,
                        int(member.exact),
                        member.size,
                        member.width,
                        member.height,
                        member.format or "",
                    )
                )


def render_duplicates(groups: Sequence[DuplicateGroup], title: str = "pixdex duplicates") -> str:
    """The HTML page for ``groups``: one section per group, keeper first and outlined."""
    sections = []
    for number, group in enumerate(groups, 1):
        figures = []
        for member in group.members:
            uri = thumbnail_uri(member.path)
            image = f'<img src="{uri}" alt="">' if uri else "<p>(no image)</p>"
            role = "<b>keeper</b>" if member is group.keeper else f"distance {member.distance}"
            exact = " · identical bytes" if member.exact and member is not group.keeper else ""
            figures.append(
                f'<figure class="{"keeper" if member is group.keeper else "member"}">{image}'
                f"<figcaption>{role}{exact}<br>{member.width}×{member.height} "
                f"{html.escape(member.format or '?')}, {byte_size(member.size)}<br>"
                f"{html.escape(printable(member.path))}</figcaption></figure>"
            )
        sections.append(
            f"<section><h2>group {number}: {count(len(group.members), 'file')}</h2>"
            f'<div class="members">{"".join(figures)}</div></section>'
        )
    body = "\n".join(sections) or "<p>no duplicates</p>"
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n"
    )


def write_duplicates_report(groups: Sequence[DuplicateGroup], path: str | os.PathLike[str]) -> None:
    """Write :func:`render_duplicates` of ``groups`` to ``path`` (UTF-8)."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(render_duplicates(groups))
