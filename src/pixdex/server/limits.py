"""Bounded work under load: refuse early with 429 or 503 rather than queue without end.

Two bounds, each answered with JSON ``{"error", "kind"}`` and a ``Retry-After`` header:

- ``LoadShedding``, an ASGI middleware: at most ``max_in_flight`` requests are handled at once;
  one more is answered 503 ("busy") at once, before its body is read. Every request holds a
  little memory and a place in the catalog thread's queue, so this bounds both.
- ``Admission``: at most ``running`` decodes (uploads, thumbnails) run at once and ``waiting``
  more wait for their turn; one more is answered 429 ("too many decodes"). A decode holds up to
  ``max_pixels`` pixels for a moment, so this bounds the server's peak memory.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.types import ASGIApp, Receive, Scope, Send

from pixdex.server.query import BadRequest

RETRY_AFTER_S = 1
"""What a refused client is told to wait before trying again, in seconds."""


class LoadShedding:
    """ASGI middleware: HTTP requests beyond ``max_in_flight`` at once are answered 503."""

    def __init__(self, app: ASGIApp, max_in_flight: int) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            await _busy(send, self.max_in_flight)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


async def _busy(send: Send, limit: int) -> None:
    body = json.dumps(
        {"error": f"the server is handling {limit} requests; retry shortly", "kind": "busy"}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(RETRY_AFTER_S).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Admission:
    """At most ``running`` holders at once and ``waiting`` more queued; beyond, 429."""

    def __init__(self, running: int, waiting: int) -> None:
        self._slots = asyncio.Semaphore(running)
        self._capacity = running + waiting
        self._admitted = 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the running places for the block, after waiting for it if need be."""
        if self._admitted >= self._capacity:
            raise BadRequest(
                429,
                f"{self._admitted} images are being decoded or wait to be; retry shortly",
                kind="too-many-decodes",
            )
        self._admitted += 1
        try:
            async with self._slots:
                yield
        finally:
            self._admitted -= 1
