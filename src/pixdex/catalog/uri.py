"""PostgreSQL connection URIs: recognising one, and showing one without its password.

A catalog location is a file path (SQLite) or a libpq connection URI,
``postgresql://USER@HOST:PORT/DBNAME`` (``postgres://`` too). Passwords belong in ``PGPASSWORD``
or ``~/.pgpass``, where libpq finds them; one written into the URI still works, but no message or
log of pixdex ever shows it: they name the catalog by :func:`redact`'s form.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

SCHEMES = ("postgresql://", "postgres://")


def is_postgres(location: str | os.PathLike[str]) -> bool:
    """Whether ``location`` is a PostgreSQL URI rather than an SQLite file path.

    Only a ``str`` can be one: ``Path("postgresql://h/db")`` has already lost a slash.
    """
    return isinstance(location, str) and location.startswith(SCHEMES)


def redact(uri: str) -> str:
    """``uri`` without a password, in the user part or as a ``password=`` parameter.

    >>> redact("postgresql://alice:s3cret@db.example:5432/photos?password=x&sslmode=require")
    'postgresql://alice@db.example:5432/photos?sslmode=require'
    """
    parts = urlsplit(uri)
    user, at, hosts = parts.netloc.rpartition("@")
    netloc = f"{user.partition(':')[0]}{at}{hosts}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "password"], safe="/")
    # Put together by hand: urlunsplit drops the empty host of "postgresql:///db".
    return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")


def scrub(text: str, uri: str) -> str:
    """``text`` (an error message from libpq, say) on one line, with any password written in
    ``uri`` replaced by ``***``."""
    parts = urlsplit(uri)
    written = [parts.netloc.rpartition("@")[0].partition(":")[2]]
    written += [value for key, value in parse_qsl(parts.query) if key == "password"]
    line = " ".join(text.split())
    for secret in {form for value in written if value for form in (value, unquote(value))}:
        line = line.replace(secret, "***")
    return line
