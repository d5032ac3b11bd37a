"""Every feed names the site's icons and logo (PNG, in the sizes each format expects) and its language;
the pictures are served and exported like the other site assets."""

from __future__ import annotations

import json
import struct
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from lxml import etree
from starlette.testclient import TestClient

from feeds.config import Settings
from feeds.errors import ConfigError
from feeds.render.common import FeedHead, Identity
from feeds.render.formats import FORMATS
from tests.helpers import documents

DAY = datetime(2024, 1, 1, tzinfo=UTC)


def _png_size(body: bytes) -> tuple[int, int]:
    assert body[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", body[16:24])
    return width, height


def _pictures(path: str, body: bytes) -> dict[str, str]:
    """What a reader finds in a feed document: role → picture URL."""
    if path.endswith(".json"):
        feed = json.loads(body)
        return {"json icon": feed["icon"], "json favicon": feed["favicon"]}
    parsed = feedparser.parse(body)
    assert not parsed.bozo, path
    if path.endswith(".rss"):
        image = parsed.feed.image
        assert (image.title, image.link) == (parsed.feed.title, parsed.feed.link), path
        return {"rss image": image.href}
    return {"atom icon": parsed.feed.icon, "atom logo": parsed.feed.logo}


# https://www.rfc-editor.org/rfc/rfc4287#section-4.2.5 and 4.2.8; the RSS 2.0 <image> limits;
# https://www.jsonfeed.org/version/1.1/ (icon 512x512, favicon 64x64).
def _fits(role: str, width: int, height: int) -> bool:
    return {
        "atom icon": width == height >= 64,
        "atom logo": width == 2 * height,
        "rss image": width <= 144 and height <= 400,
        "json icon": width == height == 512,
        "json favicon": width == height == 64,
    }[role]


def test_feed_icons_every_feed_names_pictures_that_are_exported_served_and_sized(
        output: Path, client: TestClient, settings: Settings) -> None:
    exported = documents(output)
    feeds = {path: body for path, body in exported.items()
             if path.startswith("feeds/") and path.endswith((".atom", ".rss", ".json"))}
    assert len(feeds) > 30
    seen: dict[str, str] = {}
    for path, body in feeds.items():
        for role, url in _pictures(path, body).items():
            assert seen.setdefault(role, url) == url, (path, role)
    assert len(seen) == 5
    for role, url in seen.items():
        assert url.startswith(settings.base_url), url
        site_path = url.removeprefix(settings.base_url)
        served = client.get("/" + site_path)
        assert served.status_code == 200 and served.headers["content-type"] == "image/png", url
        assert served.content == exported[site_path], url
        assert _fits(role, *_png_size(served.content)), (role, _png_size(served.content))
    rss = feedparser.parse(feeds["feeds/all.rss"]).feed.image
    assert (rss.width, rss.height) == _png_size(exported["icon-144.png"])


def test_feed_icons_settings_name_pictures_elsewhere_and_the_language() -> None:
    site = Identity.of(Settings(icon="https://cdn.example/i.png", rss_image="https://cdn.example/r.png",
                             logo="brand/logo.png", language="pt-BR", accent_color="0a0B0c"))
    assert (site.icon, site.logo, site.favicon) == (
        "https://cdn.example/i.png", "http://127.0.0.1:8000/brand/logo.png",
        "http://127.0.0.1:8000/icon-64.png")
    # Sizes are known only for the site's own pictures; RSS then leaves them out.
    assert site.rss_image_size is None and Identity.of(Settings()).rss_image_size == (144, 144)
    assert Identity.of(Settings(rss_image="icon-512.png")).rss_image_size is None  # over RSS's 144
    head = FeedHead("urn:x", "T", "S", "http://f/a", "http://f/", DAY, identity=site)
    atom = etree.fromstring(FORMATS["atom"].document(head, []))
    assert atom.get("{http://www.w3.org/XML/1998/namespace}lang") == "pt-BR"
    rss = etree.fromstring(FORMATS["rss"].document(head, []))
    assert rss.findtext("channel/language") == "pt-BR"
    assert rss.find("channel/image/width") is None
    assert rss.findtext("{*}channel/{http://webfeeds.org/rss/1.0}accentColor") == "0a0B0c"
    assert json.loads(FORMATS["json"].document(head, []))["language"] == "pt-BR"
    assert "language" not in json.loads(FORMATS["json"].document(
        FeedHead("urn:x", "T", "S", "http://f/a", "http://f/", DAY, identity=Identity.of(Settings())), []))


@pytest.mark.parametrize(("field", "value"), [
    ("language", "english please"), ("accent_color", "#c2410c"), ("icon", "javascript:alert(1)"),
    ("logo", "//cdn.example/l.png"), ("favicon", ""),
])
def test_feed_icons_bad_settings_are_refused_with_the_field_named(field: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"^{field}: expected"):
        Settings(**{field: value})  # type: ignore[arg-type]
