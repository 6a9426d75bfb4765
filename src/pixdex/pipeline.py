"""Decode + hash: ``hash_image`` for one source, ``hash_files`` for a batch on every core.

Each file is read once: the bytes feed both the content digest (exact duplicates) and the decoder,
and the image is decoded once, at the smallest scale the most demanding requested algorithm needs,
for all of them. ``hash_files`` streams results in input order from a pool of worker processes
(``pixdex.pool``), submitting paths in small chunks so that memory stays bounded however long the
list is, and reports a failure per file instead of aborting the batch: a file that cannot be
decoded, and one that hangs or crashes its decoder (its worker is stopped and replaced).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pixdex.decode import DEFAULT_LIMITS, Limits, Source, decode_image
from pixdex.errors import ImageError
from pixdex.hashing import Hash, get_algorithm
from pixdex.hashing.views import compute_hashes
from pixdex.signature import signature

if TYPE_CHECKING:
    from pixdex.pool import SupervisedPool

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


WORKER_MEMORY_BYTES = 4 * 1024**3
"""The data segment one hashing worker may hold (``RLIMIT_DATA``), in bytes: the Pillow path
peaks near 1.2 GB (128 megapixels, 9 bytes each; a 16-bit image's float copy adds 1 GB), the
streamed path under 0.4 GB. A decoder that asks for more gets a ``MemoryError``, reported as
that file's failure."""


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
    time_limit: float | None = None,
) -> Iterator[FileHashes]:
    """Hash many files, yielding one ``FileHashes`` per path, in input order.

    Args:
        paths: the files, consumed lazily.
        algorithms: names from ``pixdex.ALGORITHMS``, all computed from one decode per file.
        workers: processes to use; None means every core. One worker without a
            ``time_limit`` hashes in this process.
        hash_size: applies to every algorithm (default: each one's own).
        limits: the decoder's limits (``pixdex.decode.Limits``).
        signatures: also make each picture's content signature from the same decode (what
            the matching rule verifies with).
        time_limit: seconds one file may take (read, decode, hash), or None for no limit. The
            worker process of a file over it is killed and replaced (``pixdex.pool``).

    Yields:
        One ``FileHashes`` per path. A file that cannot be read or decoded, that takes longer
        than ``time_limit``, or whose decoder crashes its worker process (or takes more than
        ``WORKER_MEMORY_BYTES``) has an ``error`` saying why; the batch goes on.

    Raises:
        ValueError: for an unknown algorithm, none, or fewer than one worker.
    """
    job = _Job(tuple(algorithms), hash_size, limits, signatures)
    job.check()
    count = (os.cpu_count() or 1) if workers is None else workers
    if count < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    names = (os.fspath(p) for p in paths)
    if count == 1 and time_limit is None:
        for name in names:
            yield job.hash_file(name)
        return
    with _pool(job, count, time_limit) as pool:
        yield from pool.map(names)


def hashing_pool(
    algorithms: Sequence[str],
    workers: int,
    *,
    hash_size: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
    signatures: bool = False,
    time_limit: float | None = None,
) -> SupervisedPool[str, FileHashes]:
    """``hash_files``'s worker processes, kept for many batches: ``pool.map(paths)`` yields what
    ``hash_files(paths, ...)`` would, with the same arguments, without starting processes each
    time (what a Dask worker hashing batch after batch needs). ``pool.close()`` stops them.

    Raises:
        ValueError: for an unknown algorithm, none, or fewer than one worker.
    """
    job = _Job(tuple(algorithms), hash_size, limits, signatures)
    job.check()
    return _pool(job, workers, time_limit)


def _pool(job: _Job, workers: int, time_limit: float | None) -> SupervisedPool[str, FileHashes]:
    # Imported when a pool starts (multiprocessing with it): the catalog imports this module,
    # and an unchanged re-index or a search never starts one (20 ms of their start-up).
    from pixdex.pool import SupervisedPool

    return SupervisedPool(
        job.hash_file,
        workers=workers,
        time_limit=time_limit,
        on_failure=_stopped,
        memory_limit=WORKER_MEMORY_BYTES,
    )


def _stopped(path: str, reason: str) -> FileHashes:
    """The result of a file whose worker was stopped or died: ``reason`` says which."""
    return FileHashes(path, error=f"hashing it {reason}")


@dataclass(frozen=True)
class _Job:
    """What every file of a batch gets done to (sent once to each worker)."""

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
            hashes = compute_hashes(decoded.image, list(zip(algos, sizes, strict=True)))
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
