"""The HTTP API and the web page: ``create_app(db_path)`` returns a FastAPI application.

A reverse image search over one catalog. Files are addressed by their catalog id only, never by a
path the client sends, so nothing outside the catalog can be read through the server. Uploads are
bounded in bytes (before they are read whole) and in decoded pixels (before any pixel is decoded),
and every bad input answers 4xx with ``{"error": message, "kind": ...}``.

The catalog is opened once and read on every request, so images that ``pixdex index`` adds while
the server runs are found without a restart: searches compare the catalog's generation counter
with their index's and rebuild it once after a write.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import FastAPI, Query, Request
from fastapi import Path as PathParameter
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from pixdex.catalog import (
    DEFAULT_ALGORITHM,
    Catalog,
    CatalogError,
    StoredFile,
    framed_views,
    search_distance,
)
from pixdex.catalog.engine import Engine
from pixdex.decode import DEFAULT_LIMITS, Limits
from pixdex.errors import ImageError
from pixdex.hashing import ALGORITHMS, Hash, is_algorithm
from pixdex.matching import DEFAULT_RULE
from pixdex.names import printable
from pixdex.pipeline import hash_image
from pixdex.server.catalog_thread import CatalogSource, CatalogThread
from pixdex.server.limits import RETRY_AFTER_S, Admission, LoadShedding
from pixdex.server.query import BadRequest, SearchQuery, read_search_query
from pixdex.server.responses import ERROR_RESPONSES, PrintableJSONResponse
from pixdex.server.thumbnails import THUMBNAIL_PX, ThumbnailCache, ThumbnailKey, make_thumbnail

UPLOAD_LIMITS = Limits(max_pixels=64_000_000, max_bytes=32 * 1024 * 1024)
"""Default limits on an uploaded query image: 32 MiB and 64 megapixels (a 10,000 × 6,400 photo).
Stricter than the indexer's, since anyone who can reach the server can upload."""

THUMBNAIL_CACHE_BYTES = 64 * 1024 * 1024
"""Default memory for cached thumbnails: about 5,000 thumbnails of 256 pixels."""

DEFAULT_K = 100
MAX_K = 1000
"""Matches returned per search by default and at most: the nearest first."""

WIDE_RADIUS_SHARE = 4
"""A search radius above ``bits / 4`` runs as a k-nearest search (see ``search``)."""

DECODES_AT_ONCE = 2
"""Images (uploads and thumbnails) decoded at once: each can hold up to ``max_pixels`` pixels,
about 9 bytes each, for a moment; 2 keeps both cores busy and the memory bounded."""

DECODES_WAITING = 32
"""Decodes that may wait for one of those places; one more is answered 429 (``limits``)."""

MAX_IN_FLIGHT = 128
"""Requests handled at once; one more is answered 503 at once (``limits.LoadShedding``)."""

MAX_FILE_ID = 2**63 - 1
"""The largest catalog id: ids are 64-bit signed integers in SQLite and PostgreSQL."""

FileId = Annotated[int, PathParameter(ge=0, le=MAX_FILE_ID, description="Catalog id")]
"""A catalog id in a URL. Out of range is malformed (422), as a non-number is: the stores would
raise OverflowError for it rather than find nothing."""

STATIC = Path(__file__).parent / "static"

_MEDIA_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
    "AVIF": "image/avif",
    "HEIF": "image/heif",
    "ICO": "image/x-icon",
}

_SEARCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"image": {"type": "string", "format": "binary"}},
                    "required": ["image"],
                }
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"hash": {"type": "string"}, "algorithm": {"type": "string"}},
                    "required": ["hash"],
                }
            },
            "image/*": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def create_app(
    db_path: str | os.PathLike[str],
    *,
    limits: Limits = UPLOAD_LIMITS,
    file_limits: Limits = DEFAULT_LIMITS,
    thumbnail_cache_bytes: int = THUMBNAIL_CACHE_BYTES,
    max_in_flight: int = MAX_IN_FLIGHT,
    decodes_waiting: int = DECODES_WAITING,
    engine: Engine | None = None,
) -> FastAPI:
    """The pixdex web application over the existing catalog at ``db_path`` (an SQLite file or a
    PostgreSQL URI).

    ``limits`` bound uploaded query images (bytes, decoded pixels); ``file_limits`` bound the
    catalogued files decoded for thumbnails; ``thumbnail_cache_bytes`` bounds the thumbnail cache.
    ``max_in_flight`` requests are handled at once and ``decodes_waiting`` decodes may queue
    behind the ``DECODES_AT_ONCE`` running; beyond, 503 and 429 (``pixdex.server.limits``).
    With an ``engine`` (``pixdex serve --dask``), the catalog's search indexes and the
    duplicates view's self-join run there. Raises ``CatalogError`` when there is no catalog at
    ``db_path``.
    """
    # Uploads over the pixel limit are refused, never decoded in strips (seconds of CPU each).
    limits = dataclasses.replace(limits, max_streamed_pixels=0)
    source = CatalogSource(db_path, engine)
    try:
        catalog = CatalogThread(source.open)
    except BaseException:
        source.close()
        raise
    thumbnails = ThumbnailCache(thumbnail_cache_bytes)
    decoding = Admission(DECODES_AT_ONCE, decodes_waiting)
    duplicates_cache: dict[tuple[int, str, int], dict[str, Any]] = {}
    finding_duplicates = asyncio.Lock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await catalog.call(_warm_up)
        yield
        catalog.close()
        source.close()

    app = FastAPI(
        title="pixdex",
        summary="Reverse image search over your own collection, by perceptual hash.",
        lifespan=lifespan,
        default_response_class=PrintableJSONResponse,
        responses=ERROR_RESPONSES,
    )
    _install_error_handlers(app)
    app.add_middleware(LoadShedding, max_in_flight=max_in_flight)

    async def resolve_algorithm(requested: str | None) -> str:
        return _checked_algorithm(requested) or await catalog.call(_default_algorithm)

    async def catalogued(file_id: int) -> StoredFile:
        found = (await catalog.call(lambda c: c.files([file_id]))).get(file_id)
        if found is None:
            raise BadRequest(404, f"no image with id {file_id} in the catalog", kind="not-found")
        return found

    def on_disk(stored: StoredFile) -> None:
        """Refuse a file that is gone or changed since indexing: serve only what was catalogued."""
        try:
            status = os.stat(stored.path)
        except OSError:
            raise BadRequest(
                404, f"{stored.path}: no longer on disk (run pixdex index --prune)", kind="gone"
            ) from None
        if (status.st_size, status.st_mtime_ns) != (stored.size, stored.mtime_ns):
            raise BadRequest(
                409, f"{stored.path}: changed since it was indexed (run pixdex index)", "changed"
            )

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz", summary="Liveness: the catalog answers")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "generation": await catalog.call(lambda c: c.generation())}

    @app.get("/api/stats", summary="Images, hashes per algorithm, failures, size on disk")
    async def stats() -> dict[str, Any]:
        def work(c: Catalog) -> dict[str, Any]:
            info = c.info()
            return {
                "catalog": info.path,
                "generation": c.generation(),
                "images": info.images,
                "failures": info.stats.failures,
                "bytes_on_disk": info.bytes_on_disk,
                "algorithms": [
                    {
                        "name": a.algorithm,
                        "bits": a.bits,
                        "count": a.count,
                        "low_quality": a.low_quality,
                        "default_distance": search_distance(a.algorithm, a.bits),
                    }
                    for a in info.stats.algorithms
                ],
            }

        return await catalog.call(work)

    @app.post(
        "/api/search",
        summary="Catalogued images near an uploaded image or a hash, nearest first",
        openapi_extra=_SEARCH_BODY,
    )
    async def search(
        request: Request,
        distance: Annotated[
            int | None, Query(ge=0, le=1024, description="Largest Hamming distance, in bits")
        ] = None,
        k: Annotated[int, Query(ge=1, le=MAX_K, description="Nearest matches kept")] = DEFAULT_K,
        algorithm: Annotated[
            str | None, Query(description="Hash algorithm (or ALG:framed for framed views)")
        ] = None,
        flips: Annotated[
            bool, Query(description="Also match mirrored and rotated copies (image queries)")
        ] = False,
        confirm: Annotated[
            str | None,
            Query(description="Second algorithm whose hash must be close too (image queries)"),
        ] = None,
        confirm_distance: Annotated[
            int | None,
            Query(ge=0, le=1024, description="Largest distance of the confirming hash, in bits"),
        ] = None,
        verify: Annotated[
            bool,
            Query(description="Verify candidates with the matching rule (image queries)"),
        ] = True,
    ) -> dict[str, Any]:
        query = await read_search_query(request, limits.max_bytes)
        if algorithm and query.algorithm and algorithm.lower() != query.algorithm.lower():
            raise BadRequest(400, f"algorithm {algorithm!r} in the URL but {query.algorithm!r}")
        requested = _checked_algorithm(algorithm or query.algorithm)
        confirming = _checked_algorithm(confirm)
        if _is_framed(confirming):
            raise BadRequest(400, f"confirm {confirm!r}: a confirming hash is one algorithm")
        # An uploaded image is searched as an image: the catalog re-hashes it (turned, framed,
        # with a second algorithm) and verifies every candidate with the matching rule.
        from_image = query.image is not None and (
            verify or flips or _is_framed(requested) or confirming is not None
        )
        upload: Hash | None = None
        hash_ms = 0.0
        if query.image is None and (flips or _is_framed(requested) or confirming is not None):
            raise BadRequest(400, "flips, framed views and confirm need an image query, not a hash")
        if query.image is not None:
            started = time.perf_counter()
            name = requested or await catalog.call(_default_algorithm)
            # Decoding and hashing run in the worker threads, off the event loop, a few at once;
            # this also holds the upload to the server's limits before the catalog decodes it
            # again for flips, framed views or confirm.
            async with decoding.slot():
                upload = await run_in_threadpool(_hash_upload, query, framed_views(name)[0], limits)
            hash_ms = (time.perf_counter() - started) * 1000.0

        def work(c: Catalog) -> dict[str, Any]:
            # A hash query needs no work outside the catalog: one trip to its thread in all.
            code = upload or _parse_hash(query.hash_hex or "", requested or _default_algorithm(c))
            name = code.algorithm
            searched: Hash | bytes = code
            if from_image:
                name, searched = requested or name, query.image or b""
            if distance is not None:
                radius = distance
            elif from_image and verify and not _is_framed(name):
                radius = DEFAULT_RULE.radius_for(code.bits)  # the rule's candidate radius
            else:
                radius = search_distance(name, code.bits)
            # A range search costs what the radius costs, a k-nearest search what reaching the
            # k-th neighbour costs: on a million random codes the 100th is ~20 bits away (10× the
            # work of the default 10-bit radius). So: range search, cut to k, up to a quarter of
            # the bits; past that (where a range can return the whole catalog) k nearest.
            wide = radius > code.bits // WIDE_RADIUS_SHARE
            reach = confirm_distance
            if confirming is not None and reach is None:
                # The catalog's default, named in the answer (search refuses an absent algorithm).
                reach = search_distance(confirming, c.algorithms().get(confirming, 64))
            result = c.search(
                searched,
                algorithm=name,
                max_distance=radius,
                k=k if wide else None,
                flips=flips,
                confirm=confirming,
                confirm_distance=reach,
                rule=DEFAULT_RULE if verify else None,
            )
            nearest = result.matches[:k]
            files = c.files_at([m.path for m in nearest])
            return {
                "query": query.name if query.image is not None else f"hash:{code.hex}",
                "algorithm": name,
                "hash": code.hex,
                "bits": code.bits,
                "distance": radius,
                "k": k,
                "flips": flips,
                "confirm": confirming,
                "confirm_distance": reach,
                "hash_ms": round(hash_ms, 3),
                "took_ms": round(result.took_ms, 3),
                "verified": result.verified,
                "matches": [
                    _describe(files[m.path], distance=m.distance)
                    for m in nearest
                    if m.path in files  # removed between the search and this lookup
                ],
            }

        return await catalog.call(work)

    @app.get("/api/images/{file_id}", summary="What the catalog knows about one image")
    async def image(file_id: FileId) -> dict[str, Any]:
        return _describe(await catalogued(file_id))

    @app.get(
        "/api/images/{file_id}/thumbnail",
        summary="A JPEG thumbnail, made on first request and cached",
        response_class=Response,
    )
    async def thumbnail(
        file_id: FileId,
        size: Annotated[int, Query(ge=16, le=1024, description="Longest side, pixels")] = (
            THUMBNAIL_PX
        ),
    ) -> Response:
        stored = await catalogued(file_id)
        on_disk(stored)
        key = ThumbnailKey(file_id, stored.size, stored.mtime_ns, size)
        data = thumbnails.get(key)
        if data is None:
            async with decoding.slot():
                data = await run_in_threadpool(make_thumbnail, stored.path, size, file_limits)
            thumbnails.put(key, data)
        return Response(
            data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"}
        )

    @app.get(
        "/api/images/{file_id}/file",
        summary="The catalogued file itself",
        response_class=FileResponse,
    )
    async def original(file_id: FileId) -> FileResponse:
        stored = await catalogued(file_id)
        on_disk(stored)
        return FileResponse(
            stored.path,
            media_type=_MEDIA_TYPES.get(stored.format or "", "application/octet-stream"),
            filename=printable(os.path.basename(stored.path)),
            content_disposition_type="inline",
        )

    @app.get("/api/duplicates", summary="Groups of near-duplicate images in the catalog")
    async def duplicates(
        distance: Annotated[
            int | None, Query(ge=0, le=1024, description="Largest Hamming distance, in bits")
        ] = None,
        algorithm: Annotated[str | None, Query(description="Hash algorithm")] = None,
        limit: Annotated[int, Query(ge=1, le=10_000, description="Groups returned")] = 500,
    ) -> dict[str, Any]:
        name = await resolve_algorithm(algorithm)

        def work() -> dict[str, Any]:
            # A catalog of its own on a worker thread: a self-join over a large catalog takes
            # seconds, and searches on the catalog thread go on meanwhile.
            with source.open() as own:
                bits = own.algorithms().get(name, 0)
                radius = distance if distance is not None else search_distance(name, bits or 64)
                key = (own.generation(), name, radius)
                if key not in duplicates_cache:
                    started = time.perf_counter()
                    groups = _find_duplicates(own, name, radius)
                    took_ms = (time.perf_counter() - started) * 1000.0
                    duplicates_cache.clear()  # one answer kept: the view re-asks the same thing
                    duplicates_cache[key] = {"groups": groups, "took_ms": round(took_ms, 3)}
            found = duplicates_cache[key]
            return {
                "algorithm": name,
                "distance": radius,
                "took_ms": found["took_ms"],
                "total_groups": len(found["groups"]),
                "groups": found["groups"][:limit],
            }

        async with finding_duplicates:  # one self-join at a time
            return await run_in_threadpool(work)

    return app


def _checked_algorithm(requested: str | None) -> str | None:
    """The requested algorithm's name, lower-cased; None when none was requested."""
    if not requested:
        return None
    name = requested.strip().lower()
    if not all(is_algorithm(view) for view in framed_views(name)):
        known = ", ".join(sorted(ALGORITHMS))
        raise BadRequest(400, f"unknown algorithm {requested!r}; choose from {known}")
    return name


def _is_framed(name: str | None) -> bool:
    return name is not None and len(framed_views(name)) > 1


def _default_algorithm(catalog: Catalog) -> str:
    """The catalog's only algorithm, or dHash when it has several (as ``pixdex search`` does)."""
    names = catalog.algorithms()
    return next(iter(names)) if len(names) == 1 else DEFAULT_ALGORITHM


def _parse_hash(text: str, algorithm: str) -> Hash:
    try:
        return Hash.from_hex(text, algorithm)
    except ValueError:
        raise BadRequest(400, f"hash {text[:80]!r} is not hexadecimal") from None


def _hash_upload(query: SearchQuery, algorithm: str, limits: Limits) -> Hash:
    assert query.image is not None
    try:
        return hash_image(query.image, algorithm, limits=limits)
    except ImageError as error:
        raise ImageError(query.name, error.reason) from None


def _warm_up(catalog: Catalog) -> None:
    """Load (or build) each algorithm's search index and compile the search kernels, the
    matching rule's verification and the duplicate finder's keeper loop before the first
    request, so that no request waits for them (the first compilation in a fresh install takes
    tens of seconds, and holds the interpreter: every other request would be shed meanwhile)."""
    from pixdex.catalog.keeper_groups import load_kernels
    from pixdex.matching import Verifier, verify
    from pixdex.signature import SIGNATURE_BYTES

    for name, bits in catalog.algorithms().items():
        try:
            catalog.search(Hash(0, bits, name), algorithm=name, k=1)
            catalog.search(Hash(0, bits, name), algorithm=name)  # the range search's kernels
        except CatalogError:
            continue  # no searchable hash of this algorithm yet
    blank = np.zeros(SIGNATURE_BYTES, np.uint8)
    verify(blank, blank[np.newaxis, :], Verifier())
    load_kernels()


def _describe(stored: StoredFile, **extra: Any) -> dict[str, Any]:
    """The JSON form of a catalogued file: id, path, pixel size, bytes, format."""
    return {
        "id": stored.file_id,
        "path": stored.path,
        **extra,
        "width": stored.width,
        "height": stored.height,
        "size": stored.size,
        "format": stored.format,
        "mtime_ns": stored.mtime_ns,
        "digest": stored.digest,
        "error": stored.error,
    }


def _find_duplicates(catalog: Catalog, algorithm: str, radius: int) -> list[dict[str, Any]]:
    """Every duplicate group as JSON: the keeper's path and the members (keeper first), each
    with its catalog id (for thumbnails) and its distance to the keeper, in bits."""
    return [
        {
            "keeper": group.keeper.path,
            "members": [
                {
                    "id": m.file_id,
                    "path": m.path,
                    "distance": m.distance,
                    "exact": m.exact,
                    "width": m.width,
                    "height": m.height,
                    "size": m.size,
                    "format": m.format,
                }
                for m in group.members
            ],
        }
        for group in catalog.duplicates(max_distance=radius, algorithm=algorithm)
    ]


def _install_error_handlers(app: FastAPI) -> None:
    """Every refusal as JSON ``{"error", "kind"}`` with a 4xx status, never a traceback."""

    def answer(status: int, message: str, kind: str) -> JSONResponse:
        retry = {"Retry-After": str(RETRY_AFTER_S)} if status in (429, 503) else None
        return PrintableJSONResponse(
            {"error": message, "kind": kind}, status_code=status, headers=retry
        )

    @app.exception_handler(BadRequest)
    async def bad_request(request: Request, error: BadRequest) -> JSONResponse:
        return answer(error.status, error.message, error.kind)

    @app.exception_handler(ImageError)
    async def bad_image(request: Request, error: ImageError) -> JSONResponse:
        # Over the pixel limit is "too large"; everything else is "not (readable as) an image".
        if "Limits.max_pixels" in error.reason or "decompression-bomb" in error.reason:
            return answer(413, str(error), "too-large")
        if "Limits.max_bytes" in error.reason:
            return answer(413, str(error), "too-large")
        return answer(422, str(error), "not-an-image")

    @app.exception_handler(CatalogError)
    async def catalog_refused(request: Request, error: CatalogError) -> JSONResponse:
        return answer(400, str(error), "catalog")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}"
            for e in error.errors()
        )
        return answer(422, problems or "invalid request", "validation")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return answer(error.status_code, str(error.detail), "http")
