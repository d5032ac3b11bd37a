"""RSS 2.0 documents and items (https://www.rssboard.org/rss-specification), made with feedgen."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator

from feeds.model import Record
from feeds.render.common import (
    FeedHead,
    assemble,
    cut_elements,
    related_html,
)
from feeds.render.feedgen_ext import FeedsEntryExtension, FeedsExtension, add_media_and_links

__all__ = ["EXTENSION", "MEDIA_TYPE", "document", "entries"]

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


def entries(records: Sequence[Record], id_prefix: str) -> list[bytes]:
    """Each record's ``<item>`` as it appears inside a channel, in order.

    One feedgen channel holds the whole batch: an item's bytes do not depend on its siblings,
    and building a generator per item would cost more than the item.
    """
    fg = _generator(_PLACEHOLDER)
    for record in records:
        _item(fg.add_entry(order="append"), record, id_prefix)
    return cut_elements(fg.rss_str(pretty=False, xml_declaration=False), b"item")


def _item(fe: FeedEntry, record: Record, id_prefix: str) -> None:
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


def document(head: FeedHead, entries: list[bytes]) -> bytes:
    """A complete RSS document from its channel head and pre-rendered items, newest first."""
    xml: bytes = _generator(head).rss_str(pretty=False, xml_declaration=True, encoding="UTF-8")
    return assemble(xml, b"</channel>", entries, head.stylesheets)
