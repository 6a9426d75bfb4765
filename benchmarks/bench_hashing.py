"""Issue 3's figures: hashing throughput, the reduced-scale decode's deviation, imagehash agreement.

    python -m benchmarks hashing            # the real mixed corpus (benchmarks/corpus.py)
    PIXDEX_BENCH_QUICK=1 python -m benchmarks hashing    # 120 images, seconds

Throughput, files/s over the same files, side by side in one run:
- the original tutorial's pipeline: OpenCV ``imread`` (full decode), gray, ``resize`` to 9 × 8,
  compare neighbours — one process;
- imagehash's ``dhash`` on a Pillow full decode — one process;
- the decode floor: Pillow full decode of each file, nothing else — one process;
- ``pixdex.hash_files`` (dHash) with 1 worker and with every core.

Deviation of the fast path: for every JPEG, the dHash from the reduced-scale (DCT ``draft``)
decode against the dHash of the full decode; the issue asks for ≤ 2 bits on ≥ 99 % of images.

Agreement: on opaque real images, pixdex's dhash / phash / ahash within 4 bits of imagehash's on
the same full decode, for ≥ 95 % of images.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.corpus import build_corpus
from pixdex.decode import decode_image
from pixdex.hashing import ALGORITHMS, Hash
from pixdex.pipeline import hash_files


def quick() -> bool:
    return os.environ.get("PIXDEX_BENCH_QUICK") == "1"


def files_per_second(label: str, paths: list[Path], work: Callable[[list[Path]], None]) -> float:
    started = time.perf_counter()
    work(paths)
    rate = len(paths) / (time.perf_counter() - started)
    print(f"  {label:44} {rate:9.1f} files/s", flush=True)
    return rate


def original_pipeline(paths: list[Path]) -> None:
    """The tutorial's dHash: cv2 full decode, gray, 9 × 8 resize, compare, pack."""
    import cv2

    for path in paths:
        image = cv2.imread(str(path))
        if image is None:
            continue
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        small = cv2.resize(gray, (9, 8))
        bits = small[:, 1:] > small[:, :-1]
        sum(2**i for i, v in enumerate(bits.flatten()) if v)


def imagehash_pipeline(paths: list[Path]) -> None:
    import imagehash

    for path in paths:
        with Image.open(path) as image:
            imagehash.dhash(image)


def decode_floor(paths: list[Path]) -> None:
    for path in paths:
        with Image.open(path) as image:
            image.load()


def pixdex_pipeline(workers: int) -> Callable[[list[Path]], None]:
    def run(paths: list[Path]) -> None:
        for _ in hash_files(paths, ["dhash"], workers=workers):
            pass

    return run


def full_decode_rgb(path: Path) -> Image.Image:
    return decode_image(path).image  # min_side 0: no draft, no reduction


def draft_deviation(jpegs: list[Path]) -> dict[str, np.ndarray]:
    """Bits between each algorithm's hash of the reduced-scale decode (the scale the pipeline
    uses for it) and of the full decode, per JPEG; by algorithm name."""
    out: dict[str, list[int]] = {name: [] for name in ALGORITHMS}
    for path in jpegs:
        full = full_decode_rgb(path)
        for name, algorithm in ALGORITHMS.items():
            size = algorithm.default_size
            fast = decode_image(path, min_side=algorithm.min_side(size)).image
            out[name].append(algorithm.compute(fast, size) - algorithm.compute(full, size))
    return {name: np.array(d) for name, d in out.items()}


def imagehash_agreement(paths: list[Path]) -> dict[str, np.ndarray]:
    """Bits between pixdex's and imagehash's hash of the same opaque full decode, per image."""
    import imagehash

    peers = {"dhash": imagehash.dhash, "phash": imagehash.phash, "ahash": imagehash.average_hash}
    distances: dict[str, list[int]] = {name: [] for name in peers}
    for path in paths:
        image = full_decode_rgb(path)
        for name, peer in peers.items():
            theirs = Hash.from_hex(str(peer(image)), name)
            distances[name].append(ALGORITHMS[name].compute(image, 8) - theirs)
    return {name: np.array(d) for name, d in distances.items()}


def main() -> None:
    corpus = [im for im in build_corpus(1000) if im.kind != "png-huge"]
    if quick():
        corpus = corpus[:: max(1, len(corpus) // 120)]
    paths = [im.path for im in corpus]
    cores = len(os.sched_getaffinity(0))
    megapixels = []
    for path in paths:
        with Image.open(path) as image:
            megapixels.append(image.width * image.height / 1e6)
    print(
        f"{len(paths)} corpus files, median {np.median(megapixels):.1f} MP, "
        f"{sum(p.stat().st_size for p in paths) / 1e6:.0f} MB; {cores} cores"
    )
    print("throughput (dHash 64):")
    original = files_per_second(
        "original pipeline (cv2, full decode, 1 proc)", paths, original_pipeline
    )
    peer = files_per_second(
        "imagehash.dhash (Pillow full decode, 1 proc)", paths, imagehash_pipeline
    )
    floor = files_per_second("decode floor (Pillow full decode, 1 proc)", paths, decode_floor)
    one = files_per_second("pixdex hash_files, 1 worker", paths, pixdex_pipeline(1))
    every = files_per_second(f"pixdex hash_files, {cores} workers", paths, pixdex_pipeline(cores))
    print(
        f"  ratios: pixdex {cores} workers / original = {every / original:.1f}×, "
        f"/ imagehash = {every / peer:.1f}×, / decode floor = {every / floor:.1f}×; "
        f"1 worker / original = {one / original:.1f}×"
    )

    jpegs = [im.path for im in corpus if im.path.suffix.lower() in (".jpg", ".jpeg")]
    print(
        f"reduced-scale JPEG decode vs full decode, {len(jpegs)} JPEGs "
        "(target for 64 bits: ≤ 2 bits on ≥ 99 %):"
    )
    for name, deviation in draft_deviation(jpegs).items():
        size = ALGORITHMS[name].default_size
        bits, side = ALGORITHMS[name].bits(size), ALGORITHMS[name].min_side(size)
        print(
            f"  {name:6} ({bits} bits, decoded ≥ {side} px): "
            f"≤ 2 bits on {np.mean(deviation <= 2):.1%}, ≤ {bits // 32} bits on "
            f"{np.mean(deviation <= bits // 32):.1%}, 0 bits on {np.mean(deviation == 0):.1%}, "
            f"max {deviation.max() if deviation.size else 0}"
        )

    opaque = [im.path for im in corpus if im.kind != "png-transparent"]
    agreement = imagehash_agreement(opaque)
    for name, distances in agreement.items():
        print(
            f"agreement with imagehash.{name} on {len(opaque)} opaque images: within 4 bits on "
            f"{np.mean(distances <= 4):.1%}, equal on {np.mean(distances == 0):.1%}, "
            f"median {np.median(distances):.0f} bits (target ≥ 95 % within 4)"
        )
