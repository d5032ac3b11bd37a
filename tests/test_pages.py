"""The HTML pages, the feed stylesheet and the static assets, without a browser."""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path

import feedparser
import pytest
from jinja2 import BytecodeCache, Environment
from lxml import etree, html
from starlette.testclient import TestClient

from feeds.app import create_app
from feeds.config import Settings
from feeds.render.html import KIND_HEADINGS, FeedLinks, Site, environment, template_cache
from tests.conftest import build

HOSTILE_ID = "f00dfacef00dface"
HOSTILE_TITLE = "<script>alert('title')</script> & <img src=x onerror=alert(1)>"
HOSTILE_SEED = f"""---
title: "{HOSTILE_TITLE}"
excerpt: "</p><script>alert('excerpt')</script>"
publishedDateTime: 2024-12-31T00:00:00Z
webUrl: "https://example.com/a?x=1&y=<2>"
published: true
provider:
  name: "<b>Evil</b> News"
  domain: evil.example
topics:
  - "<i>Hostile</i>"
images:
  - url: "https://example.com/i.jpg?a=1&b=\\"2\\""
    width: 640
    height: 360
related:
  - title: "<script>alert('related')</script>"
    webUrl: "https://example.com/related"
---
"""
# A browser reaching for a page; a feed reader asking for feeds.
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
READER_ACCEPT = "application/atom+xml, application/rss+xml;q=0.9, */*;q=0.1"


@pytest.fixture
def hostile_output(settings: Settings) -> Path:
    (settings.seeds_dir / f"100_{HOSTILE_ID}.txt").write_text(HOSTILE_SEED, encoding="utf-8")
    return build(settings)


def _scripts(document: html.HtmlElement) -> list[str]:
    """Every script element's src or text: only our own site.js may appear."""
    return [s.get("src") or s.text_content() for s in document.iter("script")]


def _hostile_pages(output: Path) -> dict[str, bytes]:
    pages = ["index.html", "all/index.html", "providers/evil-example/index.html"]
    pages += [str(p.relative_to(output)) for p in output.glob("topics/*hostile*/index.html")]
    assert len(pages) == 4, pages
    return {page: (output / page).read_bytes() for page in pages}


def test_pages_escape_record_content(hostile_output: Path) -> None:
    for page, body in _hostile_pages(hostile_output).items():
        assert b"<script>alert" not in body, page
        assert b"<img src=x" not in body and b"<b>Evil" not in body and b"<i>Hostile" not in body, page
        document = html.fromstring(body)
        assert all(src and src.endswith("site.js") for src in _scripts(document)), page
        assert "<i>Hostile</i>" in document.text_content(), page  # shown as text, not markup
    page = (hostile_output / "all" / "index.html").read_bytes()
    assert html.fromstring(page).xpath("//article//h2/a/text()")[0] == HOSTILE_TITLE
    # "<" and ">" cannot be in a URL: percent-encoded at ingest (feeds.validate.percent_encode).
    assert b'href="https://example.com/a?x=1&amp;y=%3C2%3E"' in page


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_feed_stylesheet_escapes_record_content(hostile_output: Path, fmt: str) -> None:
    transform = etree.XSLT(etree.parse(str(hostile_output / "feed.xsl")))
    feed = etree.parse(str(hostile_output / "feeds" / f"all.{fmt}"))
    result = str(transform(feed))
    assert "<script" not in result and "<img src=x" not in result and "<b>Evil" not in result
    document = html.fromstring(result)
    assert _scripts(document) == []
    assert HOSTILE_TITLE in document.xpath("//article//h2/a/text()")
    assert "<script>alert('related')</script>" in document.xpath("//section[@class='related']//a/text()")
    assert not any(a.get("href", "").startswith("javascript:") for a in document.iter("a"))


def test_feed_stylesheet_never_disables_output_escaping(output: Path) -> None:
    stylesheet = etree.parse(str(output / "feed.xsl"))
    assert stylesheet.xpath("//@disable-output-escaping") == []


def test_feed_page_images_carry_the_record_size(output: Path) -> None:
    page = html.fromstring((output / "topics" / "ai-in-healthcare" / "index.html").read_bytes())
    images = page.xpath("//article//img")
    assert images
    for image in images:
        assert int(image.get("width")) > 0 and int(image.get("height")) > 0
        assert image.get("alt")
    statnews = page.xpath("//article[.//a[contains(@href, 'fda-guidance')]]//img")[0]
    assert (statnews.get("width"), statnews.get("height")) == ("1600", "900")


def test_feed_page_lists_newest_entries_with_links_to_topic_and_provider_pages(output: Path) -> None:
    page = html.fromstring((output / "topics" / "ai-ethics" / "index.html").read_bytes())
    titles = page.xpath("//article//h2/a/text()")
    assert titles[0] == "Health systems weigh the ethics of ambient AI scribes" and len(titles) == 3
    assert "../../topics/ai-in-healthcare/" in page.xpath("//ul[@class='topics']//a/@href")
    assert "../../providers/statnews-com/" in page.xpath("//p[@class='meta']/a/@href")
    assert page.xpath("//section[@class='related']//a/text()")


def test_feed_page_shows_only_items_per_feed_entries(settings: Settings, tmp_path: Path) -> None:
    small = Settings(**{**settings.__dict__, "items_per_feed": 2})
    output = build(small)
    page = html.fromstring((output / "all" / "index.html").read_bytes())
    assert len(page.xpath("//article")) == 2
    assert "the newest 2 are shown here" in page.text_content()


def _alternates(page: html.HtmlElement) -> dict[str, str]:
    return {link.get("type"): link.get("href") for link in page.xpath("//head/link[@rel='alternate']")}


def test_autodiscovery_on_index_and_feed_pages(output: Path) -> None:
    index = html.fromstring((output / "index.html").read_bytes())
    assert _alternates(index) == {
        "application/atom+xml": "http://feeds.test/feeds/all.atom",
        "application/rss+xml": "http://feeds.test/feeds/all.rss",
        "application/feed+json": "http://feeds.test/feeds/all.json",
    }
    page = html.fromstring((output / "providers" / "cio-com" / "index.html").read_bytes())
    assert _alternates(page) == {
        "application/atom+xml": "http://feeds.test/feeds/providers/cio-com.atom",
        "application/rss+xml": "http://feeds.test/feeds/providers/cio-com.rss",
        "application/feed+json": "http://feeds.test/feeds/providers/cio-com.json",
    }


def test_index_lists_each_feed_with_count_headline_links_and_copy_button(output: Path) -> None:
    index = html.fromstring((output / "index.html").read_bytes())
    (feed,) = index.xpath("//li[@data-feed='topics/cybersecurity']")
    assert feed.xpath(".//h3/a/@href") == ["topics/cybersecurity/"]
    assert "1 entry" in feed.xpath(".//p[@class='meta']")[0].text_content()
    assert feed.xpath(".//p[@class='headline']/a/text()") == [
        "Ransomware attacks on hospitals hit a record high"]
    assert feed.xpath(".//ul[@class='subscribe']/li/a/@href") == [
        f"http://feeds.test/feeds/topics/cybersecurity.{fmt}" for fmt in ("atom", "rss", "json")]
    assert len(feed.xpath(".//ul[@class='subscribe']/li/a/following-sibling::button[@class='copy']")) == 3
    # Without JavaScript the filter and buttons stay hidden and every feed is listed.
    assert index.xpath("//div[@class='filter']/@hidden") == [""]
    assert len(index.xpath("//li[@data-feed][@hidden]")) == 0


def test_every_relative_link_in_the_pages_resolves_to_an_exported_file(output: Path) -> None:
    files = set(json.loads((output / "manifest.json").read_text())["files"])
    pages = [p for p in files if p.endswith(".html")]
    assert "topics/ai/index.html" in pages and "all/index.html" in pages
    for page in pages:
        document = html.fromstring((output / page).read_bytes())
        for url in document.xpath("//@href | //@src"):
            if re.match(r"^[a-z]+:", url):
                continue
            target = posixpath.normpath(posixpath.join(posixpath.dirname(page), url))
            if url.endswith("/"):  # a directory URL is its index.html
                target = "index.html" if target == "." else f"{target}/index.html"
            assert target in files, (page, url)


@pytest.mark.parametrize("path", ["feeds/all.atom", "feeds/topics/ai.rss"])
def test_feeds_reference_the_stylesheets_relatively(output: Path, path: str) -> None:
    body = (output / path).read_bytes()
    found = re.findall(rb'<\?xml-stylesheet type="([^"]+)" href="([^"]+)"\?>', body)
    targets = [(kind.decode(), posixpath.normpath(posixpath.join(posixpath.dirname(path),
                                                                 href.decode())))
               for kind, href in found]
    # XSLT first for browsers that have it; CSS for those that do not.
    assert targets == [("text/xsl", "feed.xsl"), ("text/css", "feed.css")]
    assert all((output / target).is_file() for _, target in targets)


def test_feed_alternate_links_and_opml_point_to_feed_pages(output: Path) -> None:
    atom = etree.parse(str(output / "feeds" / "topics" / "ai.atom"))
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert atom.xpath("/a:feed/a:link[@rel='alternate']/@href", namespaces=ns) == [
        "http://feeds.test/topics/ai/"]
    rss = etree.parse(str(output / "feeds" / "providers" / "cio-com.rss"))
    assert rss.xpath("/rss/channel/link/text()") == ["http://feeds.test/providers/cio-com/"]
    data = json.loads((output / "feeds" / "all.json").read_bytes())
    assert data["home_page_url"] == "http://feeds.test/all/"
    opml = etree.parse(str(output / "feeds.opml"))
    outline = opml.xpath("//outline[@xmlUrl='http://feeds.test/feeds/topics/ai.atom']")[0]
    assert outline.get("htmlUrl") == "http://feeds.test/topics/ai/"


def test_feed_pages_and_assets_served_equal_exported(settings: Settings, output: Path) -> None:
    manifest = json.loads((output / "manifest.json").read_text())["files"]
    media_types = {"style.css": "text/css; charset=utf-8", "feed.xsl": "text/xsl; charset=utf-8",
                   "feed.css": "text/css; charset=utf-8",
                   "site.js": "text/javascript; charset=utf-8", "favicon.svg": "image/svg+xml"}
    paths = [p for p in manifest if p.endswith("/index.html")] + list(media_types)
    assert len(paths) == 11 + 5
    with TestClient(create_app(settings)) as client:
        for path in paths:
            url = "/" + path.removesuffix("index.html")
            response = client.get(url, headers={"Accept-Encoding": "identity"})
            assert response.status_code == 200, url
            assert response.content == (output / path).read_bytes(), url
            assert response.headers["etag"] == manifest[path]["etag"], url
            expected = media_types.get(path, "text/html; charset=utf-8")
            assert response.headers["content-type"] == expected, url
            again = client.get(url, headers={"If-None-Match": response.headers["etag"],
                                             "Accept-Encoding": "identity"})
            assert again.status_code == 304, url


def test_browsers_get_feeds_as_xml_and_readers_the_registered_type(settings: Settings,
                                                                    output: Path) -> None:
    with TestClient(create_app(settings)) as client:
        for fmt, registered in (("atom", "application/atom+xml"), ("rss", "application/rss+xml")):
            url = f"/feeds/all.{fmt}"
            browser = client.get(url, headers={"Accept": BROWSER_ACCEPT, "Accept-Encoding": "identity"})
            reader = client.get(url, headers={"Accept": READER_ACCEPT, "Accept-Encoding": "identity"})
            assert browser.headers["content-type"] == "application/xml; charset=utf-8"
            assert reader.headers["content-type"] == f"{registered}; charset=utf-8"
            assert browser.content == reader.content == (output / "feeds" / f"all.{fmt}").read_bytes()
            assert browser.headers["etag"] == reader.headers["etag"]
            assert browser.headers["vary"] == "Accept, Accept-Encoding"
            # A reader sending a browser's Accept gets the same feed: same entries, no bozo.
            as_browser = feedparser.parse(browser.content,
                                          response_headers=dict(browser.headers))
            as_reader = feedparser.parse(reader.content, response_headers=dict(reader.headers))
            assert not as_browser.bozo, as_browser.get("bozo_exception")
            assert [e.id for e in as_browser.entries] == [e.id for e in as_reader.entries]
            assert len(as_browser.entries) > 0
        json_feed = client.get("/feeds/all.json", headers={"Accept": BROWSER_ACCEPT})
        assert json_feed.headers["content-type"] == "application/feed+json; charset=utf-8"
        assert json_feed.headers["vary"] == "Accept-Encoding"


def test_a_build_keeping_few_entries_as_html_writes_the_same_pages(
        settings: Settings, output: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import feeds.render.renderer
    from feeds.export import export
    from feeds.store import open_store

    monkeypatch.setattr(feeds.render.renderer, "KEEP_ENTRY_HTML", 1)  # emptied before every page
    store = open_store(settings.store_path)
    try:
        export(store, settings, tmp_path / "bounded")
    finally:
        store.close()
    pages = sorted(p.relative_to(output.resolve()) for p in output.resolve().rglob("index.html"))
    assert len(pages) > 3
    assert all((tmp_path / "bounded" / page).read_bytes() == (output / page).read_bytes()
               for page in pages)


def _front_page(compiled: BytecodeCache | None) -> str:
    site = Site("Feeds", "About feeds", "./", "feeds.opml")
    feed = FeedLinks("all", "all", "Everything", "All of it", "Everything", 3,
                     {"atom": "feeds/all.atom"})
    return environment(compiled).get_template("index.html").render(
        site=site, by_kind={"all": [feed]}, headings=KIND_HEADINGS, main=feed, total=1)


def test_pages_templates_are_compiled_once_then_read_from_the_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Compiling the templates was most of a one-record edit's rendering: a second process reads
    # them compiled, and renders the same page.
    first = _front_page(template_cache(str(tmp_path)))
    assert len(list(tmp_path.iterdir())) >= 2  # the page and the layout it extends

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled again")

    with monkeypatch.context() as patch:
        patch.setattr(Environment, "compile", refuse)
        assert _front_page(template_cache(str(tmp_path))) == first


def test_pages_render_the_same_without_a_usable_template_cache(tmp_path: Path) -> None:
    expected = _front_page(None)
    _front_page(template_cache(str(tmp_path)))
    for cached in tmp_path.iterdir():
        cached.write_bytes(b"j2 not a compiled template")
    assert _front_page(template_cache(str(tmp_path))) == expected
    # A folder that went away: nothing is kept, the page is still made.
    assert _front_page(template_cache(str(tmp_path / "gone"))) == expected
