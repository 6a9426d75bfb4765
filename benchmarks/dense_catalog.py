"""A catalog's worth of codes and signatures at the density of a real collection, without files.

Issue 13 measured 57 neighbours per image within 8 bits on a real mixed collection: families of
look-alikes (flags, diagrams from one template, glyphs) crowd the hash space. ``grown_catalog``
grows ``n`` entries from the pictures of the hard corpus (``benchmarks/hard_corpus.py``, indexed
once into a catalog): each entry picks a real picture at random and takes

- its **dHash with 0-20 random bits flipped** (the issue's construction), and
- its **content signature, edited**: luma scaled by a gain in [0.9, 1.1] and shifted by an
  offset in [-10, 10] levels (a brighter, darker or more contrasted copy), plus independent noise
  on every cell (``LUMA_NOISE`` and ``CHROMA_NOISE``: what real edits leave), clipped to 0-255.

Entries grown from one picture are thus copies of it to the rule (its verification sees through
the tone change and the noise); entries grown from different pictures of a family are look-alikes
it must reject. The truth (each entry's picture) comes back with the arrays. No image is decoded:
the cost measured is grouping, the part that depends on density.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pixdex.catalog import Catalog
from pixdex.catalog.location import open_store
from pixdex.signature import CHROMA_CELLS, LUMA_CELLS, LUMA_END, PLANES_START, SIGNATURE_BYTES

LUMA_NOISE = 1.0
"""Standard deviation (levels) of the noise added to each luma cell of a grown copy. Measured on
the hard corpus's development half: after a linear tone fit, a JPEG q30, blurred, resized or
squashed copy differs from its original by a robust standard deviation of 0.1-0.7 levels per
32 × 32 cell (median over pictures), 0.2-1.6 at the 75th percentile. Two grown copies of one
picture then differ by about 1.4. (Until 3 December 2026 this was 3 levels, 4.2 between two
copies: harsher than any real edit, and enough to fail faint pictures cell by cell.)"""

CHROMA_NOISE = 1.0
"""The same for each chroma cell (was 2 levels)."""

CHUNK = 65_536
"""Entries whose signatures are made at once: float temporaries stay ~0.5 GiB below the
final array's size."""


def real_pictures(folder: Path, database: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The dHash codes (``(m, 1)`` uint64), signatures and paths of the pictures in ``folder``,
    indexed into ``database`` (a couple of minutes the first time for the hard corpus; later
    only what changed, and files no longer in ``folder`` are pruned: a rebuilt corpus)."""
    with Catalog(database) as catalog:
        catalog.index([folder], prune=True)
    with open_store(str(database)) as store:
        ids, codes, _ = store.codes("dhash", 0)
        signatures = store.signatures(ids.tolist())
        paths = [store.records([i])[i].path for i in ids.tolist()]
    present = signatures[:, 0] != 0
    return (
        codes[present],
        signatures[present],
        [p for p, k in zip(paths, present, strict=True) if k],
    )


VIEWS = ("dhash:trim", "dhash:centre")
"""The candidate views beside the whole picture's dHash that indexing stores by default."""


def real_views(database: Path, paths: list[str]) -> np.ndarray:
    """``(m, 2)`` uint64: the trimmed and centre dHash (``VIEWS``) of each of ``paths`` (the
    pictures of ``real_pictures``) in ``database``; a view the catalog lacks is the whole
    picture's."""
    with open_store(str(database)) as store:
        ids, codes, _ = store.codes("dhash", 0)
        files = store.files_by_id(ids.tolist())
        row = {files[i].path: k for k, i in enumerate(ids.tolist())}
        out = np.repeat(codes[[row[p] for p in paths]], len(VIEWS), axis=1)
        for column, view in enumerate(VIEWS):
            view_ids, view_codes, _ = store.codes(view, 0)
            held = dict(zip(view_ids.tolist(), view_codes[:, 0].tolist(), strict=True))
            for k, path in enumerate(paths):
                code = held.get(ids[row[path]].item())
                if code is not None:
                    out[k, column] = code
    return out


def grown_views(
    views: np.ndarray, codes: np.ndarray, grown: np.ndarray, picture: np.ndarray, rng
) -> np.ndarray:
    """``(n, 2)``: each grown entry's trimmed and centre views, grown from its picture's
    (``real_views``) as its whole picture's dHash was (0-20 bits flipped, each view on its own);
    a view equal to the picture's whole dHash (a picture without margins) stays equal to the
    entry's grown one, as indexing stores it."""
    out = np.empty((picture.size, views.shape[1]), np.uint64)
    for column in range(views.shape[1]):
        real = views[picture, column]
        flipped = real ^ _flips(rng, rng.integers(0, 21, size=picture.size))
        out[:, column] = np.where(real == codes[picture, 0], grown[:, 0], flipped)
    return out


def grown_catalog(
    n: int,
    codes: np.ndarray,
    signatures: np.ndarray,
    rng: np.random.Generator,
    *,
    sparse: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` entries grown from the real pictures (module docstring): ``(codes, signatures,
    picture)``, ``picture[i]`` the row of the real picture entry ``i`` grew from.

    ``sparse``: the self-join benchmark's density instead (``bench_dupes.clustered_codes``):
    clusters of geometric size (mean 8) around centres that are the real hashes, then real
    hashes with 24 bits flipped, each centre keeping its real picture's signature."""
    if sparse:
        sizes = rng.geometric(1 / 8, size=n)
        sizes = sizes[: np.searchsorted(np.cumsum(sizes), n) + 1]
        sizes[-1] -= sizes.sum() - n
        real = np.arange(sizes.size) % codes.shape[0]
        centres = codes[real, 0] ^ np.where(
            np.arange(sizes.size) >= codes.shape[0],
            _flips(rng, np.full(sizes.size, 24)),
            np.uint64(0),
        )
        picture, centre = np.repeat(real, sizes), np.repeat(centres, sizes)
    else:
        picture = rng.integers(0, codes.shape[0], size=n)
        centre = codes[picture, 0]
    grown = (centre ^ _flips(rng, rng.integers(0, 21, size=n))).reshape(-1, 1)
    return grown, _edited(signatures, picture, rng), picture


def _flips(rng: np.random.Generator, counts: np.ndarray) -> np.ndarray:
    """Masks of ``counts[i]`` random bit flips each (a bit drawn twice flips back: "up to")."""
    masks = np.zeros(counts.size, np.uint64)
    for step in range(int(counts.max(initial=0))):
        bits = np.uint64(1) << rng.integers(0, 64, size=counts.size).astype(np.uint64)
        masks ^= np.where(step < counts, bits, np.uint64(0))
    return masks


def _edited(signatures: np.ndarray, picture: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The signature of each ``picture`` row, edited (module docstring), chunk by chunk."""
    n = picture.size
    out = np.empty((n, SIGNATURE_BYTES), np.uint8)
    luma = slice(PLANES_START, LUMA_END)
    chroma = slice(LUMA_END, LUMA_END + 2 * CHROMA_CELLS)
    for start in range(0, n, CHUNK):
        rows = picture[start : start + CHUNK]
        base = signatures[rows]
        gain = rng.uniform(0.9, 1.1, size=(rows.size, 1)).astype(np.float32)
        offset = rng.uniform(-10, 10, size=(rows.size, 1)).astype(np.float32)
        noise = rng.normal(0, LUMA_NOISE, size=(rows.size, LUMA_CELLS)).astype(np.float32)
        edited = base[:, luma] * gain + offset + noise
        part = out[start : start + rows.size]
        part[:, :PLANES_START] = base[:, :PLANES_START]
        part[:, luma] = np.clip(np.rint(edited), 0, 255)
        noise = rng.normal(0, CHROMA_NOISE, size=(rows.size, 2 * CHROMA_CELLS)).astype(np.float32)
        part[:, chroma] = np.clip(np.rint(base[:, chroma] + noise), 0, 255)
    return out
