"""What every format shares: a document's head, entry ids, the related-articles HTML."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from feeds.model import Record

__all__ = ["FeedHead", "related_html"]


@dataclass(frozen=True)
class FeedHead:
    """Everything about one feed document except its entries."""

    id: str
    title: str
    subtitle: str
    self_url: str
    site_url: str
    updated: datetime
    hubs: tuple[str, ...] = ()
    # RFC 5005 archived feeds: https://www.rfc-editor.org/rfc/rfc5005#section-4
    current_url: str | None = None
    prev_archive_url: str | None = None
    next_archive_url: str | None = None
    is_archive: bool = False
    # xml-stylesheet instructions for browsers, as (type, href): https://www.w3.org/TR/xml-stylesheet/
    stylesheets: tuple[tuple[str, str], ...] = ()


def related_html(record: Record) -> str | None:
    """A short HTML list of the related articles, for readers that ignore related links."""
    if not record.related:
        return None
    items = []
    for related in record.related:
        source = f" ({escape(related.provider.name)})" if related.provider else ""
        items.append(f'<li><a href="{escape(related.url)}">{escape(related.title)}</a>{source}</li>')
    return "<p>Related articles:</p><ul>" + "".join(items) + "</ul>"


def media_attributes(url: str, width: int | None, height: int | None,
                     medium: bool = False) -> dict[str, str]:
    """Attributes of a Media RSS element: https://www.rssboard.org/media-rss#media-content."""
    # feedgen's media extension writes attribute values as given, and lxml needs strings.
    attributes = {"url": url}
    if medium:
        attributes["medium"] = "image"
    if width is not None:
        attributes["width"] = str(width)
    if height is not None:
        attributes["height"] = str(height)
    return attributes


def cut_elements(xml: bytes, tag: bytes) -> list[bytes]:
    """Every ``<tag>…</tag>`` of a document feedgen wrote (entries: unqualified, no attributes).

    Entries never nest, and text and attributes escape ``<``, so a closing tag ends its entry.
    """
    opening, closing = b"<" + tag + b">", b"</" + tag + b">"
    found = []
    start = xml.find(opening)
    while start != -1:
        end = xml.index(closing, start) + len(closing)
        found.append(xml[start:end])
        start = xml.find(opening, end)
    return found


def assemble(xml: bytes, closing: bytes, entries: list[bytes],
             stylesheets: tuple[tuple[str, str], ...]) -> bytes:
    """Splice pre-rendered entries into an entry-less document just before ``closing``.

    The result is what feedgen would write for the full feed, without rebuilding every entry.
    """
    declaration_end = xml.index(b"?>") + 2
    close = xml.rindex(closing)
    prolog = b"\n"
    for kind, href in stylesheets:
        prolog += f'<?xml-stylesheet type="{kind}" href="{escape(href)}"?>\n'.encode()
    body = xml[declaration_end:close].lstrip(b"\n")
    items = b"".join(b"\n" + entry for entry in entries)
    return xml[:declaration_end] + prolog + body + items + b"\n" + xml[close:].rstrip(b"\n") + b"\n"
