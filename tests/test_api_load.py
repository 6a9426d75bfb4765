"""A short locust run against a real server: refusals (413, 429, 503), never a collapse.

The server runs on 127.0.0.1 with small bounds (6 requests at once, 2 decodes running and 2
waiting, 2 MiB uploads) and takes 24 users who wait at most 0.1 s between requests, so it must
shed load; ``tests/locustfile.py`` mixes searches by upload and by hash, record, thumbnail and
file fetches, duplicate listings and bad uploads. Afterwards the server must answer again, to a
client that waits as its ``Retry-After`` says. The run is bounded by locust's own ``-t``;
``python -m benchmarks soak`` is the ten-minute run with an indexer writing meanwhile.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
from folders import photo_folder
from live_server import serve_in_thread

from pixdex.catalog import Catalog
from pixdex.decode import Limits
from pixdex.evaluation.edits import write_edited_copies
from pixdex.server.app import create_app

LOCUSTFILE = Path(__file__).parent / "locustfile.py"
UPLOAD_BYTES = 2 * 2**20
SECONDS = 20
USERS = 24


def test_the_server_sheds_load_with_413_429_503_and_no_other_error(
    tmp_path: Path, photo_paths: list[Path]
) -> None:
    folder = tmp_path / "photos"
    photo_folder(folder, photo_paths[:10])
    with Catalog(tmp_path / "pixdex.db") as catalog:
        catalog.index([folder], workers=1)
    queries = tmp_path / "queries"
    for photo in photo_paths[:4]:
        write_edited_copies(photo, queries, ["jpeg-30", "resize-50"])
    for photo in photo_paths[10:]:
        shutil.copy(photo, queries / photo.name)

    app = create_app(
        tmp_path / "pixdex.db",
        limits=Limits(max_pixels=64_000_000, max_bytes=UPLOAD_BYTES),
        max_in_flight=6,
        decodes_waiting=2,
    )
    report = tmp_path / "statuses.json"
    with serve_in_thread(app) as url:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(LOCUSTFILE),
                "--headless",
                f"--users={USERS}",
                f"--spawn-rate={USERS}",
                f"--run-time={SECONDS}s",
                f"--host={url}",
                f"--csv={tmp_path / 'load'}",
                "--only-summary",
                "--loglevel=WARNING",
            ],
            env={
                **os.environ,
                "PIXDEX_LOAD_QUERIES": str(queries),
                "PIXDEX_LOAD_REPORT": str(report),
                "PIXDEX_LOAD_OVERSIZED": str(UPLOAD_BYTES + 1),
            },
            capture_output=True,
            text=True,
            check=False,
        )
        assert answers_when_the_storm_is_over(f"{url}/healthz")

    statuses = json.loads(report.read_text())
    by_status: dict[int, int] = {}
    for key, count in statuses.items():
        status = int(key.rsplit(" ", 1)[1])
        by_status[status] = by_status.get(status, 0) + count
    with open(tmp_path / "load_stats.csv", newline="") as handle:
        total = next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")
    assert int(total["Failure Count"]) == 0, done.stderr[-3000:] + json.dumps(statuses)
    assert not [s for s in by_status if s >= 500 and s != 503], statuses
    assert by_status.get(200, 0) > 100, statuses
    assert by_status.get(413, 0) > 0, statuses  # the oversized uploads
    assert by_status.get(429, 0) + by_status.get(503, 0) > 0, statuses  # load was shed


def answers_when_the_storm_is_over(url: str, attempts: int = 10) -> bool:
    """Whether ``url`` answers 200 to a client that honours the server's ``Retry-After``.

    Right after the storm the requests it left in flight may still hold every slot (on a busy
    host they finish a second or two after locust stops), and a shed request is answered 503
    with ``Retry-After``; a server that collapsed never answers 200 again."""
    for _ in range(attempts):
        response = httpx.get(url)
        if response.status_code != 503:
            return response.status_code == 200
        time.sleep(float(response.headers["Retry-After"]))
    return False
