"""A real PostgreSQL for the tests: a throwaway cluster on a Unix socket, one per test session.

Made with Debian's ``postgresql`` package (``scripts/install-test-tools`` installs it):
``initdb`` in a temporary directory as the ``postgres`` user (initdb refuses root), no TCP
listener (``listen_addresses=''``), stopped and removed when the session ends. Each test
gets a database of its own.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

__all__ = ["PostgresServer", "pg_url", "postgres", "throwaway_cluster"]

_names = itertools.count()


@dataclass(frozen=True)
class PostgresServer:
    bin_dir: Path
    data_dir: Path
    socket_dir: Path
    as_postgres: tuple[str, ...]  # the command prefix that runs a tool as the postgres user

    def url(self, database: str = "postgres") -> str:
        """The libpq URL of ``database``, through the socket directory (no TCP)."""
        return f"postgresql:///{database}?host={self.socket_dir}&user=postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run([*self.as_postgres, str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir),
                        "-l", str(self.data_dir.parent / "server.log"), *args],
                       check=True, stdout=subprocess.DEVNULL, timeout=60)

    def start(self) -> None:
        options = (f"-c listen_addresses='' -c unix_socket_directories={self.socket_dir} "
                   "-c fsync=off -c max_connections=200")
        self._ctl("-w", "-o", options, "start")

    def stop(self) -> None:
        self._ctl("-w", "-m", "fast", "stop")

    def new_database(self) -> str:
        name = f"feeds_test_{os.getpid()}_{next(_names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return name

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run scripts/install-test-tools as root "
                           "(apt-get install postgresql)")
    return Path(found[-1]).parent


def _installed() -> bool:
    return bool(glob.glob("/usr/lib/postgresql/*/bin/initdb"))


@contextmanager
def throwaway_cluster() -> Iterator[PostgresServer]:
    """A new PostgreSQL cluster on a socket in a private temporary directory, removed after."""
    root = Path(tempfile.mkdtemp(prefix="feeds-pg-"))
    as_postgres: tuple[str, ...] = ()
    if os.geteuid() == 0:
        as_postgres = ("runuser", "-u", "postgres", "--")
        shutil.chown(root, "postgres", "postgres")
    server = PostgresServer(_bin_dir(), root / "data", root, as_postgres)
    subprocess.run([*as_postgres, str(server.bin_dir / "initdb"), "-D", str(server.data_dir),
                    "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"],
                   check=True, stdout=subprocess.DEVNULL, timeout=120)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL cluster for the whole session."""
    from tests.conftest import require  # conftest imports this module's fixtures

    require("postgresql", _installed(), "the store contract and node tests need a real PostgreSQL")
    with throwaway_cluster() as server:
        yield server


@pytest.fixture
def pg_url(postgres: PostgresServer) -> Iterator[str]:
    """The URL of a new, empty database, dropped after the test."""
    name = postgres.new_database()
    yield postgres.url(name)
    postgres.drop_database(name)
