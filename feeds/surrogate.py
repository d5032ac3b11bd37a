"""Surrogate keys: names for groups of documents, so a cache can purge exactly what changed.

Every document a cache holds carries its keys (``Surrogate-Key`` for Fastly and Varnish's xkey
vmod, ``Cache-Tag`` for Cloudflare); after an ingest, the keys of what it changed are purged.
The groups follow the server's version keys (``feeds.render.keys.DocumentKeys``): purging
an ingest's keys removes exactly the documents ``touched_documents`` names, those whose bytes
may have changed (tests/test_surrogate.py):

- ``feed:<feed>`` (``feed:all``, ``feed:topics/ai``, ``feed:providers/bbc-co-uk``): the feed's
  Atom, RSS and JSON documents, its archive pages, ``?limit=N`` views and its HTML page, which
  all change with the feed's version. The all feed is a feed like any other (every published
  record is in it, so nearly every change purges it).
- ``site``: the index page and the OPML list, which show every feed (its name, size and newest
  entry), so any change to any feed changes them.
- ``static``: the stylesheet, script, icon and ``feed.xsl``, which change only with a release of
  feeds, never with an ingest.
- ``feeds``: every document, to purge everything at once (after a change of settings).

Key syntax: Fastly separates keys with spaces (https://www.fastly.com/documentation/guides/
full-site-delivery/purging/working-with-surrogate-keys/), Cloudflare's Cache-Tag with commas
(https://developers.cloudflare.com/cache/how-to/purge-cache/purge-by-tags/), so keys hold
neither: slugs are ``[a-z0-9-]`` (feeds/slugs.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from feeds.catalog import SITE_DOCUMENTS, STATIC_DOCUMENTS, parse_feed_document_path, parse_feed_page_path

__all__ = [
    "ALL_DOCUMENTS",
    "SITE",
    "STATIC",
    "changed_keys",
    "document_keys",
    "feed_key",
    "key_headers",
]

ALL_DOCUMENTS = "feeds"
SITE = "site"
STATIC = "static"


def feed_key(feed: str) -> str:
    """The key of every document of ``feed`` (``topics/ai`` → ``feed:topics/ai``)."""
    return f"feed:{feed}"


def document_keys(path: str) -> tuple[str, ...]:
    """The keys a document at ``path`` carries, the most specific first; () for no document.

    A ``?limit=N`` view (``feeds/all.atom?limit=10``) is its feed's document: same keys.
    """
    path = path.partition("?")[0]
    parsed = parse_feed_document_path(path)
    feed = parsed[0] if parsed is not None else parse_feed_page_path(path)
    if feed is not None:
        return (feed_key(feed), ALL_DOCUMENTS)
    if path in SITE_DOCUMENTS:
        return (SITE, ALL_DOCUMENTS)
    if path in STATIC_DOCUMENTS:
        return (STATIC, ALL_DOCUMENTS)
    return ()


def changed_keys(feeds: Iterable[str]) -> tuple[str, ...]:
    """The keys to purge after an ingest changed ``feeds``: theirs and the site pages'; sorted."""
    changed = sorted({feed_key(feed) for feed in feeds})
    return (SITE, *changed) if changed else ()


def key_headers(keys: Iterable[str]) -> dict[str, str]:
    """Response headers naming ``keys``: ``Surrogate-Key`` (space-separated) and ``Cache-Tag`` (commas)."""
    listed = list(keys)
    if not listed:
        return {}
    return {"Surrogate-Key": " ".join(listed), "Cache-Tag": ",".join(listed)}
