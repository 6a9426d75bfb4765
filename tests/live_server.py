"""A real uvicorn server on 127.0.0.1 in a background thread, for end-to-end tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from fastapi import FastAPI


@contextmanager
def serve_in_thread(app: FastAPI, startup_timeout_s: float = 300.0) -> Iterator[str]:
    """Serve ``app`` on a free port of 127.0.0.1; yields the base URL, stops the server after.

    The socket is bound here (port 0: the kernel picks a free port) and handed to uvicorn, so
    there is no window in which another process could take the port. The start-up deadline is
    generous because the server compiles its kernels before it answers, which takes tens of
    seconds on a fresh checkout whose numba cache is empty; it only bounds a server that hangs.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, thread.is_alive, startup_timeout_s)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


def wait_until_healthy(url: str, alive: Callable[[], bool], timeout_s: float = 300.0) -> None:
    """Return once the pixdex server at ``url`` answers ``/healthz``; raise RuntimeError when
    ``alive()`` says it has stopped, or after ``timeout_s`` (which only bounds a hung server: a
    fresh checkout compiles its kernels for tens of seconds before it answers)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or not alive():
            raise RuntimeError(f"the test server on {url} did not start")
        time.sleep(0.05)
