"""Issue 13: the duplicate finder on edited copies — what a stricter share of content costs.

Part 4 of ``python -m benchmarks dupes``. The hard corpus's planted second copies are easy (the
picture at 70 % size, or re-saved as JPEG q85), so grouping them says little about a cropped,
bordered or captioned copy, and a stricter rule seems to cost nothing there
(``dense_dupes.bench_precision``). Here, for each half of the corpus and each edit of the
quality bar, a catalog holds the half's files and that edit's copies of the source pictures
``bench_precision`` searches with (the same draw; written as PNG, so a JPEG q30 copy keeps its
artefacts): each copy lies beside its source, as a copy does in a collection, and no copy meets
another edit of its picture. ``Catalog.duplicates`` groups each catalog at the default share of
content preserved and at the stricter ``TRADE_OFF`` shares. Printed per half and share: pair
precision over the ten catalogs (an edited copy shows its source's picture), and per edit the
share of copies grouped with a file of their picture. The copies are made once into
``.cache/hard-edited/``, beside their catalogs (each copied from the half's own catalog,
``dense_dupes``, then given its copies).
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
import time
from pathlib import Path

import numpy as np

from benchmarks.bench_precision import drawn_sources
from benchmarks.corpus import CACHE
from benchmarks.dense_dupes import HALVES, TRADE_OFF, half_catalog, index_exactly
from benchmarks.hard_corpus import build_hard_corpus
from pixdex.catalog import Catalog
from pixdex.evaluation.edits import apply_edit, load_rgb
from pixdex.evaluation.protocol import DEFAULT_EDITS, edit_seed
from pixdex.matching import DEFAULT_RULE, MatchRule

EDITED = CACHE / "hard-edited"
SEED = 0
"""The edits' seed, as ``bench_precision`` draws them (``edit_seed(SEED, row, edit)``)."""


def bench_edited() -> dict:
    """Each half's catalogs (one per edit), grouped at the default share and at each of
    ``TRADE_OFF``; the figures per half and share."""
    corpus = build_hard_corpus()
    groups = np.array([image.group for image in corpus])
    split = np.array([image.split for image in corpus])
    drawn = drawn_sources(groups, split)
    shares = (DEFAULT_RULE.verifier.min_preserved, *TRADE_OFF)
    result = {}
    for half in HALVES:
        originals = {
            str(image.path.resolve()): image.group for image in corpus if image.split == half
        }
        copies = _edited_copies([corpus[row].path for row in drawn[half]], drawn[half], half)
        picture = dict(originals)
        picture.update({str(path.resolve()): str(groups[row]) for (row, _), path in copies.items()})
        catalogs = {edit: _edit_catalog(half, edit, originals, copies) for edit in DEFAULT_EDITS}
        curve = []
        for share in shares:
            verifier = dataclasses.replace(DEFAULT_RULE.verifier, min_preserved=share)
            rule = dataclasses.replace(DEFAULT_RULE, verifier=verifier)
            curve.append(_grouped(rule, half, catalogs, picture, originals, copies))
        result[half] = curve
    return result


def _edit_catalog(half: str, edit: str, originals: dict, copies: dict[tuple, Path]) -> Path:
    """The catalog of ``half``'s files and the copies made by ``edit``: a copy of the half's
    own catalog (SQLite's backup, consistent whatever its journal holds), then indexed with the
    copies (only they are hashed); files of an earlier draw are forgotten."""
    database = EDITED / f"{half}-{edit}.db"
    if not database.exists():
        with (
            contextlib.closing(sqlite3.connect(half_catalog(half))) as source,
            contextlib.closing(sqlite3.connect(database)) as target,
        ):
            source.backup(target)
    made = [path for (_, made_by), path in copies.items() if made_by == edit]
    index_exactly(database, [*map(Path, originals), *made])
    return database


def _edited_copies(sources: list[Path], rows: list[int], half: str) -> dict[tuple, Path]:
    """The ten edited copies of each source picture (its corpus ``rows``), written once as PNG
    into a folder of ``EDITED`` named for the half; ``{(row, edit): path}``."""
    folder = EDITED / half
    folder.mkdir(parents=True, exist_ok=True)
    copies = {}
    for source, row in zip(sources, rows, strict=True):
        image = None
        for edit in DEFAULT_EDITS:
            path = folder / f"{row:05d}-{source.stem}-{edit}.png"  # the row and its source
            if not path.exists():
                if image is None:
                    image = load_rgb(source, 1024)
                apply_edit(edit, image, edit_seed(SEED, row, edit)).save(path)
            copies[row, edit] = path
    return copies


def _grouped(
    rule: MatchRule,
    half: str,
    catalogs: dict[str, Path],
    picture: dict[str, str],
    originals: dict[str, str],
    copies: dict[tuple, Path],
) -> dict:
    """``Catalog.duplicates`` with ``rule`` on each edit's catalog of ``half`` (``picture``:
    resolved path → corpus group, ``originals`` the half's files among them): pair precision
    over every catalog's groups, and the share of each edit's copies grouped with a file of
    their picture; printed and returned."""
    started = time.perf_counter()
    files_of: dict[str, list[str]] = {}
    for path, name in originals.items():
        files_of.setdefault(name, []).append(path)
    same = pairs = 0
    by_edit = {}
    for edit, database in catalogs.items():
        with Catalog(database) as catalog:
            groups = catalog.duplicates(rule=rule)
        label = {str(Path(m.path).resolve()): k for k, g in enumerate(groups) for m in g.members}
        for group in groups:
            keeper = picture[str(Path(group.keeper.path).resolve())]
            pairs += len(group.others)
            same += sum(picture[str(Path(m.path).resolve())] == keeper for m in group.others)
        grouped = []
        for (_, made_by), path in copies.items():
            if made_by == edit:
                copy = str(path.resolve())
                own = files_of[picture[copy]]
                grouped.append(copy in label and any(label.get(f) == label[copy] for f in own))
        by_edit[edit] = float(np.mean(grouped))
    seconds = time.perf_counter() - started
    result = {
        "min_preserved": rule.verifier.min_preserved,
        "pairs": pairs,
        "precision": same / max(1, pairs),
        "edited_grouped": float(np.mean(list(by_edit.values()))),
        "edited_grouped_by_edit": by_edit,
        "seconds": seconds,
    }
    edits = ", ".join(f"{edit} {share:.2f}" for edit, share in by_edit.items())
    print(
        f"\nhard corpus, {half} ({len(originals)} files) + one edit's copies"
        f" ({len(copies) // len(catalogs)}), preserved ≥ {rule.verifier.min_preserved}:"
        f" pair precision {result['precision']:.4f} ({same}/{pairs}); copies grouped with"
        f" their picture {result['edited_grouped']:.3f} ({edits}); {seconds:.1f} s",
        flush=True,
    )
    return result
