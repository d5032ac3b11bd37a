"""Content keys of the changed feeds only (feeds.export.plan with ``since``) equal the full
computation after any sequence of changes, on both store backends, and are the ones a build
uses."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from feeds.config import Settings
from feeds.export import export
from feeds.export.manifest import MANIFEST_FORMAT, read_manifest
from feeds.export.plan import plan
from feeds.export.stamp import Since
from feeds.ingest import ingest
from feeds.render.keys import ContentKeys, export_key
from feeds.render.renderer import Renderer
from feeds.store import Store, open_store
from tests.conftest import build
from tests.helpers import documents

START = datetime(2025, 6, 1, tzinfo=UTC)
TOPICS = ("Oncology", "Cardiology", "Policy", "AI", "Nursing")
PROVIDERS = (("STAT", "statnews.com"), ("Fierce", "fiercehealthcare.com"),
             ("KFF", "kff.org"))


class Counted:
    """A real store that notes which feeds' members and how many digest reads it was asked for."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.members: list[str] = []
        self.digests = 0

    def feed_entries(self, feed: str) -> list[tuple[str, int]]:
        self.members.append(feed)
        return self.store.feed_entries(feed)

    def record_digests(self) -> dict[str, str]:
        self.digests += 1
        return self.store.record_digests()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


class Seeds:
    """A small seeds folder changed the ways an operator changes one."""

    def __init__(self, folder: Path, seed: int) -> None:
        self.folder = folder
        self.random = random.Random(seed)
        self.clock = START
        self.made = 0
        self.topics = list(TOPICS[:3])

    def files(self) -> list[Path]:
        return sorted(self.folder.glob("*.txt"))

    def write(self, number: int, *, title: str, published: bool, when: datetime,
              topics: list[str], provider: tuple[str, str]) -> None:
        lines = ["---", f'title: "{title}"', f"publishedDateTime: {when:%Y-%m-%dT%H:%M:%SZ}",
                 f'webUrl: "https://{provider[1]}/{number}"',
                 f"published: {'true' if published else 'false'}",
                 "provider:", f"  name: {provider[0]}", f"  domain: {provider[1]}"]
        if topics:
            lines += ["topics:", *(f"  - {topic}" for topic in topics)]
        path = self.folder / f"{number:03d}_{number:016x}.txt"
        path.write_text("\n".join([*lines, "---", ""]), encoding="utf-8")

    def add(self, ahead: bool = False) -> None:
        self.made += 1
        when = (self.clock + timedelta(days=1) if ahead
                else self.clock - timedelta(hours=self.random.randrange(1, 2000)))
        self.write(self.made, title=f"Record {self.made}", published=True, when=when,
                   topics=self.random.sample(self.topics, self.random.randrange(0, 3)),
                   provider=self.random.choice(PROVIDERS))

    def rewrite(self, path: Path, old: str, new: str) -> None:
        path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")

    def step(self) -> str:
        """One random change; returns its name (for the assertion's message)."""
        files = self.files()
        kind = self.random.choice(["add", "add", "edit", "edit", "unpublish", "republish",
                                   "remove", "schedule", "release", "topic", "drop", "nothing"])
        if not files or kind == "add":
            self.add()
        elif kind == "edit":
            self.rewrite(self.random.choice(files), 'title: "', 'title: "Edited ')
        elif kind == "unpublish":
            self.rewrite(self.random.choice(files), "published: true", "published: false")
        elif kind == "republish":
            self.rewrite(self.random.choice(files), "published: false", "published: true")
        elif kind == "remove":
            self.random.choice(files).unlink()
        elif kind == "schedule":
            self.add(ahead=True)
        elif kind == "release":
            self.clock += timedelta(days=2)
        elif kind == "topic":  # a new topic: new links from every page listing its records
            self.topics.append(f"Topic {len(self.topics)}")
            self.add()
        elif kind == "drop":  # every record of one topic goes: its feed is removed
            topic = self.random.choice(self.topics)
            for path in files:
                if f"  - {topic}\n" in path.read_text(encoding="utf-8"):
                    path.unlink()
        return kind


def _manifest(settings: Settings, keys: ContentKeys) -> dict[str, Any]:
    """The manifest a tree holding documents of these keys has, as far as ``plan`` reads it."""
    return {"format": MANIFEST_FORMAT, "settings": export_key(settings),
            "files": {path: {"version": version} for path, version in keys.documents.items()}}


@pytest.fixture
def small(settings: Settings, tmp_path: Path) -> Settings:
    """Pages of three and archives of two: a few records give every kind of page."""
    folder = tmp_path / "changing"
    folder.mkdir()
    return dataclasses.replace(settings, seeds_dir=folder, items_per_feed=3, archive_page_size=2)


@pytest.fixture
def opened(location: str) -> Iterator[Store]:
    store = open_store(location)
    yield store
    store.close()


@pytest.mark.parametrize("seed", [1, 2])
def test_keys_of_the_changed_feeds_equal_the_full_keys_after_any_changes(
        opened: Store, small: Settings, seed: int) -> None:
    seeds = Seeds(small.seeds_dir, seed)
    for _ in range(6):
        seeds.add()
    ingest(opened, small.seeds_dir, small.max_record_bytes, now=seeds.clock)
    head = opened.head()
    renderer = Renderer(opened, small)
    keys, links = renderer.content_keys(), renderer.links
    incremental = 0
    for number in range(40):
        change = seeds.step()
        ingest(opened, small.seeds_dir, small.max_record_bytes, now=seeds.clock)
        new_head = opened.head()  # as a build reads it: before anything else
        counted = Counted(opened)
        found = plan(cast(Store, counted), small, _manifest(small, keys),
                     Since(head, links, keys.newest))
        full = Renderer(opened, small)
        expected = full.content_keys()
        assert list(found.versions.items()) == list(expected.documents.items()), (
            f"step {number}: {change}")
        assert found.newest == expected.newest
        feeds = len(full.feeds)
        if len(counted.members) < feeds:
            incremental += 1
            _, changed = opened.changes_since(head)
            assert set(counted.members) <= changed, f"step {number}: {change}"
        head, keys, links = new_head, expected, full.links
    # The sequence exercised the incremental way, not only its fallbacks.
    assert incremental >= 10


def test_new_links_to_topic_pages_key_every_feed(opened: Store, small: Settings) -> None:
    """A new topic's page is linked from the pages of every record in it: all are keyed."""
    seeds = Seeds(small.seeds_dir, 3)
    for _ in range(5):
        seeds.add()
    ingest(opened, small.seeds_dir, small.max_record_bytes, now=seeds.clock)
    head, renderer = opened.head(), Renderer(opened, small)
    keys = renderer.content_keys()
    seeds.topics.append("Brand New")
    seeds.made += 1
    seeds.write(seeds.made, title="New", published=True, when=START, topics=["Brand New"],
                provider=PROVIDERS[0])
    ingest(opened, small.seeds_dir, small.max_record_bytes, now=seeds.clock)
    counted = Counted(opened)
    found = plan(cast(Store, counted), small, _manifest(small, keys),
                 Since(head, renderer.links, keys.newest))
    assert found.versions == Renderer(opened, small).content_keys().documents
    assert sorted(counted.members) == sorted(feed.path for feed in opened.feeds())


def test_feeds_the_manifest_lacks_are_keyed(opened: Store, small: Settings) -> None:
    """A manifest missing an unchanged feed's page (another target's, a hand-edited one)."""
    seeds = Seeds(small.seeds_dir, 4)
    for _ in range(5):
        seeds.add()
    ingest(opened, small.seeds_dir, small.max_record_bytes, now=seeds.clock)
    renderer = Renderer(opened, small)
    keys = renderer.content_keys()
    lacking = next(path for path in keys.documents if path.startswith("feeds/providers/"))
    del keys.documents[lacking]
    counted = Counted(opened)
    found = plan(cast(Store, counted), small, _manifest(small, keys),
                 Since(opened.head(), renderer.links, keys.newest))
    assert found.versions == renderer.content_keys().documents
    assert counted.members == [lacking.split("/", 1)[1].split(".")[0]]


def _edit_first_published(seeds: Path) -> None:
    path = next(p for p in sorted(seeds.glob("*.txt"))
                if "\npublished: true" in p.read_text(encoding="utf-8"))
    path.write_text(path.read_text(encoding="utf-8").replace('\ntitle: "', '\ntitle: "Edited ', 1),
                    encoding="utf-8")


def test_a_build_after_an_edit_keys_only_the_changed_feeds_and_holds_a_fresh_builds_files(
        settings: Settings, tmp_path: Path) -> None:
    store = open_store(settings.store_path)
    try:
        ingest(store, settings.seeds_dir, settings.max_record_bytes)
        export(store, settings)
        _edit_first_published(settings.seeds_dir)
        changed = ingest(store, settings.seeds_dir, settings.max_record_bytes).changed_feeds
        counted = Counted(store)
        report = export(cast(Store, counted), settings)
        assert report.written > 0
        assert counted.members and set(counted.members) <= changed
        assert len(changed) < len(store.feeds())
        fresh = tmp_path / "fresh"
        export(store, settings, fresh)
    finally:
        store.close()
    assert read_manifest(settings.output_dir) == read_manifest(fresh)
    assert documents(settings.output_dir) == documents(fresh)


def test_a_stamp_of_another_store_keys_every_feed(settings: Settings) -> None:
    """A store swapped for another whose change log has as many entries: its id differs."""
    build(settings)
    settings.store_path.unlink()
    _edit_first_published(settings.seeds_dir)
    other = open_store(settings.store_path)
    try:
        ingest(other, settings.seeds_dir, settings.max_record_bytes)
        counted = Counted(other)
        export(cast(Store, counted), settings)
        assert set(counted.members) == {feed.path for feed in other.feeds()}
    finally:
        other.close()
