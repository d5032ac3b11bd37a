"""feeds.catalog: document paths, and the slice of a feed each document holds (RFC 5005)."""

from __future__ import annotations

import pytest

from feeds.catalog import (
    SITE_DOCUMENTS,
    STATIC_DOCUMENTS,
    document_paths,
    feed_document_path,
    feed_documents,
    feed_page_path,
    newest_page,
    page,
    pages,
    parse_feed_document_path,
    parse_feed_page_path,
    relative_root,
)
from feeds.config import Settings
from feeds.store import FeedRow

SMALL = Settings(items_per_feed=3, archive_page_size=2)


def _feed(count: int, path: str = "topics/ai") -> FeedRow:
    return FeedRow(path, path.split("/")[0], "AI", 1, count, None, None)


@pytest.mark.parametrize(("feed", "fmt", "number", "path"), [
    ("all", "atom", None, "feeds/all.atom"),
    ("topics/ai", "rss", None, "feeds/topics/ai.rss"),
    ("providers/statnews-com", "json", 12, "feeds/providers/statnews-com/archive/12.json"),
])
def test_catalog_feed_document_paths_parse_back(feed: str, fmt: str, number: int | None,
                                                path: str) -> None:
    assert feed_document_path(feed, fmt, number) == path
    assert parse_feed_document_path(path) == (feed, number, fmt)


@pytest.mark.parametrize("path", [
    "feeds/all.html", "feeds/topics/AI.atom", "feeds/other/ai.atom", "feeds/all/archive/0.atom",
    "feeds/all/archive/01.atom", "feeds/topics/-ai.atom", "feeds/topics/ai.atom/", "/feeds/all.atom",
    "feeds/topics/" + "a" * 122 + ".atom", "feeds/all/archive/1234567890.atom",
])
def test_catalog_refuses_paths_that_name_no_feed_document(path: str) -> None:
    assert parse_feed_document_path(path) is None


def test_catalog_feed_pages_parse_back_and_refuse_others() -> None:
    assert feed_page_path("topics/ai") == "topics/ai/index.html"
    assert parse_feed_page_path("topics/ai/index.html") == "topics/ai"
    assert parse_feed_page_path("all/index.html") == "all"
    for path in ("index.html", "topics/index.html", "other/ai/index.html", "topics/ai/"):
        assert parse_feed_page_path(path) is None


def test_catalog_current_page_holds_the_newest_entries_and_archives_count_from_the_oldest() -> None:
    feed = _feed(8)  # 3 current, 5 archived: pages of 2, 2 and 1 (the newest, partial)
    current = page(feed, None, SMALL)
    assert current is not None
    assert (current.offset, current.limit, current.archive_pages, current.full) == (5, 3, 3, False)
    assert not current.is_archive
    slices = [(p.number, p.offset, p.limit, p.full) for p in pages(feed, SMALL)]
    assert slices == [(None, 5, 3, False), (1, 0, 2, True), (2, 2, 2, True), (3, 4, 1, False)]
    assert page(feed, 0, SMALL) is None and page(feed, 4, SMALL) is None


def test_catalog_a_full_archive_page_keeps_its_slice_as_entries_arrive() -> None:
    before = page(_feed(8), 1, SMALL)
    after = page(_feed(20), 1, SMALL)
    assert before is not None and after is not None
    assert (before.offset, before.limit) == (after.offset, after.limit) == (0, 2)


def test_catalog_small_feeds_and_archives_off_have_only_the_current_page() -> None:
    assert [p.number for p in pages(_feed(3), SMALL)] == [None]
    no_archives = Settings(items_per_feed=3, archive_page_size=2, archives=False)
    assert [p.number for p in pages(_feed(8), no_archives)] == [None]
    assert page(_feed(8), 1, no_archives) is None


def test_catalog_newest_page_is_a_limited_view_outside_the_archive_chain() -> None:
    view = newest_page(_feed(8), 2, SMALL)
    assert (view.offset, view.limit, view.limited, view.number) == (6, 2, True, None)
    assert newest_page(_feed(1), 5, SMALL).offset == 0


def test_catalog_lists_site_pages_assets_then_each_feeds_documents() -> None:
    settings = Settings(items_per_feed=3, archive_page_size=2, formats=("atom", "json"))
    feeds = [_feed(4, "all"), _feed(1, "topics/ai")]
    listed = list(document_paths(feeds, settings))
    assert listed[:len(SITE_DOCUMENTS) + len(STATIC_DOCUMENTS)] == [*SITE_DOCUMENTS,
                                                                   *STATIC_DOCUMENTS]
    assert list(feed_documents(feeds[0], settings)) == [
        "all/index.html", "feeds/all.atom", "feeds/all.json",
        "feeds/all/archive/1.atom", "feeds/all/archive/1.json"]
    assert listed[-3:] == ["topics/ai/index.html", "feeds/topics/ai.atom", "feeds/topics/ai.json"]
    assert len(listed) == len(set(listed))


def test_catalog_relative_root_climbs_one_level_per_folder() -> None:
    assert relative_root("index.html") == ""
    assert relative_root("feeds/all.atom") == "../"
    assert relative_root("feeds/topics/ai/archive/3.rss") == "../../../../"
