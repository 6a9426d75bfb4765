"""The matching rule: "is this the same picture?", one answer for search, duplicates, the API.

A fixed radius on one 64-bit hash cannot answer it on a real collection (families of different
pictures share a layout, see ../MATCHING notes in README). The rule is two steps:

1. **Candidates**: every file whose hash of any *candidate view* (the whole picture, inside its
   margins, its centre: borders and crops move a picture in its frame) is within a generous
   radius of any view of the query, low-quality hashes included, so no picture is silently left
   out because its hash carries little information.
2. **Verification**: each candidate's content signature (``pixdex.signature``) must agree with
   the query's (``pixdex.matching.verification``): colour, and the content that is not background;
   or, in a search, with one of the query's views at the verification's cuts, made from its
   pixels (``pixdex.matching.cut_views``).

``MatchRule`` holds the rule's settings; ``DEFAULT_RULE`` is what every entry point uses unless
told otherwise (thresholds chosen on the development half of ``python -m benchmarks precision``).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Verifier:
    """The verification thresholds, chosen on the development half of the hard corpus
    (``python -m benchmarks precision``; figures in BENCHMARKS.md)."""

    luma_tolerance: float = 12.0
    """Largest luma difference (0-255) left by the tone fit in an agreeing cell (faint content
    is held to half its contrast against the background, when that is less:
    ``verification.CONTRAST_SHARE``)."""
    min_preserved: float = 0.55
    """Smallest share of each picture's content cells that must agree (at the full 32 × 32 too).
    More than half: shapes pasted over a picture can cover more than a quarter of its content
    when the content is where they land, and what differs must then be a blob (``max_thin``),
    which another picture of one template or another page is not. Searched from 0.55 since
    session 29 (from 0.65 before, when the thin check did not yet exist to hold look-alikes
    back); not at a half or below, where a page with half of another's lines would be it."""
    max_chroma: float = 4.0
    """Largest mean chroma difference (0-255) over the best-matching cells, once the
    candidate's saturation is fitted to the query's (``verification._chroma_gain``). Was 10
    until session 30, when brighter copies' colours, compared unfitted, needed it (their 90th
    percentile was 6.7 on the development half, 1.4 fitted); 5 until session 32, when copies
    whose colours clip are compared with their original brightened the same way
    (``pixdex.matching.brightness``) and the development half chose 4 (within its tie of 5,
    with fewer others)."""
    blank_tone: float = 12.0
    """Largest difference of mean luma (0-255) between two blank pictures that match."""
    max_thin: float = 0.16
    """Largest share of either picture's content that may differ *thinly* at 32 × 32 — in lines
    and specks rather than in a blob (``verification.THICKNESS``): a pasted sticker, shapes or a
    caption differ in a blob, one template's other labels or a page's other words differ
    thinly."""


CANDIDATE_VIEWS = ("", "trim", "centre")
"""Views of the picture hashed for candidates: the whole frame (""), the picture inside its
uniform margins (``ALG:trim``: added borders) and its centre (``ALG:centre``: crops)."""


@dataclass(frozen=True)
class MatchRule:
    """Candidates within ``radius`` bits (64-bit hashes; longer hashes get the same share of
    their bits) in any candidate view, then verified by ``verifier``."""

    radius: int = 16
    verifier: Verifier = field(default_factory=Verifier)

    def radius_for(self, bits: int) -> int:
        """The candidate radius for hashes of ``bits`` bits."""
        return self.radius * bits // 64


DEFAULT_RULE = MatchRule()
"""The rule ``search``, ``dupes``, the HTTP API and the web page use by default."""


def candidate_views(algorithm: str) -> tuple[str, ...]:
    """The stored algorithms whose hashes propose candidates for a search by ``algorithm``:
    ``"dhash"`` → ``("dhash", "dhash:trim", "dhash:centre")``. A view name (``pdq:trim``)
    proposes with itself only."""
    if ":" in algorithm:
        return (algorithm,)
    return tuple(f"{algorithm}:{view}" if view else algorithm for view in CANDIDATE_VIEWS)
