"""OPML 2.0 subscription list of every feed: http://opml.org/spec2.opml."""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from xml.etree import ElementTree

from feeds.render.common import FeedHead

__all__ = ["MEDIA_TYPE", "document"]

MEDIA_TYPE = "text/x-opml; charset=utf-8"


def document(title: str, updated: datetime | None, feeds: list[tuple[FeedHead, str]]) -> bytes:
    """``feeds`` pairs each feed's Atom head with the kind it belongs to (topics, providers…)."""
    opml = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(opml, "head")
    ElementTree.SubElement(head, "title").text = title
    if updated is not None:
        ElementTree.SubElement(head, "dateModified").text = format_datetime(updated, usegmt=True)
    body = ElementTree.SubElement(opml, "body")
    groups: dict[str, ElementTree.Element] = {}
    for feed, kind in feeds:
        if kind not in groups:
            groups[kind] = ElementTree.SubElement(body, "outline", text=kind.capitalize())
        ElementTree.SubElement(
            groups[kind], "outline", type="rss", text=feed.title, title=feed.title,
            xmlUrl=feed.self_url, htmlUrl=feed.site_url,
        )
    ElementTree.indent(opml)
    xml: bytes = ElementTree.tostring(opml, encoding="UTF-8", xml_declaration=True)
    return xml + b"\n"
