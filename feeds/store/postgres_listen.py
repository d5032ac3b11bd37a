"""Waiting for the PostgreSQL change log to grow: LISTEN on a connection of its own.

NOTIFY is only the wake-up; the head is read from the ``changes`` table after every wake-up
and every reconnection, so notifications missed while disconnected lose nothing:
https://www.postgresql.org/docs/current/sql-notify.html
"""

from __future__ import annotations

import logging
import time
from typing import Any

import psycopg

from feeds.store import describe_location

__all__ = ["RETRY_SECONDS", "Listener"]

log = logging.getLogger("feeds.store")

# Between attempts to reconnect while the database is away.
RETRY_SECONDS = 0.25


class Listener:
    """One LISTENing connection to ``url``, made (again) when needed; for one thread."""

    def __init__(self, url: str, channel: str, head_sql: str) -> None:
        self.url = url
        self.channel = channel
        self.head_sql = head_sql
        self._conn: psycopg.Connection[Any] | None = None

    def wait(self, seq: int, timeout: float) -> int:
        """The head once it passes ``seq``, or after ``timeout`` seconds; ``seq`` while the
        database cannot be reached (nothing new is known)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                conn = self._connect()
                # LISTEN came first: a commit after this read wakes the wait below.
                head = int(conn.execute(self.head_sql).fetchone()[0])  # type: ignore[index]
                remaining = deadline - time.monotonic()
                if head > seq or remaining <= 0:
                    return head
                for _ in conn.notifies(timeout=remaining, stop_after=1):
                    pass
            except psycopg.OperationalError as exc:
                log.debug("%s: waiting for the database: %s", describe_location(self.url), exc)
                self.close()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return seq
                time.sleep(min(RETRY_SECONDS, remaining))

    def _connect(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.broken or self._conn.closed:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=2)
            conn.execute(f"LISTEN {self.channel}")
            self._conn = conn
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
