"""Atom 1.0 (RFC 4287) documents and entries, made with feedgen."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator

from feeds.model import Record
from feeds.render.common import FeedHead, assemble, cut_elements, related_html
from feeds.render.feedgen_ext import FeedsEntryExtension, FeedsExtension, add_media_and_links

__all__ = ["EXTENSION", "MEDIA_TYPE", "document", "entries"]

EXTENSION = "atom"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
_PLACEHOLDER = FeedHead("urn:x", "x", "x", "http://x/", "http://x/", datetime(1970, 1, 1, tzinfo=UTC))


def _generator(head: FeedHead) -> FeedGenerator:
    fg = FeedGenerator()
    fg.load_extension("media", atom=True, rss=False)
    fg.register_extension("feeds", FeedsExtension, FeedsEntryExtension, atom=True, rss=False)
    fg.feeds.head = head
    fg.id(head.id)
    fg.title(head.title)
    fg.subtitle(head.subtitle)
    # https://www.rfc-editor.org/rfc/rfc4287#section-4.2.7.2: self names the document itself.
    fg.link(href=head.self_url, rel="self", type="application/atom+xml")
    fg.link(href=head.site_url, rel="alternate", type="text/html")
    # feedgen defaults updated to the clock; the newest entry's date keeps builds reproducible.
    fg.updated(head.updated)
    fg.generator("feeds")
    return fg


def entries(records: Sequence[Record], id_prefix: str) -> list[bytes]:
    """Each record's ``<entry>`` as it appears inside a feed document, in order.

    One feedgen feed holds the whole batch: an entry's bytes do not depend on its siblings,
    and building a generator per entry would cost more than the entry.
    """
    fg = _generator(_PLACEHOLDER)
    for record in records:
        _entry(fg.add_entry(order="append"), record, id_prefix)
    return cut_elements(fg.atom_str(pretty=False, xml_declaration=False), b"entry")


def _entry(fe: FeedEntry, record: Record, id_prefix: str) -> None:
    fe.id(id_prefix + record.id)
    fe.title(record.title)
    fe.link(href=record.web_url, rel="alternate")
    fe.published(record.published_at)
    fe.updated(record.published_at)
    fe.author(name=record.provider.name, uri=record.provider.url)
    if record.excerpt:
        fe.summary(record.excerpt)
    content = related_html(record)
    if content:
        fe.content(content, type="html")
    for topic in record.topics:
        fe.category(term=topic)
    add_media_and_links(fe, record)


def document(head: FeedHead, entries: list[bytes]) -> bytes:
    """A complete Atom document from its head and pre-rendered entries, newest first."""
    xml: bytes = _generator(head).atom_str(pretty=False, xml_declaration=True, encoding="UTF-8")
    return assemble(xml, b"</feed>", entries, head.stylesheets)
