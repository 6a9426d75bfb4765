"""The shared backend: one catalog in a PostgreSQL database, written by many processes at once.

A team's catalog, or a service that indexes while it answers: several ``pixdex index`` runs (on
other machines, in real use) write it at the same time, and servers read it. What makes that safe:

- every ``write`` / ``remove`` is one transaction; a killed writer loses its open batch only;
- files are upserted by path (``INSERT ... ON CONFLICT (path) DO UPDATE``), so two runs over
  overlapping folders store each file once; every writer takes its row locks in the same order
  (algorithm names, then paths, then the generation), so they queue rather than deadlock, and a
  transaction PostgreSQL aborts anyway (deadlock, serialization) is run again;
- the generation counter is incremented by the last statement of each write transaction (see
  ``postgres_schema``): readers see it move exactly when the rows are visible.

A catalog is read-only to a connection whose role lacks a right a write needs (say, SELECT only)
or whose transactions are read-only (``default_transaction_read_only``, a standby server): the
store finds out when it opens, and then searches and serves as usual but refuses every write at
once, with one line saying why (as an SQLite catalog on a read-only mount does).

Bulk data moves with ``COPY``: a batch of files and hashes goes in as binary COPY streams, and an
algorithm's hashes come out as binary COPY rows of byte strings that numpy reads whole (a million
64-bit hashes in 0.3-0.6 s, see ``codes``): what rebuilding the in-memory index costs.

The store either owns one connection (the command line) or borrows one from a ``CatalogPool``
per call (the server). A pool also carries the catalog's ``ChangeFeed``: every write transaction
NOTIFYs as it commits, so a server's stores know their generation (and algorithms) without asking
on every search. Connections are in autocommit mode; transactions are explicit. Passwords come
from libpq (``PGPASSWORD``, ``~/.pgpass``, or the URI) and never appear in a message: the store is
named by its redacted URI.
"""

from __future__ import annotations

import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np
import psycopg
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from pixdex.catalog.errors import CatalogError
from pixdex.catalog.postgres_schema import MIGRATIONS, SCHEMA_VERSION
from pixdex.catalog.store import (
    AlgorithmStats,
    FileRecord,
    FileState,
    StoredFile,
    StoredHash,
    StoreStats,
    blob_to_hash,
    folder_range,
    hash_to_blob,
)
from pixdex.catalog.uri import redact, scrub
from pixdex.hashing import LOW_QUALITY, Hash
from pixdex.names import from_bytes, to_bytes
from pixdex.signature import signatures_in_order, stored_form

T = TypeVar("T")

CONNECT_TIMEOUT_S = 10
"""libpq's ``connect_timeout`` unless the URI sets one: an unreachable host fails in seconds, not
after the operating system's TCP timeout (minutes)."""

POOL_SIZE = 4
"""Connections a server's pool holds at most: the catalog thread uses one at a time, the
duplicates view one more; the rest absorbs overlap."""

RETRIES = 5
"""Attempts of a write transaction that PostgreSQL aborts to break a deadlock."""

PAGES_PER_READ = 4096
"""Table pages (8 KiB each) per read in ``codes``: about 600,000 64-bit hashes, 10 MB."""

SIGNATURES_PER_READ = 16_384
"""Ids per query in ``signatures``: 25 MB of signatures an answer."""

CHANNEL = "pixdex_changes"
"""The channel every write transaction NOTIFYs on and a ``ChangeFeed`` LISTENs to."""

MIN_SERVER_VERSION = 140000
"""PostgreSQL 14, the first to scan a range of table pages (what ``codes`` reads by)."""

MIGRATION_LOCK = 0x706978646578
"""The advisory lock key (``b"pixdex"``) migrations hold, so one process creates the schema."""

_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00"
"""The signature opening every binary COPY stream (then 32-bit flags and an extension length)."""

WRITE_RIGHTS = (
    ("pixdex.meta", "UPDATE"),
    ("pixdex.algorithms", "INSERT"),
    ("pixdex.files", "INSERT"),
    ("pixdex.files", "UPDATE"),
    ("pixdex.files", "DELETE"),
    ("pixdex.hashes", "INSERT"),
    ("pixdex.hashes", "DELETE"),
    ("pixdex.signatures", "INSERT"),
    ("pixdex.signatures", "DELETE"),
)
"""The table rights a write transaction uses (with the TEMPORARY right on the database)."""

_FILE_COLUMNS = ("path", "size", "mtime_ns", "digest", "width", "height", "format", "error")
_FILE_TYPES = ("bytea", "int8", "int8", "text", "int4", "int4", "text", "text")


def _defaults(uri: str) -> dict[str, Any]:
    """Connection parameters pixdex sets unless the URI does: a connect timeout, and an
    application name that tells pixdex's sessions apart in ``pg_stat_activity``."""
    try:
        given = conninfo_to_dict(uri)
    except psycopg.ProgrammingError as error:
        raise CatalogError(
            f"{redact(uri)}: not a PostgreSQL URI ({scrub(str(error), uri)})"
        ) from None
    wanted = {"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "pixdex"}
    return {key: value for key, value in wanted.items() if key not in given}


def connect(uri: str) -> psycopg.Connection:
    """A new autocommit connection to ``uri``, set up for pixdex; ``CatalogError`` saying why
    not."""
    try:
        connection = psycopg.connect(uri, autocommit=True, **_defaults(uri))
        _set_up(connection)
    except psycopg.Error as error:
        raise CatalogError(f"{redact(uri)}: cannot connect ({scrub(str(error), uri)})") from None
    return connection


def _set_up(connection: psycopg.Connection) -> None:
    """Plan each prepared statement once, for any values. pixdex's statements look rows up by
    key, so one plan fits every value; PostgreSQL's default plans a statement with an array
    parameter (``id = ANY(...)``) again on every execution, which costs more than running it
    (0.43 ms against 0.1 ms for a lookup by id on a million rows)."""
    connection.execute("SET plan_cache_mode = force_generic_plan")


class ChangeFeed:
    """How many writes to the catalog have committed since the feed opened, known without a query.

    A connection of its own LISTENs on ``CHANNEL``, where every write transaction NOTIFYs;
    PostgreSQL delivers each notification when its transaction commits, and ``count`` reads what
    has arrived without waiting. A store that remembers the count it last saw knows its cached
    generation is current until the count moves: a server's search then costs no round trip for
    it. A notification arrives a moment after its commit returns to the writer (well under a
    millisecond on one host), so for that moment a reader serves the previous generation, as if
    it had asked just before. If the connection breaks, every look counts as a change, and the
    stores ask every time, as they do without a feed.
    """

    def __init__(self, uri: str) -> None:
        self._connection = connect(uri)
        self._connection.execute(f"LISTEN {CHANNEL}")
        self._lock = threading.Lock()
        self._count = 0

    def count(self) -> int:
        """Commits announced so far (and one more per look once the feed is broken)."""
        # libpq's own calls: reading what has arrived never blocks, and costs a few µs where
        # psycopg's notifies() generator costs 35-50 µs (a server makes three looks a search).
        connection = self._connection.pgconn
        with self._lock:
            try:
                connection.consume_input()
                while connection.notifies() is not None:
                    self._count += 1
            except psycopg.Error:
                self._count += 1
            return self._count

    def close(self) -> None:
        self._connection.close()


class CatalogPool(ConnectionPool):
    """The connections a server's threads share for one catalog (autocommit, at most
    ``max_size``), and the catalog's ``ChangeFeed``.

    The feed's connection is made first, so a wrong URI or password fails here with libpq's
    reason rather than later as a pool timeout. The caller closes the pool.
    """

    def __init__(self, uri: str, *, max_size: int = POOL_SIZE) -> None:
        self.changes = ChangeFeed(uri)
        super().__init__(
            uri,
            kwargs={"autocommit": True, **_defaults(uri)},
            min_size=1,
            max_size=max_size,
            open=True,
            name="pixdex",
            configure=_set_up,
        )

    def close(self, timeout: float = 5.0) -> None:
        super().close(timeout)
        self.changes.close()


class PostgresStore:
    """A ``Store`` in the ``pixdex`` schema of the PostgreSQL database at ``uri``.

    ``create=False`` refuses a database without a catalog. With ``pool``, every call borrows a
    connection from it (the pool is the caller's to close), and what the store last read of the
    generation, the algorithms and the files ``lookup`` found is reused until the pool's change
    feed announces a write (a server's search by hash then costs one round trip when it matches,
    none when it does not); otherwise the store opens its own connection and asks every time.
    """

    def __init__(self, uri: str, *, create: bool = True, pool: CatalogPool | None = None) -> None:
        self.name = redact(uri)
        self._pool = pool
        self._own = connect(uri) if pool is None else None
        self._seen: int | None = None  # the change feed's count when the cache below was read
        self._generation: int | None = None
        self._algorithms: dict[str, int] | None = None
        self._looked_up: dict[str, StoredFile] = {}  # the files the last lookup found, by path
        self._read_only: str | None = None  # why this connection cannot write, if it cannot
        try:
            self._migrate(create)
            self._catalog_id = self._value("catalog_id")
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        """A connection for one call; a lost server or a refused privilege becomes a
        ``CatalogError`` naming the catalog."""
        try:
            if self._own is not None:
                yield self._own
            else:
                assert self._pool is not None
                with self._pool.connection() as connection:
                    yield connection
        except (
            psycopg.OperationalError,
            errors.InsufficientPrivilege,
            errors.ReadOnlySqlTransaction,
        ) as error:
            raise CatalogError(f"{self.name}: {' '.join(str(error).split())}") from None

    def _rows(self, query: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self._connection() as connection:
            return connection.execute(query, params).fetchall()

    def _rows_for(self, keys: list, query: str, params: Sequence[Any]) -> list[tuple]:
        """``_rows`` of a query over ``keys`` (ids or paths); for no keys none, with no round
        trip: a search that matched nothing asks for nothing (a server's common case)."""
        return self._rows(query, params) if keys else []

    def _value(self, key: str) -> str:
        return self._rows("SELECT value FROM pixdex.meta WHERE key = %s", (key,))[0][0]

    def _transaction(self, work: Callable[[psycopg.Cursor], T]) -> T:
        """``work(cursor)`` in one transaction, run again from the start if PostgreSQL aborts
        it to break a deadlock or a serialization conflict with another writer."""
        attempt = 1
        while True:
            with self._connection() as connection:
                try:
                    with connection.transaction(), connection.cursor() as cursor:
                        return work(cursor)
                except (errors.DeadlockDetected, errors.SerializationFailure):
                    if attempt == RETRIES:
                        raise
            attempt += 1

    # -- schema ----------------------------------------------------------------------------------

    def _migrate(self, create: bool) -> None:
        with self._connection() as connection:
            if connection.info.server_version < MIN_SERVER_VERSION:
                raise CatalogError(
                    f"{self.name}: PostgreSQL {connection.info.server_version // 10000} is too "
                    f"old; pixdex needs {MIN_SERVER_VERSION // 10000} or newer"
                )
            version = self._schema_version(connection)
            if version > SCHEMA_VERSION:
                raise CatalogError(
                    f"{self.name}: catalog schema version {version} is newer than this pixdex "
                    f"understands ({SCHEMA_VERSION}); upgrade pixdex"
                )
            if version == 0 and not create:
                raise CatalogError(
                    f"{self.name}: no catalog here (create one with `pixdex index DIR --db URI`)"
                )
            self._read_only = _read_only_reason(connection, tables=version > 0)
            if self._read_only is not None and 0 < version < SCHEMA_VERSION:
                raise CatalogError(
                    f"{self.name}: catalog schema version {version} must be migrated to "
                    f"{SCHEMA_VERSION}, and the catalog is read-only ({self._read_only}): open "
                    "it once as a role that can write it"
                )
            for number in range(version + 1, SCHEMA_VERSION + 1):
                with connection.transaction():
                    connection.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                    if self._schema_version(connection) >= number:
                        continue  # another process opening the catalog migrated it first
                    for statement in MIGRATIONS[number - 1]:
                        connection.execute(statement)
                    connection.execute(
                        "INSERT INTO pixdex.meta (key, value) VALUES ('schema_version', %s) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        (str(number),),
                    )

    def _schema_version(self, connection: psycopg.Connection) -> int:
        # Plain queries of the system catalogs, not to_regclass(): those read caches that are not
        # refreshed after waiting for the lock, and would miss a schema just made by another.
        has_schema, has_meta = connection.execute(
            "SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = 'pixdex'), "
            "EXISTS (SELECT FROM pg_tables WHERE schemaname = 'pixdex' AND tablename = 'meta')"
        ).fetchone()
        if not has_meta:
            if has_schema:
                raise CatalogError(
                    f"{self.name}: this database has a schema named pixdex that pixdex did not "
                    "make (no pixdex.meta table); not a pixdex catalog"
                )
            return 0
        row = connection.execute(
            "SELECT value FROM pixdex.meta WHERE key = 'schema_version'"
        ).fetchone()
        return int(row[0]) if row else 0

    # -- the Store interface ---------------------------------------------------------------------

    def catalog_id(self) -> str:
        return self._catalog_id

    def _forget_unless_current(self) -> None:
        """Drop the cached generation and algorithms unless the change feed shows no write
        committed since they were read (without a feed: always)."""
        seen = self._pool.changes.count() if self._pool is not None else None
        if seen is None or seen != self._seen:
            self._forget()
            self._seen = seen

    def _forget(self) -> None:
        self._generation = self._algorithms = None
        self._looked_up = {}

    def generation(self) -> int:
        self._forget_unless_current()
        if self._generation is None:
            self._generation = int(self._value("generation"))
        return self._generation

    def states(self, folder: str) -> dict[str, FileState]:
        lo, hi = folder_range(folder)
        rows = self._rows(
            """
            SELECT f.path, f.size, f.mtime_ns, f.error, s.file_id IS NOT NULL,
                   array_remove(array_agg(h.algorithm), NULL)
            FROM pixdex.files AS f
            LEFT JOIN pixdex.hashes AS h ON h.file_id = f.id
            LEFT JOIN pixdex.signatures AS s ON s.file_id = f.id
            WHERE (f.path >= %s AND f.path < %s) OR f.path = %s
            GROUP BY f.id, s.file_id
            """,
            (to_bytes(lo), to_bytes(hi), to_bytes(folder)),
        )
        return {
            from_bytes(path): FileState(size, mtime_ns, frozenset(names), error, signed)
            for path, size, mtime_ns, error, signed, names in rows
        }

    def _refuse_if_read_only(self) -> None:
        if self._read_only is not None:
            raise CatalogError(
                f"{self.name}: the catalog is read-only ({self._read_only}): it can be searched "
                "and served, not changed"
            )

    def write(self, records: Sequence[FileRecord]) -> None:
        self._refuse_if_read_only()
        if not records:
            return
        # The last record of a path wins, as in SQLite. Path order (of the stored bytes) is the
        # order every writer locks rows in, so concurrent writers of overlapping batches queue
        # instead of deadlock.
        latest = sorted({r.path: r for r in records}.values(), key=lambda r: to_bytes(r.path))
        self._transaction(lambda cursor: self._write(cursor, latest))
        self._forget()  # now, not when our own notification arrives

    def _write(self, cursor: psycopg.Cursor, records: list[FileRecord]) -> None:
        self._register_algorithms(cursor, records)
        cursor.execute(
            "CREATE TEMPORARY TABLE incoming (path bytea, size bigint, "
            "mtime_ns bigint, digest text, width integer, height integer, format text, "
            "error text) ON COMMIT DROP"
        )
        with cursor.copy("COPY incoming FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(_FILE_TYPES)
            for r in records:
                copy.write_row(
                    (
                        to_bytes(r.path),
                        r.size,
                        r.mtime_ns,
                        r.digest,
                        r.width,
                        r.height,
                        r.format,
                        r.error,
                    )
                )
        columns = ", ".join(_FILE_COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in (*_FILE_COLUMNS[1:], "indexed_at"))
        ids_by_name = dict(
            cursor.execute(
                f"INSERT INTO pixdex.files ({columns}, indexed_at) "
                f"SELECT {columns}, %s FROM incoming ORDER BY path "
                f"ON CONFLICT (path) DO UPDATE SET {updates} RETURNING path, id",
                (time.time(),),
            ).fetchall()
        )
        file_ids = {r.path: ids_by_name[to_bytes(r.path)] for r in records}
        ids = list(file_ids.values())
        for table in ("hashes", "signatures"):
            cursor.execute(
                f"DELETE FROM pixdex.{table} WHERE file_id = ANY(%s::bigint[])", (_id_array(ids),)
            )
        with cursor.copy(
            "COPY pixdex.hashes (algorithm, file_id, bits, value, quality) FROM STDIN "
            "(FORMAT BINARY)"
        ) as copy:
            copy.set_types(["text", "int8", "int4", "bytea", "int2"])
            for r in records:
                for name, value in r.hashes.items():
                    blob = hash_to_blob(value)
                    copy.write_row((name, file_ids[r.path], value.bits, blob, value.quality))
        with cursor.copy(
            "COPY pixdex.signatures (file_id, signature) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["int8", "bytea"])
            for r in records:
                signature = stored_form(r.signature)
                if signature is not None:
                    copy.write_row((file_ids[r.path], signature))
        _bump_generation(cursor)

    def _register_algorithms(self, cursor: psycopg.Cursor, records: list[FileRecord]) -> None:
        """Record each new algorithm's hash length; refuse a length other than the recorded one
        (the first one seen in this batch, for an algorithm new to the catalog)."""
        first: dict[str, int] = {}
        for record in records:
            for name, value in record.hashes.items():
                first.setdefault(name, value.bits)
        names = sorted(first)
        cursor.execute(
            "INSERT INTO pixdex.algorithms (name, bits) "
            "SELECT * FROM unnest(%s::text[], %s::integer[]) ORDER BY 1 "
            "ON CONFLICT (name) DO NOTHING",
            (names, [first[n] for n in names]),
        )
        known = dict(
            cursor.execute(
                "SELECT name, bits FROM pixdex.algorithms WHERE name = ANY(%s::text[])", (names,)
            ).fetchall()
        )
        for record in records:
            for name, value in record.hashes.items():
                if known[name] != value.bits:
                    raise CatalogError(
                        f"{self.name}: {record.path} has a {value.bits}-bit {name} hash, but the "
                        f"catalog's {name} hashes have {known[name]} bits"
                    )

    def remove(self, paths: Iterable[str]) -> int:
        self._refuse_if_read_only()
        wanted = sorted({to_bytes(p) for p in paths})

        def work(cursor: psycopg.Cursor) -> int:
            # rowcount counts the deleted files, not the rows the cascade removed with them.
            cursor.execute("DELETE FROM pixdex.files WHERE path = ANY(%s::bytea[])", (wanted,))
            removed = max(cursor.rowcount, 0)
            if removed:
                _bump_generation(cursor)
            return removed

        removed = self._transaction(work) if wanted else 0
        self._forget()
        return removed

    def algorithms(self) -> dict[str, int]:
        self._forget_unless_current()
        if self._algorithms is None:
            self._algorithms = dict(
                self._rows("SELECT name, bits FROM pixdex.algorithms ORDER BY name")
            )
        return dict(self._algorithms)

    def codes(self, algorithm: str, min_quality: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
        """Every ``algorithm`` hash of at least ``min_quality``, by file id.

        One binary ``COPY`` row per ``PAGES_PER_READ`` pages of the table, holding that range's
        ids and values each joined into one byte string inside PostgreSQL: numpy reads them
        with ``frombuffer``, where a row per hash would cost a Python call each (a million
        hashes: 0.3-0.5 s against 1.0 s). The ranges are read in one REPEATABLE READ
        transaction, so a row that a concurrent writer moves is seen exactly once.
        """
        bits = self.algorithms().get(algorithm, 0)
        words = -(-bits // 64) if bits else 1
        id_parts, code_parts = [np.zeros(0, np.int64)], [np.zeros((0, words), np.uint64)]
        with self._connection() as connection, connection.transaction():
            connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            (pages,) = connection.execute(
                "SELECT pg_relation_size('pixdex.hashes') / current_setting('block_size')::int"
            ).fetchone()
            for first in range(0, pages if bits else 0, PAGES_PER_READ):
                query = sql.SQL(
                    "COPY (SELECT string_agg(int8send(file_id), ''::bytea), "
                    "string_agg(value, ''::bytea) FROM pixdex.hashes "
                    "WHERE ctid >= {}::tid AND ctid < {}::tid AND algorithm = {} "
                    "AND quality >= {}) TO STDOUT (FORMAT BINARY)"
                ).format(
                    sql.Literal(f"({first},0)"),
                    sql.Literal(f"({first + PAGES_PER_READ},0)"),
                    sql.Literal(algorithm),
                    sql.Literal(min_quality),
                )
                data = bytearray()
                with connection.cursor() as cursor, cursor.copy(query) as copy:
                    for block in copy:
                        data += block
                ids, codes = _hash_ranges(data, words, self.name)
                id_parts.append(ids)
                code_parts.append(codes)
        ids, codes = np.concatenate(id_parts), np.concatenate(code_parts)
        if np.any(ids[1:] < ids[:-1]):  # rows come in storage order
            order = np.argsort(ids)
            ids, codes = ids[order], codes[order]
        return ids, codes, bits

    def lookup(self, ids: Sequence[int], algorithm: str) -> dict[int, StoredHash]:
        """Also keeps the files found, for a ``files_by_path`` of them that follows (the
        server's next call) while the change feed announces no write."""
        ids = [int(i) for i in ids]
        rows = self._rows_for(
            ids,
            """
            SELECT f.id, f.path, f.size, f.mtime_ns, f.digest, f.width, f.height, f.format,
                   f.error, h.bits, h.value, h.quality
            FROM pixdex.files AS f
            JOIN pixdex.hashes AS h ON h.file_id = f.id AND h.algorithm = %s
            WHERE f.id = ANY(%s::bigint[])
            """,
            (algorithm, _id_array(ids)),
        )
        found = {}
        self._looked_up = {}
        for *fields, bits, blob, quality in rows:
            stored = _stored_file(fields)
            found[stored.file_id] = StoredHash(
                stored.file_id, stored.path, blob_to_hash(blob, bits, algorithm, quality)
            )
            self._looked_up[stored.path] = stored
        return found

    def signatures(self, ids: Sequence[int]) -> np.ndarray:
        ids = [int(i) for i in ids]
        return signatures_in_order(ids, self._signature_rows(ids))

    def _signature_rows(self, ids: list[int]) -> Iterator[tuple[int, bytes]]:
        """(id, signature) of the files of ``ids`` that have one, ``SIGNATURES_PER_READ`` ids
        a query: each answer is a list, and one for every id would hold them all as bytes."""
        for start in range(0, len(ids), SIGNATURES_PER_READ):
            chunk = ids[start : start + SIGNATURES_PER_READ]
            yield from self._rows(
                "SELECT file_id, signature FROM pixdex.signatures "
                "WHERE file_id = ANY(%s::bigint[])",
                (_id_array(chunk),),
            )

    def files_by_id(self, ids: Sequence[int]) -> dict[int, StoredFile]:
        ids = [int(i) for i in ids]
        found = self._files_where("id = ANY(%s::bigint[])", ids, _id_array(ids))
        return {f.file_id: f for f in found}

    def files_by_path(self, paths: Sequence[str]) -> dict[str, StoredFile]:
        paths = [str(p) for p in paths]
        self._forget_unless_current()
        if all(p in self._looked_up for p in paths):
            return {p: self._looked_up[p] for p in paths}
        found = self._files_where("path = ANY(%s::bytea[])", paths, [to_bytes(p) for p in paths])
        return {f.path: f for f in found}

    def _files_where(self, condition: str, keys: list, param: object) -> list[StoredFile]:
        rows = self._rows_for(
            keys,
            "SELECT id, path, size, mtime_ns, digest, width, height, format, error "
            f"FROM pixdex.files WHERE {condition}",
            (param,),
        )
        return [_stored_file(row) for row in rows]

    def records(self, ids: Sequence[int]) -> dict[int, FileRecord]:
        ids = [int(i) for i in ids]
        hashes: dict[int, dict[str, Hash]] = {}
        for file_id, name, bits, blob, quality in self._rows_for(
            ids,
            "SELECT file_id, algorithm, bits, value, quality FROM pixdex.hashes "
            "WHERE file_id = ANY(%s::bigint[])",
            (_id_array(ids),),
        ):
            hashes.setdefault(file_id, {})[name] = blob_to_hash(blob, bits, name, quality)
        rows = self._rows_for(
            ids,
            """
            SELECT f.id, f.path, f.size, f.mtime_ns, f.digest, f.width, f.height, f.format,
                   f.error, s.signature
            FROM pixdex.files AS f LEFT JOIN pixdex.signatures AS s ON s.file_id = f.id
            WHERE f.id = ANY(%s::bigint[])
            """,
            (_id_array(ids),),
        )
        return {
            file_id: FileRecord(
                from_bytes(path), *fields, hashes=hashes.get(file_id, {}), signature=content
            )
            for file_id, path, *fields, content in rows
        }

    def digest_groups(self) -> list[list[int]]:
        rows = self._rows(
            """
            SELECT array_agg(id ORDER BY id) FROM pixdex.files
            WHERE error IS NULL AND digest IS NOT NULL
            GROUP BY digest HAVING count(*) > 1
            ORDER BY digest
            """
        )
        return [list(ids) for (ids,) in rows]

    def failures(self) -> list[tuple[str, str]]:
        rows = self._rows(
            "SELECT path, error FROM pixdex.files WHERE error IS NOT NULL ORDER BY path"
        )
        return [(from_bytes(path), error) for path, error in rows]

    def stats(self) -> StoreStats:
        ((files, failures),) = self._rows("SELECT count(*), count(error) FROM pixdex.files")
        algorithms = tuple(
            AlgorithmStats(name, bits, count, low)
            for name, bits, count, low in self._rows(
                "SELECT algorithm, bits, count(*), count(*) FILTER (WHERE quality < %s) "
                "FROM pixdex.hashes GROUP BY algorithm, bits ORDER BY algorithm, bits",
                (LOW_QUALITY,),
            )
        )
        # Tables with their indexes and TOAST, on the database server.
        ((on_disk,),) = self._rows(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class AS c "
            "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'pixdex' AND c.relkind = 'r'"
        )
        return StoreStats(files, failures, algorithms, on_disk)

    def close(self) -> None:
        """Close the store's own connection; a pool is its owner's to close."""
        if self._own is not None:
            self._own.close()


def _read_only_reason(connection: psycopg.Connection, *, tables: bool) -> str | None:
    """Why ``connection`` cannot write the catalog (its transactions are read-only, or its role
    lacks a right a write uses: the first one missing is named), or None when it can. ``tables``
    says whether the catalog's tables exist (for a new catalog, only the transactions count)."""
    (read_only, temporary, role) = connection.execute(
        "SELECT current_setting('transaction_read_only') = 'on', "
        "has_database_privilege(current_database(), 'TEMPORARY'), current_user"
    ).fetchone()
    if read_only:
        return "its transactions are read-only: default_transaction_read_only, or a standby"
    if not tables:
        return None
    missing = connection.execute(
        "SELECT t.name, t.privilege FROM unnest(%s::text[], %s::text[]) AS t(name, privilege) "
        "WHERE NOT has_table_privilege(t.name, t.privilege)",
        ([name for name, _ in WRITE_RIGHTS], [right for _, right in WRITE_RIGHTS]),
    ).fetchall()
    if missing:
        name, privilege = missing[0]
        return f"role {role} has no {privilege} right on {name}"
    return None if temporary else f"role {role} may not create temporary tables"


def _stored_file(row: Sequence[Any]) -> StoredFile:
    """A ``StoredFile`` from a row of its columns in order, the path as stored (its bytes)."""
    file_id, path, *rest = row
    return StoredFile(file_id, from_bytes(path), *rest)


def _id_array(ids: Iterable[int]) -> str:
    """File ids as an array literal (``{1,2,3}``) for ``ANY(%s::bigint[])``: one text parameter,
    where a Python list is dumped element by element and typed int2, int4 or int8 by its values
    (a different prepared statement each), 70 µs more a lookup."""
    return "{" + ",".join(str(int(i)) for i in ids) + "}"


def _bump_generation(cursor: psycopg.Cursor) -> None:
    """The last statements of every write transaction: the row lock on the generation is held
    only until the commit that follows, readers see the new value together with the rows, and
    change feeds hear of it when it commits."""
    cursor.execute(
        "UPDATE pixdex.meta SET value = (value::bigint + 1)::text WHERE key = 'generation'"
    )
    cursor.execute(f"NOTIFY {CHANNEL}")


def _hash_ranges(data: bytearray, words: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(ids, codes)`` from a binary COPY of one row of two byte strings: big-endian int64 file
    ids, and their hashes of ``words`` big-endian uint64 words each (NULL and NULL for a range
    without hashes)."""
    offset = len(_COPY_HEADER) + 4
    (extension,) = struct.unpack_from(">i", data, offset)
    offset += 4 + extension + 2  # past the header and the row's field count
    fields = []
    for _ in range(2):
        (length,) = struct.unpack_from(">i", data, offset)
        offset += 4
        fields.append(np.frombuffer(data, ">u8", max(length, 0) // 8, offset))
        offset += max(length, 0)
    ids, values = fields
    if data[: len(_COPY_HEADER)] != _COPY_HEADER or len(values) != len(ids) * words:
        raise CatalogError(f"{name}: stored hashes of unexpected lengths; the catalog is damaged")
    return ids.astype(np.int64), values.astype(np.uint64).reshape(len(ids), words)
