"""RSS 2.0 documents and items (https://www.rssboard.org/rss-specification), made with feedgen."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from feedgen.feed import FeedGenerator

from feeds.model import Record
from feeds.render.common import (
    FeedHead,
    assemble,
    cut_element,
    related_html,
)
from feeds.render.feedgen_ext import FeedsEntryExtension, FeedsExtension, add_media_and_links

__all__ = ["EXTENSION", "MEDIA_TYPE", "document", "entry"]

EXTENSION = "rss"
MEDIA_TYPE = "application/rss+xml; charset=utf-8"
_PLACEHOLDER = FeedHead("urn:x", "x", "x", "http://x/", "http://x/", datetime(1970, 1, 1, tzinfo=UTC))


def _generator(head: FeedHead) -> FeedGenerator:
    fg = FeedGenerator()
    fg.load_extension("media", atom=False, rss=True)
    fg.load_extension("dc", atom=False, rss=True)
    fg.register_extension("feeds", FeedsExtension, FeedsEntryExtension, atom=False, rss=True)
    fg.feeds.head = head
    fg.title(head.title)
    fg.description(head.subtitle)
    # feedgen writes only rel="self" as atom:link, and takes the channel <link> from the last link.
    fg.link(href=head.self_url, rel="self", type="application/rss+xml")
    fg.link(href=head.site_url, rel="alternate")
    # Both default to the clock in feedgen; the newest entry's date keeps builds reproducible.
    fg.lastBuildDate(head.updated)
    fg.pubDate(head.updated)
    fg.generator("feeds")
    return fg


def entry(record: Record, id_prefix: str) -> bytes:
    """One ``<item>`` as it appears inside a channel."""
    fg = _generator(_PLACEHOLDER)
    fe = fg.add_entry()
    fe.title(record.title)
    fe.link(href=record.web_url)
    # A stable tag: URI, not the article URL, which may change: so isPermaLink="false".
    fe.guid(id_prefix + record.id, permalink=False)
    fe.pubDate(record.published_at)
    # RSS <author> must be an e-mail address; Dublin Core's creator carries a name.
    fe.dc.dc_creator(record.provider.name)
    # Readers take an RSS description as HTML (https://www.rssboard.org/rss-profile#element-channel-item-description):
    # escaped, a record's "<script>" shows as text instead of becoming markup.
    fe.description(escape(record.excerpt or record.title))
    content = related_html(record)
    if content:
        # Escaped rather than CDATA: a "]]>" in a related title cannot then end the section.
        fe.content(content)
    for topic in record.topics:
        fe.category(term=topic)
    add_media_and_links(fe, record)
    return cut_element(fg.rss_str(pretty=False, xml_declaration=False), b"item")


def document(head: FeedHead, entries: list[bytes]) -> bytes:
    """A complete RSS document from its channel head and pre-rendered items, newest first."""
    xml: bytes = _generator(head).rss_str(pretty=False, xml_declaration=True, encoding="UTF-8")
    return assemble(xml, b"</channel>", entries, head.stylesheet_url)
