"""Ingest: bring the store in line with the seeds directory, parsing only what changed."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from feeds.config import Settings
from feeds.errors import RecordError
from feeds.model import Record
from feeds.parse import (
    identifying_url,
    load_front_matter,
    record_id_from_name,
    record_id_from_url,
)
from feeds.pool import Workers
from feeds.store import HELD_PREFIX, FileState, Store, StoredRecord, is_held
from feeds.store.batch import Outcome
from feeds.validate import record_from_mapping

__all__ = ["IngestReport", "ingest", "ingest_held", "is_scheduled", "parse_record", "release",
           "scan_seeds", "unpublish_held"]

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class IngestReport:
    seen: int = 0
    ingested: int = 0
    unchanged: int = 0
    rejected: int = 0
    removed: int = 0
    errors: tuple[RecordError, ...] = ()
    changed_feeds: frozenset[str] = field(default_factory=frozenset)

    def summary(self) -> str:
        return (
            f"{self.seen} files seen, {self.ingested} ingested, {self.unchanged} unchanged, "
            f"{self.rejected} rejected, {self.removed} removed"
        )


def scan_seeds(seeds_dir: Path) -> dict[str, tuple[int, int]]:
    """The record files in ``seeds_dir`` (``*.txt``, not hidden: editors' and sync tools' temp
    files) → (size, mtime_ns).

    Two numbers rather than the ``stat_result``: under a third of its memory (550 MB less at
    1,000,000 files).
    """
    found = {}
    with os.scandir(seeds_dir) as entries:
        for entry in entries:
            if entry.name.endswith(".txt") and not entry.name.startswith(".") and entry.is_file():
                stat = entry.stat()
                found[entry.name] = (stat.st_size, stat.st_mtime_ns)
    return found


def parse_record(name: str, data: bytes, max_bytes: int, now: datetime | None = None) -> Record:
    """Parse and validate one record file's bytes; raises RecordError."""
    mapping = load_front_matter(data, name, max_bytes)
    record_id = record_id_from_name(name) or record_id_from_url(identifying_url(mapping, name))
    return record_from_mapping(mapping, name, record_id, now)


def is_scheduled(published_at: int, now: int, tolerance: int) -> bool:
    """True when a record dated ``published_at`` is held until then rather than published now.

    Up to ``tolerance`` seconds ahead is taken for the writer's clock running fast, not a plan.
    """
    return published_at > now + tolerance


def release(store: Store, now: datetime) -> IngestReport:
    """Publish the scheduled records whose date has come, without looking at the seeds."""
    with store.transaction():
        changed = store.release_due(_epoch(now))
    return IngestReport(changed_feeds=frozenset(changed))


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


# (file name, size, mtime, digest already stored or None to parse whatever the bytes)
_Job = tuple[str, int, int, str | None]
# What became of a file: unreadable (error), unchanged bytes (state only), or parsed.
_Outcome = tuple[str, FileState | None, StoredRecord | RecordError | None]
# Below this many files to read a pool costs more to start than it saves.
POOL_THRESHOLD = 500
# What a file the store does not know compares with: no size and mtime match it.
_NONE: tuple[int, int, str] = (-1, -1, "")
_CHUNK = 100


def _read(path: str) -> bytes:
    """A file's bytes: unbuffered, as one read (a pathlib.Path per file cost as much again)."""
    with open(path, "rb", buffering=0) as file:
        return file.read()


def _read_and_parse(jobs: Sequence[_Job], seeds_dir: Path, max_bytes: int,
                    now: datetime) -> list[_Outcome]:
    """Read, hash and parse record files; touches no store, so it runs in pool workers."""
    out: list[_Outcome] = []
    folder = os.fspath(seeds_dir)
    for name, size, mtime_ns, known_digest in jobs:
        try:
            # Too large: refused from its size alone, without reading it into memory.
            data = b"" if size > max_bytes else _read(f"{folder}/{name}")
        except OSError as exc:
            out.append((name, None, RecordError(name, "file", f"cannot be read: {exc.strerror}")))
            continue
        digest = hashlib.sha256(data).hexdigest() if data else f"size:{size}"
        state = FileState(size, mtime_ns, digest)
        if known_digest == digest:
            out.append((name, state, None))
            continue
        try:
            if size > max_bytes:
                raise RecordError(name, "file", f"{size} bytes is over the limit of "
                                  f"{max_bytes} (max_record_bytes)")
            out.append((name, state, StoredRecord.of(parse_record(name, data, max_bytes, now))))
        except RecordError as error:
            out.append((name, state, error))
    return out


def ingest(store: Store, seeds_dir: Path, max_bytes: int,
           progress: Progress | None = None, now: datetime | None = None,
           workers: Workers | None = None,
           schedule_tolerance: int = Settings.schedule_tolerance) -> IngestReport:
    """Parse new and changed files, drop deleted ones, publish scheduled records now due, in
    one transaction.

    Files are read and parsed by ``workers`` when there are many; the store is
    written here, in file-name order, so the result does not depend on the pool.
    """
    now = now or datetime.now(UTC)
    now_epoch = _epoch(now)
    on_disk = scan_seeds(seeds_dir)
    # Records the API wrote straight into a shared store are no seeds folder's to remove.
    # Plain tuples compared, no object per file: this is all a build with nothing new does.
    known = store.file_stamps()
    removed = sorted(name for name in known.keys() - on_disk.keys() if not is_held(name))
    stale = [name for name, st in on_disk.items()
             if known.get(name, _NONE)[:2] != st]
    retryable = {name for name in store.retry_paths() if not is_held(name)}
    retry = retryable - set(stale)
    work = partial(_read_and_parse, seeds_dir=seeds_dir, max_bytes=max_bytes, now=now)
    changed: set[str] = set()
    errors: list[RecordError] = []
    ingested = touched_only = done = total = 0

    def write(names: list[str]) -> bool:
        """Parse and store ``names``; True if a stored file gave up an id or URL."""
        nonlocal ingested, touched_only, done
        jobs: list[_Job] = [
            (name, *on_disk[name],
             known[name][2] if name in known and name not in retryable else None)
            for name in names
        ]
        chunks = (jobs[start:start + _CHUNK] for start in range(0, len(jobs), _CHUNK))
        pool = workers if len(jobs) >= POOL_THRESHOLD else None
        if pool is not None and not known:
            store.defer_indexes()  # a cold load: nothing to delete until it commits
        freed = False
        for outcomes in (pool.map(work, chunks) if pool is not None else map(work, chunks)):
            batch: list[Outcome] = []
            unread: list[RecordError] = []
            for name, state, result in outcomes:
                if state is None:
                    assert isinstance(result, RecordError)
                    unread.append(result)
                elif result is None:
                    store.touch_file(name, state)
                    touched_only += 1
                else:
                    batch.append(Outcome(name, state, result, isinstance(result, StoredRecord)
                                         and is_scheduled(result.published_at, now_epoch,
                                                          schedule_tolerance)))
            written = store.write_files(batch)
            changed.update(written.changed)
            freed = freed or written.freed
            ingested += len(batch) - len(written.rejected)
            # Without their tracebacks: the report outlives this frame and its locals.
            errors.extend(error.with_traceback(None) for error in unread + written.rejected)
            done += len(outcomes)
            if progress is not None:
                progress(done, total)
        return freed

    with store.transaction():
        head = store.head()  # this transaction's writes are the only ones until it commits
        # Files rejected for a reason that may pass without them changing (a duplicate, a date
        # too far ahead) are parsed again only when something could have resolved them since
        # they were last tried: a file of the seeds went, a commit by another writer (a held
        # rival; compared here, in the transaction, so one just before it counts), another day,
        # or, found as this ingest writes, a file giving up an id or URL it held (then after the
        # changed files). Else every edit would parse every losing duplicate again: a second at
        # 100,000 records.
        retry_first = bool(retry) and (
            bool(removed) or store.retried() != f"{head}:{now.date().isoformat()}")
        tried = sorted(set(stale) | retry) if retry_first else sorted(stale)
        total = len(tried)
        changed |= store.release_due(now_epoch)
        changed |= store.remove_files(removed)
        if write(tried) and retry and not retry_first:
            # A stored file gave up an id or URL: a duplicate rejected earlier may win now.
            total += len(retry)
            write(sorted(retry))
            tried += sorted(retry)
    errors.sort(key=lambda error: error.path)
    # The files in retry were tried against the state this commit made, or nothing since their
    # last try could resolve them: noted, unless another writer committed meanwhile (then the
    # next ingest tries them again).
    if tried and store.head() == head + (1 if changed else 0):
        with store.transaction():
            store.note_retried(f"{head + (1 if changed else 0)}:{now.date().isoformat()}")
    # The pages written are committed: keep none (a build forks render workers next, and each
    # would count them as its own memory).
    store.shrink_memory()
    return IngestReport(
        seen=len(on_disk),
        ingested=ingested,
        unchanged=len(on_disk) - len(tried) + touched_only,
        rejected=len(errors),
        removed=len(removed),
        errors=tuple(errors),
        changed_feeds=frozenset(changed),
    )


def ingest_held(store: Store, name: str, data: bytes, max_bytes: int,
                now: datetime | None = None,
                schedule_tolerance: int = Settings.schedule_tolerance) -> IngestReport:
    """Store one record file's bytes straight into ``store``, under ``HELD_PREFIX + name``.

    For a node that does not ingest a seeds folder: the store is where its records live, so
    when this returns (committed) the record survives the node. The same rules as ``ingest``
    apply (validation, and the name sorting first wins a duplicate id or URL); a rejected
    record leaves the store as it was.
    """
    path = HELD_PREFIX + name
    now = now or datetime.now(UTC)
    try:
        record = StoredRecord.of(parse_record(name, data, max_bytes, now))
        state = FileState(len(data), time.time_ns(), hashlib.sha256(data).hexdigest())
        scheduled = is_scheduled(record.published_at, _epoch(now), schedule_tolerance)
        with store.transaction():
            written = store.write_files([Outcome(path, state, record, scheduled)])
            if written.rejected:
                raise written.rejected[0]  # and the transaction leaves the store as it was
    except RecordError as error:
        return IngestReport(seen=1, rejected=1, errors=(error.with_traceback(None),))
    return IngestReport(seen=1, ingested=1, changed_feeds=frozenset(written.changed))


def unpublish_held(store: Store, record_id: str) -> IngestReport:
    """Unpublish a record held in the store (``ingest_held``); it stays stored, as a record
    file with ``published: false`` stays in the seeds."""
    with store.transaction():
        path = store.record_path(record_id)
        if path is None or not is_held(path):
            return IngestReport()
        record = replace(store.records([record_id])[0], published=False)
        stored = StoredRecord.of(record)
        data = stored.data.encode()
        state = FileState(len(data), time.time_ns(), hashlib.sha256(data).hexdigest())
        changed = store.write_files([Outcome(path, state, stored)]).changed
    return IngestReport(seen=1, ingested=1, changed_feeds=frozenset(changed))
