"""The body of a search request: an uploaded image or a hash, read within a byte limit.

``POST /api/search`` takes three kinds of body, told apart by ``Content-Type``:

- ``multipart/form-data`` with the image in a file field (``image``, or the first file field);
- ``application/json``: ``{"hash": "<hex>", "algorithm": "<name>"}`` (algorithm optional);
- the image's bytes themselves (``image/*`` or ``application/octet-stream``), for scripts.

The body is read in chunks and refused as soon as it passes the limit, so an oversized upload
never sits whole in memory or on disk.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from starlette.datastructures import UploadFile
from starlette.requests import Request

MULTIPART_OVERHEAD = 64 * 1024
"""Bytes allowed on top of the image limit for a multipart body's boundaries and other fields."""


class BadRequest(Exception):
    """A request the server refuses: ``status`` is the HTTP status (4xx), ``message`` says why."""

    def __init__(self, status: int, message: str, kind: str = "request") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind


@dataclass(frozen=True)
class SearchQuery:
    """What to search for: image bytes (``name`` is the upload's file name) or a hex hash."""

    image: bytes | None = None
    name: str = "<upload>"
    hash_hex: str | None = None
    algorithm: str | None = None


def too_large(size: int | str, limit: int) -> BadRequest:
    return BadRequest(
        413,
        f"upload of {size} bytes is over the server's limit of {limit:,} bytes",
        kind="too-large",
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 once it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(f"{int(declared):,}", limit)
    chunks, received = [], 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise too_large(f"more than {limit:,}", limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_search_query(request: Request, max_image_bytes: int) -> SearchQuery:
    """Parse a search request body; ``BadRequest`` for anything malformed or over the limit."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        return await _read_form(request, max_image_bytes)
    if content_type == "application/json":
        return _read_json(await read_body(request, MULTIPART_OVERHEAD))
    if content_type.startswith("image/") or content_type == "application/octet-stream":
        body = await read_body(request, max_image_bytes)
        return SearchQuery(image=body)
    raise BadRequest(
        415,
        f"unsupported Content-Type {content_type or '(none)'}: send multipart/form-data with an "
        'image file, application/json {"hash": hex}, or the image bytes as image/*',
    )


async def _read_form(request: Request, max_image_bytes: int) -> SearchQuery:
    body = await read_body(request, max_image_bytes + MULTIPART_OVERHEAD)

    async def replay() -> dict[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(max_files=1, max_fields=16)
    except Exception as error:  # Starlette raises several types for malformed multipart
        raise BadRequest(400, f"malformed multipart body ({error})") from None
    upload = form.get("image")
    if not isinstance(upload, UploadFile):
        upload = next((v for v in form.values() if isinstance(v, UploadFile)), None)
    if upload is None:
        raise BadRequest(400, "no image file in the form (send it in a file field named 'image')")
    data = await upload.read()
    if len(data) > max_image_bytes:
        raise too_large(f"{len(data):,}", max_image_bytes)
    algorithm = form.get("algorithm")
    return SearchQuery(
        image=data,
        name=upload.filename or "<upload>",
        algorithm=algorithm if isinstance(algorithm, str) and algorithm else None,
    )


def _read_json(body: bytes) -> SearchQuery:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadRequest(400, f"the body is not valid JSON ({error})") from None
    if not isinstance(document, dict) or not isinstance(document.get("hash"), str):
        raise BadRequest(400, 'a JSON search needs an object with a "hash" string in hex')
    algorithm = document.get("algorithm")
    if algorithm is not None and not isinstance(algorithm, str):
        raise BadRequest(400, '"algorithm" must be a string')
    return SearchQuery(hash_hex=document["hash"], algorithm=algorithm or None)
