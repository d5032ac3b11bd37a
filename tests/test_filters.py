"""Filtered views of a feed (?min_quality, ?min_heat, ?q with ?limit): parsing, and as served."""

from __future__ import annotations

import re
from typing import Any

import feedparser
import pytest
from starlette.testclient import TestClient

from feeds.filters import FeedQuery, parse_feed_query, parse_limit, words_of
from feeds.model import Record
from feeds.store import Store

IDENTITY = {"Accept-Encoding": "identity"}


def test_words_are_case_folded_whole_words_once_each() -> None:
    assert words_of("AI in Healthcare: the AI-enabled STRASSE") == (
        "ai", "in", "healthcare", "the", "enabled", "strasse")
    assert words_of("Straße") == words_of("STRASSE")


def test_parse_feed_query_is_canonical_and_drops_empty_fields() -> None:
    query = parse_feed_query({"q": ["  Generative  AI "], "min_quality": ["70"], "limit": ["5"],
                              "min_heat": [""]}, 50)
    assert query == FeedQuery(limit=5, min_quality=70, min_heat=None, words=("generative", "ai"))
    assert query.query_string() == "limit=5&min_quality=70&q=generative+ai"
    assert query.describe() == "quality ≥ 70, with “generative ai”"
    assert parse_feed_query({"q": [""], "min_heat": [""]}, 50) is None
    assert parse_feed_query({"other": ["1"]}, 50) is None


@pytest.mark.parametrize(("params", "message"), [
    ({"min_quality": ["high"]}, "min_quality: expected a whole number such as 70, got 'high'"),
    ({"min_heat": ["1.5"]}, "min_heat: expected a whole number"),
    ({"min_quality": ["1", "2"]}, "min_quality: give it once"),
    ({"q": ["!!!"]}, "q: expected words"),
    ({"q": ["x" * 201]}, "q: expected at most 200 characters"),
    ({"limit": ["0"], "q": ["ai"]}, "limit: expected a whole number from 1 to 50"),
])
def test_parse_feed_query_names_the_bad_parameter(params: dict[str, list[str]], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_feed_query(params, 50)


def _all_records(client: TestClient) -> list[Record]:
    store: Store = client.app.state.publisher.store  # type: ignore[attr-defined]
    ids = store.entry_ids("all", 0, 1000)
    ids.reverse()  # newest first
    return store.records(ids)


def _entries(client: TestClient, url: str) -> tuple[Any, Any]:
    response = client.get(url, headers=IDENTITY)
    assert response.status_code == 200, (url, response.text)
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return response, parsed


def _ids(parsed: Any) -> list[str]:
    return [entry.id.rsplit(":", 1)[-1] for entry in parsed.entries]


def test_min_quality_and_min_heat_keep_only_entries_at_or_above(client: TestClient) -> None:
    records = _all_records(client)
    _, parsed = _entries(client, "/feeds/all.atom?min_quality=70&min_heat=60")
    expected = [r.id for r in records if (r.quality or -1) >= 70 and (r.heat or -1) >= 60]
    assert _ids(parsed) == expected and 0 < len(expected) < len(records)
    assert parsed.feed.title == "Feeds: all articles (quality ≥ 70, heat ≥ 60)"
    assert parsed.feed.links[0].href == "http://feeds.test/feeds/all.atom?min_quality=70&min_heat=60"


def test_filters_apply_before_the_limit(client: TestClient) -> None:
    records = _all_records(client)
    _, parsed = _entries(client, "/feeds/all.rss?limit=2&min_quality=75")
    assert _ids(parsed) == [r.id for r in records if (r.quality or -1) >= 75][:2]


def test_q_matches_every_word_whole_in_title_or_excerpt_ignoring_case(client: TestClient) -> None:
    records = _all_records(client)

    def has(record: Record, word: str) -> bool:
        return re.search(rf"\b{word}\b", f"{record.title} {record.excerpt}", re.IGNORECASE) is not None

    response = client.get("/feeds/all.json?q=HEALTHCARE%20cios", headers=IDENTITY)
    got = [item["id"].rsplit(":", 1)[-1] for item in response.json()["items"]]
    assert got == [r.id for r in records if has(r, "healthcare") and has(r, "cios")]
    assert got  # the sample seeds have such entries
    assert response.json()["feed_url"] == "http://feeds.test/feeds/all.json?q=healthcare+cios"
    # Whole words: "cio" is not "cios".
    single = [item["id"].rsplit(":", 1)[-1] for item in client.get("/feeds/all.json?q=cio").json()["items"]]
    assert single == [r.id for r in records if has(r, "cio")] and set(single) != set(got)


def test_filtered_views_are_their_own_cached_variants(client: TestClient) -> None:
    full, _ = _entries(client, "/feeds/all.atom")
    one, _ = _entries(client, "/feeds/all.atom?q=AI&limit=3")
    same, _ = _entries(client, "/feeds/all.atom?limit=3&q=ai")
    other, _ = _entries(client, "/feeds/all.atom?q=ai")
    assert one.content == same.content and one.headers["etag"] == same.headers["etag"]
    assert len({full.headers["etag"], one.headers["etag"], other.headers["etag"]}) == 3
    again = client.get("/feeds/all.atom?limit=3&q=ai",
                       headers={**IDENTITY, "If-None-Match": one.headers["etag"]})
    assert again.status_code == 304
    # No hubs or archive links: a filtered view stands outside the archive chain.
    assert b"prev-archive" not in one.content


def test_a_filtered_view_reads_only_the_records_it_shows(client: TestClient,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    publisher = client.app.state.publisher  # type: ignore[attr-defined]
    store = publisher.store
    monkeypatch.setattr(publisher.renderer, "fragment_key", "none cached")  # render every entry
    read: list[str] = []
    records = store.records

    def counting(ids: list[str]) -> list[Record]:
        read.extend(ids)
        return records(ids)

    monkeypatch.setattr(store, "records", counting)
    _, parsed = _entries(client, "/feeds/all.atom?q=ai&min_quality=1&limit=2")
    assert len(_ids(parsed)) == 2 and sorted(read) == sorted(_ids(parsed))


@pytest.mark.parametrize("url", [
    "/feeds/all.atom?min_quality=seventy", "/feeds/all.atom?min_heat=1&min_heat=2",
    "/feeds/all.atom?q=%21%21", "/feeds.opml?q=ai", "/topics/ai/?min_quality=70",
])
def test_bad_filters_are_a_400_that_says_why(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 400
    assert response.text.startswith("Bad request: ")
    assert any(name in response.text for name in ("min_quality", "min_heat", "q:", "current document"))


def test_the_feed_page_offers_filtered_views(client: TestClient) -> None:
    page = client.get("/topics/ai/").text
    assert 'href="http://feeds.test/feeds/topics/ai.atom?min_quality=70"' in page
    assert 'name="min_quality"' in page and 'name="q"' in page
    assert 'formaction="http://feeds.test/feeds/topics/ai.json"' in page


def test_filters_parse_limit_accepts_one_to_maximum() -> None:
    assert parse_limit([], 50) is None
    assert parse_limit(["1"], 50) == 1
    assert parse_limit(["50"], 50) == 50


@pytest.mark.parametrize("values", [["0"], ["51"], ["-1"], ["ten"], [""], ["1.5"], ["9" * 5000],
                                    ["1", "2"], ["\u0661"]])
def test_filters_parse_limit_refuses_with_a_message(values: list[str]) -> None:
    with pytest.raises(ValueError, match="limit"):
        parse_limit(values, 50)
