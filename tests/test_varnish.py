"""A real Varnish with the generated VCL in front of a real `feeds serve`: caching and purge on publish."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import feedparser
import httpx
import pytest

from feeds.ingest import ingest
from feeds.store import open_store
from feeds.vcl import varnish_vcl
from tests.conftest import require
from tests.helpers import NEW_RECORD
from tests.live import TOKEN, free_port, serving, wait_for
from tests.varnish import installed, varnish

AUTH = {"Authorization": f"Bearer {TOKEN}"}
ALL, PROVIDER, UNRELATED = ("/feeds/all.atom", "/feeds/providers/statnews-com.atom",
                            "/feeds/topics/ai.atom")


@dataclasses.dataclass(frozen=True)
class Stack:
    origin: httpx.Client
    cache: httpx.Client
    cache_url: str


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """feeds serve (purging Varnish after each ingest) behind Varnish, purgeable from 127.0.0.1 only."""
    require("varnish and varnish-modules", installed(), "no feed is checked through a real cache")
    root = tmp_path_factory.mktemp("varnish")
    seeds = root / "seeds"
    seeds.mkdir()
    for path in (Path(__file__).resolve().parent.parent / "seeds").glob("*.txt"):
        (seeds / path.name).write_bytes(path.read_bytes())
    # Ingested beforehand, so the server's start purges nothing while the tests fill the cache.
    store = open_store(root / "store.sqlite3")
    ingest(store, seeds, 1_000_000)
    store.close()
    cache_port, origin_port = free_port(), free_port()
    purge = f'purge:\n  - kind: varnish\n    url: "http://127.0.0.1:{cache_port}/"\n'
    vcl = varnish_vcl(f"127.0.0.1:{origin_port}", ["127.0.0.1"])
    with varnish(vcl, root / "varnish", cache_port) as url, \
            serving(seeds, root, "--no-watch", more_settings=purge, port=origin_port) as (origin, _), \
            httpx.Client(base_url=url, timeout=10) as cache:
        yield Stack(origin, cache, url)


def _get(client: httpx.Client, path: str, coding: str = "identity") -> httpx.Response:
    response = client.get(path, headers={"Accept-Encoding": coding})
    assert response.status_code == 200, (path, response.status_code)
    return response


def _cached(client: httpx.Client, path: str) -> bool:
    return bool(_get(client, path).headers["x-cache"] == "HIT")


def _titles(client: httpx.Client, path: str) -> list[str]:
    return [entry.title for entry in feedparser.parse(_get(client, path).content).entries]


def test_varnish_caches_each_coding_apart_with_the_origins_bytes_and_etags(stack: Stack) -> None:
    path = "/feeds/topics/cloud-computing.rss"
    for coding in ("identity", "gzip", "br"):
        first = stack.cache.get(path, headers={"Accept-Encoding": coding})
        again = stack.cache.get(path, headers={"Accept-Encoding": coding})
        origin = stack.origin.get(path, headers={"Accept-Encoding": coding})
        assert (first.headers["x-cache"], again.headers["x-cache"]) == ("MISS", "HIT"), coding
        assert first.headers.get("content-encoding", "identity") == coding
        assert origin.headers.get("content-encoding", "identity") == coding
        assert again.headers["etag"] == origin.headers["etag"], coding
        # httpx decodes the coding: the same bytes as the origin's identity body.
        assert again.content == _get(stack.origin, path).content, coding
        assert again.headers["cache-control"] == origin.headers["cache-control"]
        assert "surrogate-key" not in again.headers and "xkey" not in again.headers


def test_varnish_answers_a_known_etag_with_304_from_its_cache(stack: Stack) -> None:
    etag = _get(stack.cache, "/feeds/topics/cloud-computing.json").headers["etag"]
    response = stack.cache.get("/feeds/topics/cloud-computing.json",
                               headers={"Accept-Encoding": "identity", "If-None-Match": etag})
    assert (response.status_code, response.headers["x-cache"]) == (304, "HIT")


def test_varnish_publish_and_drop_are_fresh_within_a_second_and_other_feeds_stay_cached(
        stack: Stack) -> None:
    for path in (ALL, PROVIDER, UNRELATED, "/", "/topics/ai/"):
        _get(stack.cache, path)
    assert _cached(stack.cache, ALL) and _cached(stack.cache, UNRELATED)
    posted = stack.origin.post("/api/records", content=NEW_RECORD.encode(), headers=AUTH)
    assert posted.status_code == 201, posted.text
    title = "A short note with no topics"
    for path in (ALL, PROVIDER):
        wait_for(lambda path=path: title in _titles(stack.cache, path), timeout=1.0)
    assert title.encode() in _get(stack.cache, "/").content  # the index lists the newest entry
    assert _cached(stack.cache, UNRELATED) and _cached(stack.cache, "/topics/ai/")

    dropped = stack.origin.delete(f"/api/records/{posted.json()['id']}", headers=AUTH)
    assert dropped.status_code == 200
    for path in (ALL, PROVIDER):
        wait_for(lambda path=path: title not in _titles(stack.cache, path), timeout=1.0)
    assert _cached(stack.cache, UNRELATED)


def test_varnish_refuses_purges_from_addresses_not_allowed(stack: Stack) -> None:
    _get(stack.cache, UNRELATED)
    elsewhere = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(base_url=stack.cache_url, transport=elsewhere, timeout=10) as stranger:
        refused = stranger.request("PURGE", "/", headers={"xkey-purge": "feed:topics/ai"})
    assert refused.status_code == 403
    assert _cached(stack.cache, UNRELATED)
    allowed = stack.cache.request("PURGE", "/", headers={"xkey-purge": "feed:topics/ai"})
    assert allowed.status_code == 200
    assert not _cached(stack.cache, UNRELATED)


def test_varnish_passes_the_api_and_health_to_the_origin(stack: Stack) -> None:
    for _ in range(2):
        assert stack.cache.get("/healthz").headers["x-cache"] == "MISS"
    assert stack.cache.post("/api/records", content=b"x").status_code == 401
