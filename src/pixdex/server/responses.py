"""JSON answers that stay valid UTF-8 whatever the catalogued file names are.

A path that is not valid UTF-8 reaches the server with lone surrogates in it (``pixdex.names``);
Starlette's ``JSONResponse`` would fail to encode it and answer 500. ``PrintableJSONResponse``
writes such a name with its undecodable bytes as ``\\xNN``, and pays for the walk over the
content only when encoding fails, so ordinary answers cost what they always did.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from pixdex.names import printable_data


class PrintableJSONResponse(JSONResponse):
    """``JSONResponse`` whose strings are made printable when they cannot be encoded."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return super().render(printable_data(content))
