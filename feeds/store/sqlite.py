"""The SQLite store (WAL): the embedded default, one file beside the seeds."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from feeds.errors import StoreError
from feeds.filters import FeedQuery, sql_condition
from feeds.model import Record
from feeds.slugs import unique_slug
from feeds.store import ALL_FEED, FEEDS_SQL, SCHEDULED, FeedRow, FileState, StoredRecord, feed_row, moment
from feeds.store.batch import Holder, Outcome, Written, holders, settle

__all__ = ["SQLiteStore"]

SCHEMA_VERSION = "4"

# The change log: one row per committed transaction that changed feeds, so every server
# process learns of each commit (and which feeds it changed) from the store itself. Created
# in place in stores made before it, which keep their schema version.
_CHANGES = """
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, feeds TEXT NOT NULL, at INTEGER NOT NULL
);
"""
# A store's id, made once, so a store rebuilt from scratch never repeats an older one's state.
_STORE_ID = "INSERT OR IGNORE INTO meta VALUES ('store_id', lower(hex(randomblob(16))));"
_STATE = ("SELECT (SELECT value FROM meta WHERE key='store_id'), "
          "(SELECT coalesce(max(seq), 0) FROM changes)")
# How often wait_for_change asks SQLite whether another connection committed.
CHANGE_POLL_SECONDS = 0.025

# Used only to delete a record's memberships: a load into an empty store builds it once, at the
# end (defer_indexes), rather than row by row.
_BY_RECORD = "CREATE INDEX memberships_by_record ON memberships (record_id)"

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    digest TEXT NOT NULL, record_id TEXT, error TEXT,
    -- A rejection that may resolve without the file changing (a duplicate, a future date).
    retry INTEGER NOT NULL DEFAULT 0
);
-- published: 0 no, 1 yes, 2 (SCHEDULED) yes but dated ahead: kept out of the memberships,
-- so out of every public document, until release_due() finds its date has come.
CREATE TABLE records (
    id TEXT PRIMARY KEY, path TEXT NOT NULL, digest TEXT NOT NULL, url TEXT NOT NULL,
    published INTEGER NOT NULL, published_at INTEGER NOT NULL, data TEXT NOT NULL
);
CREATE INDEX records_by_url ON records (url);
CREATE INDEX records_scheduled ON records (published_at) WHERE published = 2;
-- What ?min_quality, ?min_heat and ?q test, apart from the records' kilobytes of JSON: a filter
-- walking thousands of entries reads small rows packed many to a page. words is " word word "
-- (filters.words_of of title and excerpt).
CREATE TABLE filters (
    record_id TEXT PRIMARY KEY, quality INTEGER, heat INTEGER, words TEXT NOT NULL
) WITHOUT ROWID;
-- One row per topic, provider and the site-wide feed; slugs are assigned once and kept.
CREATE TABLE groups (
    path TEXT PRIMARY KEY, kind TEXT NOT NULL, key TEXT NOT NULL, name TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 0, UNIQUE (kind, key)
);
-- Published records only; ordered so a feed's page is an index range scan.
CREATE TABLE memberships (
    feed TEXT NOT NULL, published_at INTEGER NOT NULL, record_id TEXT NOT NULL,
    PRIMARY KEY (feed, published_at, record_id)
) WITHOUT ROWID;
""" + _BY_RECORD + """;
-- A rowid table: fragments are kilobytes, and WITHOUT ROWID rows that large are read ten
-- times slower (https://www.sqlite.org/withoutrowid.html#when_to_use_without_rowid).
CREATE TABLE fragments (
    record_id TEXT NOT NULL, format TEXT NOT NULL, key TEXT NOT NULL, body BLOB NOT NULL,
    PRIMARY KEY (record_id, format)
);
""" + _CHANGES

class SQLiteStore:
    """A connection to the store file; one per thread or process."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self.db = connection
        self.path = path
        # Within one transaction: group paths looked up (groups are never deleted, but a
        # rollback forgets those it created) and version bumps, applied once at commit.
        self._groups: dict[tuple[str, str], str] = {}
        self._bumps: set[str] | None = None
        # wait_for_change's own connection: this one may be pinned to an older snapshot.
        self._watcher: sqlite3.Connection | None = None
        self._watched: tuple[int | None, int] = (None, 0)  # its data_version, and the head then
        self._deferred = False  # defer_indexes() in this transaction

    @classmethod
    def open(cls, path: Path, page_cache_mb: int = 64) -> SQLiteStore:
        """Open (creating if needed) the store at ``path``; refuses a store of another version."""
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            # First: processes opening a new store at once wait for each other from here on.
            db.execute("PRAGMA busy_timeout=10000")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            # A cold ingest writes tens of megabytes of pages; SQLite's 2 MB default cache spills
            # them to the WAL mid-transaction and reads them back (about 10% of the writes' time).
            db.execute(f"PRAGMA cache_size=-{page_cache_mb * 1024}")
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not tables:
                # One transaction: a process killed while creating the store leaves none, not a
                # store without its version (which would then be refused).
                try:
                    db.executescript(
                        "BEGIN IMMEDIATE;" + _SCHEMA
                        + f"INSERT INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}');"
                        + _STORE_ID
                        + f"INSERT INTO groups (path, kind, key, name) VALUES ('{ALL_FEED}', 'all', '', '');"
                        + "COMMIT;"
                    )
                except sqlite3.OperationalError:
                    # Server processes starting together: another one created it meanwhile.
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
                    if not tables:
                        raise
            if tables:
                row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
                if row is None or row[0] != SCHEMA_VERSION:
                    found = row[0] if row else "unknown"
                    raise StoreError(
                        f"{path}: store format {found}, this version of feeds needs "
                        f"{SCHEMA_VERSION}; rebuild it from the seeds with "
                        f"`feeds ingest --rebuild`"
                    )
                if "changes" not in tables:
                    db.executescript(_CHANGES)
                if db.execute(_STATE).fetchone()[0] is None:  # a store made before it had an id
                    db.execute(_STORE_ID)
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{path}: not a usable store ({exc}); rebuild it from the seeds with "
                f"`feeds ingest --rebuild`"
            ) from None
        return cls(db, path)

    @property
    def location(self) -> str:
        return str(self.path)

    def close(self) -> None:
        self.db.close()
        if self._watcher is not None:
            self._watcher.close()

    def shrink_memory(self) -> None:
        """Give back the memory of the page cache (it fills up again as pages are read)."""
        self.db.execute("PRAGMA shrink_memory")

    def pin(self) -> None:
        """Hold one read snapshot until ``unpin``: every read sees the same committed state.

        WAL readers are never blocked by the writer: https://www.sqlite.org/wal.html#concurrency
        """
        self.unpin()
        self.db.execute("BEGIN")
        self.db.execute("SELECT 1 FROM meta LIMIT 1").fetchone()

    def unpin(self) -> None:
        if self.db.in_transaction:
            self.db.execute("COMMIT")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: an interrupted ingest leaves the previous state intact."""
        self.db.execute("BEGIN IMMEDIATE")
        self._groups.clear()
        bumps = self._bumps = set()
        self._deferred = False
        try:
            yield
            if self._deferred:
                self.db.execute(_BY_RECORD)
            self.db.executemany(
                # Once per transaction, however many writes it took: the same ingest gives the
                # same versions in batches of any size.
                "UPDATE groups SET version = version + 1 WHERE path=?", [(feed,) for feed in bumps],
            )
            if bumps:
                self.db.execute("INSERT INTO changes (feeds, at) VALUES (?, ?)",
                                (json.dumps(sorted(bumps)), int(time.time())))
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        finally:
            self._groups.clear()
            self._bumps = None
        self.db.execute("COMMIT")

    def defer_indexes(self) -> None:
        """In a transaction filling an empty store: drop the index that only deletes use, and
        build it again as the transaction commits (sorting once is faster than inserting row
        by row; a rollback brings the old index back)."""
        assert self._bumps is not None, "store changes are made inside SQLiteStore.transaction()"
        self.db.execute("DROP INDEX IF EXISTS memberships_by_record")
        self._deferred = True

    # -- the change log ------------------------------------------------------------------------

    def head(self) -> int:
        """The sequence number of the newest committed change (as this connection sees it); 0 if none."""
        return int(self.db.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0])

    def state(self) -> str:
        store_id, head = self.db.execute(_STATE).fetchone()
        return f"{store_id}:{head}"

    def changes_since(self, seq: int) -> tuple[int, frozenset[str]]:
        """The head, and every feed changed by the changes after ``seq`` up to it (one read)."""
        rows = self.db.execute("SELECT seq, feeds FROM changes WHERE seq > ? ORDER BY seq",
                               (seq,)).fetchall()
        if not rows:
            return self.head(), frozenset()
        return int(rows[-1][0]), frozenset(feed for _, feeds in rows for feed in json.loads(feeds))

    def wait_for_change(self, seq: int, timeout: float) -> int:
        """Block until the head passes ``seq`` or ``timeout`` seconds pass; returns the head.

        For a thread of its own. ``PRAGMA data_version`` changes when another connection
        commits, and reads no page while nothing did, so the head is read again only then:
        https://www.sqlite.org/pragma.html#pragma_data_version
        """
        if self._watcher is None:
            self._watcher = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        deadline = time.monotonic() + timeout
        while True:
            version = self._watcher.execute("PRAGMA data_version").fetchone()[0]
            if version != self._watched[0]:
                head = self._watcher.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
                self._watched = (version, int(head))
            if self._watched[1] > seq or time.monotonic() >= deadline:
                return self._watched[1]
            time.sleep(CHANGE_POLL_SECONDS)

    # -- files -------------------------------------------------------------------------------

    def file_stamps(self) -> dict[str, tuple[int, int, str]]:
        rows = self.db.execute("SELECT path, size, mtime_ns, digest FROM files")
        return {row[0]: row[1:] for row in rows}

    def touch_file(self, path: str, state: FileState) -> None:
        """Record a new size and mtime for a file whose content did not change."""
        self.db.execute(
            "UPDATE files SET size=?, mtime_ns=? WHERE path=?", (state.size, state.mtime_ns, path)
        )

    def rejected(self) -> list[tuple[str, str]]:
        """Files currently rejected, with the reason."""
        rows = self.db.execute("SELECT path, error FROM files WHERE error IS NOT NULL ORDER BY path")
        return [(path, error) for path, error in rows]

    def record_path(self, record_id: str) -> str | None:
        row = self.db.execute("SELECT path FROM records WHERE id=?", (record_id,)).fetchone()
        return None if row is None else str(row[0])

    # -- changes (call inside a transaction) -------------------------------------------------

    def remove_files(self, paths: Sequence[str]) -> set[str]:
        """Forget files and their records; returns the feeds that changed."""
        known = self._holders(paths, (), ())
        return self._remove([h.path for h in known],
                            [h.record_id for h in known if h.record_id is not None])

    def retry_paths(self) -> set[str]:
        """Rejected files to parse again even though they did not change."""
        return {r[0] for r in self.db.execute("SELECT path FROM files WHERE retry = 1")}

    def retried(self) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key='retried'").fetchone()
        return None if row is None else str(row[0])

    def note_retried(self, mark: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('retried', ?)", (mark,))

    def write_files(self, batch: Sequence[Outcome]) -> Written:
        """Store what became of a batch of files, in path order (see ``batch.settle``); returns
        the feeds that changed and the files rejected."""
        holders = self._holders([o.path for o in batch],
                                [o.result.id for o in batch if isinstance(o.result, StoredRecord)],
                                [o.result.web_url for o in batch
                                 if isinstance(o.result, StoredRecord)])
        plan = settle(batch, holders)
        changed = self._remove(plan.removed, plan.owned)
        self.db.executemany("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?)", [
            *((s.path, s.state.size, s.state.mtime_ns, s.state.digest, s.record.id, None, 0)
              for s in plan.stored),
            *((r.path, r.state.size, r.state.mtime_ns, r.state.digest, None, r.error, int(r.retry))
              for r in plan.rejected)])
        self.db.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?)", [
            (s.record.id, s.path, s.state.digest, s.record.web_url,
             SCHEDULED if s.record.published and s.scheduled else int(s.record.published),
             s.record.published_at, s.record.data) for s in plan.stored])
        self.db.executemany("INSERT INTO filters VALUES (?, ?, ?, ?)", [
            (s.record.id, s.record.quality, s.record.heat, s.record.words) for s in plan.stored])
        members: list[tuple[str, int, str]] = []
        for s in plan.stored:
            if s.record.published and not s.scheduled:
                members += ((feed, s.record.published_at, s.record.id)
                            for feed in self._feeds_of(s.record.provider_domain,
                                                       s.record.provider_name, s.record.topics))
        self.db.executemany("INSERT INTO memberships VALUES (?, ?, ?)", members)
        changed.update(feed for feed, _, _ in members)
        self._bump(changed)
        return Written(changed, list(plan.errors), plan.freed)

    def _holders(self, paths: Sequence[str], ids: Sequence[str],
                 urls: Sequence[str]) -> list[Holder]:
        """The stored files named ``paths``, and those whose record has one of ``ids`` or
        ``urls``: each list is one JSON parameter, searched through its index."""
        rows = self.db.execute(
            "SELECT f.path, f.size, f.mtime_ns, f.digest, r.id, r.url FROM files f "
            "LEFT JOIN records r ON r.id = f.record_id AND r.path = f.path "
            "WHERE f.path IN (SELECT value FROM json_each(?)) UNION "
            "SELECT f.path, f.size, f.mtime_ns, f.digest, r.id, r.url FROM records r "
            "JOIN files f ON f.path = r.path WHERE r.id IN (SELECT value FROM json_each(?)) UNION "
            "SELECT f.path, f.size, f.mtime_ns, f.digest, r.id, r.url FROM records r "
            "JOIN files f ON f.path = r.path WHERE r.url IN (SELECT value FROM json_each(?))",
            (json.dumps(paths), json.dumps(ids), json.dumps(urls)))
        return holders(rows)

    def _remove(self, paths: Sequence[str], owned: Sequence[str]) -> set[str]:
        """Delete the files ``paths`` and the records ``owned`` (by those files); returns the
        feeds that changed."""
        if not paths:
            return set()
        ids = json.dumps(owned)
        feeds = {r[0] for r in self.db.execute(
            "SELECT DISTINCT feed FROM memberships WHERE record_id IN "
            "(SELECT value FROM json_each(?))", (ids,))}
        for table, column in (("memberships", "record_id"), ("records", "id"),
                              ("filters", "record_id"), ("fragments", "record_id")):
            self.db.execute(f"DELETE FROM {table} WHERE {column} IN "
                            "(SELECT value FROM json_each(?))", (ids,))
        self.db.execute("DELETE FROM files WHERE path IN (SELECT value FROM json_each(?))",
                        (json.dumps(paths),))
        self._bump(feeds)
        return feeds

    def _feeds_of(self, provider_domain: str, provider_name: str,
                  topics: Iterable[str]) -> list[str]:
        """The feeds a published record joins: everything, its provider's, its topics'."""
        feeds = [ALL_FEED, self._group("providers", provider_domain, provider_name)]
        return feeds + [self._group("topics", topic.casefold(), topic) for topic in topics]

    def release_due(self, now: int) -> set[str]:
        """Publish the scheduled records dated ``now`` (epoch seconds) or earlier; returns the
        feeds that changed."""
        due = self.db.execute(
            "SELECT id, published_at, data FROM records WHERE published = ? AND published_at <= ?",
            (SCHEDULED, now),
        ).fetchall()
        changed: set[str] = set()
        for record_id, at, data in due:
            # The stored JSON is Record.to_dict(): provider is [name, domain].
            fields = json.loads(data)
            name, domain = fields["provider"]
            feeds = self._feeds_of(domain, name, fields["topics"])
            self.db.executemany("INSERT INTO memberships VALUES (?, ?, ?)",
                                [(feed, at, record_id) for feed in feeds])
            changed.update(feeds)
            self.db.execute("UPDATE records SET published = 1 WHERE id = ?", (record_id,))
        self._bump(changed)
        return changed

    def next_due(self) -> datetime | None:
        """When the earliest scheduled record falls due, if any is waiting."""
        row = self.db.execute(
            "SELECT min(published_at) FROM records WHERE published = ?", (SCHEDULED,)
        ).fetchone()
        return moment(row[0])

    def _group(self, kind: str, key: str, name: str) -> str:
        known = self._groups.get((kind, key))
        if known is not None:
            return known
        row = self.db.execute("SELECT path FROM groups WHERE kind=? AND key=?", (kind, key)).fetchone()
        if row is not None:
            path = str(row[0])
        else:
            taken = _Taken(self.db, kind)
            path = f"{kind}/{unique_slug(key, taken)}"
            self.db.execute(
                "INSERT INTO groups (path, kind, key, name) VALUES (?, ?, ?, ?)",
                (path, kind, key, name),
            )
        self._groups[kind, key] = path
        return path

    def _bump(self, feeds: Iterable[str]) -> None:
        """Count a change to each of ``feeds``; versions are updated once, as the transaction ends."""
        assert self._bumps is not None, "store changes are made inside SQLiteStore.transaction()"
        self._bumps.update(feeds)

    # -- reading -----------------------------------------------------------------------------

    def feeds(self) -> list[FeedRow]:
        """Every feed with at least one published record, plus ``all`` always."""
        return [feed_row(row) for row in self.db.execute(FEEDS_SQL)]

    def group_paths(self, kind: str) -> dict[str, str]:
        """Feed paths of one kind by key: casefolded topic name or provider domain."""
        rows = self.db.execute("SELECT key, path FROM groups WHERE kind=?", (kind,))
        return {key: path for key, path in rows}

    def entry_ids(self, feed: str, offset: int, limit: int) -> list[str]:
        """Record ids of ``feed`` oldest first (ties by id), positions ``offset`` to ``+limit``."""
        rows = self.db.execute(
            "SELECT record_id FROM memberships WHERE feed=? "
            "ORDER BY published_at, record_id LIMIT ? OFFSET ?",
            (feed, limit, offset),
        )
        return [r[0] for r in rows]

    def matching_entries(self, feed: str, query: FeedQuery, limit: int,
                         scan: int) -> list[tuple[str, int]]:
        """(record id, published_at epoch) of the newest ``limit`` entries of ``feed`` that pass
        ``query``'s filters, newest first, looking at no more than its newest ``scan`` entries."""
        condition, values = sql_condition(query, "?", "instr")
        # The oldest date among the newest ``scan`` entries bounds the walk; the walk itself goes
        # down the memberships index newest first and stops at ``limit`` matches.
        cutoff = self.db.execute(
            "SELECT published_at FROM memberships WHERE feed = ? "
            "ORDER BY published_at DESC, record_id DESC LIMIT 1 OFFSET ?", (feed, scan - 1)
        ).fetchone()
        rows = self.db.execute(
            "SELECT m.record_id, m.published_at FROM memberships m "
            "CROSS JOIN filters r ON r.record_id = m.record_id "
            f"WHERE m.feed = ? AND m.published_at >= ? AND {condition} "
            "ORDER BY m.published_at DESC, m.record_id DESC LIMIT ?",
            (feed, cutoff[0] if cutoff else 0, *values, limit),
        )
        return rows.fetchall()

    def feed_entries(self, feed: str) -> list[tuple[str, int]]:
        """Every (record id, published_at epoch) of ``feed``, oldest first (ties by id).

        One index range scan; slicing it is how a build pages through a feed, since OFFSET
        would walk the index from the start for every page.
        """
        rows = self.db.execute(
            "SELECT record_id, published_at FROM memberships WHERE feed=? "
            "ORDER BY published_at, record_id", (feed,)
        )
        return rows.fetchall()

    def record_rows(self, ids: Sequence[str]) -> list[tuple[str, str]]:
        """(id, stored JSON) of the records with ``ids``, in that order."""
        found: dict[str, str] = {}
        for chunk_start in range(0, len(ids), 500):
            chunk = ids[chunk_start:chunk_start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(self.db.execute(f"SELECT id, data FROM records WHERE id IN ({marks})", chunk))
        return [(i, found[i]) for i in ids]

    def record_digests(self) -> dict[str, str]:
        """Each record's file digest, read from the files' small rows (write_files stores the
        same digest with the file and its record; the records' rows are large and slower)."""
        return dict(self.db.execute("SELECT record_id, digest FROM files WHERE record_id IS NOT NULL"))

    def records(self, ids: Sequence[str]) -> list[Record]:
        """The records with ``ids``, in that order."""
        return [Record.from_dict(json.loads(data)) for _, data in self.record_rows(ids)]

    def published_at(self, record_id: str) -> datetime | None:
        row = self.db.execute("SELECT published_at FROM records WHERE id=?", (record_id,)).fetchone()
        return None if row is None else moment(row[0])

    def published_ids(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT id FROM records WHERE published=1")}

    def unpublished_ids(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT id FROM records WHERE published=0")}

    def fragments(self, ids: Sequence[str], fmt: str, key: str, bodies: bool = True) -> dict[str, bytes]:
        """Cached entry fragments for ``ids`` rendered under ``key`` (renderer and settings).

        With ``bodies=False`` only which ones exist (the values are empty).
        """
        found: dict[str, bytes] = {}
        column = "body" if bodies else "x''"
        for chunk_start in range(0, len(ids), 500):
            chunk = ids[chunk_start:chunk_start + 500]
            marks = ",".join("?" * len(chunk))
            # The primary key is (record_id, format): an IN on both is one lookup per id.
            for record_id, body, stored_key in self.db.execute(
                f"SELECT record_id, {column}, key FROM fragments WHERE format=? "
                f"AND record_id IN ({marks})",
                [fmt, *chunk],
            ):
                if stored_key == key:
                    found[record_id] = bytes(body)
        return found

    def missing_fragments(self, ids: Sequence[str], fmt: str, key: str) -> list[str]:
        """Those of ``ids`` with no fragment in ``fmt`` rendered under ``key``."""
        have = self.fragments(ids, fmt, key, bodies=False)
        return [i for i in ids if i not in have]

    def feeds_of(self, record_id: str) -> list[str]:
        """The feeds a published record appears in, ``all`` first."""
        rows = self.db.execute(
            "SELECT feed FROM memberships WHERE record_id=? ORDER BY feed != 'all', feed", (record_id,)
        )
        return [r[0] for r in rows]

    def put_fragments(self, fmt: str, key: str, bodies: dict[str, bytes]) -> None:
        self.put_fragment_rows(key, [(record_id, fmt, body) for record_id, body in bodies.items()])

    def put_fragment_rows(self, key: str, rows: Sequence[tuple[str, str, bytes]]) -> int:
        """Store (record id, format, body) fragments rendered under ``key``; returns how many."""
        values = [(record_id, fmt, key, body) for record_id, fmt, body in rows]
        if self.db.in_transaction:
            self.db.executemany("INSERT OR REPLACE INTO fragments VALUES (?, ?, ?, ?)", values)
        else:
            with self.transaction():
                self.db.executemany("INSERT OR REPLACE INTO fragments VALUES (?, ?, ?, ?)", values)
        return len(values)

    def counts(self) -> dict[str, int]:
        one = self.db.execute
        return {
            "records": one("SELECT count(*) FROM records").fetchone()[0],
            "published": one("SELECT count(*) FROM records WHERE published=1").fetchone()[0],
            "scheduled": one("SELECT count(*) FROM records WHERE published=?",
                             (SCHEDULED,)).fetchone()[0],
            "rejected": one("SELECT count(*) FROM files WHERE error IS NOT NULL").fetchone()[0],
        }


class _Taken:
    """The slugs already used by one kind of group, looked up lazily."""

    def __init__(self, db: sqlite3.Connection, kind: str) -> None:
        self.db = db
        self.kind = kind

    def __contains__(self, slug: object) -> bool:
        row = self.db.execute("SELECT 1 FROM groups WHERE path=?", (f"{self.kind}/{slug}",))
        return row.fetchone() is not None

