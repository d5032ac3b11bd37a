"""Surrogate keys: every document names its groups, and an ingest purges exactly what it changed."""

from __future__ import annotations

from starlette.testclient import TestClient

from feeds.config import Settings
from feeds.ingest import ingest
from feeds.render.keys import changed_documents, touched_documents
from feeds.render.renderer import Renderer
from feeds.store import Store
from feeds.surrogate import changed_keys, document_keys, key_headers
from tests.helpers import NEW_RECORD


def test_surrogate_feed_documents_archives_and_pages_share_their_feeds_key() -> None:
    for path in ("feeds/topics/ai.atom", "feeds/topics/ai/archive/3.json", "topics/ai/index.html"):
        assert document_keys(path) == ("feed:topics/ai", "feeds"), path
    assert document_keys("feeds/all.rss") == ("feed:all", "feeds")


def test_surrogate_site_pages_and_assets_have_keys_of_their_own() -> None:
    assert document_keys("index.html") == document_keys("feeds.opml") == ("site", "feeds")
    assert document_keys("style.css") == ("static", "feeds")
    assert document_keys("feeds/nothing.txt") == ()


def test_surrogate_changed_keys_are_the_feeds_and_the_site_pages_never_static() -> None:
    assert changed_keys(["topics/ai", "all", "topics/ai"]) == ("site", "feed:all", "feed:topics/ai")
    assert changed_keys([]) == ()


def test_surrogate_headers_use_each_cdns_separator() -> None:
    assert key_headers(("feed:all", "feeds")) == {"Surrogate-Key": "feed:all feeds",
                                                  "Cache-Tag": "feed:all,feeds"}
    assert key_headers(()) == {}


def test_surrogate_keys_on_every_served_document_and_304(client: TestClient) -> None:
    for url, key in (("/feeds/topics/ai.atom", "feed:topics/ai"), ("/topics/ai/", "feed:topics/ai"),
                     ("/", "site"), ("/feeds.opml", "site"), ("/feed.xsl", "static"),
                     ("/feeds/all.json?limit=2", "feed:all")):
        response = client.get(url)
        assert response.headers["surrogate-key"] == f"{key} feeds", url
        assert response.headers["cache-tag"] == f"{key},feeds", url
        revalidated = client.get(url, headers={"If-None-Match": response.headers["etag"]})
        assert revalidated.status_code == 304
        assert revalidated.headers["surrogate-key"] == f"{key} feeds", url


def test_surrogate_purged_keys_name_exactly_the_documents_a_change_touches(
        settings: Settings, store: Store) -> None:
    """An ingest's purged keys cover every document whose bytes changed, and only the documents
    feeds.render.keys says the change touched: other feeds stay cached."""
    ingest(store, settings.seeds_dir, settings.max_record_bytes)
    before = Renderer(store, settings)
    (settings.seeds_dir / "100_0123456789abcdef.txt").write_text(NEW_RECORD)
    report = ingest(store, settings.seeds_dir, settings.max_record_bytes)
    after = Renderer(store, settings)
    purged = set(changed_keys(report.changed_feeds))
    assert purged == {"site", "feed:all", "feed:providers/statnews-com"}
    documents = set(before.document_paths()) | set(after.document_paths())
    covered = {path for path in documents if purged & set(document_keys(path))}
    assert covered == touched_documents(report.changed_feeds, before.feeds, after.feeds, settings)
    assert changed_documents(before.content_keys().documents,
                             after.content_keys().documents) <= covered
    assert any(path.startswith("feeds/topics/") for path in documents - covered)
