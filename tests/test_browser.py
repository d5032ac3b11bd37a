"""What a person sees, in a real browser: Debian's Chromium, headless, driven by Playwright.

The server runs on 127.0.0.1 on a free port; images on other hosts are answered by a local
stand-in, so the browser never leaves the machine. Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from feeds.app import create_app
from feeds.config import Settings
from feeds.store import open_store
from tests.conftest import ROOT, SEEDS, require

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# A stand-in for every off-site image: the pages' layout, not the newsrooms' servers, is tested.
STAND_IN_IMAGE = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300" viewBox="0 0 400 300">'
    b'<rect width="400" height="300" fill="#94a3b8"/>'
    b'<circle cx="200" cy="150" r="60" fill="#e2e8f0"/></svg>'
)

@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    """The app on 127.0.0.1 with the sample seeds; yields its origin and settings."""
    yield from _serve(tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def feeds_only_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    """The same with ``feed_pages: false``: feeds and the index, no page per feed."""
    yield from _serve(tmp_path_factory.mktemp("browser-feeds-only"), feed_pages=False)


def _serve(root: Path, feed_pages: bool = True) -> Iterator[tuple[str, Settings]]:
    shutil.copytree(SEEDS, root / "seeds")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    origin = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    settings = Settings(seeds_dir=root / "seeds", store_path=root / "store.sqlite3",
                        output_dir=root / "output", base_url=origin, access_log=False,
                        feed_pages=feed_pages)
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            thread.join(0.05)
        assert server.started, "the server did not start"
        yield origin, settings
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()


@pytest.fixture(scope="module")
def playwright() -> Iterator[tuple[Any, Any]]:
    """Playwright's sync API and its driver, one per module: the browsers below share it."""
    try:
        from playwright import sync_api
    except ImportError:
        sync_api = None
    require("Playwright for Python", sync_api is not None, "the pages are NOT tested in a browser")
    require(str(CHROMIUM), CHROMIUM.exists(), "the pages are NOT tested in a browser")
    with sync_api.sync_playwright() as driver:
        yield sync_api, driver


def _chromium(playwright: tuple[Any, Any], extra_args: list[str]) -> Iterator[Any]:
    """Debian's Chromium; unable to start, the tests fail in CI."""
    sync_api, driver = playwright
    try:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM),
                                          args=CHROMIUM_ARGS + extra_args)
    except sync_api.Error as exc:
        # The likeliest real breakage: Playwright and Debian's Chromium drifting apart.
        launched = None
        error = exc
    require(f"a {CHROMIUM} that Playwright can start", launched is not None,
            f"{error if launched is None else ''}; the pages are NOT tested in a browser")
    try:
        yield launched
    finally:
        launched.close()


@pytest.fixture(scope="module")
def browser(playwright: tuple[Any, Any]) -> Iterator[Any]:
    yield from _chromium(playwright, [])


@pytest.fixture(scope="module")
def browser_without_xslt(playwright: tuple[Any, Any]) -> Iterator[Any]:
    """Chromium as it is once XSLT is gone: https://developer.chrome.com/docs/web-platform/deprecating-xslt"""
    yield from _chromium(playwright, ["--disable-features=XSLT"])


@pytest.fixture
def page(browser: Any, site: tuple[str, Settings]) -> Iterator[Any]:
    yield from _tab(browser, site)


@pytest.fixture
def page_without_xslt(browser_without_xslt: Any, site: tuple[str, Settings]) -> Iterator[Any]:
    yield from _tab(browser_without_xslt, site)


def _tab(browser: Any, site: tuple[str, Settings]) -> Iterator[Any]:
    """A fresh tab; fails the test if the page logged any console error or threw."""
    origin, _ = site
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin.rstrip("/"))
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    tab.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))

    def route(request_route: Any) -> None:
        if request_route.request.url.startswith(origin):
            request_route.continue_()
        elif request_route.request.resource_type == "image":
            request_route.fulfill(status=200, content_type="image/svg+xml", body=STAND_IN_IMAGE)
        else:
            request_route.abort()

    tab.route("**/*", route)
    try:
        yield tab
        assert errors == []
    finally:
        context.close()


def _feeds(settings: Settings) -> list[Any]:
    store = open_store(settings.store_path)
    try:
        return store.feeds()
    finally:
        store.close()


def _screenshot(tab: Any, name: str, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / name), full_page=full_page)


def test_browser_index_lists_every_feed(page: Any, site: tuple[str, Settings]) -> None:
    origin, settings = site
    page.goto(origin)
    listed = page.locator("li.feed").evaluate_all("items => items.map(i => i.dataset.feed)")
    assert sorted(listed) == sorted(feed.path for feed in _feeds(settings))
    assert page.locator("li.feed:visible").count() == len(listed)
    headline = page.locator("li.feed[data-feed='topics/cybersecurity'] .headline a")
    assert headline.inner_text() == "Ransomware attacks on hospitals hit a record high"
    assert page.locator("link[rel=alternate][type='application/atom+xml']").get_attribute("href") \
        == f"{origin}feeds/all.atom"
    _screenshot(page, "index.png")


def test_browser_feeds_only_index_lists_feeds_and_its_links_lead_to_documents(
        browser: Any, feeds_only_site: tuple[str, Settings]) -> None:
    origin, settings = feeds_only_site
    for tab in _tab(browser, feeds_only_site):
        tab.goto(origin)
        listed = tab.locator("li.feed").evaluate_all("items => items.map(i => i.dataset.feed)")
        assert sorted(listed) == sorted(feed.path for feed in _feeds(settings))
        assert tab.locator("li.feed h3 a").count() == 0
        # The filter still works without pages to link to.
        tab.locator("#filter").fill("cybersecurity")
        assert tab.locator("li.feed:visible").evaluate_all(
            "items => items.map(i => i.dataset.feed)") == ["topics/cybersecurity"]
        links = tab.locator("a[href^='http://127.0.0.1']").evaluate_all(
            "links => links.map(a => a.href)")
        assert links and all(link.startswith(f"{origin}feeds") for link in links)
        _screenshot(tab, "feeds-only-index.png")
        assert tab.request.get(f"{origin}topics/cybersecurity/").status == 404
        # The feed's styled view sends its web-page link to the index, which exists.
        tab.goto(f"{origin}feeds/topics/cybersecurity.atom")
        assert tab.locator("a", has_text="Open this feed's web page").count() == 0
        page_link = tab.locator("a", has_text="Browse all feeds")
        assert page_link.get_attribute("href") == origin
        page_link.click()
        tab.wait_for_url(origin)
        assert tab.locator("li.feed").count() == len(listed)


def test_browser_typing_in_the_filter_narrows_the_list(page: Any, site: tuple[str, Settings]) -> None:
    origin, _ = site
    page.goto(origin)
    total = page.locator("li.feed").count()
    page.locator("#filter").press_sequentially("health")
    visible = page.locator("li.feed:visible h3").all_inner_texts()
    assert visible and len(visible) < total
    assert all("health" in name.lower() for name in visible)
    assert page.locator("#filter-status").inner_text().startswith(f"{len(visible)} of {total}")
    page.locator("#filter").fill("")
    page.locator("#filter").dispatch_event("input")
    assert page.locator("li.feed:visible").count() == total


def test_browser_copy_button_copies_the_feed_url(page: Any, site: tuple[str, Settings]) -> None:
    origin, _ = site
    page.goto(origin)
    buttons = page.locator("li.feed[data-feed='topics/ai'] button.copy")
    for n, fmt in enumerate(("atom", "rss", "json")):
        page.evaluate("navigator.clipboard.writeText('')")
        buttons.nth(n).click()
        # The write is asynchronous: wait for it (generously), rather than read once right away.
        wanted, copied = f"{origin}feeds/topics/ai.{fmt}", ""
        deadline = time.monotonic() + 10
        while copied != wanted and time.monotonic() < deadline:
            copied = page.evaluate("navigator.clipboard.readText()")
            if copied != wanted:
                page.wait_for_timeout(50)
        assert copied == wanted


@pytest.mark.parametrize("path", ["", "topics/ai/", "feeds/topics/ai.atom"])
def test_browser_pages_fit_a_phone_screen(page: Any, site: tuple[str, Settings], path: str) -> None:
    origin, _ = site
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(origin + path)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_browser_feed_page_shows_entries_and_images(page: Any, site: tuple[str, Settings]) -> None:
    origin, settings = site
    page.goto(f"{origin}topics/ai-in-healthcare/")
    (feed,) = [f for f in _feeds(settings) if f.path == "topics/ai-in-healthcare"]
    assert page.locator("article.entry").count() == feed.count
    assert page.locator("h1").inner_text() == "AI in Healthcare"
    images = page.locator("article.entry img")
    assert images.count() > 0
    for image in images.all():
        image.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
        box = image.bounding_box()
        width, height = int(image.get_attribute("width")), int(image.get_attribute("height"))
        # Sized from the record: the box keeps the record's aspect ratio, not the stand-in's.
        assert box["width"] / box["height"] == pytest.approx(width / height, rel=0.02)
        assert image.get_attribute("alt")
    _screenshot(page, "feed-page.png")


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_browser_feed_url_renders_as_a_styled_page(page: Any, site: tuple[str, Settings],
                                                    fmt: str) -> None:
    origin, settings = site
    response = page.goto(f"{origin}feeds/topics/ai-in-healthcare.{fmt}")
    assert response.headers["content-type"].startswith("application/xml")
    assert page.locator("h1").inner_text() == f"{settings.site_title}: AI in Healthcare"
    assert "copy the URL into your reader" in page.locator(".feed-note").inner_text()
    titles = page.locator("article.entry h2").all_inner_texts()
    assert "Health systems weigh the ethics of ambient AI scribes" in titles
    assert all(page.locator("article.entry h2").nth(i).is_visible() for i in range(len(titles)))
    # The site's stylesheet applied: the note has the accent border, not the browser default.
    border = page.locator(".feed-note").evaluate("n => getComputedStyle(n).borderLeftWidth")
    assert border == "4px"
    # With feed pages, the note links this feed's own page.
    page_link = page.locator("a", has_text="Open this feed's web page")
    assert page_link.get_attribute("href") == f"{origin}topics/ai-in-healthcare/"
    if fmt == "atom":
        # Chromium 138+ overlays a notice that XSLT is deprecated; it is the browser's, not ours.
        page.evaluate("document.querySelector('xslt-warning-banner')?.remove()")
        _screenshot(page, "styled-feed.png")


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_browser_without_xslt_shows_a_feed_url_as_a_readable_page(
        page_without_xslt: Any, site: tuple[str, Settings], fmt: str) -> None:
    origin, settings = site
    url = f"{origin}feeds/topics/ai-in-healthcare.{fmt}"
    response = page_without_xslt.goto(url)
    assert response.headers["content-type"].startswith("application/xml")
    # No transformation: the document is the feed itself, styled by feed.css.
    shown = page_without_xslt.evaluate("""content => {
        const visible = e => e.getBoundingClientRect().height > 0;
        const byName = n => [...document.getElementsByTagNameNS('*', n)];
        const text = e => e.textContent.trim();
        const feed = document.documentElement.localName === 'feed'
            ? document.documentElement : document.getElementsByTagName('channel')[0];
        const self = [...feed.children].find(e => e.localName === 'link' && e.getAttribute('rel') === 'self');
        const entries = byName(document.documentElement.localName === 'feed' ? 'entry' : 'item');
        const title = [...feed.children].find(e => e.localName === 'title');
        const titleOf = e => text([...e.children].find(c => c.localName === 'title'));
        return {
            title: text(title), titleSize: getComputedStyle(title).fontSize,
            note: getComputedStyle(self, '::before').content,
            url: getComputedStyle(self, '::after').content, noteVisible: visible(self),
            entries: entries.filter(visible).map(titleOf),
            hidden: byName(content).filter(visible).length,
            tops: [title, [...feed.children].find(e => ['subtitle', 'description'].includes(e.localName)),
                   self, entries[0]].map(e => e.getBoundingClientRect().top),
        };
    }""", "content" if fmt == "atom" else "encoded")
    assert shown["title"] == f"{settings.site_title}: AI in Healthcare"
    assert shown["titleSize"] == "32px"
    assert "copy the URL into your reader" in shown["note"] and shown["noteVisible"]
    assert shown["url"] == f'"{url}"'
    (feed,) = [f for f in _feeds(settings) if f.path == "topics/ai-in-healthcare"]
    assert len(shown["entries"]) == feed.count
    assert "Health systems weigh the ethics of ambient AI scribes" in shown["entries"]
    assert shown["hidden"] == 0  # entries' HTML content is not shown as markup
    # Title, description, the note, then the entries, whatever the order of the elements.
    assert shown["tops"] == sorted(shown["tops"]) and len(set(shown["tops"])) == 4
    if fmt == "atom":
        # Playwright cannot measure a whole XML document (it waits for a body): the first screen.
        _screenshot(page_without_xslt, "feed-without-xslt.png", full_page=False)


def test_browser_feed_page_form_opens_a_filtered_feed(page: Any, site: tuple[str, Settings]) -> None:
    origin, _ = site
    page.goto(f"{origin}all/")
    page.locator(".narrow input[name=min_quality]").fill("75")
    page.locator(".narrow input[name=q]").fill("AI")
    with page.expect_navigation():
        page.locator(".narrow button", has_text="JSON").click()
    assert page.url == f"{origin}feeds/all.json?min_quality=75&min_heat=&q=AI"
    feed = json.loads(page.locator("body").inner_text())
    assert feed["title"] == "Feeds: all articles (quality ≥ 75, with “ai”)"
    assert feed["items"] and feed["feed_url"] == f"{origin}feeds/all.json?min_quality=75&q=ai"
