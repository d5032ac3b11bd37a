"""The store: records, which feed holds which record, and cached entry fragments.

``Store`` is what the rest of feeds asks of a store; ``open_store`` picks the backend from
the location: a file path is SQLite (``sqlite.py``, the embedded default), a
``postgresql://`` URL is PostgreSQL (``postgres.py``, shared by several nodes). Both pass
the same contract tests (``tests/test_store.py``).

No store holds a ``secured`` value: nothing we publish needs it, and data that is never
stored can never leak from a backup, a log or a debugging session.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit, urlunsplit

from feeds.filters import FeedQuery, words_of
from feeds.model import Record

if TYPE_CHECKING:
    from feeds.store.batch import Outcome, Written

__all__ = ["ALL_FEED", "HELD_PREFIX", "SCHEDULED", "FeedRow", "FileState", "Store", "StoredRecord",
           "describe_location", "is_database_url", "open_store"]

ALL_FEED = "all"
# The path under which a store keeps records the publishing API wrote straight into it (a
# node that does not ingest): no seeds folder holds them, so no ingest ever removes them.
HELD_PREFIX = "api/"
# The ``published`` value of a record held back until its date (a scheduled record): stored,
# but outside the memberships until ``release_due`` publishes it.
SCHEDULED = 2
# libpq's URI schemes: https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS
_DATABASE_SCHEMES = ("postgresql://", "postgres://")


# Slots: an ingest holds one per record file (half the memory of one with a __dict__).
@dataclass(frozen=True, slots=True)
class FileState:
    size: int
    mtime_ns: int
    digest: str

    def __reduce__(self) -> tuple[type[FileState], tuple[int, int, str]]:
        # Pickled as its three values: an ingest's workers send one per file, and the slots
        # dataclass's own state functions (Python, by field) took twice the time to pickle.
        return FileState, (self.size, self.mtime_ns, self.digest)


@dataclass(frozen=True)
class StoredRecord:
    """A record as the store writes it: its JSON and the fields the store indexes.

    Made where the record is parsed (a pool worker), so the writing process neither encodes
    JSON nor unpickles a tree of dataclasses per record.
    """

    id: str
    web_url: str
    published: bool
    published_at: int  # seconds since the epoch
    provider_domain: str
    provider_name: str
    topics: tuple[str, ...]
    quality: int | None
    heat: int | None
    words: str
    data: str

    @classmethod
    def of(cls, record: Record) -> StoredRecord:
        words = words_of(f"{record.title}\n{record.excerpt or ''}")
        return cls(
            id=record.id,
            web_url=record.web_url,
            published=record.published,
            published_at=epoch(record.published_at),
            provider_domain=record.provider.domain,
            provider_name=record.provider.name,
            topics=record.topics,
            quality=record.quality,
            heat=record.heat,
            # Spaces on both sides of every word: a whole word is one substring test.
            words=f" {' '.join(words)} ",
            data=json.dumps(record.to_dict(), ensure_ascii=False, separators=(",", ":")),
        )


@dataclass(frozen=True)
class FeedRow:
    """A feed as the store knows it: ``path`` is ``all``, ``topics/<slug>`` or ``providers/<slug>``."""

    path: str
    kind: str
    name: str
    version: int
    count: int
    newest: datetime | None
    oldest: datetime | None


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def moment(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


# Every feed with at least one published record, plus ``all`` always, as ``feed_row`` reads
# them: plain SQL that both backends run as it is.
FEEDS_SQL = """
SELECT g.path, g.kind, g.name, g.version, count(m.record_id),
       max(m.published_at), min(m.published_at)
FROM groups g LEFT JOIN memberships m ON m.feed = g.path
GROUP BY g.path HAVING count(m.record_id) > 0 OR g.kind = 'all'
ORDER BY g.kind, g.path
"""


def feed_row(row: tuple[str, str, str, int, int, int | None, int | None]) -> FeedRow:
    """A FeedRow from (path, kind, name, version, count, newest epoch, oldest epoch)."""
    path, kind, name, version, count, newest, oldest = row
    return FeedRow(path, kind, name, version, count, moment(newest), moment(oldest))


def is_held(path: str) -> bool:
    """Whether ``path`` names a record the API wrote straight into the store (no seeds file)."""
    return path.startswith(HELD_PREFIX)


def is_database_url(location: str | Path) -> bool:
    """A ``postgresql://`` (or ``postgres://``) URL rather than a file path."""
    return isinstance(location, str) and location.startswith(_DATABASE_SCHEMES)


def describe_location(location: str | Path) -> str:
    """The location for messages and logs, without a password a URL may carry."""
    if not is_database_url(location):
        return str(location)
    parts = urlsplit(str(location))
    if parts.password is None:
        return str(location)
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class Store(Protocol):
    """What feeds asks of a store. Changes are made inside ``transaction()``; each returns the
    feeds it changed, whose versions are bumped once, as the transaction commits."""

    @property
    def location(self) -> str:
        """The store for messages: a file path, or a URL without its password."""

    def close(self) -> None: ...

    def shrink_memory(self) -> None:
        """Give back memory a bulk write used (a build forks workers next)."""

    def pin(self) -> None:
        """Hold one read snapshot until ``unpin``: every read sees the same committed state."""

    def unpin(self) -> None: ...

    def transaction(self) -> AbstractContextManager[None]:
        """All or nothing; writers are serialized, so versions stay monotonic."""

    def defer_indexes(self) -> None:
        """Inside a transaction filling an empty store: build indexes only deletes use once,
        as it commits, if the backend gains by it."""

    # -- files -------------------------------------------------------------------------------
    def file_stamps(self) -> dict[str, tuple[int, int, str]]:
        """Every stored file's (size, mtime_ns, digest), as plain tuples: what every ingest compares
        the seeds folder with, so no object is made per file."""
    def touch_file(self, path: str, state: FileState) -> None: ...
    def rejected(self) -> list[tuple[str, str]]: ...
    def record_path(self, record_id: str) -> str | None: ...

    # -- changes (inside a transaction) --------------------------------------------------------
    def remove_files(self, paths: Sequence[str]) -> set[str]: ...
    def retry_paths(self) -> set[str]: ...
    def retried(self) -> str | None:
        """What the last ingest that parsed the ``retry_paths`` again noted (``feeds.ingest``)."""

    def note_retried(self, mark: str) -> None:
        """Note ``mark`` as ``retried`` (inside a transaction)."""
    def write_files(self, batch: Sequence[Outcome]) -> Written:
        """Store what became of a batch of files (in path order, each once): records, or
        rejections, settled as ``batch.settle`` says, in a few bulk statements. Returns the
        feeds that changed, the files rejected and whether a stored file gave up an id or URL.
        A ``scheduled`` record is kept (counted as ``scheduled``) but joins no feed until
        ``release_due`` reaches its date."""

    def release_due(self, now: int) -> set[str]:
        """Publish the scheduled records dated ``now`` (epoch seconds) or earlier."""

    # -- reading -----------------------------------------------------------------------------
    def feeds(self) -> list[FeedRow]: ...
    def group_paths(self, kind: str) -> dict[str, str]: ...
    def entry_ids(self, feed: str, offset: int, limit: int) -> list[str]: ...
    def matching_entries(self, feed: str, query: FeedQuery, limit: int,
                         scan: int) -> list[tuple[str, int]]:
        """(id, published_at) of the newest ``limit`` entries of ``feed`` passing ``query``,
        newest first, among its newest ``scan``."""

    def next_due(self) -> datetime | None:
        """When the earliest scheduled record falls due, if any is waiting."""

    def feed_entries(self, feed: str) -> list[tuple[str, int]]: ...
    def record_rows(self, ids: Sequence[str]) -> list[tuple[str, str]]: ...
    def record_digests(self) -> dict[str, str]: ...
    def records(self, ids: Sequence[str]) -> list[Record]: ...
    def published_at(self, record_id: str) -> datetime | None: ...
    def published_ids(self) -> set[str]: ...
    def unpublished_ids(self) -> set[str]: ...
    def fragments(self, ids: Sequence[str], fmt: str, key: str,
                  bodies: bool = True) -> dict[str, bytes]: ...
    def missing_fragments(self, ids: Sequence[str], fmt: str, key: str) -> list[str]: ...
    def feeds_of(self, record_id: str) -> list[str]: ...
    def put_fragments(self, fmt: str, key: str, bodies: dict[str, bytes]) -> None: ...
    def put_fragment_rows(self, key: str, rows: Sequence[tuple[str, str, bytes]]) -> int: ...
    def counts(self) -> dict[str, int]: ...

    # -- the change log (one entry per committed transaction that changed feeds) -------------
    def head(self) -> int:
        """The sequence number of the newest committed change (as this snapshot sees it); 0 if none."""

    def changes_since(self, seq: int) -> tuple[int, frozenset[str]]:
        """The head, and every feed changed by the changes after ``seq`` up to it."""

    def state(self) -> str:
        """A token of what the store holds for documents: this store's id (made once, when it
        is created) and its head, so no two stores, nor two states of one, share it (an export
        compares it with the one it was built from: ``feeds.export.stamp``)."""

    def wait_for_change(self, seq: int, timeout: float) -> int:
        """Block (in a thread of its own) until the head passes ``seq`` or ``timeout`` seconds
        pass; returns the head."""


def open_store(location: str | Path, page_cache_mb: int = 64) -> Store:
    """Open (creating if needed) the store at ``location``: a ``postgresql://`` URL, else a file.

    ``page_cache_mb`` sizes SQLite's page cache (PostgreSQL keeps its own).
    """
    if is_database_url(location):
        from feeds.store.postgres import PostgresStore

        return PostgresStore.open(str(location))
    from feeds.store.sqlite import SQLiteStore

    return SQLiteStore.open(Path(location), page_cache_mb)
