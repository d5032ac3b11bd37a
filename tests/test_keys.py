"""feeds.render.keys: every setting is keyed or said not to matter, and keys follow changes."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from feeds.cdn import PurgeTarget
from feeds.config import Settings
from feeds.ingest import ingest
from feeds.render.keys import (
    DOCUMENT_SETTINGS,
    EXPORT_SETTINGS,
    FRAGMENT_SETTINGS,
    KEYED_WHEN_CHANGED,
    NOT_IN_OUTPUT,
    RENDERER_VERSION,
    DocumentKeys,
    changed_documents,
    export_key,
    fragment_key,
    settings_key,
    touched_documents,
)
from feeds.render.renderer import Renderer
from feeds.store import Store
from tests.conftest import build
from tests.helpers import NEW_RECORD, documents

KEYED = set(DOCUMENT_SETTINGS) | set(EXPORT_SETTINGS) | set(FRAGMENT_SETTINGS)


def _other(name: str, value: Any) -> Any:
    """A valid value of setting ``name`` other than ``value``."""
    if name == "base_url":
        return value + "elsewhere/"
    if name == "hubs":
        return ("https://hub.test/",)
    if name == "formats":
        return ("atom",)
    if name in ("language", "accent_color"):  # a tag such as en, six hex digits
        return {"language": "en", "accent_color": "000000"}[name]
    if name == "purge":
        return (PurgeTarget("varnish", "http://127.0.0.1:9/"),)
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1 if name != "brotli_quality" else value - 1
    if isinstance(value, Path):
        return value / "elsewhere"
    assert isinstance(value, str), name
    return value + "x"


def test_every_setting_is_part_of_a_key_or_said_not_to_affect_output() -> None:
    names = {field.name for field in dataclasses.fields(Settings)}
    unaccounted = names - KEYED - NOT_IN_OUTPUT.keys()
    assert not unaccounted, (
        f"feeds/render/keys.py: settings {sorted(unaccounted)} are in no key: add each to the "
        "key of the output it changes, or to NOT_IN_OUTPUT with the reason it changes none")
    assert not KEYED & NOT_IN_OUTPUT.keys()
    assert NOT_IN_OUTPUT.keys() <= names  # no reason kept for a setting that is gone
    assert all(reason.strip() for reason in NOT_IN_OUTPUT.values())


@pytest.mark.parametrize(("key", "names"), [(settings_key, DOCUMENT_SETTINGS),
                                            (fragment_key, FRAGMENT_SETTINGS),
                                            (export_key, EXPORT_SETTINGS)])
def test_each_keyed_setting_changes_its_key(key: Any, names: tuple[str, ...]) -> None:
    base = Settings()
    for name in names:
        changed = dataclasses.replace(base, **{name: _other(name, getattr(base, name))})
        assert key(changed) != key(base), name


def test_settings_said_not_to_affect_output_leave_every_exported_byte_alike(
        settings: Settings, tmp_path: Path) -> None:
    first = documents(build(settings))
    others = {name: _other(name, getattr(settings, name)) for name in NOT_IN_OUTPUT
              if name not in ("seeds_dir", "store_path", "output_dir")}
    changed = dataclasses.replace(settings, store_path=tmp_path / "other" / "store.sqlite3",
                                  output_dir=tmp_path / "other-output", **others)
    assert documents(build(changed)) == first


def _snapshot(store: Store, settings: Settings) -> Renderer:
    return Renderer(store, settings)


def test_touched_documents_name_every_document_whose_content_key_changed(
        settings: Settings, store: Store, seeds_dir: Path) -> None:
    ingest(store, seeds_dir, settings.max_record_bytes)
    before = _snapshot(store, settings)
    (seeds_dir / "100_0123456789abcdef.txt").write_text(NEW_RECORD, encoding="utf-8")
    report = ingest(store, seeds_dir, settings.max_record_bytes)
    after = _snapshot(store, settings)
    changed = changed_documents(before.content_keys().documents,
                                after.content_keys().documents)
    touched = touched_documents(report.changed_feeds, before.feeds, after.feeds, settings)
    assert report.changed_feeds == {"all", "providers/statnews-com"}
    assert changed and changed <= touched
    assert "index.html" in touched and "feeds/providers/statnews-com.atom" in touched
    # Feeds the change did not touch keep their documents out of a purge.
    assert not any(path.startswith(("feeds/topics/", "topics/")) for path in touched)


def test_touched_documents_name_pages_a_change_removed(settings: Settings, store: Store,
                                                      seeds_dir: Path) -> None:
    # Pages of one entry: removing a record removes the newest archive page of its feeds.
    settings = dataclasses.replace(settings, items_per_feed=1, archive_page_size=1)
    (seeds_dir / "100_0123456789abcdef.txt").write_text(NEW_RECORD, encoding="utf-8")
    ingest(store, seeds_dir, settings.max_record_bytes)
    before = _snapshot(store, settings)
    (seeds_dir / "100_0123456789abcdef.txt").unlink()
    report = ingest(store, seeds_dir, settings.max_record_bytes)
    after = _snapshot(store, settings)
    touched = touched_documents(report.changed_feeds, before.feeds, after.feeds, settings)
    gone = set(before.document_paths()) - set(after.document_paths())
    assert gone and gone <= touched


def test_versions_follow_a_feeds_change_and_name_only_documents_that_exist(
        settings: Settings, store: Store, seeds_dir: Path) -> None:
    ingest(store, seeds_dir, settings.max_record_bytes)
    before = DocumentKeys(_snapshot(store, settings).feeds, settings)
    assert before.version("feeds/all.atom") is not None
    assert before.version("feeds/all/archive/99.atom") is None
    assert before.version("feeds/topics/no-such-topic.atom") is None
    assert before.version("no/such/path") is None
    (seeds_dir / "100_0123456789abcdef.txt").write_text(NEW_RECORD, encoding="utf-8")
    ingest(store, seeds_dir, settings.max_record_bytes)
    after = DocumentKeys(_snapshot(store, settings).feeds, settings)
    for path in ("feeds/all.atom", "all/index.html", "index.html", "feeds.opml"):
        assert after.version(path) != before.version(path), path
    assert after.version("style.css") == before.version("style.css")
    some_topic = next(p for p in before.feeds if p.startswith("topics/"))
    path = f"feeds/{some_topic}.rss"
    assert after.version(path) == before.version(path)


def test_changed_documents_include_added_and_removed_ones() -> None:
    assert changed_documents({"a": "1", "b": "2", "c": None},
                             {"a": "1", "b": "3", "d": "4"}) == {"b", "c", "d"}


def test_without_feed_pages_no_key_or_version_names_a_page(settings: Settings, store: Store,
                                                          seeds_dir: Path) -> None:
    settings = dataclasses.replace(settings, feed_pages=False)
    ingest(store, seeds_dir, settings.max_record_bytes)
    renderer = _snapshot(store, settings)
    assert list(renderer.content_keys().documents) == list(renderer.document_paths())
    assert not [p for p in renderer.document_paths() if p.endswith("/index.html")]
    assert renderer.keys.version("all/index.html") is None
    assert renderer.keys.version("topics/ai/index.html") is None
    assert renderer.keys.version("feeds/all.atom") is not None


def test_settings_keyed_when_changed_leave_earlier_keys_alike_at_their_default() -> None:
    assert set(KEYED_WHEN_CHANGED) <= set(DOCUMENT_SETTINGS) | set(EXPORT_SETTINGS)
    base = Settings()
    earlier = RENDERER_VERSION + ":" + base.fingerprint(
        *(name for name in DOCUMENT_SETTINGS if name not in KEYED_WHEN_CHANGED))
    earlier_export = base.fingerprint(
        *(name for name in EXPORT_SETTINGS if name not in KEYED_WHEN_CHANGED))
    assert (settings_key(base), export_key(base)) == (earlier, earlier_export)
    for name in KEYED_WHEN_CHANGED:
        changed = dataclasses.replace(base, **{name: _other(name, getattr(base, name))})
        assert (settings_key(changed), export_key(changed)) != (earlier, earlier_export), name
