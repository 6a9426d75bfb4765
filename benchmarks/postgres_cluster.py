"""A private, throw-away PostgreSQL 15 cluster from Debian's binaries, for tests and benchmarks.

``initdb`` into a fresh temporary folder (as the ``postgres`` user when run as root: initdb
refuses root, and that user cannot enter root's home, hence a folder of its own under the system
temporary folder), started with ``pg_ctl`` on a Unix socket in that folder and no TCP at all
(``listen_addresses=''``), so it can clash with no other server; one database per test; stopped
and deleted at the end. A cluster starts in about 2 s.

    with PostgresCluster.start() as cluster:
        uri = cluster.create_database()      # postgresql://postgres@/db1?host=...&port=...

``durable=False`` (the tests' setting) turns fsync off: a test kills pixdex processes, never the
server, so what only a power cut would lose does not matter there, and every commit gets faster.
The benchmarks keep PostgreSQL's defaults, as a user's server has them.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

import psycopg

BIN = Path("/usr/lib/postgresql/15/bin")
"""Where Debian's ``postgresql-15`` package puts initdb, pg_ctl and postgres."""

PORT = 5432
"""The port number: with no TCP listener it only names the socket file in the cluster's own
folder, so the usual number cannot clash with another server."""

SUPERUSER = "postgres"


def available() -> bool:
    """Whether PostgreSQL 15's server binaries are installed (``apt-get install postgresql``)."""
    return all((BIN / name).is_file() for name in ("initdb", "pg_ctl", "postgres"))


class PostgresCluster:
    """A running private cluster in ``root``: data in ``root/data``, socket in ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self._names = itertools.count(1)

    @classmethod
    def start(cls, *, durable: bool = False) -> PostgresCluster:
        """Create and start a new cluster; raises ``RuntimeError`` with the server's log if it
        does not start."""
        cluster = cls(Path(tempfile.mkdtemp(prefix="pixdex-pg-")))
        cluster.root.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(cluster.root, SUPERUSER, SUPERUSER)
        settings = ["-c", "listen_addresses=", "-c", f"unix_socket_directories={cluster.root}"]
        if not durable:
            settings += ["-c", "fsync=off", "-c", "full_page_writes=off"]
        try:
            cluster._run(
                BIN / "initdb",
                "-D",
                cluster.data,
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            )
            options = " ".join([f"-p {PORT}", *(f"'{s}'" for s in settings)])
            cluster._run(
                BIN / "pg_ctl", "-D", cluster.data, "-l", cluster.root / "log", "-w", "-o", options,
                "start",
            )  # fmt: skip
        except subprocess.CalledProcessError as error:
            log = cluster.root / "log"
            detail = log.read_text() if log.exists() else error.stderr
            shutil.rmtree(cluster.root, ignore_errors=True)
            raise RuntimeError(f"the private PostgreSQL did not start:\n{detail}") from None
        return cluster

    def __enter__(self) -> PostgresCluster:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self, *command: str | Path) -> None:
        prefix = ["runuser", "-u", SUPERUSER, "--"] if os.geteuid() == 0 else []
        subprocess.run(
            [*prefix, *map(str, command)], check=True, capture_output=True, text=True, cwd=self.root
        )

    def uri(self, database: str = "postgres", user: str = SUPERUSER, password: str = "") -> str:
        """The libpq URI of ``database``: over the cluster's Unix socket."""
        secret = f":{quote(password, safe='')}" if password else ""
        return f"postgresql://{user}{secret}@/{database}?host={quote(str(self.root))}&port={PORT}"

    def sql(self, statement: str, database: str = "postgres") -> list[tuple]:
        """Run one statement as the superuser, outside a transaction; its rows, if any."""
        with psycopg.connect(self.uri(database), autocommit=True) as connection:
            cursor = connection.execute(statement)
            return cursor.fetchall() if cursor.description else []

    def add_user(self, name: str, password: str) -> None:
        """A login role that must give ``password`` (SCRAM), where the superuser needs none."""
        self.sql(f"CREATE ROLE \"{name}\" LOGIN PASSWORD '{password}'")
        hba = self.data / "pg_hba.conf"
        hba.write_text(f"local all {name} scram-sha-256\n" + hba.read_text())
        self.sql("SELECT pg_reload_conf()")

    def create_database(self, owner: str = SUPERUSER) -> str:
        """A new, empty database owned by ``owner``; returns its URI (as the superuser)."""
        name = f"db{next(self._names)}"
        self.sql(f'CREATE DATABASE "{name}" OWNER "{owner}"')
        return self.uri(name)

    def drop_database(self, uri: str) -> None:
        """Drop the database of ``uri`` (made by ``create_database``), closing its connections."""
        name = uri.split("/")[3].split("?")[0]
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Stop the server at once and delete every file of the cluster."""
        try:
            self._run(BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        except subprocess.CalledProcessError:
            pass  # never started, or already stopped: the files go all the same
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
