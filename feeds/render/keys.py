"""What a document's bytes depend on: the keys that change whenever its bytes may change.

Every cache of rendered bytes asks this module: the server's document and validator caches
(``DocumentKeys.version``, cheap: per feed), the stored entry fragments (``fragment_key``), the
export's per-document content keys (``content_keys``, finer: per slice of records) and its
tree layout (``export_key``). A CDN purge asks it which documents a change touches
(``touched_documents``, or ``changed_documents`` between two sets of content keys).

Every ``Settings`` field is either named by one of the keys below or listed in
``NOT_IN_OUTPUT`` with the reason it cannot change any byte (tests/test_keys.py holds each new
field to that): a setting forgotten here would leave stale documents in caches and exports.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from functools import cached_property

from feeds.catalog import (
    SITE_DOCUMENTS,
    STATIC_DOCUMENTS,
    feed_document_path,
    feed_documents,
    feed_page_path,
    page,
    pages,
    parse_feed_document_path,
    parse_feed_page_path,
)
from feeds.config import Settings
from feeds.render import static
from feeds.store import FeedRow

__all__ = [
    "DOCUMENT_SETTINGS",
    "EXPORT_SETTINGS",
    "FRAGMENT_SETTINGS",
    "KEYED_WHEN_CHANGED",
    "NOT_IN_OUTPUT",
    "RENDERER_VERSION",
    "ContentKeys",
    "DocumentKeys",
    "FeedKeys",
    "changed_documents",
    "content_keys",
    "export_key",
    "fragment_key",
    "known_keys",
    "links_key",
    "settings_key",
    "touched_documents",
]

# Bump whenever any renderer's output changes, so cached fragments are rendered anew.
RENDERER_VERSION = "6"

# The settings an entry fragment's bytes depend on (its id is a tag: URI under the prefix).
FRAGMENT_SETTINGS = ("id_prefix",)
# The settings any document's bytes depend on: titles, links, page sizes, what exists.
DOCUMENT_SETTINGS = ("site_title", "site_description", "base_url", "items_per_feed",
                     "archive_page_size", "id_prefix", "hubs", "formats", "archives",
                     "feed_pages", "language", "icon", "favicon", "logo", "rss_image", "accent_color")
# Settings added after exports were made, keyed only when changed from their default (which
# keeps the earlier output valid): the keys of those exports stay valid, so the first build
# after an upgrade rewrites nothing. (Archive pages exported with siblings keep them, listed in
# the manifest, until they change; new ones are written without.)
KEYED_WHEN_CHANGED = ("feed_pages", "precompress_archives")
_DEFAULTS = {field.name: field.default for field in fields(Settings)}
# The settings an export's files depend on beyond its documents' bytes: headers written for
# static hosts (_headers), precompressed siblings, the manifest's base URL.
EXPORT_SETTINGS = ("base_url", "max_age", "stale_while_revalidate", "archive_max_age",
                   "brotli_quality", "precompress", "precompress_archives")
# Settings no document, sibling or header rule depends on, and why.
NOT_IN_OUTPUT: Mapping[str, str] = {
    "seeds_dir": "where records are read from; what they hold reaches the keys as records",
    "store_path": "where the store lives, not what it holds",
    "output_dir": "where an export is written, not what it holds",
    "host": "the address the server listens on",
    "port": "the port the server listens on",
    "max_record_bytes": "which files ingest accepts; accepted records reach the keys as records",
    "cache_mb": "how many rendered bodies the server keeps in memory",
    "etag_index_entries": "how many validators the server keeps in memory",
    "max_limit": "which ?limit=N views the server answers, not the bytes of any of them",
    "access_log": "whether the server logs requests",
    "api_token": "who may publish; published records reach the keys as records",
    "watch": "whether the server follows the seeds directory",
    "ingest": "whether this node reads a seeds directory; what it holds reaches the keys as records",
    "build_processes": "how many processes render: the bytes are the same whatever the number",
    "serve_workers": "how many server processes answer: each serves the same documents",
    "schedule_tolerance": "which records an ingest holds back; released ones reach the keys "
                          "as records",
    "purge": "which CDNs are told what changed, not what any document holds",
}


def fragment_key(settings: Settings) -> str:
    """The key of stored entry fragments: rendered anew when it changes."""
    return f"{RENDERER_VERSION}:{settings.fingerprint(*FRAGMENT_SETTINGS)}"


def settings_key(settings: Settings) -> str:
    """The part of every document's key that comes from the renderer and the settings."""
    return RENDERER_VERSION + ":" + settings.fingerprint(*_keyed(DOCUMENT_SETTINGS, settings))


def _keyed(names: tuple[str, ...], settings: Settings) -> list[str]:
    """``names`` less those of KEYED_WHEN_CHANGED left at their default."""
    return [name for name in names
            if name not in KEYED_WHEN_CHANGED or getattr(settings, name) != _DEFAULTS[name]]


def export_key(settings: Settings) -> str:
    """The key of an export tree's layout: files made under another are made anew."""
    return settings.fingerprint(*_keyed(EXPORT_SETTINGS, settings))


class DocumentKeys:
    """Per-feed version keys of one catalogue snapshot, for the server's caches.

    Cheap (no record is read) and coarse: any change of a feed re-versions all its documents.
    """

    def __init__(self, feeds: Mapping[str, FeedRow], settings: Settings) -> None:
        self.feeds = feeds
        self.settings = settings
        self.settings_key = settings_key(settings)
        # Versions asked for per request: only documents that exist are kept, so this is
        # bounded by the catalogue, whatever paths clients try.
        self._versions: dict[str, str] = {}

    def version(self, path: str) -> str | None:
        """A key that changes whenever the document at ``path`` may have changed; None if absent."""
        found = self._versions.get(path)
        if found is None:
            found = self._version(path)
            if found is not None:
                self._versions[path] = found
        return found

    def _version(self, path: str) -> str | None:
        parsed = parse_feed_document_path(path)
        if parsed is not None:
            feed_path, number, fmt = parsed
            feed = self.feeds.get(feed_path)
            if (feed is None or fmt not in self.settings.formats
                    or page(feed, number, self.settings) is None):
                return None
            return f"{self.settings_key}:{feed.version}:{feed.count}"
        page_of = parse_feed_page_path(path) if self.settings.feed_pages else None
        if page_of is not None:
            feed = self.feeds.get(page_of)
            return None if feed is None else f"{self.settings_key}:{feed.version}:{feed.count}:page"
        if path in SITE_DOCUMENTS:
            return self.site_version
        if path in STATIC_DOCUMENTS:
            return static.asset_version(path)
        return None

    @cached_property
    def site_version(self) -> str:
        """Site pages list every feed, so any feed's change is theirs too."""
        digest = hashlib.sha256()
        for feed in self.feeds.values():
            digest.update(f"{feed.path}:{feed.version}:{feed.count}:{feed.name}\n".encode())
        return f"{self.settings_key}:{digest.hexdigest()[:16]}"


def links_key(topic_paths: Mapping[str, str], provider_paths: Mapping[str, str]) -> str:
    """A key of the links from entries to topic and provider pages (``Renderer.topic_paths``…).

    A feed page and the site pages link them: when it changes (a new topic or provider, one
    whose last record went), every document that links them has new bytes.
    """
    return hashlib.sha256(repr((sorted(topic_paths.items()),
                                sorted(provider_paths.items()))).encode()).hexdigest()


@dataclass(frozen=True)
class FeedKeys:
    """One feed's document keys (``feed_documents`` order), and its newest record's line
    (``id:digest``, empty for an empty feed): what the site pages' key takes of its records."""

    documents: dict[str, str]
    newest: str


@dataclass(frozen=True)
class ContentKeys:
    """Every document's key (``content_keys``), and each feed's newest record's line: what
    a later build needs to key only the feeds changed since (``feeds.export.plan``)."""

    documents: dict[str, str | None]
    newest: dict[str, str]


def content_keys(feeds: Iterable[FeedRow], members: Callable[[str], Sequence[str]],
                 digests: Callable[[], Mapping[str, str]], links: str, settings: Settings,
                 known: Callable[[FeedRow], FeedKeys | None] | None = None) -> ContentKeys:
    """Every document's path → a key of everything its bytes depend on, in catalog.document_paths order.

    ``members``: a feed's record ids, oldest first, asked for one feed at a time (all feeds'
    at once are several ids per record: 300 MB at 1,000,000 records); ``digests``: each
    record's file digest, asked for once, and only if some feed's keys are computed; ``links``:
    ``links_key`` of the group pages entries link to; ``known``: a feed's keys as an earlier
    computation made them, when the feed has not changed since (an incremental build,
    ``feeds.export.plan``), else None: computed here.

    Finer than ``DocumentKeys.version``, which is per feed: one new record re-versions every
    archive page of ``all``, though only the pages whose slice of records moved have new bytes.
    A feed document's bytes depend on the settings and renderer (``settings_key``), the feed's
    name, the page's number and the number of archive pages (its links), and the records in
    its slice. An HTML page lists its feed's newest records and links their topics and
    providers; the index and the OPML list every feed with its size and newest record (a
    feed's ``FeedKeys.newest``, so the same whether computed here or known). Keys derive from
    the records' file digests, never from the store's history, so a rebuilt store keeps them.
    """
    common = settings_key(settings)
    site = hashlib.sha256(f"{common}\n{links}\n".encode())
    keys: dict[str, str | None] = dict.fromkeys(SITE_DOCUMENTS)  # keyed once every feed is seen
    keys.update((path, static.asset_version(path)) for path in STATIC_DOCUMENTS)
    newest: dict[str, str] = {}
    read: Mapping[str, str] | None = None
    for feed in feeds:
        feed_keys = known(feed) if known is not None else None
        if feed_keys is None:
            if read is None:
                read = digests()
            feed_keys = _feed_keys(feed, members(feed.path), read, common, links, settings)
        keys.update(feed_keys.documents)
        newest[feed.path] = feed_keys.newest
        site.update(f"{common}\n{feed.path}\n{feed.kind}\n{feed.name}\n{feed.count}\n"
                    f"{feed_keys.newest}".encode())
    site_key = site.hexdigest()[:32]
    keys.update(dict.fromkeys(SITE_DOCUMENTS, site_key))
    return ContentKeys(keys, newest)


def _feed_keys(feed: FeedRow, ids: Sequence[str], digests: Mapping[str, str], common: str,
               links: str, settings: Settings) -> FeedKeys:
    """The keys of one feed's documents, from its members' digests."""
    keys: dict[str, str] = {}
    # Each record's line of a key is made per feed (four on average) rather than kept for
    # every record at once.
    entries = [f"{record_id}:{digests[record_id]}\n" for record_id in ids]
    head = f"{common}\n{feed.path}\n{feed.kind}\n{feed.name}\n"
    if settings.feed_pages:
        keys[feed_page_path(feed.path)] = _slice_key(
            f"{head}{feed.count}\n{links}\n",
            entries[max(0, len(entries) - settings.items_per_feed):])
    for feed_page in pages(feed, settings):
        key = _slice_key(f"{head}{feed_page.number}\n{feed_page.archive_pages}\n",
                         entries[feed_page.offset:feed_page.offset + feed_page.limit])
        for fmt in settings.formats:
            keys[feed_document_path(feed.path, fmt, feed_page.number)] = key
    return FeedKeys(keys, entries[-1] if entries else "")


def known_keys(feed: FeedRow, files: Mapping[str, Mapping[str, object]],
               newest: Mapping[str, str], settings: Settings) -> FeedKeys | None:
    """``feed``'s keys as ``files`` (an export manifest's: path → an entry whose ``version`` is
    the content key) and ``newest`` (``ContentKeys.newest`` of the same build) hold them, or
    None when they lack any of them: they are then computed anew."""
    line = newest.get(feed.path)
    if line is None:
        return None
    keys: dict[str, str] = {}
    for path in feed_documents(feed, settings):
        entry = files.get(path)
        version = None if entry is None else entry.get("version")
        if not isinstance(version, str):
            return None
        keys[path] = version
    return FeedKeys(keys, line)


def _slice_key(head: str, lines: list[str]) -> str:
    """A document's key: what it depends on beyond its records, then each record's digest line."""
    return hashlib.sha256((head + "".join(lines)).encode()).hexdigest()[:32]


def touched_documents(changed_feeds: Iterable[str], before: Mapping[str, FeedRow],
                      after: Mapping[str, FeedRow], settings: Settings) -> set[str]:
    """The documents whose bytes may differ after a change to ``changed_feeds`` (feed paths, as
    an ingest reports them), given the catalogues before and after it.

    Each changed feed's documents in either catalogue (so pages that went away are named too),
    and the site pages, which list every feed. What a CDN purges after an ingest; exact but
    costlier (it reads every record's digest): ``changed_documents`` of two ``content_keys``.
    """
    changed = set(changed_feeds)
    touched: set[str] = set()
    for catalogue in (before, after):
        for path in changed & catalogue.keys():
            touched.update(feed_documents(catalogue[path], settings))
    if changed:
        touched.update(SITE_DOCUMENTS)
    return touched


def changed_documents(before: Mapping[str, str | None],
                      after: Mapping[str, str | None]) -> set[str]:
    """The documents of two ``content_keys`` results whose keys differ, added ones and removed
    ones included."""
    return set(before.keys() ^ after.keys()) | {
        path for path in before.keys() & after.keys() if before[path] != after[path]}
