"""Render public documents: feeds assembled from cached entry fragments, OPML, HTML pages, assets."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

from feeds.catalog import (
    STATIC_DOCUMENTS,
    FeedPage,
    document_paths,
    feed_document_path,
    feed_page_path,
    feed_site_path,
    newest_page,
    page,
    parse_feed_document_path,
    parse_feed_page_path,
    relative_root,
)
from feeds.config import Settings
from feeds.filters import FeedQuery
from feeds.model import Record
from feeds.pool import Workers
from feeds.render import fragments, html, opml, static
from feeds.render.common import FeedHead, Identity
from feeds.render.formats import FORMATS
from feeds.render.keys import (
    RENDERER_VERSION,
    ContentKeys,
    DocumentKeys,
    FeedKeys,
    content_keys,
    fragment_key,
    links_key,
)
from feeds.store import ALL_FEED, FeedRow, Store

__all__ = ["RENDERER_VERSION", "Document", "Renderer", "etag_of"]

# A filtered view looks at this many of a feed's newest entries at most: a bound on the work
# of one request whatever its filters, and still more than a reader's usual window.
FILTER_SCAN = 10_000
# Entries' HTML a build keeps for other feed pages listing them: emptied when it reaches this
# many. Every record in some feed's newest page is in it otherwise (half the corpus at 100,000
# records, about 1.5 KB each); a 10,000-record build stays under it.
KEEP_ENTRY_HTML = 20_000

# Formats a browser may open directly: they reference the feed stylesheets for a readable view.
STYLED_FORMATS = ("atom", "rss")
# Browsers with XSLT apply the first (a page with links and images) and ignore the second;
# those without XSLT ignore the first and style the feed's own elements with the second.
FEED_STYLESHEETS = (("text/xsl", "feed.xsl"), ("text/css", "feed.css"))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def etag_of(body: bytes) -> str:
    """The strong entity tag of a representation: a hash of its exact bytes."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@dataclass(frozen=True)
class Document:
    """One public document: its bytes and the metadata served and exported with them."""

    path: str
    body: bytes
    media_type: str
    last_modified: datetime | None
    immutable: bool = False
    # Relations for the HTTP Link header (RFC 8288), e.g. WebSub's hub and self.
    links: tuple[tuple[str, str], ...] = ()

    @property
    def etag(self) -> str:
        return etag_of(self.body)


class Renderer:
    """Renders any public path from the store; entries are rendered once and kept in the store."""

    def __init__(self, store: Store, settings: Settings,
                 save_fragments: Callable[[str, str, dict[str, bytes]], None] | None = None) -> None:
        self.store = store
        self.settings = settings
        # Where freshly rendered entries are kept; a server reading a pinned snapshot writes
        # them through another connection.
        self.save_fragments = save_fragments or store.put_fragments
        # A snapshot of the catalogue: versions are looked up per request, so keep them in memory.
        self.feeds: dict[str, FeedRow] = {feed.path: feed for feed in store.feeds()}
        # Slugs never change once assigned, so these links are stable for a page's version.
        self.topic_paths = {k: p for k, p in store.group_paths("topics").items() if p in self.feeds}
        self.provider_paths = {
            k: p for k, p in store.group_paths("providers").items() if p in self.feeds
        }
        # Set by prepare(): a build pages through whole feeds, so it reads each feed's list once.
        self._bulk = False
        self._feed_memo: tuple[str, list[tuple[str, int]]] | None = None
        # Also for builds: feed pages' entries as HTML, (record id, site root) → HTML, up to
        # KEEP_ENTRY_HTML of them.
        self._entry_html: dict[tuple[str, str], str] = {}
        self.fragment_key = fragment_key(settings)
        # What the server's caches key this snapshot's documents by (feeds.render.keys).
        self.keys = DocumentKeys(self.feeds, settings)
        self.identity = Identity.of(settings)

    @cached_property
    def links(self) -> str:
        """What the documents linking topic and provider pages depend on (``keys.links_key``)."""
        return links_key(self.topic_paths, self.provider_paths)

    def content_keys(self, known: Callable[[FeedRow], FeedKeys | None] | None = None,
                     ) -> ContentKeys:
        """Every document's path → the key of everything its bytes depend on (for the export).

        ``known``: a feed's keys from an earlier build when it has not changed since, else None
        (``feeds.render.keys.content_keys``).
        """
        return content_keys(self.feeds.values(), self._feed_ids, self.store.record_digests,
                            self.links, self.settings, known)

    def _feed_ids(self, feed_path: str) -> list[str]:
        """A feed's record ids, oldest first."""
        return [record_id for record_id, _ in self.store.feed_entries(feed_path)]

    def document_paths(self) -> Iterator[str]:
        """Every public document's path in this snapshot, site pages first."""
        return document_paths(self.feeds.values(), self.settings)

    # -- rendering ---------------------------------------------------------------------------

    def render(self, path: str, query: FeedQuery | None = None) -> Document | None:
        """The document at ``path`` (with ``query``: the entries it selects), or None if none."""
        parsed = parse_feed_document_path(path)
        if parsed is not None:
            feed_path, number, fmt = parsed
            feed = self.feeds.get(feed_path)
            if feed is None or fmt not in self.settings.formats or (
                    query is not None and number is not None):
                return None
            if query is not None:
                limit = query.limit or self.settings.items_per_feed
                return self.feed_document(newest_page(feed, limit, self.settings), fmt, query)
            found = page(feed, number, self.settings)
            return None if found is None else self.feed_document(found, fmt)
        if query is not None:
            return None
        page_of = parse_feed_page_path(path) if self.settings.feed_pages else None
        if page_of is not None:
            feed = self.feeds.get(page_of)
            return None if feed is None else self.feed_page(feed)
        if path == "index.html":
            return self.index()
        if path == "feeds.opml":
            return self.opml()
        if path in STATIC_DOCUMENTS:
            return Document(path, static.asset(path), static.media_type(path), None)
        return None

    def _page_entries(self, feed_page: FeedPage) -> list[tuple[str, int]]:
        """(record id, published_at epoch) of the page's entries, oldest first."""
        feed = feed_page.feed
        if self._feed_memo is None or self._feed_memo[0] != feed.path:
            # One feed's whole list, kept while a build renders that feed's pages one by one.
            self._feed_memo = (feed.path, self.store.feed_entries(feed.path))
        return self._feed_memo[1][feed_page.offset:feed_page.offset + feed_page.limit]

    def feed_document(self, feed_page: FeedPage, fmt: str,
                      query: FeedQuery | None = None) -> Document:
        if query is not None and query.filtered:
            rows = self.store.matching_entries(feed_page.feed.path, query, feed_page.limit,
                                               FILTER_SCAN)
            ids = [record_id for record_id, _ in rows]  # newest first
            newest = datetime.fromtimestamp(rows[0][1], UTC) if rows else None
        elif self._bulk:
            rows = self._page_entries(feed_page)
            ids = [record_id for record_id, _ in reversed(rows)]  # newest first
            newest = datetime.fromtimestamp(rows[-1][1], UTC) if rows else None
        else:
            ids = self.store.entry_ids(feed_page.feed.path, feed_page.offset, feed_page.limit)
            ids.reverse()  # newest first
            newest = self.store.published_at(ids[0]) if ids else None
        entries = self.entries(ids, fmt)
        head = self.head(feed_page.feed, fmt, feed_page, newest or _EPOCH, query)
        feed_format = FORMATS[fmt]
        path = feed_document_path(feed_page.feed.path, fmt, feed_page.number)
        # https://www.w3.org/TR/websub/#discovery: the Link header names the hub and the topic.
        links = tuple(("hub", hub) for hub in head.hubs)
        if links:
            links += (("self", head.self_url),)
        return Document(
            path=f"{path}?{query.query_string()}" if query is not None else path,
            body=feed_format.document(head, entries),
            media_type=feed_format.media_type,
            last_modified=newest,
            immutable=feed_page.is_archive and feed_page.full,
            links=links,
        )

    def prepare(self, paths: Iterable[str], workers: Workers | None = None) -> int:
        """Render, in bulk and by ``workers``, the fragments the feed documents at ``paths``
        need and the store lacks; returns how many. For builds: rendering the documents after
        this only assembles stored fragments."""
        self._bulk = True
        # Record id → formats to render: a cold build names every record here, so tuples
        # (no list, and no copy for fill) keep it small.
        missing: dict[str, tuple[str, ...]] = {}
        wanted: dict[str, set[str]] = {}
        feed_path: str | None = None
        for path in paths:
            parsed = parse_feed_document_path(path)
            if parsed is None or parsed[2] not in self.settings.formats:
                continue
            feed = self.feeds.get(parsed[0])
            found = page(feed, parsed[1], self.settings) if feed is not None else None
            if found is None:
                continue
            if parsed[0] != feed_path:
                self._add_missing(missing, wanted)  # a feed at a time bounds the memory used
                wanted, feed_path = {}, parsed[0]
            wanted.setdefault(parsed[2], set()).update(i for i, _ in self._page_entries(found))
        self._add_missing(missing, wanted)
        return fragments.fill(self.store, missing, self.settings.id_prefix, self.fragment_key,
                              workers)

    def _add_missing(self, missing: dict[str, tuple[str, ...]],
                     wanted: dict[str, set[str]]) -> None:
        for fmt, ids in wanted.items():
            for record_id in self.store.missing_fragments(sorted(ids), fmt, self.fragment_key):
                formats = missing.get(record_id, ())
                if fmt not in formats:
                    missing[record_id] = (*formats, fmt)

    def entries(self, ids: list[str], fmt: str) -> list[bytes]:
        """Each record's fragment in ``fmt``, rendering and storing those not cached yet.

        A build reads back from the store the fragments ``prepare`` just stored, rather than
        keeping them in memory: as fast (one indexed query per document), and 60 MB less at the
        peak of a 10,000-record build, when the workers are alive too.
        """
        cached = self.store.fragments(ids, fmt, self.fragment_key)
        missing = [i for i in ids if i not in cached]
        if missing:
            records = self.store.records(missing)
            bodies = FORMATS[fmt].entries(records, self.settings.id_prefix)
            fresh = {record.id: body for record, body in zip(records, bodies, strict=True)}
            self.save_fragments(fmt, self.fragment_key, fresh)
            cached.update(fresh)
        return [cached[i] for i in ids]

    def head(self, feed: FeedRow, fmt: str, feed_page: FeedPage | None,
             updated: datetime, query: FeedQuery | None = None) -> FeedHead:
        """The head of one document of ``feed`` in ``fmt``, with its archive links.

        Only the subscription document names the WebSub hubs: hubs are notified for it alone.
        A ``?limit=N`` or filtered view (``query``) stands outside the archive chain, so it has
        no archive links; its self link carries its query, and its title says what it filters.
        """
        url = self.settings.url
        current = url(feed_document_path(feed.path, fmt))
        title, subtitle = self.describe(feed)
        number = feed_page.number if feed_page else None
        self_path = feed_document_path(feed.path, fmt, number)
        limited = feed_page is not None and feed_page.limited
        newest_archive = feed_page.archive_pages if feed_page and not limited else 0
        prev_number = (number - 1 if number else newest_archive) or None
        next_number = number + 1 if number and number < newest_archive else None
        self_url = url(self_path)
        if query is not None:
            self_url += "?" + query.query_string()
        if number is not None:
            title = f"{title} (archive page {number})"
        elif query is not None and query.filtered:
            title = f"{title} ({query.describe()})"
        return FeedHead(
            id=current,
            title=title,
            subtitle=subtitle,
            self_url=self_url,
            site_url=self.page_url(feed.path),
            updated=updated,
            hubs=self.settings.hubs if number is None and not limited else (),
            current_url=current if number is not None else None,
            prev_archive_url=url(feed_document_path(feed.path, fmt, prev_number))
            if prev_number else None,
            next_archive_url=url(feed_document_path(feed.path, fmt, next_number))
            if next_number else None,
            is_archive=number is not None,
            # Relative, so the stylesheets are always same-origin with the feed (browsers refuse
            # a cross-origin XSLT) wherever the files are served from, whatever base_url says.
            stylesheets=tuple((kind, relative_root(self_path) + name)
                              for kind, name in FEED_STYLESHEETS) if fmt in STYLED_FORMATS else (),
            identity=self.identity,
        )

    def page_url(self, feed_path: str) -> str:
        """The absolute URL of a feed's web page: ``topics/ai`` → ``<base_url>topics/ai/``
        (without feed pages: the index, ``<base_url>``)."""
        return self.settings.url(feed_site_path(feed_path, self.settings))

    def describe(self, feed: FeedRow) -> tuple[str, str]:
        """A feed's title and subtitle."""
        site = self.settings.site_title
        if feed.path == ALL_FEED:
            return f"{site}: all articles", self.settings.site_description
        if feed.kind == "topics":
            return f"{site}: {feed.name}", f"The latest articles about {feed.name}."
        return f"{site}: {feed.name}", f"The latest articles from {feed.name}."

    def _feed_links(self, feed: FeedRow, newest: Record | None = None) -> html.FeedLinks:
        title, subtitle = self.describe(feed)
        urls = {fmt: self.settings.url(feed_document_path(feed.path, fmt))
                for fmt in self.settings.formats}
        name = "All articles" if feed.path == ALL_FEED else feed.name
        return html.FeedLinks(feed.path, feed.kind, title, subtitle, name, feed.count, urls,
                              newest)

    def newest_records(self) -> dict[str, Record]:
        """Each feed's newest record, for the headlines on the index."""
        newest_ids = {
            feed.path: ids[0]
            for feed in self.feeds.values()
            if (ids := self.store.entry_ids(feed.path, feed.count - 1, 1))
        }
        records = {r.id: r for r in self.store.records(sorted(set(newest_ids.values())))}
        return {path: records[record_id] for path, record_id in newest_ids.items()}

    def site(self, path: str) -> html.Site:
        settings = self.settings
        return html.Site(settings.site_title, settings.site_description, relative_root(path),
                         settings.url("feeds.opml"), settings.feed_pages)

    def index(self) -> Document:
        newest = self.newest_records()
        links = [self._feed_links(feed, newest.get(feed.path)) for feed in self.feeds.values()]
        body = html.index(self.site("index.html"), links)
        return Document("index.html", body, html.MEDIA_TYPE, _newest(self.feeds.values()))

    def feed_page(self, feed: FeedRow) -> Document:
        """A feed's HTML page: its newest entries, as the current feed document holds them."""
        limit = self.settings.items_per_feed
        ids = self.store.entry_ids(feed.path, max(0, feed.count - limit), limit)
        ids.reverse()  # newest first
        path = feed_page_path(feed.path)
        site = self.site(path)
        # A build keeps each entry's HTML for the other pages of the same depth listing it.
        memo = self._entry_html if self._bulk else {}
        if len(memo) >= KEEP_ENTRY_HTML:
            memo.clear()  # a bound on the memory, not a change of bytes: they are rendered again
        for record in self.store.records([i for i in ids if (i, site.root) not in memo]):
            memo[record.id, site.root] = html.entry(site, self._entry_view(record))
        entries = [memo[i, site.root] for i in ids]
        body = html.feed_page(site, self._feed_links(feed), entries)
        return Document(path, body, html.MEDIA_TYPE, feed.newest)

    def _entry_view(self, record: Record) -> html.EntryView:
        topics = tuple(
            (topic, self.topic_paths.get(topic.casefold())) for topic in record.topics
        )
        return html.EntryView(record, topics, self.provider_paths.get(record.provider.domain))

    def opml(self) -> Document:
        feeds = self.feeds.values()
        # OPML lists one URL per feed: the first format the build writes (Atom by default).
        fmt = self.settings.formats[0]
        heads = [(self.head(feed, fmt, None, feed.newest or _EPOCH), feed.kind) for feed in feeds]
        newest = _newest(feeds)
        body = opml.document(self.settings.site_title, newest, heads)
        return Document("feeds.opml", body, opml.MEDIA_TYPE, newest)


def _newest(feeds: Iterable[FeedRow]) -> datetime | None:
    dates = [f.newest for f in feeds if f.newest is not None]
    return max(dates) if dates else None
