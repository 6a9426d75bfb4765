"""The SQLite catalog's schema, as an ordered list of migrations.

Migration ``i`` (1-based) takes a catalog from schema version ``i - 1`` to ``i``; ``meta`` records
the version reached. A catalog written by a newer pixdex (a version above ``SCHEMA_VERSION``) is
refused rather than guessed at.

Tables:

``files``
    One row per file seen: its absolute path, byte size, modification time (ns) — the pair that
    decides whether a file changed — content digest, pixel size, format, and the error that stopped
    it (NULL when it was hashed). Failures are kept so that an unchanged bad file is not retried.
    ``signature`` (schema 3) is the picture's content signature (``pixdex.signature``), NULL for
    failures and for files indexed before schema 3 (the next ``index`` run makes it); schema 4
    turned version-1 signatures into version 2 (with the picture's size) in place.
``hashes``
    One row per (algorithm, file): the bit length, the code as a fixed-width BLOB of big-endian
    uint64 words (``bits / 64`` words rounded up, so one algorithm's BLOBs join into an ``(n, w)``
    array with one ``np.frombuffer``), and the 0-100 quality score. The table is clustered by
    (algorithm, file id), so loading one algorithm's codes for the index is one sequential read.
``algorithms``
    The hash length, in bits, of each algorithm in the catalog: one length per name, so every
    stored hash of an algorithm can be compared with every other.
``meta``
    Key/value pairs: ``schema_version``; ``generation``, a counter bumped by every write so that
    a search index saved beside the catalog knows when it is stale; and ``catalog_id``, 16 random
    hex digits drawn when the catalog is created (or migrated to version 2), so that an index
    saved for another catalog once at the same path — whose generations also start at 0 — is
    never mistaken for this one's.
"""

from __future__ import annotations

_EVERY_BYTE = "X'" + "".join(f"{value:02X}" for value in range(256)) + "'"
"""A BLOB literal of the bytes 0-255 in order: ``substr`` of it makes one byte from a number
(SQLite before 3.41 has no ``unhex``)."""

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """
        CREATE TABLE meta (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE files (
            id         INTEGER PRIMARY KEY,
            path       TEXT    NOT NULL UNIQUE,
            size       INTEGER NOT NULL,
            mtime_ns   INTEGER NOT NULL,
            digest     TEXT,
            width      INTEGER,
            height     INTEGER,
            format     TEXT,
            error      TEXT,
            indexed_at REAL    NOT NULL
        )
        """,
        """
        CREATE TABLE hashes (
            algorithm TEXT    NOT NULL,
            file_id   INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
            bits      INTEGER NOT NULL,
            value     BLOB    NOT NULL,
            quality   INTEGER NOT NULL,
            PRIMARY KEY (algorithm, file_id)
        ) WITHOUT ROWID
        """,
        """
        CREATE TABLE algorithms (
            name TEXT PRIMARY KEY,
            bits INTEGER NOT NULL
        )
        """,
        # Deleting a file (and its hashes, by cascade) looks its hashes up by file id.
        "CREATE INDEX hashes_by_file ON hashes (file_id)",
        "INSERT INTO meta (key, value) VALUES ('generation', '0')",
    ),
    ("INSERT INTO meta (key, value) VALUES ('catalog_id', lower(hex(randomblob(8))))",),
    ("ALTER TABLE files ADD COLUMN signature BLOB",),
    # Signatures of version 1 (1,537 bytes) become version 2 in place: the picture's width and
    # height, each capped at 255, inserted after the version byte. The row's own width and
    # height are the decoded picture's whenever a side is under 255 (no reduced decode keeps a
    # side that small), so no file is decoded again. ``||`` makes text; the cast keeps the bytes.
    (
        f"""
        UPDATE files SET signature = CAST(
            X'02'
            || substr({_EVERY_BYTE}, min(coalesce(width, 255), 255) + 1, 1)
            || substr({_EVERY_BYTE}, min(coalesce(height, 255), 255) + 1, 1)
            || substr(signature, 2)
        AS BLOB)
        WHERE length(signature) = 1537 AND substr(signature, 1, 1) = X'01'
        """,
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this pixdex writes."""
