"""RSS 2.0 documents and items (https://www.rssboard.org/rss-specification), made with feedgen."""

from __future__ import annotations

from html import escape

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator

from feeds.model import Record
from feeds.render.common import FeedHead
from feeds.render.content import content_html, image_type
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
        # Readers take the channel description as HTML, as they do an item's
        # (https://www.rssboard.org/rss-profile#element-channel-description): escaped, a topic
        # named "<script>" shows as text. Titles are plain text to readers (feedparser, the profile).
        fg.description(escape(head.subtitle))
        # feedgen writes only rel="self" as atom:link, and takes the channel <link> from the last link.
        fg.link(href=head.self_url, rel="self", type="application/rss+xml")
        fg.link(href=head.site_url, rel="alternate")
        # Both default to the clock in feedgen; the newest entry's date keeps builds reproducible.
        fg.lastBuildDate(head.updated)
        fg.pubDate(head.updated)
        identity = head.identity
        if identity is not None:
            # https://www.rssboard.org/rss-specification#ltimagegtSubelementOfLtchannelgt: title
            # and link as the channel's; width at most 144, height at most 400.
            width, height = identity.rss_image_size or (None, None)
            fg.image(url=identity.rss_image, title=head.title, link=head.site_url,
                     width=str(width) if width else None, height=str(height) if height else None)

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
        # content:encoded, escaped rather than CDATA: a "]]>" in a title cannot end the section.
        fe.content(content_html(record))
        lead = record.images[0] if record.images else None
        lead_type = image_type(lead.url) if lead else None
        if lead and lead_type:
            # For readers that show an enclosure as the thumbnail. RSS 2.0 requires a length in
            # bytes, unknown without fetching the image: 0, as the RSS Advisory Board's profile
            # says for an unknown size (https://www.rssboard.org/rss-profile#element-channel-item-enclosure).
            # Without a type its extension names, no enclosure: a wrong type is worse than none.
            fe.enclosure(lead.url, "0", lead_type)

    def serialise(self, fg: FeedGenerator, declaration: bool) -> bytes:
        xml: bytes = fg.rss_str(pretty=False, xml_declaration=declaration, encoding="UTF-8")
        return xml


RSS = Rss()
