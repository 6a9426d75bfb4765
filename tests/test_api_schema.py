"""Property-based tests of the HTTP API from its own OpenAPI schema (schemathesis).

For every operation the schema declares, schemathesis generates requests from the schema
(parameters, JSON and multipart bodies, uploads of arbitrary bytes) and checks each answer: no
server error (5xx), a status code the schema declares, the declared content type, headers and
response body schema. The catalog holds real photographs, a byte-identical pair, a broken file
and a name that is not UTF-8, so the answers include matches, duplicates, failures and escaped
names. "Schema-valid data is accepted" is the one check left out: the schema cannot say which
bytes are an image, so an arbitrary upload is rightly refused (422).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import schemathesis
from folders import photo_folder
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pixdex.catalog import Catalog
from pixdex.names import from_bytes
from pixdex.server.app import create_app

EXAMPLES = 40
"""Requests generated per operation."""

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory, photo_paths: list[Path]) -> schemathesis.BaseSchema:
    root = tmp_path_factory.mktemp("api")
    folder = root / "photos"
    photo_folder(folder, photo_paths[:4])
    shutil.copy(photo_paths[0], folder / from_bytes(b"copie-\xe9.png"))
    (folder / "broken.jpg").write_bytes(photo_paths[4].read_bytes()[:300])
    with Catalog(root / "pixdex.db") as catalog:
        catalog.index([folder], workers=1)
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(root / "pixdex.db"))


def test_every_operation_answers_as_its_schema_says(api_schema) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/search", "/api/images/{file_id}/thumbnail"}
    failures = {}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=CHECKS)

        try:
            check()
        except Exception as failure:  # schemathesis raises an ExceptionGroup per failure
            failures[operation.label] = str(failure)[:2000]
    assert not failures, "\n\n".join(f"{label}\n{text}" for label, text in failures.items())
