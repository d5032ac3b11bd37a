"""RSS 2.0 documents and items (https://www.rssboard.org/rss-specification), made with feedgen."""

from __future__ import annotations

from html import escape

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator

from feeds.model import Record
from feeds.render.common import FeedHead, related_html
from feeds.render.feedgen_format import FeedgenFormat

__all__ = ["RSS", "Rss"]


class Rss(FeedgenFormat):
    name = "rss"
    title = "RSS 2.0"
    media_type = "application/rss+xml; charset=utf-8"
    atom = False
    extensions = ("media", "dc")
    entry_tag = b"item"
    closing = b"</channel>"

    def add_head(self, fg: FeedGenerator, head: FeedHead) -> None:
        fg.title(head.title)
        fg.description(head.subtitle)
        # feedgen writes only rel="self" as atom:link, and takes the channel <link> from the last link.
        fg.link(href=head.self_url, rel="self", type="application/rss+xml")
        fg.link(href=head.site_url, rel="alternate")
        # Both default to the clock in feedgen; the newest entry's date keeps builds reproducible.
        fg.lastBuildDate(head.updated)
        fg.pubDate(head.updated)

    def add_entry(self, fe: FeedEntry, record: Record, id_prefix: str) -> None:
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

    def serialise(self, fg: FeedGenerator, declaration: bool) -> bytes:
        xml: bytes = fg.rss_str(pretty=False, xml_declaration=declaration, encoding="UTF-8")
        return xml


RSS = Rss()
