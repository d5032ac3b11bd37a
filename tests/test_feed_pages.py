"""``feed_pages: false``: feeds published without their HTML pages, and no link to one anywhere."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import feedparser
import pytest
from lxml import etree, html
from starlette.testclient import TestClient

from feeds.app import create_app
from feeds.check import check_export
from feeds.config import Settings
from tests.conftest import build
from tests.helpers import jing_errors

SITE = "http://feeds.test/"
ATOM = {"a": "http://www.w3.org/2005/Atom"}


@pytest.fixture
def feeds_only(settings: Settings) -> Settings:
    # Small pages, so archive documents (which carry the site link too) are checked as well.
    return dataclasses.replace(settings, feed_pages=False, items_per_feed=2, archive_page_size=2)


@pytest.fixture
def feeds_only_output(feeds_only: Settings) -> Path:
    return build(feeds_only)


def _manifest(output: Path) -> dict[str, dict[str, str]]:
    files: dict[str, dict[str, str]] = json.loads((output / "manifest.json").read_text())["files"]
    return files


def test_feed_pages_false_exports_no_feed_page_and_check_finds_no_dangling_link(
        feeds_only_output: Path) -> None:
    files = _manifest(feeds_only_output)
    assert [p for p in files if p.endswith(".html")] == ["index.html"]
    assert sorted(p.name for p in feeds_only_output.resolve().rglob("*.html")) == ["index.html"]
    assert any("/archive/" in p for p in files)
    # Every absolute link of every document (href, OPML htmlUrl, RSS <link>, JSON Feed URLs)
    # names a file of the export.
    assert check_export(feeds_only_output) == []


def test_feed_pages_false_feeds_link_to_the_site_index(feeds_only_output: Path) -> None:
    atom = etree.parse(str(feeds_only_output / "feeds" / "topics" / "ai.atom"))
    assert atom.xpath("/a:feed/a:link[@rel='alternate']/@href", namespaces=ATOM) == [SITE]
    rss = etree.parse(str(feeds_only_output / "feeds" / "providers" / "cio-com.rss"))
    assert rss.xpath("/rss/channel/link/text()") == [SITE]
    data = json.loads((feeds_only_output / "feeds" / "all.json").read_bytes())
    assert data["home_page_url"] == SITE
    opml = etree.parse(str(feeds_only_output / "feeds.opml"))
    assert set(opml.xpath("//outline[@xmlUrl]/@htmlUrl")) == {SITE}


def test_feed_pages_false_feeds_parse_and_validate(feeds_only_output: Path) -> None:
    atoms = sorted((feeds_only_output / "feeds").rglob("*.atom"))
    for path in [*atoms, *sorted((feeds_only_output / "feeds").rglob("*.rss"))]:
        parsed = feedparser.parse(path.read_bytes())
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        assert parsed.feed.link == SITE, path
    assert jing_errors(atoms) == ""


def test_feed_pages_false_index_lists_feeds_without_links_to_pages(
        feeds_only_output: Path) -> None:
    index = html.fromstring((feeds_only_output / "index.html").read_bytes())
    (feed,) = index.xpath("//li[@data-feed='topics/cybersecurity']")
    assert feed.xpath(".//h3/a") == []
    assert feed.xpath("string(.//h3)") == "Cybersecurity"
    assert feed.xpath(".//ul[@class='subscribe']/li/a/@href") == [
        f"{SITE}feeds/topics/cybersecurity.{fmt}" for fmt in ("atom", "rss", "json")]
    # The only relative links left are the assets'.
    relative = {url for url in index.xpath("//@href | //@src") if not url.startswith("http")}
    assert relative == {"style.css", "favicon.svg", "site.js"}


def test_feed_pages_false_server_answers_404_for_pages_and_the_export_bytes_otherwise(
        feeds_only: Settings, feeds_only_output: Path) -> None:
    files = _manifest(feeds_only_output)
    with TestClient(create_app(feeds_only)) as client:
        for url in ("/all/", "/all/index.html", "/topics/ai/", "/providers/cio-com/index.html"):
            assert client.get(url).status_code == 404, url
            assert client.head(url).status_code == 404, url
        for path in ("index.html", "feeds.opml", "feeds/all.rss", "feeds/topics/ai.atom"):
            response = client.get("/" + path, headers={"Accept-Encoding": "identity"})
            assert response.status_code == 200, path
            assert response.content == (feeds_only_output / path).read_bytes(), path
            assert response.headers["etag"] == files[path]["etag"], path
        paths = client.get("/openapi.json").json()["paths"]
    assert "/" in paths and "/feeds/all.{ext}" in paths
    assert not [p for p in paths if p.endswith(("/index.html", "/")) and p not in ("/", "/index.html")]


def test_feed_pages_default_keeps_pages_and_links_to_them(settings: Settings) -> None:
    assert settings.feed_pages
    with TestClient(create_app(settings)) as client:
        assert client.get("/topics/ai/").status_code == 200
        assert "/{kind}/{slug}/" in client.get("/openapi.json").json()["paths"]
