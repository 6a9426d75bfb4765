"""The HTTP API under load: concurrent clients searching a catalog of a million codes.

    python -m benchmarks server                  # 1,000,000 codes, 1 / 8 / 64 clients
    PIXDEX_BENCH_QUICK=1 python -m benchmarks server   # 20,000 codes, a smoke test in seconds

The catalog is the real photographs of scikit-image (indexed with ``Catalog.index``) plus
synthetic 64-bit dHash codes written through the catalog's own ``Store.write`` in batches: 90 %
uniformly random codes ("pictures") and 10 % near-copies of them (1-6 bits flipped), so that a
query near a picture has a few true matches, as in a real collection with duplicates. The
synthetic files do not exist on disk; a search answers from the catalog and never opens them.
The catalog is built once into ``.cache/bench/`` and reused.

``pixdex serve`` runs as a separate process on 127.0.0.1; the clients are asyncio tasks in this
process, each keeping one HTTP/1.1 connection alive, posting ``{"hash": hex}`` searches (default
radius, 10 bits: a range search, cut to the 100 nearest): half near a planted picture (2 bits
flipped), half random codes (no match).
Requests/s and the p50/p99 latency seen by the clients are reported per concurrency level, beside
the same searches made in-process with ``Catalog.search`` (the floor the HTTP layer adds to), and
a row of image uploads (a real JPEG sent as the request body, decoded and hashed per request),
and the time of the Duplicates view's request (a self-join over the whole catalog, then cached).

On the reference machine the server and the clients share 2 cores, so the clients' own CPU time
is part of what is measured.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

from pixdex.catalog import Catalog, FileRecord, SQLiteStore
from pixdex.hashing import Hash

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "bench"
SEED = 20240607
COPY_SHARE = 0.10
"""Share of the synthetic codes that are near-copies (1-6 bits flipped) of another code."""
BATCH = 100_000
"""Synthetic records per ``Store.write`` transaction."""


@dataclass(frozen=True)
class Level:
    """One load measurement: ``clients`` concurrent clients, ``requests`` answered."""

    label: str
    clients: int
    requests: int
    errors: int
    seconds: float
    latencies_ms: np.ndarray

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if len(self.latencies_ms) else 0.0


def synthetic_codes(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``count`` 64-bit codes (90 % random, 10 % near-copies) and the indexes of the originals."""
    originals = count - int(count * COPY_SHARE)
    codes = rng.integers(0, 2**64, size=count, dtype=np.uint64, endpoint=False)
    sources = rng.integers(0, originals, size=count - originals)
    copies = codes[sources].copy()
    for row in range(len(copies)):
        flips = rng.choice(64, size=int(rng.integers(1, 7)), replace=False)
        for bit in flips:
            copies[row] ^= np.uint64(1) << np.uint64(bit)
    codes[originals:] = copies
    return codes, np.arange(originals)


def build_catalog(path: Path, count: int, photos: Path) -> float:
    """Create the benchmark catalog at ``path`` (real photos + ``count`` synthetic codes).

    Returns the seconds it took; reuses an existing complete catalog (0 seconds).
    """
    done = path.with_suffix(".complete")
    if path.exists() and done.exists():
        return 0.0
    for stale in path.parent.glob(f"{path.name}*"):
        stale.unlink()
    started = time.perf_counter()
    with Catalog(path) as catalog:
        catalog.index([photos], workers=1)
    codes, _ = synthetic_codes(count, np.random.default_rng(SEED))
    with SQLiteStore(path) as store:
        for start in range(0, count, BATCH):
            store.write(
                [
                    FileRecord(
                        path=f"/synthetic/{i:08d}.jpg",
                        size=100_000,
                        mtime_ns=0,
                        width=1024,
                        height=768,
                        format="JPEG",
                        hashes={"dhash": Hash(int(codes[i]), 64, "dhash", 100)},
                    )
                    for i in range(start, min(start + BATCH, count))
                ]
            )
    done.touch()
    return time.perf_counter() - started


def query_hashes(count: int, total: int, rng: np.random.Generator) -> list[str]:
    """Hex queries: half are planted pictures with 2 bits flipped, half random codes."""
    codes, originals = synthetic_codes(total, np.random.default_rng(SEED))
    near = codes[rng.choice(originals, size=count // 2)]
    for row in range(len(near)):
        for bit in rng.choice(64, size=2, replace=False):
            near[row] ^= np.uint64(1) << np.uint64(bit)
    far = rng.integers(0, 2**64, size=count - len(near), dtype=np.uint64, endpoint=False)
    mixed = np.concatenate([near, far])
    rng.shuffle(mixed)
    return [f"{int(c):016x}" for c in mixed]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(db: Path, port: int, timeout_s: float = 900.0) -> tuple[subprocess.Popen, float]:
    """``pixdex serve`` in a child process; returns it once /healthz answers, and the seconds
    that took (opening the catalog, loading or building its index, compiling the kernels)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "pixdex.cli", "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/healthz"
    while time.perf_counter() - started < timeout_s:
        if process.poll() is not None:
            raise RuntimeError(f"pixdex serve exited: {process.stderr.read().decode()}")
        try:
            if httpx.get(url, timeout=5.0).status_code == 200:
                return process, time.perf_counter() - started
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"pixdex serve did not answer on port {port} in {timeout_s:.0f} s")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Connection:
    """One keep-alive HTTP/1.1 connection sending pre-encoded POST requests.

    A client this thin (a write and two reads per request) costs far less CPU than a full HTTP
    client library, which matters when clients and server share two cores: what is measured is
    mostly the server.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def post(self, path: str, body: bytes, content_type: str) -> int:
        """Send one request and read the whole answer; returns the HTTP status."""
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self._writer.write(head + body)
        headers = await self._reader.readuntil(b"\r\n\r\n")
        status = int(headers.split(b" ", 2)[1])
        length = 0
        for line in headers.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await self._reader.readexactly(length)
        return status

    def close(self) -> None:
        self._writer.close()


async def load(
    port: int,
    label: str,
    clients: int,
    requests: int,
    bodies: list[tuple[bytes, str]],
    max_seconds: float,
) -> Level:
    """``requests`` searches from ``clients`` concurrent connections; stops after ``max_seconds``.

    ``bodies`` are ``(body, content type)`` pairs sent in turn to ``/api/search``.
    """
    latencies: list[float] = []
    errors = 0
    issued = 0
    connections = [await Connection.open(port) for _ in range(clients)]
    started = time.perf_counter()
    deadline = started + max_seconds

    async def client(connection: Connection) -> None:
        nonlocal issued, errors
        while issued < requests and time.perf_counter() < deadline:
            body, content_type = bodies[issued % len(bodies)]
            issued += 1
            sent = time.perf_counter()
            status = await connection.post("/api/search", body, content_type)
            latencies.append((time.perf_counter() - sent) * 1000.0)
            errors += status != 200

    try:
        await asyncio.gather(*(client(c) for c in connections))
    finally:
        for connection in connections:
            connection.close()
    seconds = time.perf_counter() - started
    return Level(label, clients, len(latencies), errors, seconds, np.asarray(latencies))


def in_process(db: Path, queries: list[str]) -> Level:
    """The same searches through ``Catalog.search`` in this process: no HTTP, no JSON."""
    with Catalog(db, create=False) as catalog:
        catalog.search(Hash.from_hex(queries[0]))  # load the index first
        latencies = []
        started = time.perf_counter()
        for text in queries:
            sent = time.perf_counter()
            catalog.search(Hash.from_hex(text))
            latencies.append((time.perf_counter() - sent) * 1000.0)
        seconds = time.perf_counter() - started
    return Level("Catalog.search", 1, len(queries), 0, seconds, np.asarray(latencies))


def print_table(levels: list[Level], floor: Level) -> None:
    print(
        f"{'':<26}{'clients':>8}{'requests':>10}{'errors':>8}{'req/s':>10}{'p50 ms':>9}"
        f"{'p99 ms':>9}{'p50 / in-process':>18}"
    )
    for level in [floor, *levels]:
        ratio = level.percentile(50) / floor.percentile(50) if floor.percentile(50) else 0.0
        print(
            f"{level.label:<26}{level.clients:>8}{level.requests:>10,}{level.errors:>8}"
            f"{level.rate:>10,.0f}{level.percentile(50):>9.2f}{level.percentile(99):>9.2f}"
            f"{ratio:>17.1f}×"
        )


def main(argv: list[str] | None = None) -> None:
    import skimage

    quick = os.environ.get("PIXDEX_BENCH_QUICK") == "1" or "--quick" in (argv or sys.argv[1:])
    count = 20_000 if quick else 1_000_000
    per_level = 200 if quick else 3_000
    max_seconds = 20.0 if quick else 90.0
    photos = Path(skimage.__file__).parent / "data"
    CACHE.mkdir(parents=True, exist_ok=True)
    db = CACHE / f"server-{count}.db"

    built = build_catalog(db, count, photos)
    with Catalog(db, create=False) as catalog:
        images = catalog.info().images
    print(
        f"catalog: {images:,} images ({count:,} synthetic 64-bit dHash codes + real photos), "
        + (f"built in {built:.1f} s" if built else f"reused from {db.relative_to(ROOT)}")
    )
    queries = query_hashes(max(per_level, 512), count, np.random.default_rng(1))
    floor = in_process(db, queries[:per_level])

    process, startup = start_server(db, port := free_port())
    base = f"http://127.0.0.1:{port}"
    print(f"server: pixdex serve on {base}, ready in {startup:.1f} s (index loaded, kernels warm)")
    by_hash = [(json.dumps({"hash": q}).encode(), "application/json") for q in queries]
    upload = [((photos / "rocket.jpg").read_bytes(), "image/jpeg")]

    async def run() -> list[Level]:
        await load(port, "warm-up", 4, 50, by_hash, max_seconds)
        levels = [
            await load(port, "HTTP search by hash", clients, per_level, by_hash, max_seconds)
            for clients in (1, 8, 64)
        ]
        levels += [
            await load(port, "HTTP upload (JPEG 512 px)", clients, per_level // 10, upload, 60)
            for clients in (1, 8)
        ]
        return levels

    try:
        levels = asyncio.run(run())
        duplicates = time_duplicates(base)
    finally:
        stop_server(process)
    print_table(levels, floor)
    print(duplicates)


def time_duplicates(base: str) -> str:
    """One ``GET /api/duplicates`` (the page's Duplicates view): a self-join over the catalog the
    first time, then the answer kept until the catalog changes."""
    lines = []
    for attempt in ("first", "again"):
        started = time.perf_counter()
        response = httpx.get(f"{base}/api/duplicates", params={"limit": 100}, timeout=900.0)
        seconds = time.perf_counter() - started
        body = response.json()
        lines.append(
            f"GET /api/duplicates ({attempt}): HTTP {response.status_code} in {seconds:.2f} s, "
            f"{body.get('total_groups', 0):,} groups within {body.get('distance')} bits"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main(sys.argv[1:])
