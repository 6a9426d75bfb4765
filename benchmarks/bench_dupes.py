"""Issue 6's speed bar: the self-join behind ``pixdex dupes``, and duplicate finding on real images.

    python -m benchmarks dupes                      # full run (minutes)
    PIXDEX_BENCH_QUICK=1 python -m benchmarks dupes # smoke test in seconds
    PIXDEX_BENCH_DUPES_PARTS=density python -m benchmarks dupes   # only part 3
    PIXDEX_BENCH_DUPES_PARTS=hard python -m benchmarks dupes      # only part 4
    PIXDEX_BENCH_DUPES_PARTS=edited python -m benchmarks dupes    # only part 5

Part 1, self-join: ``pairs_within`` over 1M and 10M clustered 64-bit codes at D = 4 and 8. The
codes grow from real dHash values (the corpus's): each cluster centre is a real hash or one with
24 of its bits flipped, each member the centre with 0-20 random bits flipped; cluster sizes are
geometric with mean 8, so most pictures have a few copies and some have dozens. FAISS's exact
binary range search (``IndexBinaryFlat``, all rows as queries) is the peer, on a 100k subset
(its cost grows as n², pixdex's with the pairs found). Target: 1M codes at D = 8 in ≤ 30 s.

Part 2, catalog: the corpus (``benchmarks.corpus``, ≥ 1,000 real images) plus edited copies of
its images (resize, JPEG q30, brightness, contrast, blur, red square, grayscale, shapes and text,
re-save) up to 10,000 files, side by side with imagededup's ``DHash.find_duplicates`` on the
same files at the same distance (10 bits): wall time to hash and to find the groups, and recall
of the planted (source, copy) pairs. Target: faster than imagededup with at least its recall.

Part 3, at real density (issue 13): ``benchmarks.dense_dupes.main``.

Part 4, precision on the hard corpus (issue 13): ``benchmarks.dense_dupes.bench_precision``.

Part 5, edited copies (issue 13): ``benchmarks.edited_dupes``, the duplicate finder's trade-off
with the quality bar's edited copies in each half of the hard corpus
(``PIXDEX_BENCH_DUPES_PARTS=edited``).

imagededup is a benchmark-only extra (``make bench`` installs it without dependencies); its
package import pulls in torch for the CNN method, so its hashing module is loaded on its own.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import sys
import time
import types
import warnings
from pathlib import Path

import numpy as np

from benchmarks import dense_dupes, edited_dupes
from benchmarks.corpus import CACHE, build_corpus
from pixdex.catalog import Catalog, SQLiteStore
from pixdex.evaluation.edits import apply_edit, load_rgb
from pixdex.index import pairs_within
from pixdex.pipeline import hash_files

QUICK = os.environ.get("PIXDEX_BENCH_QUICK") == "1"
SIZES = [20_000, 50_000] if QUICK else [1_000_000, 10_000_000]
RADII = [4, 8]
PEER_SUBSET = 5_000 if QUICK else 100_000
CATALOG_FILES = 150 if QUICK else 10_000
DISTANCE = 10
"""imagededup's default ``max_distance_threshold``, and pixdex's default for 64-bit hashes."""
COPY_EDITS = [
    "identity",
    "resize-50",
    "jpeg-30",
    "brightness",
    "contrast",
    "blur",
    "red-square",
    "grayscale",
    "shapes-text",
]
COPY_SIDE = 768
"""Longest side of a planted copy, in pixels: keeps 9,000 copies of 4K wallpapers off the disk."""
WORK = CACHE / "bench_dupes"
RESULTS = CACHE / "bench_dupes.json"


# -- part 1: the self-join ------------------------------------------------------------------------


def clustered_codes(seeds: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` 64-bit codes as ``(n, 1)`` uint64, clustered around real hashes (module docstring)."""
    sizes = rng.geometric(1 / 8, size=n)  # far more clusters than needed: cut below
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), n) + 1]
    sizes[-1] -= sizes.sum() - n
    # Each real hash centres one cluster; further centres are real hashes with 24 bits flipped.
    centres = seeds[np.arange(sizes.size) % seeds.size]
    fresh = np.arange(sizes.size) >= seeds.size
    centres[fresh] ^= _random_flips(rng, np.full(int(fresh.sum()), 24))
    members = np.repeat(centres, sizes)
    return (members ^ _random_flips(rng, rng.integers(0, 21, size=n))).reshape(-1, 1)


def _random_flips(rng: np.random.Generator, counts: np.ndarray) -> np.ndarray:
    """Masks of ``counts[i]`` random bit flips each (a bit drawn twice flips back: "up to")."""
    masks = np.zeros(counts.size, dtype=np.uint64)
    for step in range(int(counts.max(initial=0))):
        bits = np.uint64(1) << rng.integers(0, 64, size=counts.size).astype(np.uint64)
        masks ^= np.where(step < counts, bits, np.uint64(0))
    return masks


def faiss_pairs(codes: np.ndarray, radius: int) -> int:
    """Pairs within ``radius`` by FAISS's exact binary range search (each pair counted once)."""
    import faiss

    index = faiss.IndexBinaryFlat(64)
    data = np.ascontiguousarray(codes).view(np.uint8)
    index.add(data)
    lims, _, _ = index.range_search(data, radius + 1)  # FAISS keeps distances < radius
    return int((lims[-1] - codes.shape[0]) // 2)


def bench_selfjoin(seeds: np.ndarray) -> list[dict]:
    rng = np.random.default_rng(6)
    pairs_within(clustered_codes(seeds, 5000, rng), None, 8)  # compile outside the timings
    rows = []
    print(f"self-join, clustered 64-bit codes from {seeds.size} real dHash values")
    print(f"{'codes':>12} {'D':>3} {'pairs':>12} {'pixdex s':>9} {'FAISS s':>9} {'ratio':>7}")
    subset = clustered_codes(seeds, PEER_SUBSET, rng)
    for radius in RADII:
        started = time.perf_counter()
        found = pairs_within(subset, None, radius)[0].size
        ours = time.perf_counter() - started
        started = time.perf_counter()
        theirs_found = faiss_pairs(subset, radius)
        theirs = time.perf_counter() - started
        assert theirs_found == found, (theirs_found, found)
        rows.append(_row(PEER_SUBSET, radius, found, ours, theirs))
    for n in SIZES:
        codes = clustered_codes(seeds, n, rng)
        for radius in RADII:
            started = time.perf_counter()
            found = pairs_within(codes, None, radius)[0].size
            rows.append(_row(n, radius, found, time.perf_counter() - started, None))
        del codes
    return rows


def _row(n: int, radius: int, pairs: int, ours: float, theirs: float | None) -> dict:
    peer = f"{theirs:9.2f} {theirs / ours:6.1f}×" if theirs is not None else f"{'-':>9} {'-':>7}"
    print(f"{n:>12,} {radius:>3} {pairs:>12,} {ours:9.2f} {peer}", flush=True)
    return {"codes": n, "radius": radius, "pairs": pairs, "pixdex_s": ours, "faiss_s": theirs}


# -- part 2: a real-image catalog ----------------------------------------------------------------


def load_imagededup_hashing() -> types.ModuleType:
    """imagededup's ``methods/hashing.py`` without the package ``__init__`` files that import
    torch (CNN) and matplotlib; scikit-learn's ``cosine_similarity``, used only by the CNN
    retrieval, is stubbed when scikit-learn cannot be imported (it needs joblib, threadpoolctl
    and more than ``--no-deps`` brings)."""
    spec = importlib.util.find_spec("imagededup")
    if spec is None or spec.origin is None:
        sys.exit("imagededup is missing: pip install --no-deps imagededup tqdm PyWavelets")
    root = Path(spec.origin).parent
    for name, folder in (("imagededup.utils", "utils"), ("imagededup.methods", "methods")):
        package = types.ModuleType(name)
        package.__path__ = [str(root / folder)]
        sys.modules.setdefault(name, package)
    try:
        import sklearn.metrics.pairwise  # noqa: F401
    except ImportError:  # absent, or installed without its own dependencies
        for name in ("sklearn", "sklearn.metrics", "sklearn.metrics.pairwise"):
            sys.modules[name] = types.ModuleType(name)
        sys.modules["sklearn.metrics.pairwise"].cosine_similarity = None
    loader = importlib.util.spec_from_file_location(
        "imagededup.methods.hashing", root / "methods" / "hashing.py"
    )
    module = importlib.util.module_from_spec(loader)
    sys.modules[loader.name] = module
    loader.loader.exec_module(module)
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("imagededup"):
            logging.getLogger(name).setLevel(logging.WARNING)  # one INFO line per step otherwise
    return module


def planted_collection(total: int) -> tuple[Path, dict[str, str], list[tuple[str, str]]]:
    """A folder of symlinks to corpus images plus edited copies, ``total`` files in all.

    Returns the folder, each file's picture (the corpus group; copies inherit their source's)
    and the planted ``(source, copy)`` pairs, by path.
    """
    corpus = build_corpus(1000) if not QUICK else _quick_corpus()
    folder = WORK / f"collection-{total}"
    (folder / "corpus").mkdir(parents=True, exist_ok=True)
    (folder / "copies").mkdir(exist_ok=True)
    picture, planted = {}, []
    for number, image in enumerate(corpus):
        link = folder / "corpus" / f"{number:05d}{image.path.suffix.lower()}"
        if not link.exists():
            # A hard link: a regular file to both tools, without copying the bytes.
            os.link(image.path, link)
        picture[str(link)] = image.group
    sources = sorted(picture)
    copies_each = -(-(total - len(sources)) // len(sources))
    made = 0
    for number, source in enumerate(sources):
        for k in range(min(copies_each, len(COPY_EDITS))):
            if len(picture) >= total:
                break
            edit = COPY_EDITS[(number + k) % len(COPY_EDITS)]
            copy = folder / "copies" / f"{Path(source).stem}.{edit}.jpg"
            if not copy.exists():
                try:
                    image = load_rgb(source, max_side=COPY_SIDE)
                except OSError:
                    break  # a corpus file Pillow cannot read: no copies of it
                apply_edit(edit, image, seed=number).save(copy, "JPEG", quality=92)
                made += 1
            picture[str(copy)] = picture[source]
            planted.append((source, str(copy)))
    print(f"collection: {len(picture)} files ({made} copies made now) in {folder}")
    return folder, picture, planted


def _quick_corpus():
    from benchmarks.corpus import CorpusImage, skimage_data

    paths = sorted(p for p in skimage_data().glob("*") if p.suffix in (".png", ".jpg"))
    return [CorpusImage(p, "sample", p.name, p.stem) for p in paths]


def bench_catalog() -> dict:
    folder, picture, planted = planted_collection(CATALOG_FILES)
    paths = sorted(picture)
    database = WORK / f"catalog-{CATALOG_FILES}.db"
    for stale in WORK.glob(f"{database.name}*"):
        stale.unlink()

    started = time.perf_counter()
    with Catalog(database) as catalog:
        catalog.index([folder])
        hashed = time.perf_counter()
        groups = catalog.duplicates(max_distance=DISTANCE)
        ours_find = time.perf_counter() - hashed
    ours_total = time.perf_counter() - started
    group_of = {m.path: number for number, g in enumerate(groups) for m in g.members}
    ours_recall = _share(planted, lambda a, b: a in group_of and group_of.get(b) == group_of[a])
    with Catalog(database) as catalog:
        every = catalog.duplicates(max_distance=DISTANCE, include_low_quality=True)
    group_all = {m.path: number for number, g in enumerate(every) for m in g.members}
    ours_recall_all = _share(
        planted, lambda a, b: a in group_all and group_all.get(b) == group_all[a]
    )
    ours_cross = sum(
        len({picture.get(m.path) for m in g.members}) > 1 for g in groups
    )  # groups that join different pictures

    hashing = load_imagededup_hashing()
    dhash = hashing.DHash(verbose=False)
    started = time.perf_counter()
    encodings = dhash.encode_images(image_dir=str(folder), recursive=True)
    encoded = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "num_enc_workers has no effect"
        found = dhash.find_duplicates(encoding_map=encodings, max_distance_threshold=DISTANCE)
    theirs_find = time.perf_counter() - encoded
    theirs_total = time.perf_counter() - started
    # imagededup names files relative to the folder it was given.
    neighbours = {
        str(folder / name): {str(folder / d) for d in dupes} for name, dupes in found.items()
    }
    theirs_recall = _share(
        planted, lambda a, b: b in neighbours.get(a, ()) or a in neighbours.get(b, ())
    )

    # Pair-level check on the catalog's hashes: how many planted pairs lie within the distance.
    with SQLiteStore(database) as store:
        ids, _, _ = store.codes("dhash")
        records = store.records(ids.tolist()).values()
        hashes = {r.path: r.hashes["dhash"] for r in records}
    ours_pairs = _share(
        planted, lambda a, b: a in hashes and b in hashes and hashes[a] - hashes[b] <= DISTANCE
    )
    print(f"\ncatalog of {len(paths)} real images ({len(planted)} planted copies), D = {DISTANCE}")
    print(f"{'':24} {'pixdex':>10} {'imagededup':>11} {'ratio':>7}")
    print(
        f"{'hash + find (s)':24} {ours_total:10.2f} {theirs_total:11.2f} "
        f"{theirs_total / ours_total:6.1f}×"
    )
    print(
        f"{'find only (s)':24} {ours_find:10.3f} {theirs_find:11.3f} "
        f"{theirs_find / ours_find:6.1f}×"
    )
    print(f"{'recall, planted copies':24} {ours_recall:10.3f} {theirs_recall:11.3f}")
    print(f"{'  with low quality':24} {ours_recall_all:10.3f}")
    print(f"{'  pairs within D':24} {ours_pairs:10.3f}")
    print(f"{'groups':24} {len(groups):10d}")
    print(f"{'groups mixing pictures':24} {ours_cross:10d}")
    return {
        "files": len(paths),
        "planted": len(planted),
        "distance": DISTANCE,
        "pixdex": {"total_s": ours_total, "find_s": ours_find, "recall": ours_recall},
        "imagededup": {"total_s": theirs_total, "find_s": theirs_find, "recall": theirs_recall},
        "pixdex_recall_with_low_quality": ours_recall_all,
        "pixdex_pair_recall": ours_pairs,
        "groups": len(groups),
        "groups_mixing_pictures": ours_cross,
    }


def _share(pairs: list[tuple[str, str]], found) -> float:
    return sum(bool(found(a, b)) for a, b in pairs) / max(1, len(pairs))


def real_seeds() -> np.ndarray:
    """dHash values of the corpus images (the quick run: scikit-image's samples)."""
    images = _quick_corpus() if QUICK else build_corpus(1000)
    values = {int(r.hashes["dhash"]) for r in hash_files([str(i.path) for i in images]) if r.ok}
    return np.array(sorted(values), dtype=np.uint64)


def main() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    print(f"{'quick' if QUICK else 'full'} run, {os.cpu_count()} cores, load {os.getloadavg()}")
    parts = os.environ.get("PIXDEX_BENCH_DUPES_PARTS", "selfjoin,catalog,density,hard,edited")
    parts = parts.split(",")
    results = {}
    if "selfjoin" in parts:
        results["selfjoin"] = bench_selfjoin(real_seeds())
    if "catalog" in parts:
        results["catalog"] = bench_catalog()
    if "density" in parts:
        results["density"] = dense_dupes.main()
    if "hard" in parts:
        results["hard"] = dense_dupes.bench_precision()
    if "edited" in parts:
        results["edited"] = edited_dupes.bench_edited()
    if not QUICK:
        RESULTS.write_text(json.dumps(results, indent=1))
        print(f"→ {RESULTS}")


if __name__ == "__main__":
    main()
