"""The PostgreSQL store: one database shared by several nodes (psycopg 3 and its pool).

The tables (``postgres_schema.py``) mirror SQLite's; the change log's wake-ups are
``postgres_listen.py``'s.

Writers are serialized by a transaction-level advisory lock taken first in every writing
transaction: concurrent ingests from several nodes then apply one after the other (each
sees what the previous committed, so no record is lost or stored twice), group versions and
change-log numbers grow in commit order, and a follower reading the change log never sees
a later number commit before an earlier one.
https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from typing import Any

import psycopg
import psycopg_pool

from feeds.errors import StoreError
from feeds.filters import FeedQuery, sql_condition
from feeds.model import Record
from feeds.slugs import unique_slug
from feeds.store import (
    ALL_FEED,
    FEEDS_SQL,
    SCHEDULED,
    FeedRow,
    FileState,
    StoredRecord,
    describe_location,
    feed_row,
    moment,
)
from feeds.store.batch import Holder, Outcome, Stored, Written, holders, settle
from feeds.store.postgres_listen import Listener
from feeds.store.postgres_schema import SCHEMA, SCHEMA_VERSION, STATE, STORE_ID

__all__ = ["CHANNEL", "PostgresStore"]

# pg_advisory_xact_lock keys ("feeds" and "feeds schema" as numbers): one for writers, one
# for creating the schema when several nodes open a new database at once.
WRITE_LOCK = 0x6665656473
SCHEMA_LOCK = 0x6665656473_01
# The LISTEN/NOTIFY channel: a payload-free wake-up; what changed is read from ``changes``.
CHANNEL = "feeds_changes"
# How long a request waits for a pooled connection before the store is called unavailable.
CONNECT_TIMEOUT = 3.0
# A snapshot is pinned between requests (by /healthz, too): it waits less.
PIN_TIMEOUT = 1.0

_HEAD = "SELECT coalesce(max(seq), 0) FROM changes"
Rows = list[tuple[Any, ...]]


class PostgresStore:
    """A pool of connections to one database; one store object per thread of work."""

    def __init__(self, pool: psycopg_pool.ConnectionPool, url: str) -> None:
        self.pool = pool
        self.url = url
        self._tx: psycopg.Connection[Any] | None = None
        # pin(): reads go to one snapshot (``_pinned``, of change ``_pinned_head``) until unpin.
        self._pinning = False
        self._pinned: psycopg.Connection[Any] | None = None
        self._pinned_head: int | None = None
        self._listener: Listener | None = None
        # As in SQLite's store: groups looked up and version bumps within one transaction.
        self._groups: dict[tuple[str, str], str] = {}
        self._bumps: set[str] | None = None

    @classmethod
    def open(cls, url: str) -> PostgresStore:
        """Connect to ``url`` (libpq form), creating the schema in a new database."""
        try:
            # A connection of its own first: a wrong URL fails at once, with libpq's reason.
            with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn, conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                if conn.execute("SELECT to_regclass('meta')").fetchone() == (None,):
                    conn.execute(SCHEMA)
                conn.execute(STORE_ID)  # a store made before it had an id gets one
                row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except psycopg.Error as exc:
            raise StoreError(f"{describe_location(url)}: cannot open the store ({exc})") from None
        if row is None or row[0] != SCHEMA_VERSION:
            raise StoreError(f"{describe_location(url)}: store format {row[0] if row else 'unknown'}, "
                             f"this version of feeds needs {SCHEMA_VERSION}")
        pool = psycopg_pool.ConnectionPool(
            url, min_size=1, max_size=4, kwargs={"autocommit": True}, open=True,
            check=psycopg_pool.ConnectionPool.check_connection, timeout=CONNECT_TIMEOUT,
            # Give a lost connection up at once rather than retrying it with a growing backoff
            # (seconds after the database is back): the next request connects anew.
            reconnect_timeout=1.0, name="feeds-store")
        return cls(pool, url)

    @property
    def location(self) -> str:
        return describe_location(self.url)

    def close(self) -> None:
        self.unpin()
        if self._listener is not None:
            self._listener.close()
        self.pool.close()

    def shrink_memory(self) -> None:
        """Nothing to give back: the database server holds the pages."""

    # -- connections ---------------------------------------------------------------------------

    def _unavailable(self, exc: Exception) -> StoreError:
        return StoreError(f"{self.location}: the database is unavailable ({exc})")

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """The transaction's connection, else the pinned one, else one from the pool."""
        if self._tx is not None:
            yield self._tx
        elif self._pinning:
            if self._pinned is None or self._pinned.broken or self._pinned.closed:
                self._snapshot()
            assert self._pinned is not None
            yield self._pinned
        else:
            try:
                with self.pool.connection() as conn:
                    yield conn
            except psycopg_pool.PoolTimeout as exc:
                raise self._unavailable(exc) from None

    def _rows(self, sql: str, params: Sequence[Any] = (), again: bool = True) -> Rows:
        try:
            with self._connection() as conn:
                cursor = conn.execute(sql, params)
                return cursor.fetchall() if cursor.description else []
        except psycopg.OperationalError as exc:
            lost = self._tx is None and self._pinned is not None and self._pinned.broken
            if not (again and lost):
                raise self._unavailable(exc) from None
        # The pinned connection was lost just now (a database restart): ask once more, which
        # pins again onto the same state, so the first request after a restart succeeds.
        return self._rows(sql, params, again=False)

    def _many(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        if not params:
            return
        try:
            with self._connection() as conn:
                conn.cursor().executemany(sql, params)
        except psycopg.OperationalError as exc:
            raise self._unavailable(exc) from None

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self._rows(sql, params)
        return rows[0][0] if rows else None

    # -- snapshots and transactions --------------------------------------------------------------

    def pin(self) -> None:
        """Hold one REPEATABLE READ snapshot of the newest state until ``unpin``.

        https://www.postgresql.org/docs/current/transaction-iso.html#XACT-REPEATABLE-READ
        """
        held = self._pinned_head
        self._drop_snapshot()
        self._pinning, self._pinned_head = True, None
        try:
            self._snapshot()
        except StoreError:
            # Still pinned to the state held so far (the caller goes on serving it).
            self._pinned_head = held
            raise

    def _snapshot(self) -> None:
        """Take the snapshot; when one was held before (its connection lost with a database
        restart), only of that same state: a later one is for the caller to switch to, since
        what it derived from the old state must not be mixed with the new."""
        self._drop_snapshot()
        try:
            conn = self.pool.getconn(timeout=PIN_TIMEOUT)
        except psycopg_pool.PoolTimeout as exc:
            raise self._unavailable(exc) from None
        try:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            head = int(conn.execute(_HEAD).fetchone()[0])  # type: ignore[index]
        except psycopg.OperationalError as exc:
            self.pool.putconn(conn)
            raise self._unavailable(exc) from None
        if self._pinned_head is not None and head != self._pinned_head:
            conn.execute("ROLLBACK")
            self.pool.putconn(conn)
            raise StoreError(f"{self.location}: the snapshot was lost and the store has "
                             f"changed since; switch to the new one")
        self._pinned, self._pinned_head = conn, head

    def _drop_snapshot(self) -> None:
        conn, self._pinned = self._pinned, None
        if conn is not None:
            if not conn.broken and not conn.closed:
                with suppress(psycopg.OperationalError):
                    conn.execute("COMMIT")
            self.pool.putconn(conn)

    def unpin(self) -> None:
        self._pinning, self._pinned_head = False, None
        self._drop_snapshot()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing, one writer at a time across every node (the advisory lock)."""
        assert self._tx is None, "transactions do not nest"
        try:
            with self.pool.connection() as conn, conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                self._tx = conn
                self._groups.clear()
                bumps = self._bumps = set()
                try:
                    yield
                    # Once per transaction, as SQLite's.
                    self._many("UPDATE groups SET version = version + 1 WHERE path = %s",
                               [(feed,) for feed in bumps])
                    if bumps:
                        # In the same transaction as the records; NOTIFY is delivered at commit.
                        self._rows("INSERT INTO changes (feeds) VALUES (%s)", (json.dumps(sorted(bumps)),))
                        self._rows(f"NOTIFY {CHANNEL}")
                finally:
                    self._tx = None
                    self._groups.clear()
                    self._bumps = None
        except psycopg_pool.PoolTimeout as exc:
            raise self._unavailable(exc) from None
        except psycopg.OperationalError as exc:
            raise self._unavailable(exc) from None

    def defer_indexes(self) -> None:
        """Nothing: dropping an index would lock every other node's readers out of the table
        until the transaction commits."""

    # -- the change log ------------------------------------------------------------------------

    def head(self) -> int:
        """The sequence number of the newest committed change (as this snapshot sees it); 0 if none."""
        return int(self._one(_HEAD))

    def state(self) -> str:
        return str(self._one(STATE))

    def changes_since(self, seq: int) -> tuple[int, frozenset[str]]:
        """The head, and every feed changed by the changes after ``seq`` up to it."""
        rows = self._rows("SELECT seq, feeds FROM changes WHERE seq > %s ORDER BY seq", (seq,))
        if not rows:
            return self.head(), frozenset()
        return int(rows[-1][0]), frozenset(feed for _, feeds in rows for feed in json.loads(feeds))

    def wait_for_change(self, seq: int, timeout: float) -> int:
        """Block until the head passes ``seq`` or ``timeout`` seconds pass; returns the head
        (``seq`` while the database is unreachable). See ``postgres_listen``."""
        if self._listener is None:
            self._listener = Listener(self.url, CHANNEL, _HEAD)
        return self._listener.wait(seq, timeout)

    # -- files -------------------------------------------------------------------------------

    def file_stamps(self) -> dict[str, tuple[int, int, str]]:
        rows = self._rows("SELECT path, size, mtime_ns, digest FROM files")
        return {row[0]: (row[1], row[2], row[3]) for row in rows}

    def touch_file(self, path: str, state: FileState) -> None:
        self._rows("UPDATE files SET size=%s, mtime_ns=%s WHERE path=%s", (state.size, state.mtime_ns, path))

    def rejected(self) -> list[tuple[str, str]]:
        return [(p, e) for p, e in self._rows(
            "SELECT path, error FROM files WHERE error IS NOT NULL ORDER BY path")]

    def record_path(self, record_id: str) -> str | None:
        found = self._one("SELECT path FROM records WHERE id=%s", (record_id,))
        return None if found is None else str(found)

    # -- changes (inside a transaction) --------------------------------------------------------

    def remove_files(self, paths: Sequence[str]) -> set[str]:
        known = self._holders(paths, (), ())
        return self._remove([h.path for h in known],
                            [h.record_id for h in known if h.record_id is not None])

    def retry_paths(self) -> set[str]:
        return {r[0] for r in self._rows("SELECT path FROM files WHERE retry")}

    def retried(self) -> str | None:
        rows = self._rows("SELECT value FROM meta WHERE key='retried'")
        return str(rows[0][0]) if rows else None

    def note_retried(self, mark: str) -> None:
        self._rows("INSERT INTO meta VALUES ('retried', %s) "
                   "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (mark,))

    def write_files(self, batch: Sequence[Outcome]) -> Written:
        """As SQLite's: one query for the stored files the batch touches or rivals, then each
        table's rows in one COPY, the fastest bulk load PostgreSQL has:
        https://www.postgresql.org/docs/current/populate.html#POPULATE-COPY-FROM"""
        records = [o.result for o in batch if isinstance(o.result, StoredRecord)]
        plan = settle(batch, self._holders([o.path for o in batch], [r.id for r in records],
                                           [r.web_url for r in records]))
        changed = self._remove(plan.removed, plan.owned)
        self._groups_of(plan.stored)
        members: list[tuple[str, int, str]] = []
        for s in plan.stored:
            if s.record.published and not s.scheduled:
                feeds = [ALL_FEED, self._group("providers", s.record.provider_domain,
                                               s.record.provider_name)]
                feeds += [self._group("topics", topic.casefold(), topic)
                          for topic in s.record.topics]
                members += ((feed, s.record.published_at, s.record.id) for feed in feeds)
        self._copy("files (path, size, mtime_ns, digest, record_id, error, retry)", [
            *((s.path, s.state.size, s.state.mtime_ns, s.state.digest, s.record.id, None, False)
              for s in plan.stored),
            *((r.path, r.state.size, r.state.mtime_ns, r.state.digest, None, r.error, r.retry)
              for r in plan.rejected)])
        self._copy("records (id, path, digest, url, published, published_at, data)", [
            (s.record.id, s.path, s.state.digest, s.record.web_url,
             SCHEDULED if s.record.published and s.scheduled else int(s.record.published),
             s.record.published_at, s.record.data) for s in plan.stored])
        self._copy("filters (record_id, quality, heat, words)", [
            (s.record.id, s.record.quality, s.record.heat, s.record.words) for s in plan.stored])
        self._copy("memberships (feed, published_at, record_id)", members)
        changed.update(feed for feed, _, _ in members)
        self._bump(changed)
        return Written(changed, list(plan.errors), plan.freed)

    def _copy(self, table: str, rows: Sequence[Sequence[Any]]) -> None:
        """Append ``rows`` to ``table`` (its name and columns) with COPY, in the transaction."""
        assert self._tx is not None, "store changes are made inside PostgresStore.transaction()"
        if not rows:
            return
        try:
            with self._tx.cursor() as cursor, cursor.copy(f"COPY {table} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        except psycopg.OperationalError as exc:
            raise self._unavailable(exc) from None

    def _holders(self, paths: Sequence[str], ids: Sequence[str],
                 urls: Sequence[str]) -> list[Holder]:
        """The stored files named ``paths``, and those whose record has one of ``ids`` or ``urls``."""
        rows = self._rows(
            "SELECT f.path, f.size, f.mtime_ns, f.digest, r.id, r.url FROM files f "
            "LEFT JOIN records r ON r.id = f.record_id AND r.path = f.path "
            "WHERE f.path = ANY(%s) UNION "
            "SELECT f.path, f.size, f.mtime_ns, f.digest, r.id, r.url FROM records r "
            "JOIN files f ON f.path = r.path WHERE r.id = ANY(%s) OR r.url = ANY(%s)",
            (list(paths), list(ids), list(urls)))
        return holders(rows)

    def _remove(self, paths: Sequence[str], owned: Sequence[str]) -> set[str]:
        """Delete the files ``paths`` and the records ``owned`` (by those files); returns the
        feeds that changed."""
        if not paths:
            return set()
        ids = list(owned)
        feeds = {r[0] for r in self._rows(
            "DELETE FROM memberships WHERE record_id = ANY(%s) RETURNING feed", (ids,))}
        self._rows("DELETE FROM records WHERE id = ANY(%s)", (ids,))
        self._rows("DELETE FROM filters WHERE record_id = ANY(%s)", (ids,))
        self._rows("DELETE FROM fragments WHERE record_id = ANY(%s)", (ids,))
        self._rows("DELETE FROM files WHERE path = ANY(%s)", (list(paths),))
        self._bump(feeds)
        return feeds

    def release_due(self, now: int) -> set[str]:
        """Publish the scheduled records dated ``now`` (epoch seconds) or earlier; returns the
        feeds that changed."""
        due = self._rows("SELECT id, published_at, data FROM records "
                         "WHERE published = %s AND published_at <= %s", (SCHEDULED, now))
        changed: set[str] = set()
        for record_id, at, data in due:
            # The stored JSON is Record.to_dict(): provider is [name, domain].
            fields = json.loads(data)
            name, domain = fields["provider"]
            feeds = [ALL_FEED, self._group("providers", domain, name)]
            feeds += [self._group("topics", topic.casefold(), topic) for topic in fields["topics"]]
            self._many("INSERT INTO memberships VALUES (%s, %s, %s)",
                       [(f, at, record_id) for f in feeds])
            self._rows("UPDATE records SET published = 1 WHERE id = %s", (record_id,))
            changed.update(feeds)
        self._bump(changed)
        return changed

    def next_due(self) -> datetime | None:
        """When the earliest scheduled record falls due, if any is waiting."""
        return moment(self._one("SELECT min(published_at) FROM records WHERE published = %s",
                                (SCHEDULED,)))

    def _groups_of(self, stored: Sequence[Stored]) -> None:
        """Cache the groups the published ``stored`` records join, making the new ones, with
        the slugs and names ``_group`` gives them one at a time in this order, in a few round
        trips rather than three per new group (a cold ingest makes hundreds)."""
        wanted: dict[tuple[str, str], str] = {}
        for s in stored:
            if s.record.published and not s.scheduled:
                wanted.setdefault(("providers", s.record.provider_domain), s.record.provider_name)
                for topic in s.record.topics:
                    wanted.setdefault(("topics", topic.casefold()), topic)
        missing = [group for group in wanted if group not in self._groups]
        if not missing:
            return
        for kind, key, path in self._rows(
                "SELECT kind, key, path FROM groups WHERE (kind, key) IN "
                "(SELECT * FROM unnest(%s::text[], %s::text[]))",
                ([kind for kind, _ in missing], [key for _, key in missing])):
            self._groups[kind, key] = str(path)
        new = [group for group in missing if group not in self._groups]
        taken = {kind: {str(row[0])[len(kind) + 1:] for row in self._rows(
            "SELECT path FROM groups WHERE kind=%s", (kind,))} for kind in {k for k, _ in new}}
        rows = []
        for kind, key in new:
            slug = unique_slug(key, taken[kind])
            taken[kind].add(slug)
            self._groups[kind, key] = f"{kind}/{slug}"
            rows.append((f"{kind}/{slug}", kind, key, wanted[kind, key]))
        self._many("INSERT INTO groups (path, kind, key, name) VALUES (%s, %s, %s, %s)", rows)

    def _group(self, kind: str, key: str, name: str) -> str:
        known = self._groups.get((kind, key))
        if known is not None:
            return known
        path = self._one("SELECT path FROM groups WHERE kind=%s AND key=%s", (kind, key))
        if path is None:
            prefix = f"{kind}/"
            taken = {r[0][len(prefix):] for r in self._rows(
                "SELECT path FROM groups WHERE kind=%s", (kind,))}
            path = f"{prefix}{unique_slug(key, taken)}"
            self._rows("INSERT INTO groups (path, kind, key, name) VALUES (%s, %s, %s, %s)",
                       (path, kind, key, name))
        self._groups[kind, key] = str(path)
        return str(path)

    def _bump(self, feeds: Iterable[str]) -> None:
        assert self._bumps is not None, "store changes are made inside PostgresStore.transaction()"
        self._bumps.update(feeds)

    # -- reading -----------------------------------------------------------------------------

    def feeds(self) -> list[FeedRow]:
        return [feed_row(row) for row in self._rows(FEEDS_SQL)]

    def group_paths(self, kind: str) -> dict[str, str]:
        return dict(self._rows("SELECT key, path FROM groups WHERE kind=%s", (kind,)))

    def entry_ids(self, feed: str, offset: int, limit: int) -> list[str]:
        return [r[0] for r in self._rows(
            "SELECT record_id FROM memberships WHERE feed=%s "
            "ORDER BY published_at, record_id LIMIT %s OFFSET %s", (feed, limit, offset))]

    def matching_entries(self, feed: str, query: FeedQuery, limit: int,
                         scan: int) -> list[tuple[str, int]]:
        """(record id, published_at epoch) of the newest ``limit`` entries of ``feed`` that pass
        ``query``'s filters, newest first, looking at no more than its newest ``scan`` entries."""
        condition, values = sql_condition(query, "%s", "strpos")
        cutoff = self._one(
            "SELECT published_at FROM memberships WHERE feed = %s "
            "ORDER BY published_at DESC, record_id DESC LIMIT 1 OFFSET %s", (feed, scan - 1))
        return [(record_id, at) for record_id, at in self._rows(
            "SELECT m.record_id, m.published_at FROM memberships m "
            "JOIN filters r ON r.record_id = m.record_id "
            f"WHERE m.feed = %s AND m.published_at >= %s AND {condition} "
            "ORDER BY m.published_at DESC, m.record_id DESC LIMIT %s",
            (feed, cutoff or 0, *values, limit))]

    def feed_entries(self, feed: str) -> list[tuple[str, int]]:
        return [(i, int(at)) for i, at in self._rows(
            "SELECT record_id, published_at FROM memberships WHERE feed=%s "
            "ORDER BY published_at, record_id", (feed,))]

    def record_rows(self, ids: Sequence[str]) -> list[tuple[str, str]]:
        rows = self._rows("SELECT id, data FROM records WHERE id = ANY(%s)", (list(ids),))
        found: dict[str, str] = dict(rows)
        return [(i, found[i]) for i in ids]

    def record_digests(self) -> dict[str, str]:
        return dict(self._rows("SELECT record_id, digest FROM files WHERE record_id IS NOT NULL"))

    def records(self, ids: Sequence[str]) -> list[Record]:
        return [Record.from_dict(json.loads(data)) for _, data in self.record_rows(ids)]

    def published_at(self, record_id: str) -> datetime | None:
        return moment(self._one("SELECT published_at FROM records WHERE id=%s", (record_id,)))

    def published_ids(self) -> set[str]:
        return {r[0] for r in self._rows("SELECT id FROM records WHERE published = 1")}

    def unpublished_ids(self) -> set[str]:
        return {r[0] for r in self._rows("SELECT id FROM records WHERE published = 0")}

    def fragments(self, ids: Sequence[str], fmt: str, key: str, bodies: bool = True) -> dict[str, bytes]:
        column = "body" if bodies else "''::bytea"
        rows = self._rows(f"SELECT record_id, {column} FROM fragments "
                          "WHERE format=%s AND key=%s AND record_id = ANY(%s)", (fmt, key, list(ids)))
        return {record_id: bytes(body) for record_id, body in rows}

    def missing_fragments(self, ids: Sequence[str], fmt: str, key: str) -> list[str]:
        have = self.fragments(ids, fmt, key, bodies=False)
        return [i for i in ids if i not in have]

    def feeds_of(self, record_id: str) -> list[str]:
        return [r[0] for r in self._rows(
            "SELECT feed FROM memberships WHERE record_id=%s ORDER BY feed != 'all', feed", (record_id,))]

    def put_fragments(self, fmt: str, key: str, bodies: dict[str, bytes]) -> None:
        self.put_fragment_rows(key, [(record_id, fmt, body) for record_id, body in bodies.items()])

    def put_fragment_rows(self, key: str, rows: Sequence[tuple[str, str, bytes]]) -> int:
        """Store fragments; outside a transaction without the writers' lock (they change no
        feed, and a request saving what it rendered must not wait for another node's ingest)."""
        self._many("INSERT INTO fragments VALUES (%s, %s, %s, %s) ON CONFLICT (record_id, format) "
                   "DO UPDATE SET key = excluded.key, body = excluded.body",
                   [(record_id, fmt, key, body) for record_id, fmt, body in rows])
        return len(rows)

    def counts(self) -> dict[str, int]:
        records, published, scheduled, rejected = self._rows(
            "SELECT (SELECT count(*) FROM records), "
            "(SELECT count(*) FROM records WHERE published = 1), "
            "(SELECT count(*) FROM records WHERE published = 2), "
            "(SELECT count(*) FROM files WHERE error IS NOT NULL)")[0]
        return {"records": records, "published": published, "scheduled": scheduled,
                "rejected": rejected}
