"""Atom 1.0 (RFC 4287) documents and entries, made with feedgen."""

from __future__ import annotations

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator

from feeds.model import Record
from feeds.render.common import FeedHead
from feeds.render.content import content_html
from feeds.render.feedgen_format import FeedgenFormat

__all__ = ["ATOM", "Atom"]


class Atom(FeedgenFormat):
    name = "atom"
    title = "Atom 1.0"
    media_type = "application/atom+xml; charset=utf-8"
    atom = True
    extensions = ("media",)
    entry_tag = b"entry"
    closing = b"</feed>"

    def add_head(self, fg: FeedGenerator, head: FeedHead) -> None:
        fg.id(head.id)
        fg.title(head.title)
        fg.subtitle(head.subtitle)
        # https://www.rfc-editor.org/rfc/rfc4287#section-4.2.7.2: self names the document itself.
        fg.link(href=head.self_url, rel="self", type="application/atom+xml")
        fg.link(href=head.site_url, rel="alternate", type="text/html")
        # feedgen defaults updated to the clock; the newest entry's date keeps builds reproducible.
        fg.updated(head.updated)
        if head.identity is not None:
            # https://www.rfc-editor.org/rfc/rfc4287#section-4.2.5 (square) and 4.2.8 (2:1).
            fg.icon(head.identity.icon)
            fg.logo(head.identity.logo)

    def add_entry(self, fe: FeedEntry, record: Record, id_prefix: str) -> None:
        fe.id(id_prefix + record.id)
        fe.title(record.title)
        fe.link(href=record.web_url, rel="alternate")
        fe.published(record.published_at)
        fe.updated(record.published_at)
        fe.author(name=record.provider.name, uri=record.provider.url)
        # The summary stays the plain excerpt; readers show the content when there is one.
        if record.excerpt:
            fe.summary(record.excerpt)
        fe.content(content_html(record), type="html")

    def serialise(self, fg: FeedGenerator, declaration: bool) -> bytes:
        xml: bytes = fg.atom_str(pretty=False, xml_declaration=declaration, encoding="UTF-8")
        return xml


ATOM = Atom()
