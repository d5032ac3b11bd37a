from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from feeds.config import Settings
from feeds.errors import RecordError
from feeds.ingest import _read_and_parse, ingest, ingest_held, release, scan_seeds
from feeds.store import FileState, Store, open_store


def _ingest(store: Store, settings: Settings):  # type: ignore[no-untyped-def]
    return ingest(store, settings.seeds_dir, settings.max_record_bytes)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_ingest_publishes_samples_and_reports_summary(store: Store, settings: Settings) -> None:
    report = _ingest(store, settings)
    assert (report.seen, report.ingested, report.rejected, report.removed) == (9, 9, 0, 0)
    assert report.summary() == "9 files seen, 9 ingested, 0 unchanged, 0 rejected, 0 removed"
    assert len(store.published_ids()) == 7


def test_ingest_skips_unchanged_files(store: Store, settings: Settings) -> None:
    _ingest(store, settings)
    again = _ingest(store, settings)
    assert (again.ingested, again.unchanged, again.changed_feeds) == (0, 9, frozenset())


def test_ingest_touched_but_identical_file_is_unchanged(store: Store, settings: Settings) -> None:
    _ingest(store, settings)
    path = next(settings.seeds_dir.glob("*_5be20d8f93c1a647.txt"))
    os.utime(path, ns=(0, path.stat().st_mtime_ns + 5_000_000_000))
    again = _ingest(store, settings)
    assert (again.ingested, again.unchanged, again.changed_feeds) == (0, 9, frozenset())


def test_ingest_reports_bad_file_and_publishes_the_rest(store: Store, settings: Settings) -> None:
    (settings.seeds_dir / "009_00000000000000aa.txt").write_text(
        "---\ntitle: Broken\nwebUrl: ftp://example.com/\n---\n", encoding="utf-8"
    )
    report = _ingest(store, settings)
    assert (report.ingested, report.rejected) == (9, 1)
    (error,) = report.errors
    assert (error.path, error.field) == ("009_00000000000000aa.txt", "webUrl")
    assert "http(s)" in error.reason
    assert store.rejected() == [("009_00000000000000aa.txt", f"webUrl: {error.reason}")]
    assert len(store.published_ids()) == 7


def test_ingest_edit_replaces_the_record(store: Store, settings: Settings) -> None:
    _ingest(store, settings)
    path = next(settings.seeds_dir.glob("*_5be20d8f93c1a647.txt"))
    _edit(path, "  - Cybersecurity\n", "  - Cybersecurity\n  - Hospitals\n")
    report = _ingest(store, settings)
    assert report.ingested == 1
    assert report.changed_feeds == {
        "all", "topics/cybersecurity", "topics/digital-health", "topics/hospitals",
        "providers/healthcareitnews-com",
    }
    assert store.entry_ids("topics/hospitals", 0, 10) == ["5be20d8f93c1a647"]


def test_ingest_delete_removes_the_record_and_empty_feeds(store: Store, settings: Settings) -> None:
    _ingest(store, settings)
    next(settings.seeds_dir.glob("*_5be20d8f93c1a647.txt")).unlink()
    report = _ingest(store, settings)
    assert report.removed == 1
    assert "5be20d8f93c1a647" not in store.published_ids()
    assert "topics/cybersecurity" not in {feed.path for feed in store.feeds()}


def test_ingest_unpublish_takes_the_record_out_of_every_feed(store: Store, settings: Settings) -> None:
    _ingest(store, settings)
    _edit(next(settings.seeds_dir.glob("*_5be20d8f93c1a647.txt")), "published: true", "published: false")
    report = _ingest(store, settings)
    assert "topics/cybersecurity" in report.changed_feeds
    assert "5be20d8f93c1a647" not in store.published_ids()
    assert all("5be20d8f93c1a647" not in store.entry_ids(f.path, 0, 100) for f in store.feeds())


def test_ingest_rejects_a_second_file_with_the_same_id(store: Store, settings: Settings) -> None:
    source = next(settings.seeds_dir.glob("*_5be20d8f93c1a647.txt"))
    (settings.seeds_dir / "999_5be20d8f93c1a647.txt").write_bytes(source.read_bytes())
    report = _ingest(store, settings)
    (error,) = report.errors
    assert error.path == "999_5be20d8f93c1a647.txt" and error.field == "id"
    assert source.name in error.reason


def test_ingest_gives_topics_that_slugify_alike_their_own_feeds(store: Store, settings: Settings) -> None:
    for number, topic in (("01", "AI & ML"), ("02", "AI ML")):
        source = next(settings.seeds_dir.glob("*_5be20d8f93c1a647.txt")).read_text(encoding="utf-8")
        text = source.replace("  - Cybersecurity\n", f"  - {topic}\n").replace(
            "record-high", f"record-high-{number}")
        (settings.seeds_dir / f"5{number}_5be20d8f93c1a6{number}.txt").write_text(text, encoding="utf-8")
    _ingest(store, settings)
    paths = {feed.path: feed.name for feed in store.feeds() if feed.path.startswith("topics/ai-ml")}
    assert sorted(paths.values()) == ["AI & ML", "AI ML"]
    assert "topics/ai-ml" in paths


def test_ingest_same_url_first_name_wins_whatever_arrives_first(store: Store, settings: Settings) -> None:
    source = next(settings.seeds_dir.glob("*_5be20d8f93c1a647.txt"))
    later = settings.seeds_dir / "000_00000000000000ff.txt"  # sorts before the original
    _ingest(store, settings)
    later.write_bytes(source.read_bytes())
    report = _ingest(store, settings)
    assert "00000000000000ff" in store.published_ids()
    assert "5be20d8f93c1a647" not in store.published_ids()
    assert (source.name, "webUrl: duplicate of 000_00000000000000ff.txt, which has the same webUrl "
            "and wins because its name sorts first") in store.rejected()
    assert report.ingested == 1
    later.unlink()
    _ingest(store, settings)
    assert "5be20d8f93c1a647" in store.published_ids()
    assert store.rejected() == []


def test_ingest_future_date_is_rejected_then_retried(store: Store, settings: Settings) -> None:
    from datetime import UTC, datetime

    path = next(settings.seeds_dir.glob("*_5be20d8f93c1a647.txt"))
    _edit(path, "2023-03-14T09:00:00Z", "2030-01-01T00:00:00Z")
    report = ingest(store, settings.seeds_dir, settings.max_record_bytes)
    assert [e.field for e in report.errors] == ["publishedDateTime"]
    assert "in the future" in report.errors[0].reason
    later = ingest(store, settings.seeds_dir, settings.max_record_bytes,
                   now=datetime(2030, 1, 1, tzinfo=UTC))
    assert later.ingested == 1 and "5be20d8f93c1a647" in store.published_ids()


def test_ingest_refuses_oversized_file_without_reading_it(store: Store, settings: Settings) -> None:
    (settings.seeds_dir / "900_00000000000000bb.txt").write_bytes(b"x" * 2_000)
    report = ingest(store, settings.seeds_dir, 1_000)
    (error,) = [e for e in report.errors if e.path == "900_00000000000000bb.txt"]
    assert "over the limit of 1000" in error.reason


SCHEDULED_ID = "5be20d8f93c1a647"  # the cybersecurity record, alone in its topic


def _schedule(settings: Settings, when: str) -> None:
    path = next(settings.seeds_dir.glob(f"*_{SCHEDULED_ID}.txt"))
    _edit(path, "2023-03-14T09:00:00Z", when)


def test_ingest_holds_a_record_dated_ahead_until_its_date(store: Store, settings: Settings) -> None:
    _schedule(settings, "2030-01-01T12:00:00Z")
    before = datetime(2030, 1, 1, 11, 0, tzinfo=UTC)
    report = ingest(store, settings.seeds_dir, settings.max_record_bytes, now=before)
    assert report.errors == () and report.ingested == 9
    # Kept, but in no feed: nothing public can show it early.
    assert SCHEDULED_ID not in store.published_ids() and store.feeds_of(SCHEDULED_ID) == []
    assert "topics/cybersecurity" not in {feed.path for feed in store.feeds()}
    assert store.counts()["scheduled"] == 1
    assert store.next_due() == datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    # A second early: still held.
    assert release(store, datetime(2030, 1, 1, 11, 59, 59, tzinfo=UTC)).changed_feeds == frozenset()
    released = release(store, datetime(2030, 1, 1, 12, 0, tzinfo=UTC))
    assert "topics/cybersecurity" in released.changed_feeds and "all" in released.changed_feeds
    assert store.feeds_of(SCHEDULED_ID)[0] == "all" and SCHEDULED_ID in store.published_ids()
    assert store.next_due() is None and store.counts()["scheduled"] == 0


def test_ingest_releases_due_records_with_no_file_changed(store: Store, settings: Settings) -> None:
    _schedule(settings, "2030-01-01T12:00:00Z")
    ingest(store, settings.seeds_dir, settings.max_record_bytes,
           now=datetime(2030, 1, 1, 11, 0, tzinfo=UTC))
    later = ingest(store, settings.seeds_dir, settings.max_record_bytes,
                   now=datetime(2030, 1, 1, 12, 0, 5, tzinfo=UTC))
    assert later.ingested == 0 and "topics/cybersecurity" in later.changed_feeds
    assert SCHEDULED_ID in store.published_ids()


def test_ingest_publishes_a_record_a_few_seconds_ahead_at_once(store: Store,
                                                                settings: Settings) -> None:
    _schedule(settings, "2030-01-01T12:00:10Z")  # the writer's clock 10 s fast: not a plan
    ingest(store, settings.seeds_dir, settings.max_record_bytes,
           now=datetime(2030, 1, 1, 12, 0, tzinfo=UTC), schedule_tolerance=10)
    assert SCHEDULED_ID in store.published_ids()
    assert store.next_due() is None


def _duplicate(settings: Settings) -> Path:
    """A copy of the cybersecurity record under a name sorting first: it wins, the original
    is rejected as its duplicate. Returns the copy."""
    source = next(settings.seeds_dir.glob("*_5be20d8f93c1a647.txt"))
    copy = settings.seeds_dir / "000_00000000000000ff.txt"
    copy.write_bytes(source.read_bytes())
    return copy


def test_ingest_with_nothing_new_does_not_parse_a_duplicate_again_until_a_new_day(
        store: Store, settings: Settings) -> None:
    _duplicate(settings)
    now = datetime(2026, 1, 1, 10, tzinfo=UTC)
    first = ingest(store, settings.seeds_dir, settings.max_record_bytes, now=now)
    assert first.rejected == 1
    quiet = ingest(store, settings.seeds_dir, settings.max_record_bytes, now=now)
    assert (quiet.rejected, quiet.unchanged, quiet.seen) == (0, 10, 10)
    assert len(store.rejected()) == 1  # still rejected: only not parsed again
    next_day = ingest(store, settings.seeds_dir, settings.max_record_bytes,
                      now=datetime(2026, 1, 2, 10, tzinfo=UTC))
    assert next_day.rejected == 1


def test_ingest_parses_a_duplicate_again_after_a_commit_elsewhere(
        store: Store, settings: Settings) -> None:
    """A rival may be a record the API holds in the store: any commit may have resolved it."""
    copy = _duplicate(settings)
    now = datetime(2026, 1, 1, 10, tzinfo=UTC)
    ingest(store, settings.seeds_dir, settings.max_record_bytes, now=now)
    assert ingest(store, settings.seeds_dir, settings.max_record_bytes, now=now).rejected == 0
    held = copy.read_bytes().replace(b"https://www.healthcareitnews.com/", b"https://held.example/")
    assert ingest_held(store, "0123456789abcdef.txt", held, 100_000, now=now).ingested == 1
    assert ingest(store, settings.seeds_dir, settings.max_record_bytes, now=now).rejected == 1


def test_ingest_an_edit_that_keeps_every_id_and_url_does_not_parse_a_duplicate_again(
        store: Store, settings: Settings) -> None:
    _duplicate(settings)
    now = datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert ingest(store, settings.seeds_dir, settings.max_record_bytes, now=now).rejected == 1
    # Another record's title, then the winning copy's own title: no id or URL changes hands.
    _edit(next(settings.seeds_dir.glob("*_3f9a2c7e8b104d5a.txt")), 'title: "', 'title: "New: ')
    _edit(settings.seeds_dir / "000_00000000000000ff.txt", 'title: "', 'title: "Copy: ')
    edited = ingest(store, settings.seeds_dir, settings.max_record_bytes, now=now)
    assert (edited.ingested, edited.rejected) == (2, 0)  # the loser was not parsed again
    assert [path for path, _ in store.rejected()] == ["004_5be20d8f93c1a647.txt"]
    assert "00000000000000ff" in store.published_ids()


def test_ingest_an_edit_giving_up_a_url_lets_its_duplicate_win_in_the_same_ingest(
        store: Store, settings: Settings) -> None:
    copy = _duplicate(settings)
    now = datetime(2026, 1, 1, 10, tzinfo=UTC)
    ingest(store, settings.seeds_dir, settings.max_record_bytes, now=now)
    assert "5be20d8f93c1a647" not in store.published_ids()
    _edit(copy, "webUrl: \"https://www.healthcareitnews.com/news/",
          "webUrl: \"https://www.healthcareitnews.com/copy/")
    edited = ingest(store, settings.seeds_dir, settings.max_record_bytes, now=now)
    assert edited.ingested == 2 and edited.rejected == 0
    assert {"5be20d8f93c1a647", "00000000000000ff"} <= store.published_ids()
    assert store.rejected() == [] and store.retry_paths() == set()


def test_what_a_worker_sends_arrives_equal(settings: Settings) -> None:
    # Pool workers' outcomes cross a pipe pickled; FileState pickles as its three values.
    stamps = scan_seeds(settings.seeds_dir)
    jobs = [(name, *stamps[name], None) for name in sorted(stamps)]
    (settings.seeds_dir / "gone.txt").write_text("---\n---\n", encoding="utf-8")
    jobs.append(("gone.txt", 8, 0, None))
    os.remove(settings.seeds_dir / "gone.txt")
    outcomes = _read_and_parse(jobs, settings.seeds_dir, settings.max_record_bytes,
                               datetime.now(UTC))
    sent = pickle.loads(pickle.dumps(outcomes, protocol=pickle.HIGHEST_PROTOCOL))
    assert [(name, state, getattr(result, "data", None)) for name, state, result in sent] == [
        (name, state, getattr(result, "data", None)) for name, state, result in outcomes]
    assert sent[0][1] == FileState(*stamps[sent[0][0]], sent[0][1].digest)
    assert sent[-1][1] is None and isinstance(sent[-1][2], RecordError)


class _CommitFirst:
    """The store, with another writer committing just before its next transaction begins (after
    the ingest has compared the seeds with it)."""

    def __init__(self, store: Store, commit: Callable[[], object]) -> None:
        self._store, self._commit = store, commit

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def transaction(self) -> AbstractContextManager[None]:
        commit, self._commit = self._commit, lambda: None
        commit()
        return self._store.transaction()


def test_ingest_parses_a_duplicate_again_after_a_commit_racing_it(
        store: Store, settings: Settings) -> None:
    """Another writer's commit just before the ingest's transaction may have resolved a duplicate
    (a held rival), though the edit itself gives up no id or URL."""
    copy = _duplicate(settings)
    now = datetime(2026, 1, 1, 10, tzinfo=UTC)
    ingest(store, settings.seeds_dir, settings.max_record_bytes, now=now)
    assert ingest(store, settings.seeds_dir, settings.max_record_bytes, now=now).rejected == 0
    held = copy.read_bytes().replace(b"https://www.healthcareitnews.com/", b"https://held.example/")
    other = open_store(settings.store_path)  # another writer, on its own connection
    try:
        racing = _CommitFirst(store, lambda: ingest_held(other, "0123456789abcdef.txt", held,
                                                         100_000, now=now))
        _edit(next(settings.seeds_dir.glob("*_3f9a2c7e8b104d5a.txt")), 'title: "', 'title: "New: ')
        report = ingest(cast(Store, racing), settings.seeds_dir, settings.max_record_bytes, now=now)
    finally:
        other.close()
    assert "0123456789abcdef" in store.published_ids()  # the other writer's record landed first
    assert (report.ingested, report.rejected) == (1, 1)  # the duplicate was tried again
