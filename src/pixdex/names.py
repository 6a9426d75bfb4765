"""File names that are not valid UTF-8: how pixdex keeps them exact and shows them safely.

A POSIX file name is bytes. Python hands a name that is not valid UTF-8 to pixdex with each
undecodable byte carried as a lone surrogate (``os.fsdecode``'s "surrogateescape": byte 0xE9
becomes ``"\\udce9"``), and that string opens, moves and deletes the file like any other. pixdex
keeps such a name exact wherever it is stored (the SQLite catalog stores the original bytes as
its TEXT, the PostgreSQL catalog in a ``bytea`` column, the journal of actions JSON's ``\\udce9``
escape) and, wherever it is shown (terminal, JSON, HTML, CSV, the HTTP API), writes each
undecodable byte as the four characters ``\\xe9``: valid UTF-8 that a person can read, as
Python's "backslashreplace" shows undecodable bytes.
"""

from __future__ import annotations

import codecs
import json
from typing import Any

ESCAPE_ERRORS = "pixdex.names"
"""The codec error handler (registered on import) that writes an undecodable byte's surrogate as
``\\xNN`` and any other character the codec cannot encode as a backslash escape."""


def _escape(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    return "".join(_escaped(c) for c in error.object[error.start : error.end]), error.end


def _escaped(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte os.fsdecode could not decode
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


codecs.register_error(ESCAPE_ERRORS, _escape)


def to_bytes(name: str) -> bytes:
    """The file name's bytes, as the file system has them (UTF-8, undecodable bytes restored)."""
    return name.encode("utf-8", "surrogateescape")


def from_bytes(data: bytes) -> str:
    """The inverse of :func:`to_bytes`: what ``os.fsdecode`` makes of the bytes (on UTF-8)."""
    return data.decode("utf-8", "surrogateescape")


def printable(name: str) -> str:
    """``name`` as valid UTF-8 text: unchanged unless it holds undecodable bytes (lone
    surrogates), each then written ``\\xNN``."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return name.encode("utf-8", ESCAPE_ERRORS).decode("utf-8")
    return name


def printable_data(value: Any) -> Any:
    """A JSON-like value (dicts, lists, tuples, strings, numbers) with every string, keys
    included, made :func:`printable`: what JSON outputs write, so they are valid UTF-8 without
    lone surrogates whatever the file names."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable_data(k): printable_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [printable_data(v) for v in value]
    return value


def printable_json(value: Any) -> str:
    """``json.dumps(printable_data(value))``, the same text, without walking ``value`` in Python
    when none of its strings needs escaping (the usual case): a duplicate listing of a million
    files holds millions of strings. JSON's ASCII text writes every surrogate as ``\\udXXX``,
    so text without ``\\ud`` has none; with it (a character outside the BMP, a lone surrogate
    or a name holding those three characters), encoding the strings decides."""
    text = json.dumps(value)
    if "\\ud" not in text:
        return text
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(printable_data(value))
    return text
