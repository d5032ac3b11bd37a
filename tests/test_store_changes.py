"""The store's change log: one row per committed change of feeds, seen by every connection."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from feeds.config import Settings
from feeds.ingest import ingest, parse_record
from feeds.store import FileState, Store, StoredRecord, open_store
from feeds.store.batch import Outcome

NEW_RECORD = """---
title: "A change"
excerpt: "A record for the change-log tests."
publishedDateTime: 2024-06-20T10:00:00Z
webUrl: "https://example.com/changes/1"
published: true
provider:
  name: Change News
  domain: changes.example
topics:
  - Change Topic
---
"""


def test_store_changes_one_row_per_ingest_that_changed_feeds(settings: Settings, store: Store) -> None:
    assert store.head() == 0
    assert store.changes_since(0) == (0, frozenset())
    first = ingest(store, settings.seeds_dir, settings.max_record_bytes)
    assert store.head() == 1
    assert store.changes_since(0) == (1, first.changed_feeds)
    ingest(store, settings.seeds_dir, settings.max_record_bytes)  # nothing changed: no row
    assert store.head() == 1
    (settings.seeds_dir / "100_00000000000000a1.txt").write_text(NEW_RECORD, encoding="utf-8")
    ingest(store, settings.seeds_dir, settings.max_record_bytes)
    assert store.changes_since(1) == (2, {"all", "providers/changes-example", "topics/change-topic"})
    assert store.changes_since(0)[1] == first.changed_feeds | {"topics/change-topic",
                                                               "providers/changes-example"}


def test_store_changes_fragments_alone_are_not_a_change(store: Store) -> None:
    store.put_fragments("atom", "key", {"0000000000000001": b"<entry/>"})
    assert store.head() == 0


def test_store_changes_a_rolled_back_ingest_leaves_no_row(store: Store) -> None:
    record = StoredRecord.of(parse_record("100_00000000000000a1.txt", NEW_RECORD.encode(), 10**6))
    with pytest.raises(RuntimeError), store.transaction():
        assert store.write_files([Outcome("100_00000000000000a1.txt", FileState(1, 1, "d"), record)]).changed
        raise RuntimeError("interrupted")
    assert store.head() == 0


def test_store_changes_a_pinned_reader_sees_its_snapshots_head(settings: Settings, store: Store) -> None:
    reader = open_store(settings.store_path)
    try:
        reader.pin()
        ingest(store, settings.seeds_dir, settings.max_record_bytes)
        assert reader.head() == 0 and store.head() == 1
        reader.pin()
        assert reader.head() == 1
    finally:
        reader.close()


def test_store_changes_table_added_to_a_store_made_before_it(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    open_store(path).close()
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE changes")
    reopened = open_store(path)
    try:
        assert reopened.head() == 0
    finally:
        reopened.close()


def test_store_changes_wait_wakes_on_another_connections_commit(settings: Settings, store: Store) -> None:
    waiter = open_store(settings.store_path)
    try:
        assert waiter.wait_for_change(0, timeout=0.05) == 0  # nothing committed: the timeout
        woke: list[int] = []
        thread = threading.Thread(target=lambda: woke.append(waiter.wait_for_change(0, timeout=30)))
        thread.start()
        time.sleep(0.1)
        assert not woke
        ingest(store, settings.seeds_dir, settings.max_record_bytes)
        thread.join(30)
        assert woke == [1]
        assert waiter.wait_for_change(0, timeout=30) == 1  # already past: at once
    finally:
        waiter.close()
