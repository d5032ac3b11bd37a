"""The server's HTTP behaviour: conditional requests, HEAD, codings, limit, CORS, logs, health."""

from __future__ import annotations

import dataclasses
import gzip
import json
import logging
import os
import re
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import brotli
import pytest
from starlette.testclient import TestClient

from feeds.app import Publisher, create_app
from feeds.config import Settings
from feeds.ingest import ingest
from feeds.render.renderer import Document
from tests.helpers import NEW_RECORD

FEED = "/feeds/topics/ai.atom"


def _publisher(client: TestClient) -> Publisher:
    publisher = client.app.state.publisher  # type: ignore[attr-defined]
    assert isinstance(publisher, Publisher)
    return publisher


def _raw(client: TestClient, url: str, coding: str) -> tuple[dict[str, str], bytes]:
    """Headers and the body exactly as sent, not decoded by the client."""
    with client.stream("GET", url, headers={"Accept-Encoding": coding}) as response:
        assert response.status_code == 200
        return dict(response.headers), b"".join(response.iter_raw())


def test_app_200_then_304_with_if_none_match(client: TestClient) -> None:
    first = client.get(FEED)
    assert first.status_code == 200
    etag = first.headers["etag"]
    second = client.get(FEED, headers={"If-None-Match": etag})
    assert second.status_code == 304
    assert second.content == b""
    assert second.headers["etag"] == etag
    assert second.headers["vary"] == first.headers["vary"] == "Accept, Accept-Encoding"
    assert second.headers["cache-control"] == first.headers["cache-control"]
    assert "content-encoding" not in second.headers
    assert client.get(FEED, headers={"If-None-Match": f'"x", W/{etag}'}).status_code == 304
    assert client.get(FEED, headers={"If-None-Match": "*"}).status_code == 304
    assert client.get(FEED, headers={"If-None-Match": '"x"'}).status_code == 200


def test_app_304_with_if_modified_since(client: TestClient) -> None:
    first = client.get(FEED)
    modified = first.headers["last-modified"]
    assert client.get(FEED, headers={"If-Modified-Since": modified}).status_code == 304
    earlier = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert client.get(FEED, headers={"If-Modified-Since": earlier}).status_code == 200
    # If-None-Match wins: a stale tag means 200 even with a matching date (RFC 9110 13.2.2).
    both = {"If-None-Match": '"stale"', "If-Modified-Since": modified}
    assert client.get(FEED, headers=both).status_code == 200


def test_app_last_modified_is_the_newest_entry_date(client: TestClient) -> None:
    response = client.get(FEED)
    published = re.findall(r"<published>([^<]+)</published>", response.text)
    newest = max(datetime.fromisoformat(p) for p in published)
    assert parsedate_to_datetime(response.headers["last-modified"]) == newest


def test_app_200_again_after_the_feed_changes(client: TestClient, seeds_dir: Path) -> None:
    etag = client.get(FEED).headers["etag"]
    seed = next(seeds_dir.glob("*_3f9a2c7e8b104d5a.txt"))
    seed.write_text(seed.read_text(encoding="utf-8").replace(
        'title: "Hospitals', 'title: "Updated: Hospitals', 1), encoding="utf-8")
    report = _publisher(client).ingest()
    assert "topics/ai" in report.changed_feeds
    response = client.get(FEED, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.headers["etag"] != etag
    assert b"Updated: Hospitals" in response.content


def test_app_304_is_decided_without_rendering(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    publisher = _publisher(client)
    etags = {coding: client.get(FEED, headers={"Accept-Encoding": coding}).headers["etag"]
             for coding in ("identity", "gzip", "br")}
    publisher.cache.items.clear()  # every body evicted, as under memory pressure

    def no_render(path: str, limit: int | None = None) -> Document | None:
        raise AssertionError(f"rendered {path} to answer a conditional request")

    monkeypatch.setattr(publisher.renderer, "render", no_render)
    for coding, etag in etags.items():
        headers = {"Accept-Encoding": coding, "If-None-Match": etag}
        assert client.get(FEED, headers=headers).status_code == 304
        assert client.head(FEED, headers={"Accept-Encoding": coding}).status_code == 200


def test_app_head_equals_get_without_body(client: TestClient) -> None:
    for url in (FEED, "/feeds/all.json", "/", "/feeds.opml", "/feeds/all.rss?limit=2"):
        for coding in ("identity", "gzip", "br"):
            headers = {"Accept-Encoding": coding}
            get = client.get(url, headers=headers)
            head = client.head(url, headers=headers)
            assert head.status_code == get.status_code == 200, url
            assert head.content == b""
            assert dict(head.headers) == dict(get.headers), (url, coding)


@pytest.mark.parametrize("coding", ["gzip", "br"])
def test_app_compressed_bodies_decompress_to_the_identity_bytes(client: TestClient, coding: str) -> None:
    identity_headers, identity = _raw(client, FEED, "identity")
    headers, body = _raw(client, FEED, coding)
    assert "content-encoding" not in identity_headers
    assert headers["content-encoding"] == coding
    assert "Accept-Encoding" in headers["vary"]
    assert headers["vary"] == identity_headers["vary"]
    assert headers["etag"] != identity_headers["etag"]
    assert len(body) < len(identity)
    assert (gzip.decompress(body) if coding == "gzip" else brotli.decompress(body)) == identity


def test_app_compresses_each_version_once(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import feeds.cache

    calls: list[str] = []
    real = feeds.cache.encode

    def counting(body: bytes, coding: str, *, brotli_quality: int) -> bytes | None:
        calls.append(coding)
        return real(body, coding, brotli_quality=brotli_quality)

    monkeypatch.setattr(feeds.cache, "encode", counting)
    for _ in range(3):
        for coding in ("gzip", "br", "identity"):
            client.get("/feeds/all.json", headers={"Accept-Encoding": coding})
    assert sorted(calls) == ["br", "gzip"]


def test_app_feeds_allow_any_origin_and_expose_validators(client: TestClient) -> None:
    response = client.get(FEED)
    assert response.headers["access-control-allow-origin"] == "*"
    assert "ETag" in response.headers["access-control-expose-headers"]


def test_app_cache_control_from_settings(settings: Settings) -> None:
    custom = dataclasses.replace(settings, max_age=42, stale_while_revalidate=7)
    with TestClient(create_app(custom)) as client:
        assert client.get(FEED).headers["cache-control"] == (
            "public, max-age=42, stale-while-revalidate=7")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_app_other_methods_are_405_with_allow(client: TestClient, method: str) -> None:
    response = client.request(method, FEED)
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}


def test_app_limit_gives_the_newest_entries_as_a_separate_variant(client: TestClient) -> None:
    full = client.get("/feeds/all.json").json()
    limited_response = client.get("/feeds/all.json?limit=3")
    limited = limited_response.json()
    assert [i["id"] for i in limited["items"]] == [i["id"] for i in full["items"]][:3]
    assert limited["feed_url"] == "http://feeds.test/feeds/all.json?limit=3"
    assert "next_url" not in limited
    etag = limited_response.headers["etag"]
    assert etag != client.get("/feeds/all.json").headers["etag"]
    assert client.get("/feeds/all.json?limit=3", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/feeds/all.json?limit=4", headers={"If-None-Match": etag}).status_code == 200
    assert client.get("/feeds/all.json?limit=50").status_code == 200


@pytest.mark.parametrize("query", ["limit=0", "limit=51", "limit=abc", "limit=", "limit=-2",
                                   "limit=1&limit=2"])
def test_app_bad_limit_is_a_400_that_says_why(client: TestClient, query: str) -> None:
    response = client.get(f"/feeds/all.atom?{query}")
    assert response.status_code == 400
    assert response.text.startswith("Bad request: limit: ")
    assert "from 1 to 50" in response.text or "once" in response.text


def test_app_limit_only_on_a_feeds_current_document(settings: Settings) -> None:
    small = dataclasses.replace(settings, items_per_feed=2, archive_page_size=2)
    with TestClient(create_app(small)) as client:
        assert client.get("/feeds/all/archive/1.atom").status_code == 200
        response = client.get("/feeds/all/archive/1.atom?limit=1")
        assert response.status_code == 400
        assert "archive" in response.text
        assert client.get("/feeds.opml?limit=1").status_code == 400


def test_app_healthz_reports_counts(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "feeds": 11, "records": 9, "published": 7,
                               "scheduled": 0, "rejected": 0, "head": 1, "pid": os.getpid(),
                               "ingesting": True}
    assert client.head("/healthz").status_code == 200


def test_app_healthz_is_503_when_the_store_is_unreachable(client: TestClient) -> None:
    _publisher(client).store.db.close()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_app_access_log_one_json_line_per_request(client: TestClient,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="feeds.access"):
        client.get(FEED, headers={"Accept-Encoding": "identity"})
        client.get("/feeds/all.atom?limit=0")
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "feeds.access"]
    assert [(line["method"], line["path"], line["status"]) for line in lines] == [
        ("GET", FEED, 200), ("GET", "/feeds/all.atom?limit=0", 400)]
    assert lines[0]["bytes"] == len(client.get(FEED, headers={"Accept-Encoding": "identity"}).content)
    assert lines[0]["duration_ms"] >= 0


def test_app_access_log_can_be_turned_off(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    quiet = dataclasses.replace(settings, access_log=False)
    with caplog.at_level(logging.INFO, logger="feeds.access"), TestClient(create_app(quiet)) as client:
        client.get(FEED)
    assert not [r for r in caplog.records if r.name == "feeds.access"]


def test_app_memory_stays_within_the_cache_size(settings: Settings) -> None:
    small = dataclasses.replace(settings, items_per_feed=1, archive_page_size=1, cache_mb=1,
                                etag_index_entries=5)
    with TestClient(create_app(small)) as client:
        publisher = _publisher(client)
        publisher.cache.capacity = 4000  # a few documents' worth, to see eviction at sample scale
        paths = list(publisher.renderer.document_paths())
        for path in paths:
            assert client.get("/" + path).status_code == 200
        assert publisher.cache.used <= 4000 or len(publisher.cache.items) == 1
        assert len(publisher.cache.items) < len(paths)
        assert len(publisher.validators.items) == 5


def test_app_fragments_rendered_from_an_older_snapshot_are_not_kept(settings: Settings) -> None:
    # Another process committed since the snapshot the entry was rendered from: the record may
    # hold other content now, so the entry must not be kept as its fragment. A publisher without
    # the app's loops: its release timer takes the write lock now and then, and keep_fragments
    # rightly skips while the lock is held, which would make this test depend on timing.
    publisher = Publisher.open(settings)
    try:
        publisher.ingest()
        head = publisher.head
        record_id = publisher.store.published_ids().pop()
        key = publisher.renderer.fragment_key
        publisher.writer.put_fragments("atom", key, {record_id: b"<entry>current</entry>"})
        # A commit this process has not switched to yet, as another process's ingest would be.
        (settings.seeds_dir / "100_0123456789abcdef.txt").write_text(NEW_RECORD, encoding="utf-8")
        ingest(publisher.writer, settings.seeds_dir, settings.max_record_bytes)
        newer = publisher.writer.head()
        assert newer > head
        publisher.keep_fragments(head, "atom", key, {record_id: b"<entry>stale</entry>"})
        kept = publisher.writer.fragments([record_id], "atom", key)
        assert kept == {record_id: b"<entry>current</entry>"}
        publisher.keep_fragments(newer, "atom", key, {record_id: b"<entry>fresh</entry>"})
        kept = publisher.writer.fragments([record_id], "atom", key)
        assert kept == {record_id: b"<entry>fresh</entry>"}
    finally:
        publisher.close()


def test_app_feed_urls_name_only_the_formats_the_site_publishes(settings: Settings) -> None:
    with TestClient(create_app(dataclasses.replace(settings, formats=("rss", "json")))) as client:
        publisher = _publisher(client)
        record_id = sorted(publisher.store.published_ids())[0]
        urls = publisher.feed_urls(record_id)
        assert urls and {url.rsplit(".", 1)[1] for url in urls} == {"rss", "json"}
        for url in urls:
            assert client.get(url.removeprefix(settings.base_url.rstrip("/"))).status_code == 200, url
