"""A feedgen extension for what feedgen 1.0.0 lacks: typed entry links, archives, WebSub hubs,
Feedly's webfeeds icon, logo and accent colour.

Registered through feedgen's own extension mechanism (``register_extension``), never patched.
"""

from __future__ import annotations

from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.util import xml_elem

from feeds.model import Record
from feeds.render.common import FeedHead, media_attributes

__all__ = ["ATOM_NS", "FeedsEntryExtension", "FeedsExtension", "add_media_and_links"]

ATOM_NS = "http://www.w3.org/2005/Atom"
HISTORY_NS = "http://purl.org/syndication/history/1.0"
# Feedly's namespace: https://blog.feedly.com/10-ways-to-optimize-your-feed-for-feedly/
WEBFEEDS_NS = "http://webfeeds.org/rss/1.0"


class FeedsExtension(BaseExtension):  # type: ignore[misc]
    """Feed-level, in both formats: RFC 5005 archive links and ``fh:archive``, WebSub hub links,
    Feedly's ``webfeeds`` pictures and colour."""

    def __init__(self) -> None:
        self.head: FeedHead | None = None

    def extend_ns(self) -> dict[str, str]:
        namespaces = {}
        if self.head is not None and self.head.is_archive:
            namespaces["fh"] = HISTORY_NS
        if self.head is not None and self.head.identity is not None:
            namespaces["webfeeds"] = WEBFEEDS_NS
        return namespaces

    def _webfeeds(self, parent: Any) -> None:
        identity = self.head.identity if self.head is not None else None
        if identity is None:
            return
        xml_elem(f"{{{WEBFEEDS_NS}}}icon", parent).text = identity.icon
        xml_elem(f"{{{WEBFEEDS_NS}}}logo", parent).text = identity.logo
        xml_elem(f"{{{WEBFEEDS_NS}}}accentColor", parent).text = identity.accent_color

    def _links(self) -> list[tuple[str, str]]:
        head = self.head
        if head is None:
            return []
        links = [("hub", hub) for hub in head.hubs]
        links += [
            (rel, url)
            for rel, url in (
                ("current", head.current_url),
                ("prev-archive", head.prev_archive_url),
                ("next-archive", head.next_archive_url),
            )
            if url is not None
        ]
        return links

    def extend_atom(self, feed: Any) -> Any:
        # https://www.rfc-editor.org/rfc/rfc5005#section-4: archive documents carry fh:archive.
        if self.head is not None and self.head.is_archive:
            xml_elem(f"{{{HISTORY_NS}}}archive", feed)
        for rel, url in self._links():
            xml_elem("link", feed, rel=rel, href=url)
        self._webfeeds(feed)
        return feed

    def extend_rss(self, rss: Any) -> Any:
        channel = rss[0]
        if self.head is not None and self.head.is_archive:
            xml_elem(f"{{{HISTORY_NS}}}archive", channel)
        for rel, url in self._links():
            xml_elem(f"{{{ATOM_NS}}}link", channel, rel=rel, href=url)
        self._webfeeds(channel)
        return rss


class FeedsEntryExtension(BaseEntryExtension):  # type: ignore[misc]
    """Entry-level: related and AMP links, which feedgen's own ``link()`` cannot express."""

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []

    def link(self, rel: str, href: str, title: str | None = None, type: str | None = None) -> None:
        attributes = {"rel": rel, "href": href}
        if title:
            attributes["title"] = title
        if type:
            attributes["type"] = type
        self.links.append(attributes)

    def extend_atom(self, entry: Any) -> Any:
        # feedgen 1.0.0 drops rel and type from entry links (its issue #135); restore them on the
        # alternate link it wrote, and write our own links in full.
        for element in entry.findall("link"):
            element.set("rel", "alternate")
            element.set("type", "text/html")
        for attributes in self.links:
            xml_elem("link", entry, **attributes)
        return entry

    def extend_rss(self, item: Any) -> Any:
        for attributes in self.links:
            xml_elem(f"{{{ATOM_NS}}}link", item, **attributes)
        return item


def add_media_and_links(fe: Any, record: Record) -> None:
    """Images as Media RSS, the AMP and related links: alike in Atom entries and RSS items."""
    for image in record.images:
        # Distinct images, not renditions of one: no media:group (group=None).
        # https://www.rssboard.org/media-rss#media-group
        fe.media.content(media_attributes(image.url, image.width, image.height, medium=True),
                         group=None)
    if record.images:
        first = record.images[0]
        fe.media.thumbnail(media_attributes(first.url, first.width, first.height), group=None)
    if record.amp_url:
        fe.feeds.link("amphtml", record.amp_url, type="text/html")
    for related in record.related:
        fe.feeds.link("related", related.url, title=related.title, type="text/html")
