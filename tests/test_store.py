"""The store contract: every backend (SQLite, PostgreSQL) answers the same, on real databases."""

from __future__ import annotations

import dataclasses
import os
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feeds.config import Settings
from feeds.errors import RecordError, StoreError
from feeds.export import export
from feeds.filters import FeedQuery
from feeds.ingest import ingest, ingest_held, parse_record
from feeds.store import FileState, Store, StoredRecord, describe_location, is_database_url, open_store
from feeds.store.batch import Outcome, Written
from tests.helpers import documents
from tests.pg import PostgresServer

SAMPLE = Path(__file__).resolve().parent.parent / "seeds" / "001_3f9a2c7e8b104d5a.txt"


def record_text(n: int) -> str:
    """A published record file of its own URL: the sample with ``/n`` added to its URLs."""
    text = SAMPLE.read_text(encoding="utf-8")
    for field in ("originalUrl", "webUrl"):
        text = text.replace(f'\n{field}: "https://www.beckershospitalreview.com/',
                            f'\n{field}: "https://www.beckershospitalreview.com/{n}/', 1)
    return text


@pytest.fixture
def opened(location: str) -> Iterator[Store]:
    store = open_store(location)
    yield store
    store.close()


def _ingest(store: Store, settings: Settings) -> frozenset[str]:
    return ingest(store, settings.seeds_dir, settings.max_record_bytes).changed_feeds


def _answers(store: Store) -> dict[str, object]:
    """Everything the rest of feeds reads from a store, for comparing backends."""
    feeds = store.feeds()
    ids = sorted(store.published_ids() | store.unpublished_ids())
    return {
        "feeds": feeds, "counts": store.counts(),
        "rejected": store.rejected(), "digests": store.record_digests(),
        "rows": store.record_rows(ids), "records": store.records(ids),
        "topics": store.group_paths("topics"), "providers": store.group_paths("providers"),
        "entries": {f.path: store.feed_entries(f.path) for f in feeds},
        "pages": {f.path: store.entry_ids(f.path, 1, 2) for f in feeds},
        "feeds_of": {i: store.feeds_of(i) for i in ids},
        "published_at": {i: store.published_at(i) for i in ids},
        "paths": {i: store.record_path(i) for i in ids},
        "files": store.file_stamps(), "retry": store.retry_paths(),
        "matching": [store.matching_entries("all", query, 5, 100) for query in _QUERIES],
        "next_due": store.next_due(),
    }


# Filters as ?min_quality, ?min_heat and ?q ask them of every backend.
_QUERIES = (FeedQuery(min_quality=65), FeedQuery(min_heat=40), FeedQuery(words=("ai",)),
            FeedQuery(min_quality=1, words=("health", "ai")), FeedQuery(words=("nothing-matches",)))


def test_both_backends_answer_the_same_after_ingesting_the_samples(
        settings: Settings, tmp_path: Path, pg_url: str) -> None:
    answers = []
    for location in (str(tmp_path / "s.sqlite3"), pg_url):
        store = open_store(location)
        try:
            _ingest(store, settings)
            answers.append(_answers(store))
        finally:
            store.close()
    assert answers[0] == answers[1]
    assert answers[0]["counts"] == {"records": 9, "published": 7, "scheduled": 0, "rejected": 0}


def test_a_build_from_postgresql_exports_the_same_bytes_as_from_sqlite(
        settings: Settings, tmp_path: Path, pg_url: str) -> None:
    exported = []
    for name, location in (("sqlite", str(tmp_path / "s.sqlite3")), ("pg", pg_url)):
        ours = dataclasses.replace(settings, store_path=location, output_dir=tmp_path / name)
        store = open_store(location)
        try:
            _ingest(store, ours)
            export(store, ours)
        finally:
            store.close()
        exported.append(documents(tmp_path / name))
    assert exported[0] == exported[1]
    assert "feeds/all.atom" in exported[0]


def test_versions_grow_once_per_transaction_for_the_feeds_it_changed(
        opened: Store, settings: Settings) -> None:
    _ingest(opened, settings)
    before = {f.path: f.version for f in opened.feeds()}
    path = settings.seeds_dir / SAMPLE.name
    path.write_text(path.read_text(encoding="utf-8").replace('title: "', 'title: "Changed ', 1),
                    encoding="utf-8")
    os.utime(path, ns=(0, path.stat().st_mtime_ns + 10**9))
    changed = _ingest(opened, settings)
    after = {f.path: f.version for f in opened.feeds()}
    assert changed and "all" in changed
    assert {p for p in after if after[p] != before.get(p)} == set(changed)
    assert all(after[p] > before[p] for p in changed if p in before)


def test_an_interrupted_transaction_leaves_the_store_as_it_was(opened: Store, settings: Settings) -> None:
    _ingest(opened, settings)
    before = _answers(opened)
    path = sorted(before["paths"].values())[0]
    with pytest.raises(RuntimeError), opened.transaction():
        opened.remove_files([path])
        raise RuntimeError("killed mid-ingest")
    assert _answers(opened) == before


def test_a_pinned_store_sees_one_snapshot_until_pinned_again(
        location: str, opened: Store, settings: Settings) -> None:
    _ingest(opened, settings)
    reader = open_store(location)
    try:
        reader.pin()
        count = reader.counts()["records"]
        shutil.rmtree(settings.seeds_dir)
        settings.seeds_dir.mkdir()
        _ingest(opened, settings)
        assert reader.counts()["records"] == count == 9
        reader.pin()
        assert reader.counts()["records"] == 0
    finally:
        reader.close()


def test_fragments_are_kept_per_format_and_key_and_dropped_with_their_record(
        opened: Store, settings: Settings) -> None:
    _ingest(opened, settings)
    ids = sorted(opened.published_ids())
    opened.put_fragments("atom", "k1", {ids[0]: b"<entry/>", ids[1]: b"\x00\xff"})
    assert opened.fragments(ids, "atom", "k1") == {ids[0]: b"<entry/>", ids[1]: b"\x00\xff"}
    assert opened.fragments(ids, "atom", "k2") == {}
    assert opened.fragments(ids, "rss", "k1") == {}
    assert opened.missing_fragments(ids[:3], "atom", "k1") == [ids[2]]
    path = opened.record_path(ids[0])
    assert path is not None
    with opened.transaction():
        opened.remove_files([path])
    assert opened.fragments(ids, "atom", "k1") == {ids[1]: b"\x00\xff"}


def test_the_file_name_sorting_first_wins_a_duplicate_id(opened: Store, settings: Settings) -> None:
    _ingest(opened, settings)
    first = sorted(settings.seeds_dir.glob("*.txt"))[0]
    copy = settings.seeds_dir / ("999_" + first.name.split("_")[-1])
    shutil.copy(first, copy)
    report = ingest(opened, settings.seeds_dir, settings.max_record_bytes)
    assert [e.path for e in report.errors] == [copy.name]
    assert dict(opened.rejected())[copy.name].startswith("id: duplicate of")


def test_records_held_by_the_store_survive_an_ingest_of_a_folder_without_them(
        opened: Store, settings: Settings) -> None:
    held = ingest_held(opened, "0123456789abcdef.txt", record_text(1).encode(), 100_000)
    assert held.ingested == 1 and not held.errors
    assert opened.record_path("0123456789abcdef") == "api/0123456789abcdef.txt"
    report = _ingest(opened, settings)
    assert report and opened.counts()["published"] == 8
    assert "0123456789abcdef" in opened.published_ids()


def test_a_rejected_held_record_leaves_the_store_untouched(opened: Store) -> None:
    report = ingest_held(opened, "0123456789abcdef.txt", b"---\ntitle: no url\n---\n", 100_000)
    assert report.rejected == 1 and report.errors[0].field == "webUrl"
    assert opened.counts() == {"records": 0, "published": 0, "scheduled": 0, "rejected": 0}


# -- batches (Store.write_files) -----------------------------------------------------------------

def _file(name: str, url: int) -> Outcome:
    """``name`` (its id the 16 hex digits in it) holding the sample record with URL number ``url``."""
    data = record_text(url).encode()
    return Outcome(name, FileState(len(data), url, f"digest{url}"),
                   StoredRecord.of(parse_record(name, data, 100_000)))


_A, _B, _C = "a" * 16, "b" * 16, "c" * 16
# Stored first: three files.
_BEFORE = [_file(f"500_{_A}.txt", 1), _file(f"600_{_B}.txt", 2), _file(f"700_{_C}.txt", 3)]
# Then, in name order: a rival of every kind, inside the batch and with the stored files.
_AFTER = [
    _file(f"100_{_A}.txt", 11),  # takes id A from 500_ (demoted), its name sorting first
    _file(f"200_{'d' * 16}.txt", 11),  # loses webUrl 11 to 100_, earlier in this batch
    _file(f"300_{'e' * 16}.txt", 2),  # takes webUrl 2 from 600_ (demoted) ...
    Outcome(f"600_{_B}.txt", FileState(1, 1, "x"),  # ... which then changes into a broken file
            RecordError(f"600_{_B}.txt", "front matter", "invalid YAML")),
    _file(f"700_{_C}.txt", 4),  # changes its URL, freeing webUrl 3 ...
    _file(f"800_{'f' * 16}.txt", 3),  # ... which this one then takes
    _file(f"900_{_C}.txt", 5),  # loses id C to 700_
]


def _without_versions(answers: dict[str, object]) -> dict[str, object]:
    """Versions count bumps, which differ with the number of writes; the rest may not."""
    feeds = answers["feeds"]
    assert isinstance(feeds, list)
    return {**answers, "feeds": [dataclasses.replace(f, version=0) for f in feeds]}


@pytest.fixture
def second(location: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    """Another empty store of the same backend."""
    if is_database_url(location):
        server: PostgresServer = request.getfixturevalue("postgres")
        name = server.new_database()
        store = open_store(server.url(name))
        yield store
        store.close()
        server.drop_database(name)
    else:
        store = open_store(tmp_path / "second.sqlite3")
        yield store
        store.close()


def test_a_batch_ends_as_its_files_written_one_at_a_time(opened: Store, second: Store) -> None:
    with opened.transaction():
        assert not opened.write_files(_BEFORE).freed  # three new files: nobody gave anything up
        written = opened.write_files(_AFTER)
    changed, errors = written.changed, written.rejected
    assert written.freed  # 500_ and 600_ lost their records, 700_ its URL
    one_by_one: list[RecordError] = []
    with second.transaction():
        for outcome in _BEFORE:
            second.write_files([outcome])
        for outcome in _AFTER:
            one_by_one += second.write_files([outcome]).rejected
    assert _without_versions(_answers(opened)) == _without_versions(_answers(second))
    assert [(e.path, e.field, e.retry) for e in errors] == [
        (f"200_{'d' * 16}.txt", "webUrl", True), (f"600_{_B}.txt", "front matter", False),
        (f"900_{_C}.txt", "id", True)]
    assert [str(e) for e in errors] == [str(e) for e in one_by_one]
    assert dict(opened.rejected()) == {
        f"200_{'d' * 16}.txt": f"webUrl: duplicate of 100_{_A}.txt, which has the same webUrl "
                               "and wins because its name sorts first",
        f"500_{_A}.txt": f"id: duplicate of 100_{_A}.txt, which has the same id and wins "
                         "because its name sorts first",
        f"600_{_B}.txt": "front matter: invalid YAML",
        f"900_{_C}.txt": f"id: duplicate of 700_{_C}.txt, which has the same id and wins "
                         "because its name sorts first",
    }
    assert opened.retry_paths() == {f"200_{'d' * 16}.txt", f"500_{_A}.txt", f"900_{_C}.txt"}
    assert opened.record_path(_A) == f"100_{_A}.txt" and opened.record_path(_B) is None
    assert "all" in changed


def test_a_batch_rival_sorting_first_wins_across_batches(opened: Store) -> None:
    late = _file(f"900_{_A}.txt", 1)
    with opened.transaction():
        opened.write_files([late])
    with opened.transaction():
        written = opened.write_files([_file(f"100_{_A}.txt", 2)])
    assert written.rejected == [] and "all" in written.changed
    assert written.freed  # 900_ is beaten: its webUrl 1 is nobody's now
    assert opened.record_path(_A) == f"100_{_A}.txt"
    assert opened.retry_paths() == {f"900_{_A}.txt"}
    with opened.transaction():
        written = opened.write_files([late])  # tried again: still loses
    assert [(e.path, e.field) for e in written.rejected] == [(f"900_{_A}.txt", "id")]
    assert written.changed == set() and not written.freed


def _topical(name: str, url: int, topics: list[str], provider: str) -> Outcome:
    """The sample record with URL number ``url``, its own ``topics`` and provider name."""
    text = record_text(url).replace("  - AI in Healthcare\n  - AI\n  - Digital Health\n",
                                    "".join(f"  - {topic}\n" for topic in topics), 1)
    data = text.replace("name: Becker's Hospital Review", f"name: {provider}", 1).encode()
    return Outcome(name, FileState(len(data), url, f"digest{url}"),
                   StoredRecord.of(parse_record(name, data, 100_000)))


def _groups(store: Store) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    return (store.group_paths("topics"), store.group_paths("providers"),
            {feed.path: feed.name for feed in store.feeds()})


def test_a_batch_names_its_new_groups_as_one_record_at_a_time_would(
        opened: Store, tmp_path: Path) -> None:
    # Slugs taken in order ("ai-ml" first, then a suffixed one), and the first spelling names
    # a topic whatever its case: in one batch as in SQLite's one group at a time.
    batches = [[_topical(f"1{n}0_{n:016x}.txt", 20 + n, topics, provider)
                for n, (topics, provider) in enumerate([
                    (["AI & ML", "Cloud"], "First Name"), (["ai + ml", "cloud", "AI"], "Second"),
                    (["AI/ML", "Edge"], "Third")], start=1)],
               [_topical(f"2{n}0_{n + 4:016x}.txt", 30 + n, topics, "Later")
                for n, topics in enumerate([["Cloud", "AI-ML"], ["ai & ml", "New"]], start=1)]]
    reference = open_store(tmp_path / "reference.sqlite3")
    try:
        with opened.transaction():
            opened.write_files(batches[0])
        with opened.transaction():
            opened.write_files(batches[1])
        for outcome in batches[0] + batches[1]:
            with reference.transaction():
                reference.write_files([outcome])
        assert _groups(opened) == _groups(reference)
        topics = _groups(opened)[0]
        assert topics["ai & ml"] == "topics/ai-ml" and topics["ai + ml"].startswith("topics/ai-ml-")
        assert _groups(opened)[2][topics["cloud"]] == "Cloud"
    finally:
        reference.close()


def test_indexes_a_cold_load_defers_are_back_whether_it_commits_or_not(opened: Store) -> None:
    def indexes() -> object:
        db = getattr(opened, "db", None)  # SQLite's connection; PostgreSQL defers none
        return None if db is None else db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name").fetchall()

    before = indexes()
    with pytest.raises(RuntimeError), opened.transaction():
        opened.defer_indexes()
        opened.write_files(_BEFORE)
        raise RuntimeError("killed mid-load")
    assert opened.counts()["records"] == 0 and indexes() == before
    with opened.transaction():
        opened.defer_indexes()
        opened.write_files(_BEFORE)
    assert indexes() == before
    with opened.transaction():
        assert "all" in opened.remove_files([f"500_{_A}.txt"])
    assert opened.feeds_of(_A) == [] and opened.counts()["records"] == 2


# -- the change log -------------------------------------------------------------------------------

def test_the_change_log_names_the_feeds_each_commit_changed(
        location: str, settings: Settings) -> None:
    store = open_store(location)
    try:
        assert store.head() == 0
        changed = _ingest(store, settings)
        head = store.head()
        assert head == 1
        assert store.changes_since(0) == (1, changed)
        assert store.changes_since(1) == (1, frozenset())
        _ingest(store, settings)  # nothing changed: no entry
        assert store.head() == 1
    finally:
        store.close()


def test_the_state_changes_with_each_commit_and_is_kept_when_reopened(
        location: str, settings: Settings) -> None:
    store = open_store(location)
    try:
        empty = store.state()
        _ingest(store, settings)
        changed = store.state()
        _ingest(store, settings)  # nothing changed: the same state
        assert empty != changed == store.state()
    finally:
        store.close()
    again = open_store(location)
    try:
        assert again.state() == changed
    finally:
        again.close()


def test_the_retried_note_is_kept_and_replaced(opened: Store) -> None:
    assert opened.retried() is None
    for mark in ("3:2026-01-01", "4:2026-01-02"):
        with opened.transaction():
            opened.note_retried(mark)
        assert opened.retried() == mark


def test_a_store_made_anew_never_repeats_an_older_ones_state(
        tmp_path: Path, settings: Settings) -> None:
    states = []
    for _ in range(2):
        shutil.rmtree(tmp_path / "store", ignore_errors=True)
        (tmp_path / "store").mkdir()
        store = open_store(tmp_path / "store" / "store.sqlite3")
        try:
            _ingest(store, settings)
            states.append(store.state())
        finally:
            store.close()
    assert states[0] != states[1]
    assert states[0].endswith(":1") and states[1].endswith(":1")  # same head, other store


def test_wait_for_change_wakes_on_a_commit_elsewhere(
        location: str, settings: Settings) -> None:
    waiter, writer = open_store(location), open_store(location)
    try:
        assert waiter.wait_for_change(0, 0.05) == 0
        woke: list[tuple[int, float]] = []

        def wait() -> None:
            woke.append((waiter.wait_for_change(0, 10.0), time.monotonic()))

        thread = threading.Thread(target=wait)
        thread.start()
        time.sleep(0.2)
        _ingest(writer, settings)
        committed = time.monotonic()
        thread.join(10)
        # Woken by the commit, not by its 10 s timeout (how fast is for benchmarks/scale.py).
        assert woke and woke[0][0] == 1
        assert woke[0][1] - committed < 5.0
    finally:
        waiter.close()
        writer.close()


def test_stored_records_keep_their_fields(opened: Store) -> None:
    record = StoredRecord("abcdefabcdefabcd", "https://example.com/a", False, 1_700_000_000,
                          "example.com", "Example", ("One",), 70, None, " one two ",
                          '{"id":"abcdefabcdefabcd"}')
    with opened.transaction():
        assert opened.write_files([Outcome("a.txt", FileState(3, 4, "d"), record)]) == \
            Written(set(), [], freed=False)
    assert opened.unpublished_ids() == {"abcdefabcdefabcd"}
    assert opened.record_rows(["abcdefabcdefabcd"]) == [("abcdefabcdefabcd", record.data)]
    assert opened.file_stamps() == {"a.txt": (3, 4, "d")}


def test_a_scheduled_record_joins_its_feeds_only_once_released(opened: Store) -> None:
    # The sample is dated 2024-02-07T15:30:00Z; stored a day before, it is held back.
    due = datetime(2024, 2, 7, 15, 30, tzinfo=UTC)
    held = ingest_held(opened, "0123456789abcdef.txt", record_text(1).encode(), 100_000,
                       now=due - timedelta(days=1))
    assert held.ingested == 1 and held.changed_feeds == frozenset()
    assert opened.counts()["scheduled"] == 1 and opened.counts()["published"] == 0
    assert opened.next_due() == due
    assert [f.count for f in opened.feeds()] == [0]  # only "all", empty
    with opened.transaction():
        assert opened.release_due(int(due.timestamp()) - 1) == set()
    with opened.transaction():
        released = opened.release_due(int(due.timestamp()))
    assert "all" in released and any(f.startswith("topics/") for f in released)
    assert opened.counts()["scheduled"] == 0 and opened.counts()["published"] == 1
    assert opened.next_due() is None
    assert opened.feeds_of("0123456789abcdef")[0] == "all"


def test_filters_walk_a_feed_newest_first_and_stop_at_the_limit(
        opened: Store, settings: Settings) -> None:
    _ingest(opened, settings)
    newest_first = [i for i, _ in reversed(opened.feed_entries("all"))]
    assert [i for i, _ in opened.matching_entries("all", FeedQuery(min_quality=0), 3, 100)] \
        == newest_first[:3]
    everything = opened.matching_entries("all", FeedQuery(words=("ai",)), 50, 100)
    assert everything and all(i in newest_first for i, _ in everything)
    assert opened.matching_entries("all", FeedQuery(words=("nothing-matches",)), 50, 100) == []


def test_a_location_is_a_database_url_only_with_a_postgresql_scheme() -> None:
    assert is_database_url("postgresql:///feeds?host=/run/postgresql&user=postgres")
    assert is_database_url("postgres://feeds@db/feeds")
    assert not is_database_url("var/store.sqlite3")
    assert not is_database_url(Path("postgresql:/x"))


def test_messages_name_a_database_without_its_password() -> None:
    assert describe_location("postgresql://feeds:s3cret@db/feeds") == "postgresql://feeds:***@db/feeds"
    assert describe_location("postgresql:///feeds?host=/run/x") == "postgresql:///feeds?host=/run/x"


def test_an_unreachable_database_is_a_store_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as caught:
        open_store(f"postgresql://feeds:s3cret@/feeds?host={tmp_path}")
    assert "cannot open the store" in str(caught.value) and "s3cret" not in str(caught.value)


def test_a_pinned_postgresql_store_outlives_a_database_restart_onto_the_same_state(
        postgres: PostgresServer, pg_url: str, settings: Settings) -> None:
    reader, writer = open_store(pg_url), open_store(pg_url)
    try:
        _ingest(writer, settings)
        reader.pin()
        before = reader.counts()
        postgres.stop()
        try:
            with pytest.raises(StoreError, match="database is unavailable"):
                reader.counts()
            # Nothing new is known while the database is away.
            assert reader.wait_for_change(5, 0.3) == 5
        finally:
            postgres.start()
        assert reader.counts() == before  # pinned again, onto the same head
        (settings.seeds_dir / SAMPLE.name).unlink()
        _ingest(writer, settings)
        postgres.stop()
        postgres.start()
        with pytest.raises(StoreError, match="switch to the new one"):
            reader.counts()  # a later state: for the caller to switch to, not mixed in
        with pytest.raises(StoreError, match="switch to the new one"):
            reader.counts()
        reader.pin()
        assert reader.counts()["records"] == before["records"] - 1
    finally:
        reader.close()
        writer.close()
