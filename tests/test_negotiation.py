"""Which Content-Type a feed is served with: XML for browsers, the registered type for readers."""

from __future__ import annotations

import pytest

from feeds.negotiation import BROWSER_XML, feed_media_type, varies_by_accept

ATOM = "application/atom+xml; charset=utf-8"


@pytest.mark.parametrize("accept", [
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",  # Chromium, Firefox
    "text/html",
    "application/atom+xml;q=0.5, text/html",
])
def test_negotiation_browser_navigation_gets_xml(accept: str) -> None:
    assert feed_media_type(ATOM, accept) == BROWSER_XML


@pytest.mark.parametrize("accept", [
    None, "", "*/*",
    "application/atom+xml, application/rss+xml, text/html;q=0.1",
    "application/atom+xml, text/html",  # a tie goes to the feed
    "text/html;q=0, */*",
    "text/html;q=oops",
])
def test_negotiation_feed_readers_get_the_registered_type(accept: str | None) -> None:
    assert feed_media_type(ATOM, accept) == ATOM


def test_negotiation_leaves_other_documents_alone() -> None:
    assert feed_media_type("application/feed+json; charset=utf-8", "text/html") == (
        "application/feed+json; charset=utf-8")
    assert varies_by_accept("application/rss+xml; charset=utf-8")
    assert not varies_by_accept("text/html; charset=utf-8")
