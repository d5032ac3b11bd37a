"""The catalogue: which documents exist, at which path, holding which slice of which feed."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache

from feeds.config import Settings
from feeds.store import FeedRow

__all__ = [
    "SITE_DOCUMENTS",
    "STATIC_DOCUMENTS",
    "FeedPage",
    "document_paths",
    "feed_document_path",
    "feed_documents",
    "feed_page_path",
    "feed_site_path",
    "newest_page",
    "page",
    "pages",
    "parse_feed_document_path",
    "parse_feed_page_path",
    "relative_root",
]

SITE_DOCUMENTS = ("index.html", "feeds.opml")
# Files shipped in feeds/static/, served and exported like any other document; the PNGs are the
# feeds' icons and logo in the sizes readers expect (scripts/make-icons makes them).
STATIC_DOCUMENTS = ("style.css", "site.js", "feed.xsl", "feed.css", "favicon.svg",
                    "icon-64.png", "icon-144.png", "icon-512.png", "logo.png")
_FEED_PAGE = re.compile(r"^(all|(?:topics|providers)/[a-z0-9][a-z0-9-]{0,120})/index\.html$")


@cache
def _feed_document() -> re.Pattern[str]:
    """A feed document's path, in any format of the registry (which of them a site publishes is
    its settings': the renderer answers None for the others)."""
    # Read at first use: the registry's package (feeds.render) imports this module.
    from feeds.render.formats import NAMES

    return re.compile(r"^feeds/(all|(?:topics|providers)/[a-z0-9][a-z0-9-]{0,120})"
                      rf"(?:/archive/([1-9][0-9]{{0,8}}))?\.({'|'.join(map(re.escape, NAMES))})$")


@dataclass(frozen=True)
class FeedPage:
    """One document's slice of a feed, counted oldest first: the current page or archive ``number``.

    The current page holds the newest ``items_per_feed`` entries; older entries sit in archive
    pages of ``archive_page_size``, page 1 the oldest, so a full archive page never changes as
    newer entries arrive (RFC 5005 section 4).
    """

    feed: FeedRow
    number: int | None
    offset: int
    limit: int
    archive_pages: int
    full: bool
    # A ``?limit=N`` view of the current page: the newest ``limit`` entries, outside the archive chain.
    limited: bool = False

    @property
    def is_archive(self) -> bool:
        return self.number is not None


def archive_pages(count: int, settings: Settings) -> int:
    if not settings.archives:
        return 0
    archived = max(0, count - settings.items_per_feed)
    return -(-archived // settings.archive_page_size)


def page(feed: FeedRow, number: int | None, settings: Settings) -> FeedPage | None:
    """The slice of ``feed`` that document ``number`` (None: the current one) holds, if it exists."""
    total = archive_pages(feed.count, settings)
    archived = max(0, feed.count - settings.items_per_feed)
    if number is None:
        return FeedPage(feed, None, archived, settings.items_per_feed, total, False)
    if not 1 <= number <= total:
        return None
    offset = (number - 1) * settings.archive_page_size
    limit = min(settings.archive_page_size, archived - offset)
    return FeedPage(feed, number, offset, limit, total, limit == settings.archive_page_size)


def newest_page(feed: FeedRow, limit: int, settings: Settings) -> FeedPage:
    """The newest ``limit`` entries of ``feed``: the slice a ``?limit=N`` request names."""
    return FeedPage(feed, None, max(0, feed.count - limit), limit,
                    archive_pages(feed.count, settings), False, limited=True)


def pages(feed: FeedRow, settings: Settings) -> Iterator[FeedPage]:
    """Every document of ``feed``: the current page, then archives from the oldest."""
    for number in (None, *range(1, archive_pages(feed.count, settings) + 1)):
        found = page(feed, number, settings)
        assert found is not None
        yield found


def feed_documents(feed: FeedRow, settings: Settings) -> Iterator[str]:
    """A feed's documents: its HTML page (if ``feed_pages``), then its current and archive
    pages in each format."""
    if settings.feed_pages:
        yield feed_page_path(feed.path)
    # The pages' numbers only (``pages`` makes each slice): an incremental build lists every
    # unchanged feed's documents, 40,000 at 100,000 records.
    for number in (None, *range(1, archive_pages(feed.count, settings) + 1)):
        for fmt in settings.formats:
            yield feed_document_path(feed.path, fmt, number)


def document_paths(feeds: Iterable[FeedRow], settings: Settings) -> Iterator[str]:
    """Every public document's path: site pages, static assets, then each feed's documents."""
    yield from SITE_DOCUMENTS
    yield from STATIC_DOCUMENTS
    for feed in feeds:
        yield from feed_documents(feed, settings)


def feed_document_path(feed: str, fmt: str, number: int | None = None) -> str:
    """``topics/ai``, ``atom`` → ``feeds/topics/ai.atom``; with a number, its archive page."""
    if number is None:
        return f"feeds/{feed}.{fmt}"
    return f"feeds/{feed}/archive/{number}.{fmt}"


def parse_feed_document_path(path: str) -> tuple[str, int | None, str] | None:
    """The inverse of feed_document_path: (feed, archive number or None, format), or None."""
    match = _feed_document().match(path)
    if match is None:
        return None
    feed, number, fmt = match.groups()
    return feed, int(number) if number else None, fmt


def feed_page_path(feed: str) -> str:
    """``topics/ai`` → ``topics/ai/index.html``, the feed's HTML page (served at ``/topics/ai/``)."""
    return f"{feed}/index.html"


def feed_site_path(feed: str, settings: Settings) -> str:
    """The site path a feed's documents link to as its web page (Atom ``alternate``, RSS
    ``<link>``, JSON Feed ``home_page_url``, OPML ``htmlUrl``): its HTML page, ``topics/ai/``;
    without feed pages, the site's index (``""``), which lists every feed."""
    return feed + "/" if settings.feed_pages else ""


def parse_feed_page_path(path: str) -> str | None:
    """The inverse of feed_page_path: the feed whose page ``path`` is, or None."""
    match = _FEED_PAGE.match(path)
    return None if match is None else match.group(1)


def relative_root(path: str) -> str:
    """The relative URL from document ``path`` back to the site root: ``feeds/all.atom`` → ``../``."""
    return "../" * path.count("/")
