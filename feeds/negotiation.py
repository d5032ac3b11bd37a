"""Which Content-Type a browser gets for a feed, so it shows the styled page, not raw text.

Chromium displays ``application/atom+xml`` and ``application/rss+xml`` as plain text and
applies an ``xml-stylesheet`` only to documents served with an XML media type. A browser that
navigates to a feed asks for text/html first, feed readers ask for feeds (or ``*/*``): the
former get ``application/xml``, the rest the registered type. The bytes and ETag are the same;
only the Content-Type differs, so those responses carry ``Vary: Accept``.
"""

from __future__ import annotations

from feeds.http import qvalues

__all__ = ["BROWSER_XML", "feed_media_type", "varies_by_accept"]

BROWSER_XML = "application/xml; charset=utf-8"
# The registered types: RFC 4287 section 7 and https://www.rssboard.org/rss-mime-type-application.txt
_NEGOTIATED = ("application/atom+xml", "application/rss+xml")


def varies_by_accept(media_type: str) -> bool:
    """True for the feed types whose Content-Type depends on the request's Accept header."""
    return media_type.split(";")[0].strip() in _NEGOTIATED


def feed_media_type(media_type: str, accept: str | None) -> str:
    """``media_type``, or an XML type when the client prefers HTML to this very feed type."""
    if not accept or not varies_by_accept(media_type):
        return media_type
    weights = qvalues(accept)
    html = weights.get("text/html", 0.0)
    feed = weights.get(media_type.split(";")[0].strip(), 0.0)
    return BROWSER_XML if html > feed else media_type
