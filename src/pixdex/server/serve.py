"""Run the web application on uvicorn: what ``pixdex serve`` does."""

from __future__ import annotations

import os
import sys

import uvicorn

from pixdex.catalog.engine import Engine
from pixdex.catalog.location import display_name
from pixdex.server.app import create_app

SWITCH_INTERVAL_S = 0.0005
"""The interpreter's thread switch interval while serving, in seconds (Python's default: 0.005).

Every request hands work between the event loop's thread and the catalog's thread. With the
default interval a thread that wants the GIL can wait up to 5 ms for the other to release it,
so under concurrent load each hand-off costs milliseconds for a sub-millisecond search. With 8
clients on 2 cores (benchmarks/bench_server.py, noisy runs on a loaded machine) 0.2-0.5 ms
roughly halved the median latency; the server process does little else that finer slicing slows.
"""


def serve(
    db_path: str | os.PathLike[str],
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    engine: Engine | None = None,
) -> None:
    """Serve the catalog at ``db_path`` (an SQLite file or a PostgreSQL URI) on ``host:port``
    until interrupted; with an ``engine``, its indexes and self-join run there (``--dask``).

    Raises ``CatalogError`` before listening when there is no catalog at ``db_path``.
    """
    app = create_app(db_path, engine=engine)
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    print(
        f"pixdex: serving {display_name(db_path)} on http://{host}:{port}/ (Ctrl+C to stop)",
        file=sys.stderr,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")
