"""What every format shares: a document's head, Media RSS attributes, splicing entries in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from feeds.catalog import STATIC_DOCUMENTS
from feeds.config import Settings
from feeds.render.static import png_size

__all__ = ["FeedHead", "Identity", "assemble", "cut_elements", "media_attributes"]


@dataclass(frozen=True)
class Identity:
    """What every feed shows of the site it comes from: pictures (absolute URLs), language, colour."""

    icon: str
    favicon: str
    logo: str
    rss_image: str
    # (width, height) when known (the site's own PNGs); RSS allows at most 144 by 400.
    rss_image_size: tuple[int, int] | None
    language: str | None
    accent_color: str

    @classmethod
    def of(cls, settings: Settings) -> Identity:
        """The site as its feeds show it, from the settings; the sizes of the site's own RSS image."""
        rss_image = settings.rss_image
        size = png_size(rss_image) if rss_image in STATIC_DOCUMENTS else None
        return cls(
            icon=settings.asset_url(settings.icon),
            favicon=settings.asset_url(settings.favicon),
            logo=settings.asset_url(settings.logo),
            rss_image=settings.asset_url(rss_image),
            # RSS caps an image at 144 by 400 (https://www.rssboard.org/rss-specification#ltimagegtSubelementOfLtchannelgt):
            # a larger one is named without its size rather than with an invalid one.
            rss_image_size=size if size and size[0] <= 144 and size[1] <= 400 else None,
            language=settings.language or None,
            accent_color=settings.accent_color,
        )


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
    identity: Identity | None = None


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
