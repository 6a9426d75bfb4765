"""A self-contained HTML page of search results: each query beside its matches' thumbnails.

The original searcher opened a window per result; this is the headless equivalent, a single file
(thumbnails inlined as ``data:`` URIs, no scripts, no external assets) that any browser opens.
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Sequence

from PIL import Image, ImageOps

from pixdex.catalog import SearchResult
from pixdex.names import printable
from pixdex.wording import count

THUMBNAIL_PX = 160
"""Longest side of a thumbnail, in pixels."""

_NO_MATCH = "<p>no match: no catalogued image is near enough to this query</p>"

_STYLE = """
body { font: 14px system-ui, sans-serif; margin: 2em; color: #222; }
section { border-top: 1px solid #ccc; padding: 1em 0; display: flex; gap: 2em; }
.query { flex: 0 0 200px; }
.matches { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; width: 170px; }
figure img { max-width: 160px; max-height: 160px; display: block; }
figcaption { font-size: 12px; word-break: break-all; }
.distance { font-weight: bold; }
code { font-size: 11px; }
"""


def thumbnail_uri(path: str, size: int = THUMBNAIL_PX) -> str | None:
    """A JPEG ``data:`` URI of the image at ``path``, at most ``size`` pixels a side (None if
    the file cannot be read any more)."""
    try:
        with Image.open(path) as image:
            image.draft("RGB", (size, size))  # JPEG: decode at a reduced scale, much faster
            picture = ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    picture.thumbnail((size, size))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(path: str | None, caption: str) -> str:
    uri = thumbnail_uri(path) if path else None
    image = f'<img src="{uri}" alt="">' if uri else "<p>(no image)</p>"
    return f"<figure>{image}<figcaption>{caption}</figcaption></figure>"


def render_report(results: Sequence[SearchResult], title: str = "pixdex search") -> str:
    """The HTML page for ``results``, one section per query."""
    sections = []
    for result in results:
        query_path = result.query if os.path.isfile(result.query) else None
        query = _figure(
            query_path,
            f"<b>query</b> {html.escape(printable(result.query))}<br>"
            f"{result.algorithm} <code>{result.hash.hex}</code><br>"
            f"{count(len(result.matches), 'match', 'matches')} in {result.took_ms:.2f} ms",
        )
        matches = "".join(
            _figure(
                m.path,
                f'<span class="distance">distance {m.distance}</span> '
                f"<code>{m.hash.hex}</code><br>{html.escape(printable(m.path))}",
            )
            for m in result.matches
        )
        sections.append(
            f'<section><div class="query">{query}</div>'
            f'<div class="matches">{matches or _NO_MATCH}</div></section>'
        )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>\n" + "\n".join(sections) + "\n</body></html>\n"
    )


def write_report(results: Sequence[SearchResult], path: str | os.PathLike[str]) -> None:
    """Write :func:`render_report` of ``results`` to ``path`` (UTF-8)."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(render_report(results))
