"""Issue 16: a 623-megapixel PNG hashed by one worker in bounded memory.

    python -m benchmarks large

Real collections hold clip-art PNGs of 10,500 × 16,000 pixels and more; Pillow would need about
9 bytes a pixel to decode one (5.6 GB at 623 megapixels), so pixdex decodes images over
``Limits.max_pixels`` in strips with libvips (``pixdex.decode_streamed``). The picture here is
real vector art, the GNOME "dune" wallpaper (an SVG from the Debian wallpaper packages the corpus
fetches), rendered by libvips at 24,960 × 24,960 pixels into ``.cache/large/`` once.

Measured in a fresh process started from a small launcher (so ``VmHWM``, the kernel's peak
resident size, is this hashing's own): ``hash_files([png], workers=1)``, what one worker of
``pixdex index`` does with the file, and its wall time. The hash is compared with the Pillow
path's hash of the same SVG rendered at 1/16 scale (1,560 × 1,560 pixels).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.corpus import CACHE, fetch_wallpapers

SIDE = 24_960
"""Side of the benchmark image: 24,960² = 623 megapixels."""

TARGET_MIB = 1024
"""Issue 16's bound on the peak memory of one hashing worker."""

MEASURE = """
import json, sys, time
started = time.perf_counter()
import pixdex
(result,) = pixdex.hash_files([sys.argv[1]], workers=1)
seconds = time.perf_counter() - started
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(json.dumps({"hash": str(result.hashes.get("dhash")), "error": result.error,
                  "width": result.width, "height": result.height, "seconds": seconds,
                  "peak_kib": int(status["VmHWM"].split()[0])}))
"""


def svg_source() -> Path:
    return fetch_wallpapers() / "usr/share/backgrounds/gnome/dune-l.svg"


def build(path: Path) -> float:
    """Render the SVG at ``SIDE`` pixels a side into the PNG at ``path``; seconds taken."""
    import pyvips

    started = time.perf_counter()
    source = svg_source()
    width = pyvips.Image.new_from_file(str(source)).width
    image = pyvips.Image.svgload(str(source), scale=SIDE / width, access="sequential")
    partial = path.with_suffix(".partial")
    image.pngsave(str(partial), compression=3)
    partial.replace(path)
    return time.perf_counter() - started


def main() -> None:
    import pyvips

    import pixdex

    folder = CACHE / "large"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"dune-{SIDE}.png"
    if not path.exists():
        print(f"rendering {svg_source().name} at {SIDE:,}² into {path} ...", flush=True)
        print(f"  {build(path):.1f} s")
    megapixels = SIDE * SIDE / 1e6
    print(f"{path.name}: {megapixels:,.0f} megapixels, {path.stat().st_size / 2**20:,.1f} MiB")

    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, check=True
    )
    measured = json.loads(done.stdout)
    small = pyvips.Image.svgload(str(svg_source()), scale=SIDE / 16 / 4096)
    reference = pixdex.hash_image(small.pngsave_buffer())
    distance = pixdex.Hash.from_hex(measured["hash"], "dhash") - reference
    peak_mib = measured["peak_kib"] / 1024
    print(f"hash_files(workers=1), fresh process: {measured['seconds']:.1f} s wall (with imports)")
    print(f"  peak memory (VmHWM): {peak_mib:,.0f} MiB (target ≤ {TARGET_MIB:,} MiB)")
    print(f"  Pillow would hold ~9 bytes a pixel: {9 * SIDE * SIDE / 2**30:,.1f} GiB")
    print(f"  dHash {measured['hash']}; the 1/16-scale render's {reference}: {distance} bits")
    print(f"  error: {measured['error']}")
