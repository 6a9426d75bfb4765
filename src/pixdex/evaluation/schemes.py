"""The search modes ``pixdex eval`` can measure, named the way a user selects them.

- ``ALG`` (``dhash``, ``pdq``, ...): one registered algorithm at its default size, searched at a
  Hamming distance;
- ``ALG+flips``: the same, but the query is also searched in its seven other orientations
  (``Catalog.search(flips=True)``): a mirrored or rotated copy matches;
- ``ALG+CONFIRM`` (``dhash+pdq``): candidates from ``ALG`` within the distance, kept only when the
  ``CONFIRM`` hashes are within ``CONFIRM``'s default distance too
  (``Catalog.search(confirm=CONFIRM)``); ``ALG+CONFIRM:N`` confirms within ``N`` bits instead
  (``confirm_distance=N``);
- ``ALG+lowq``: ``ALG`` with degenerate hashes matched too (``include_low_quality=True``);
- ``rule`` / ``rule+flips``: the matching rule as shipped (``pixdex.matching.DEFAULT_RULE``, what
  ``Catalog.search`` does by default, with or without ``flips``): candidates within its radius in
  any pair of the default algorithm's candidate views, verified on content signatures
  (``pixdex.evaluation.rule_pairs``).

As in the catalog, degenerate hashes (near-blank pictures, quality < LOW_QUALITY) are neither
indexed nor searched unless the mode says ``lowq``: such an original is never found and never
falsely matched. A confirming hash is compared whatever its quality, as the catalog compares the
stored one.

Each mode becomes a pair of distance matrices over a ``HashedSample`` (queries × originals, and
originals × originals), so the measurement code is the same for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from pixdex.catalog import search_distance
from pixdex.catalog.defaults import DEFAULT_ALGORITHM
from pixdex.catalog.orientations import orientations
from pixdex.evaluation.protocol import HashedSample, Scheme, algorithm_scheme, picture_distances
from pixdex.evaluation.rule_pairs import rule_distances, rule_scheme, unpack
from pixdex.evaluation.variants import confirmed
from pixdex.hashing import ALGORITHMS, get_algorithm
from pixdex.matching import DEFAULT_RULE

FLIPS = "flips"
LOW_QUALITY = "lowq"
RULE = "rule"


@dataclass(frozen=True)
class Mode:
    """A parsed mode name: ``primary`` alone, with ``flips``, or confirmed by ``confirm``; with
    ``rule``, the matching rule's candidates from ``primary`` and their verification."""

    name: str
    primary: str
    flips: bool = False
    confirm: str | None = None
    confirm_distance: int | None = None
    include_low_quality: bool = False
    rule: bool = False

    def default_distance(self, bits: int) -> int:
        """The distance a search in this mode uses by default: the rule's candidate radius, or
        the algorithm's search distance."""
        if self.rule:
            return DEFAULT_RULE.radius_for(bits)
        return search_distance(self.primary, bits)


def parse_mode(text: str) -> Mode:
    """The ``Mode`` a name like ``dhash``, ``dhash+flips``, ``dhash+pdq``, ``dhash+pdq:60`` or
    ``rule+flips`` stands for. Any algorithm may be a view (``pdq:trim``,
    ``dhash:centre+pdq:trim:60``): a trailing ``:N`` of digits is the confirming distance, any
    other ``:NAME`` a view.

    Raises ValueError naming the known algorithms for anything else.
    """
    name = text.strip().lower()
    if name in (RULE, f"{RULE}+{FLIPS}"):
        return Mode(name, DEFAULT_ALGORITHM, flips=name != RULE, rule=True)
    primary, _, second = name.partition("+")
    head, colon, tail = second.rpartition(":")
    confirm_distance = None
    if colon and tail.isdigit():
        second, confirm_distance = head, int(tail)
    known = ", ".join(sorted(ALGORITHMS))
    usage = (
        f"choose from {known} (or ALG:VIEW), as ALG, ALG+{FLIPS}, ALG+{LOW_QUALITY}, ALG+ALG "
        f"or ALG+ALG:DISTANCE; or {RULE}, {RULE}+{FLIPS}"
    )
    modifier = second in (FLIPS, LOW_QUALITY)
    for part in (primary, second) if second and not modifier else (primary,):
        try:
            get_algorithm(part)
        except ValueError:
            raise ValueError(f"unknown algorithm {part!r} in {text!r}; {usage}") from None
    if (modifier or not second) and confirm_distance is not None:
        raise ValueError(f"{text!r}: a distance only follows a confirming algorithm; {usage}")
    if second == FLIPS:
        return Mode(name, primary, flips=True)
    if second == LOW_QUALITY:
        return Mode(name, primary, include_low_quality=True)
    return Mode(name, primary, confirm=second or None, confirm_distance=confirm_distance)


def oriented_scheme(algorithm: str) -> Scheme:
    """An algorithm's codes of the picture in its eight orientations, identity first: row 0 is
    what the catalog stores, rows 0-7 what a search with flips looks up. Degenerate pictures
    are declined."""
    chosen = get_algorithm(algorithm)

    def codes(image: Image.Image) -> np.ndarray | None:
        hashes = [chosen.compute(p, chosen.default_size) for p in orientations(image)]
        if hashes[0].is_degenerate:
            return None
        return np.stack([h.words for h in hashes])

    return Scheme(algorithm, chosen.bits(chosen.default_size), codes)


ANY_QUALITY = "{}~any-quality"
"""Sample key of an algorithm's hashes kept whatever their quality (a confirming hash, or a mode
that includes low-quality hashes)."""

RULE_KEY = "~rule"
"""Sample key of the rule's features (``pixdex.evaluation.rule_pairs.rule_scheme``)."""


def hashing_schemes(modes: list[Mode]) -> list[Scheme]:
    """The schemes the modes need, keyed by algorithm name: a searched algorithm's (degenerate
    pictures declined; eight orientations when some mode searches it with flips), a
    confirming or low-quality-including algorithm's (``ANY_QUALITY``, every picture hashed), and
    the rule's features (``RULE_KEY``; eight orientations when a rule mode has flips)."""
    flipped = {m.primary for m in modes if m.flips}
    schemes = []
    rules = [m for m in modes if m.rule]
    if rules:
        scheme = rule_scheme(DEFAULT_ALGORITHM, flips=any(m.flips for m in rules))
        schemes.append(Scheme(RULE_KEY, scheme.bits, scheme.codes))
    hashed = [m.primary for m in modes if not m.include_low_quality and not m.rule]
    for name in dict.fromkeys(hashed):
        if name in flipped:
            scheme = oriented_scheme(name)
        else:
            scheme = algorithm_scheme(name, skip_degenerate=True)
        schemes.append(Scheme(name, scheme.bits, scheme.codes))
    unfiltered = [m.confirm or m.primary for m in modes if m.confirm or m.include_low_quality]
    for name in dict.fromkeys(unfiltered):
        scheme = algorithm_scheme(name)
        schemes.append(Scheme(ANY_QUALITY.format(name), scheme.bits, scheme.codes))
    return schemes


def _plain_distances(sample: HashedSample, algorithm: str) -> tuple[np.ndarray, np.ndarray]:
    """Queries × originals and originals × originals distances, identity orientation only."""
    bits = sample.bits[algorithm]
    index, ok = sample.index[algorithm][:, :1], sample.index_ok[algorithm]
    queries = sample.queries[algorithm][:, :1]
    return (
        picture_distances(queries, sample.query_ok[algorithm], index, ok, bits),
        picture_distances(index, ok, index, ok, bits),
    )


def mode_distances(sample: HashedSample, mode: Mode) -> tuple[np.ndarray, np.ndarray]:
    """A mode's queries × originals and originals × originals distances (``bits + 1``: the pair
    never matches), on the primary algorithm's scale."""
    if mode.rule:
        return _rule_distances(sample, mode.flips)
    algorithm = mode.primary
    if mode.include_low_quality:
        algorithm = ANY_QUALITY.format(algorithm)
    bits = sample.bits[algorithm]
    if mode.flips:
        index, ok = sample.index[algorithm], sample.index_ok[algorithm]
        stored = index[:, :1]
        queries = picture_distances(
            sample.queries[algorithm], sample.query_ok[algorithm], stored, ok, bits
        )
        # Original i searched with flips finds j, or j finds i: either is a reported pair.
        searched = picture_distances(index, ok, stored, ok, bits)
        return queries, np.minimum(searched, searched.T)
    queries, originals = _plain_distances(sample, algorithm)
    if mode.confirm is None:
        return queries, originals
    fine = ANY_QUALITY.format(mode.confirm)
    fine_queries, fine_originals = _plain_distances(sample, fine)
    fine_distance = mode.confirm_distance
    if fine_distance is None:
        fine_distance = search_distance(mode.confirm, sample.bits[fine])
    return (
        confirmed(queries, fine_queries, fine_distance, bits + 1),
        confirmed(originals, fine_originals, fine_distance, bits + 1),
    )


def _rule_distances(sample: HashedSample, flips: bool) -> tuple[np.ndarray, np.ndarray]:
    """The rule's queries × originals and originals × originals distances
    (``rule_pairs.rule_distances``); with ``flips``, every orientation of the query is
    verified, and a pair of originals counts when either finds the other."""
    bits = sample.bits[RULE_KEY]
    index = unpack(sample.index[RULE_KEY], DEFAULT_ALGORITHM)
    queries = unpack(sample.queries[RULE_KEY], DEFAULT_ALGORITHM)
    if not flips:
        index, queries = index.identity(), queries.identity()
    searched = rule_distances(index, index, DEFAULT_RULE, bits)
    return (
        rule_distances(queries, index, DEFAULT_RULE, bits),
        np.minimum(searched, searched.T),
    )
