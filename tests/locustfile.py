"""Mixed traffic for the pixdex HTTP API, for locust (headless, 127.0.0.1 only).

    PIXDEX_LOAD_QUERIES=DIR PIXDEX_LOAD_REPORT=out.json PIXDEX_LOAD_OVERSIZED=BYTES \\
        locust -f tests/locustfile.py --headless -u 16 -r 4 -t 60s --host http://127.0.0.1:PORT

Each simulated user searches by uploaded image (real images from ``PIXDEX_LOAD_QUERIES``) and by
hash, fetches image records, thumbnails and files of the ids its searches returned, lists
duplicates, and sends bad uploads: bytes that are no image, an empty body, a body of
``PIXDEX_LOAD_OVERSIZED`` bytes (over the server's limit: 413), an unsupported Content-Type.

Every answer is sorted by status into ``PIXDEX_LOAD_REPORT`` (JSON, written when locust quits):
a request counts as failed when its status is not one the API documents for it, or is a server
error other than the 503 of load shedding (``pixdex.server.limits``).
"""

from __future__ import annotations

import collections
import json
import os
import random
from pathlib import Path

from locust import HttpUser, between, events, task

QUERIES = sorted(p for p in Path(os.environ["PIXDEX_LOAD_QUERIES"]).iterdir() if p.is_file())
OVERSIZED = int(os.environ.get("PIXDEX_LOAD_OVERSIZED", str(33 * 2**20)))
REFUSALS = {413, 429, 503}
"""Answers that say "not now" or "too much": expected under load, never failures."""

statuses: collections.Counter[str] = collections.Counter()
known_ids: set[int] = set()


class Visitor(HttpUser):
    wait_time = between(0.0, 0.1)

    def _check(self, name: str, response, expected: set[int]) -> None:
        statuses[f"{name} {response.status_code}"] += 1
        if response.status_code in expected | REFUSALS:
            response.success()
        else:
            response.failure(f"status {response.status_code}: {response.text[:200]}")

    def _remember(self, response) -> None:
        if response.status_code == 200:
            known_ids.update(m["id"] for m in response.json().get("matches", []))

    @task(6)
    def search_by_upload(self) -> None:
        query = random.choice(QUERIES)
        files = {"image": (query.name, query.read_bytes(), "application/octet-stream")}
        with self.client.post(
            "/api/search", files=files, name="search upload", catch_response=True
        ) as answer:
            self._check("search upload", answer, {200, 422})
            self._remember(answer)

    @task(6)
    def search_by_hash(self) -> None:
        code = f"{random.getrandbits(64):016x}"
        with self.client.post(
            "/api/search?distance=24&k=20",
            json={"hash": code, "algorithm": "dhash"},
            name="search hash",
            catch_response=True,
        ) as answer:
            self._check("search hash", answer, {200})
            self._remember(answer)

    @task(4)
    def image_record(self) -> None:
        with self.client.get(
            f"/api/images/{self._some_id()}", name="image", catch_response=True
        ) as answer:
            self._check("image", answer, {200, 404})

    @task(4)
    def thumbnail(self) -> None:
        size = random.choice((64, 128, 256))
        with self.client.get(
            f"/api/images/{self._some_id()}/thumbnail?size={size}",
            name="thumbnail",
            catch_response=True,
        ) as answer:
            self._check("thumbnail", answer, {200, 404, 409, 422})

    @task(2)
    def original(self) -> None:
        with self.client.get(
            f"/api/images/{self._some_id()}/file", name="file", catch_response=True
        ) as answer:
            self._check("file", answer, {200, 404, 409})

    @task(1)
    def duplicates(self) -> None:
        with self.client.get(
            "/api/duplicates?limit=50", name="duplicates", catch_response=True
        ) as answer:
            self._check("duplicates", answer, {200})

    @task(2)
    def bad_upload(self) -> None:
        kind = random.choice(("garbage", "empty", "oversized", "content-type"))
        body = {
            "garbage": random.randbytes(4096),
            "empty": b"",
            "oversized": b"\0" * OVERSIZED,
            "content-type": b"<svg/>",
        }[kind]
        media = "text/plain" if kind == "content-type" else "image/png"
        expected = {"garbage": {422}, "empty": {422}, "oversized": {413}, "content-type": {415}}
        with self.client.post(
            "/api/search",
            data=body,
            headers={"content-type": media},
            name=f"bad upload: {kind}",
            catch_response=True,
        ) as answer:
            self._check(f"bad upload: {kind}", answer, expected[kind])

    def _some_id(self) -> int:
        return random.choice(sorted(known_ids)) if known_ids else random.randint(1, 50)


@events.quitting.add_listener
def _write_report(environment, **kwargs) -> None:
    report = os.environ.get("PIXDEX_LOAD_REPORT")
    if report:
        Path(report).write_text(json.dumps(dict(sorted(statuses.items())), indent=1))
