"""JSON answers that stay valid UTF-8 whatever the catalogued file names are, and the shape of
every refusal, as the OpenAPI schema declares it.

A path that is not valid UTF-8 reaches the server with lone surrogates in it (``pixdex.names``);
Starlette's ``JSONResponse`` would fail to encode it and answer 500. ``PrintableJSONResponse``
writes such a name with its undecodable bytes as ``\\xNN``, and pays for the walk over the
content only when encoding fails, so ordinary answers cost what they always did.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from pixdex.names import printable_data


class PrintableJSONResponse(JSONResponse):
    """``JSONResponse`` whose strings are made printable when they cannot be encoded."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return super().render(printable_data(content))


class ErrorBody(BaseModel):
    """Every refusal: what went wrong, for a person, and its kind, for a program."""

    error: str
    kind: str


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        400: "Malformed request",
        404: "No such image, or gone from disk",
        409: "The file changed since it was indexed",
        413: "Upload over the byte or pixel limit",
        415: "Unsupported Content-Type",
        422: "Invalid parameter, or not an image",
        429: "Too many images being decoded; retry after Retry-After seconds",
        503: "Too many requests at once; retry after Retry-After seconds",
    }.items()
}
"""The refusals every route may answer (``{"error", "kind"}``), for the OpenAPI schema."""
