"""A batch of files an ingest read, settled as one: which records to store, which to reject.

Both backends write a batch in a few bulk statements (one query for the records already
stored that the batch touches or rivals, then one ``executemany`` per table); ``settle``,
pure, decides what those statements write, exactly as taking the files one at a time in
name order would: two files with one id or URL, the file name that sorts first wins,
whatever came first, and the loser is kept as a rejection to retry.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from feeds.errors import RecordError
from feeds.store import FileState, StoredRecord

__all__ = ["Holder", "Outcome", "Plan", "Rejection", "Stored", "Written", "holders", "settle"]

_REASON = "which has the same {} and wins because its name sorts first"


@dataclass(frozen=True)
class Outcome:
    """What became of one file: its record (``scheduled``: held until its date) or why not."""

    path: str
    state: FileState
    result: StoredRecord | RecordError
    scheduled: bool = False


@dataclass(frozen=True)
class Stored:
    """A record to store as the content of ``path``."""

    path: str
    state: FileState
    record: StoredRecord
    scheduled: bool


@dataclass(frozen=True)
class Holder:
    """A file the store holds that the batch replaces or may rival: its record's id and URL,
    or None for a file stored as a rejection."""

    path: str
    state: FileState
    record_id: str | None
    url: str | None


def holders(rows: Iterable[tuple[str, int, int, str, str | None, str | None]]) -> list[Holder]:
    """Holders from rows of (path, size, mtime_ns, digest, record id, URL): what both backends'
    one query for a batch reads (files joined to the records they hold)."""
    return [Holder(path, FileState(size, mtime, digest), record_id, url)
            for path, size, mtime, digest, record_id, url in rows]


@dataclass(frozen=True)
class Rejection:
    """A file row to store as rejected: its state, the reason, and whether to parse it again
    although it does not change (a duplicate may win once its rival goes)."""

    path: str
    state: FileState
    error: str
    retry: bool


@dataclass(frozen=True)
class Plan:
    """What a batch writes: first every ``removed`` path's file row and the records those
    files own (``owned``), then the ``stored`` records and the ``rejected`` files."""

    removed: tuple[str, ...]
    owned: tuple[str, ...]
    stored: tuple[Stored, ...]
    rejected: tuple[Rejection, ...]
    errors: tuple[RecordError, ...]
    # Whether a stored file gave up an id or URL it held: rejected now (broken, or beaten by a
    # name sorting first) or holding another. Only then may a rejected duplicate win.
    freed: bool


@dataclass(frozen=True)
class Written:
    """What ``Store.write_files`` did with a batch: the feeds it changed, the files it rejected
    and whether a stored file gave up an id or URL (``Plan.freed``: the ingest then parses the
    duplicates rejected earlier again)."""

    changed: set[str]
    rejected: list[RecordError]
    freed: bool


class _Live:
    """The records held as the batch goes, by path, and who holds each id and URL."""

    def __init__(self, holders: Iterable[Holder]) -> None:
        self.at: dict[str, tuple[str, str]] = {}
        self.ids: dict[str, set[str]] = {}
        self.urls: dict[str, set[str]] = {}
        for holder in holders:
            if holder.record_id is not None and holder.url is not None:
                self.add(holder.path, holder.record_id, holder.url)

    def add(self, path: str, record_id: str, url: str) -> None:
        self.at[path] = (record_id, url)
        self.ids.setdefault(record_id, set()).add(path)
        self.urls.setdefault(url, set()).add(path)

    def drop(self, path: str) -> None:
        held = self.at.pop(path, None)
        if held is not None:
            self.ids[held[0]].discard(path)
            self.urls[held[1]].discard(path)

    def rivals(self, path: str, record: StoredRecord) -> list[tuple[str, str]]:
        """Other paths holding the record's id or URL, as (path, field) sorted by path."""
        others = self.ids.get(record.id, set()) | self.urls.get(record.web_url, set())
        return [(other, "id" if self.at[other][0] == record.id else "webUrl")
                for other in sorted(others - {path})]


def settle(batch: Sequence[Outcome], holders: Iterable[Holder]) -> Plan:
    """The plan for ``batch`` (in path order, each path once), given the ``holders``: every
    stored file the batch names, and every stored record with one of its ids or URLs."""
    holders = list(holders)
    states = {holder.path: holder.state for holder in holders}
    live = _Live(holders)
    final: dict[str, Stored | Rejection] = {}
    errors: list[RecordError] = []
    for outcome in batch:
        path, result = outcome.path, outcome.result
        if isinstance(result, StoredRecord):
            rivals = live.rivals(path, result)
            if rivals and rivals[0][0] < path:
                other, field = rivals[0]
                result = RecordError(path, field, f"duplicate of {other}, {_REASON.format(field)}",
                                     retry=True)
            else:
                for other, field in rivals:
                    live.drop(other)
                    final[other] = Rejection(
                        other, states[other],
                        f"{field}: duplicate of {path}, {_REASON.format(field)}", True)
        live.drop(path)
        if isinstance(result, RecordError):
            errors.append(result)
            final[path] = Rejection(path, outcome.state, f"{result.field}: {result.reason}",
                                    result.retry)
        else:
            live.add(path, result.id, result.web_url)
            final[path] = Stored(path, outcome.state, result, outcome.scheduled)
    removed = tuple(path for path in final if path in states)
    claims = {holder.path: (holder.record_id, holder.url) for holder in holders
              if holder.record_id is not None}
    return Plan(
        removed=removed,
        owned=tuple(claims[path][0] for path in removed if path in claims),
        stored=tuple(item for item in final.values() if isinstance(item, Stored)),
        rejected=tuple(item for item in final.values() if isinstance(item, Rejection)),
        errors=tuple(errors),
        freed=any(path in claims and not (isinstance(item, Stored) and (
            item.record.id, item.record.web_url) == claims[path]) for path, item in final.items()),
    )
