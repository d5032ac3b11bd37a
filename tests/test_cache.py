"""feeds.cache: bounded caches of rendered documents and their validators, by version."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from datetime import UTC, datetime

import brotli

from feeds.cache import DocumentCache, Representations, ValidatorIndex, VersionedLRU
from feeds.render.renderer import Document


@dataclass(frozen=True)
class _Item:
    version: str
    weight: int


def _lru(capacity: int) -> VersionedLRU[_Item]:
    return VersionedLRU(capacity, lambda item: item.weight)


def test_cache_a_stale_version_is_a_miss() -> None:
    cache = _lru(10)
    cache.put("a", _Item("v1", 1))
    assert cache.get("a", "v1") == _Item("v1", 1)
    assert cache.get("a", "v2") is None
    assert cache.get("b", "v1") is None


def test_cache_evicts_the_least_recently_used_first() -> None:
    cache = _lru(3)
    for key in "abc":
        cache.put(key, _Item("v", 1))
    assert cache.get("a", "v") is not None  # now b is the least recently used
    cache.put("d", _Item("v", 1))
    assert list(cache.items) == ["c", "a", "d"]
    assert cache.used == 3


def test_cache_replacing_an_item_reweighs_it() -> None:
    cache = _lru(10)
    cache.put("a", _Item("v1", 4))
    cache.put("a", _Item("v2", 6))
    assert cache.used == 6 and cache.get("a", "v2") is not None


def test_cache_keeps_the_newest_item_even_alone_over_capacity() -> None:
    cache = _lru(5)
    cache.put("small", _Item("v", 2))
    cache.put("huge", _Item("v", 50))
    assert list(cache.items) == ["huge"] and cache.used == 50


def _document(body: bytes, immutable: bool = False) -> Document:
    return Document("feeds/all.atom", body, "application/atom+xml; charset=utf-8",
                    datetime(2024, 5, 1, 8, 0, tzinfo=UTC), immutable,
                    (("hub", "https://hub.test/"),))


def test_cache_representations_keep_only_codings_that_are_smaller() -> None:
    big = _document(b"<feed>" + b"<entry>same words again</entry>" * 200 + b"</feed>")
    item = Representations.of(big, "v1", brotli_quality=5)
    assert item.codings == ("br", "gzip")
    assert brotli.decompress(item.body("br")) == gzip.decompress(item.body("gzip")) == big.body
    assert item.body("identity") is big.body
    assert item.size == len(big.body) + sum(len(item.body(c)) for c in item.codings)
    tiny = Representations.of(_document(b"<feed/>"), "v1", brotli_quality=5)
    assert tiny.codings == () and tiny.size == len(b"<feed/>")


def test_cache_validators_answer_conditional_requests_without_the_body() -> None:
    document = _document(b"<feed>" + b"<entry>x</entry>" * 100 + b"</feed>", immutable=True)
    validators = Representations.of(document, "v7", brotli_quality=5).validators
    assert validators.version == "v7" and validators.etag == document.etag
    assert validators.immutable and validators.links == document.links
    assert validators.http_last_modified == "Wed, 01 May 2024 08:00:00 GMT"
    assert validators.length("identity") == len(document.body)
    assert validators.codings == ("br", "gzip")
    index = ValidatorIndex(1)
    index.put("feeds/all.atom", validators)
    index.put("feeds/all.rss", validators)
    assert index.get("feeds/all.atom", "v7") is None and index.get("feeds/all.rss", "v7") is validators


def test_cache_documents_weigh_their_bytes() -> None:
    document = _document(b"<feed>" + b"<entry>x</entry>" * 100 + b"</feed>")
    item = Representations.of(document, "v1", brotli_quality=5)
    cache = DocumentCache(item.size * 2)
    cache.put("a", item)
    cache.put("b", item)
    cache.put("c", item)
    assert list(cache.items) == ["b", "c"] and cache.used == item.size * 2
