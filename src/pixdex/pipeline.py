"""Decode + hash: ``hash_image`` for one source, ``hash_files`` for a batch on every core.

Each file is read once: the bytes feed both the content digest (exact duplicates) and the decoder,
and the image is decoded once, at the smallest scale the most demanding requested algorithm needs,
for all of them. ``hash_files`` streams results in input order from a pool of worker processes,
submitting paths in small chunks so that memory stays bounded however long the list is, and
reports a failure per file instead of aborting the batch.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field

from pixdex.decode import DEFAULT_LIMITS, Limits, Source, decode_image
from pixdex.errors import ImageError
from pixdex.hashing import Hash, get_algorithm
from pixdex.signature import signature

DIGEST_BYTES = 16
"""Length of the content digest, in bytes: the first 128 bits of SHA-256, as 32 hex digits.
SHA-256 rather than BLAKE2b because CPUs hash it in hardware (SHA extensions): 2.2 ms for a
4 MB PNG against BLAKE2b's 4.3 ms, a fifth of the time it takes to decode that PNG."""

READ_CHUNK = 1 << 20
"""Bytes read at a time when digesting a file from disk."""

WHOLE_FILE_BYTES = 64 * 1024 * 1024
"""Files up to this size are read once, whole, for both the digest and the decoder; larger ones
are digested in pieces and decoded from the file, so that an oversized image (a 623-megapixel
PNG, decoded in strips by ``pixdex.decode_streamed``) is never held whole in memory."""


def content_digest(data: bytes | memoryview) -> str:
    """The catalog's content digest of a file's bytes (equal digests: identical files)."""
    return hashlib.sha256(data).hexdigest()[: 2 * DIGEST_BYTES]


def file_digest(path: str | os.PathLike) -> str:
    """``content_digest`` of the file at ``path``, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()[: 2 * DIGEST_BYTES]


CHUNK_FILES = 8
"""Paths per task sent to a worker: large enough to amortise the inter-process round trip (about
0.1 ms), small enough that results stream and the workers stay evenly loaded."""

CHUNKS_IN_FLIGHT_PER_WORKER = 4
"""Chunks queued or running per worker: keeps every core busy while bounding queued work."""

CHUNKS_HELD_PER_WORKER = 64
"""Chunks per worker, finished or not, that may wait for an older one to finish (bounds the
results held in memory: about a thousand ``FileHashes`` with two workers)."""


@dataclass(frozen=True)
class FileHashes:
    """What ``hash_files`` learnt about one file.

    ``hashes`` maps each requested algorithm name to its ``Hash`` (empty when ``error`` is set);
    ``width`` and ``height`` are the original image size in pixels after EXIF orientation (not
    the reduced decode); ``format`` is Pillow's format name ("JPEG", "PNG", ...); ``size`` is the
    file size in bytes; ``digest`` is ``content_digest`` of the file's bytes (equal digests:
    identical files). ``signature`` is the picture's content signature (``pixdex.signature``)
    when it was asked for. ``error`` is the reason (``ImageError.reason``: the path is ``path``)
    when the file could not be hashed; the fields the failure left unknown are 0 or None.
    """

    path: str
    hashes: dict[str, Hash] = field(default_factory=dict)
    width: int = 0
    height: int = 0
    format: str | None = None
    size: int = 0
    digest: str | None = None
    error: str | None = None
    signature: bytes | None = None

    @property
    def ok(self) -> bool:
        """True when the file was hashed."""
        return self.error is None


def hash_image(
    source: Source,
    algorithm: str = "dhash",
    hash_size: int | None = None,
    *,
    limits: Limits = DEFAULT_LIMITS,
) -> Hash:
    """The perceptual hash of one image.

    ``source`` is a path, the file's bytes, a binary file object or a PIL image; ``algorithm`` is
    a name from ``pixdex.ALGORITHMS``; ``hash_size`` defaults to the algorithm's own default (8
    for dHash: 64 bits). Raises ``ImageError`` for anything that cannot be decoded and
    ``ValueError`` for an unknown algorithm.
    """
    algo = get_algorithm(algorithm)
    size = algo.default_size if hash_size is None else hash_size
    image = decode_image(source, min_side=algo.min_side(size), limits=limits, gray=algo.gray).image
    return algo.compute(image, size)


def hash_files(
    paths: Iterable[str | os.PathLike],
    algorithms: Sequence[str] = ("dhash",),
    workers: int | None = None,
    *,
    hash_size: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
    signatures: bool = False,
) -> Iterator[FileHashes]:
    """Hash many files, yielding one ``FileHashes`` per path, in input order.

    ``algorithms``: names from ``pixdex.ALGORITHMS``, all computed from one decode per file.
    ``workers``: processes to use; None means every core, 1 hashes in this process. ``hash_size``
    applies to every algorithm (default: each one's own). ``signatures``: also make each
    picture's content signature from the same decode (what the matching rule verifies with). A
    file that cannot be read or decoded yields a ``FileHashes`` whose ``error`` says why; the
    batch goes on.
    """
    job = _Job(tuple(algorithms), hash_size, limits, signatures)
    job.check()
    count = (os.cpu_count() or 1) if workers is None else workers
    if count < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    names = (os.fspath(p) for p in paths)
    if count == 1:
        for name in names:
            yield job.hash_file(name)
        return
    yield from _hash_in_pool(names, job, count)


@dataclass(frozen=True)
class _Job:
    """What every file of a batch gets done to (sent once per chunk to the workers)."""

    algorithms: tuple[str, ...]
    hash_size: int | None
    limits: Limits
    signature: bool = False

    def check(self) -> None:
        """Fail fast, in the caller's process, on an unknown algorithm or an empty list."""
        if not self.algorithms:
            raise ValueError("hash_files needs at least one algorithm")
        for name in self.algorithms:
            get_algorithm(name)

    def hash_file(self, path: str) -> FileHashes:
        """Read, digest, decode once and hash one file; failures become ``FileHashes.error``."""
        try:
            data, size, digest = _read(path, self.limits)
        except ImageError as exc:
            return FileHashes(path, error=exc.reason)
        algos = [get_algorithm(name) for name in self.algorithms]
        sizes = [a.default_size if self.hash_size is None else self.hash_size for a in algos]
        try:
            min_side = max(a.min_side(n) for a, n in zip(algos, sizes, strict=True))
            gray = all(a.gray for a in algos) and not self.signature
            decoded = decode_image(
                path if data is None else data,
                min_side=min_side,
                limits=self.limits,
                name=path,
                gray=gray,
            )
            hashes = {
                a.name: a.compute(decoded.image, n) for a, n in zip(algos, sizes, strict=True)
            }
            content = signature(decoded.image) if self.signature else None
        except ImageError as exc:
            return FileHashes(path, size=size, digest=digest, error=exc.reason)
        except Exception as exc:  # one odd file must not abort a batch of millions
            reason = f"unexpected error while hashing ({type(exc).__name__}: {exc})"
            return FileHashes(path, size=size, digest=digest, error=reason)
        return FileHashes(
            path,
            hashes,
            decoded.width,
            decoded.height,
            decoded.format,
            size,
            digest,
            signature=content,
        )

    def hash_chunk(self, paths: list[str]) -> list[FileHashes]:
        """``hash_file`` over a chunk of paths (one worker task)."""
        return [self.hash_file(path) for path in paths]


def _read(path: str, limits: Limits) -> tuple[bytes | None, int, str]:
    """``(data, size, digest)`` of the file, after checking its size against
    ``limits.max_bytes``: ``data`` is the whole file, or None for a file over
    ``WHOLE_FILE_BYTES``, which is digested in pieces and left for the decoder to read."""
    try:
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            if size > limits.max_bytes:
                raise ImageError(
                    path,
                    f"file of {size:,} bytes is over the limit of {limits.max_bytes:,} bytes "
                    "(Limits.max_bytes)",
                )
            if size <= WHOLE_FILE_BYTES:
                data = file.read()
                return data, len(data), content_digest(data)
            digest = hashlib.sha256()
            while chunk := file.read(READ_CHUNK):
                digest.update(chunk)
            return None, size, digest.hexdigest()[: 2 * DIGEST_BYTES]
    except OSError as exc:
        raise ImageError(path, f"cannot read the file ({exc.strerror or exc})") from exc


def _hash_in_pool(names: Iterator[str], job: _Job, workers: int) -> Iterator[FileHashes]:
    """Stream results from ``workers`` processes, in input order.

    Up to ``CHUNKS_IN_FLIGHT_PER_WORKER`` chunks per worker are queued or running at any time;
    finished chunks wait for their turn (at most ``CHUNKS_HELD_PER_WORKER`` per worker) without
    holding a worker back. Waiting on the oldest chunk before submitting the next one would let
    a chunk of eight 16-megapixel wallpapers idle the other core while it decodes.
    """
    pending: deque[Future[list[FileHashes]]] = deque()
    running = workers * CHUNKS_IN_FLIGHT_PER_WORKER
    held = workers * CHUNKS_HELD_PER_WORKER
    chunks = _chunked(names, CHUNK_FILES)
    # forkserver: workers start from a clean process, safe even if the caller runs threads.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    try:
        for chunk in chunks:
            pending.append(pool.submit(job.hash_chunk, chunk))
            yield from _finished_in_order(pending)
            while pending and (_unfinished(pending) >= running or len(pending) >= held):
                wait([f for f in pending if not f.done()], return_when=FIRST_COMPLETED)
                yield from _finished_in_order(pending)
        while pending:
            yield from pending.popleft().result()
    finally:  # also when the caller stops iterating early: drop the queued chunks
        pool.shutdown(wait=True, cancel_futures=True)


def _finished_in_order(pending: deque[Future[list[FileHashes]]]) -> Iterator[FileHashes]:
    """The results of the finished chunks at the head of ``pending``, removed from it."""
    while pending and pending[0].done():
        yield from pending.popleft().result()


def _unfinished(pending: deque[Future[list[FileHashes]]]) -> int:
    return sum(not f.done() for f in pending)


def _chunked(names: Iterator[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for name in names:
        chunk.append(name)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
