"""Property-based tests (Hypothesis): whatever a record holds, ingest reports or publishes it,
and what it publishes parses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.errors import RecordError
from feeds.ingest import parse_record
from feeds.model import Record
from feeds.parse import load_front_matter
from feeds.render import html
from feeds.render.common import FeedHead
from feeds.render.formats import FORMATS
from feeds.validate import record_from_mapping
from tests.wellformed import document_problems

NOW = datetime(2024, 7, 1, tzinfo=UTC)
MAX_BYTES = 1_000_000
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Any code point, surrogates and XML-forbidden characters included.
ANY_CHAR = st.characters(codec=None, exclude_categories=())
TEXT = st.text(ANY_CHAR, max_size=60)
# Text that reaches the renderers more often: markup, entities, CDATA ends, controls, RTL, emoji.
TRICKY = st.lists(st.sampled_from(
    ["<", ">", "&", '"', "'", "]]>", "<![CDATA[", "&amp;", "&#0;", "&#x1F600;", "<script>",
     "</p>", "javascript:", "\x00", "\x01", "\x0b", "\x7f", "\x85", "\ud800", "\ufffe", "\uffff",
     "\u202e", "e\u0301", "\U0001f469\u200d\U0001f469", "\r\n", "\r", "\t", " ", "a", "\u2028"]),
    max_size=20,
).map("".join)
ANY_TEXT = st.one_of(TEXT, TRICKY)
TEXT_FIELDS = ("title", "excerpt", "category", "type")


def _base() -> dict[str, Any]:
    return {
        "title": "A title", "excerpt": "An excerpt", "publishedDateTime": "2023-05-01T10:00:00Z",
        "webUrl": "https://example.com/a", "published": True,
        "provider": {"name": "Example", "domain": "example.com"},
        "topics": ["AI"], "related": [{"title": "Related", "webUrl": "https://example.com/r"}],
    }


def _mapping_with_text(values: dict[str, str], topics: list[str], provider: str, related: str,
                       url_tail: str) -> dict[str, Any]:
    mapping = _base()
    mapping.update(values)
    mapping["topics"] = topics or ["AI"]
    mapping["provider"] = {"name": provider, "domain": "example.com"}
    mapping["related"] = [{"title": related, "excerpt": related, "webUrl": "https://example.com/r"}]
    mapping["webUrl"] = "https://example.com/" + url_tail
    return mapping


HEAD = FeedHead("http://feeds.test/feeds/all.atom", "Feeds", "All", "http://feeds.test/feeds/all.atom",
                "http://feeds.test/all/", NOW, stylesheet_url="../feed.xsl")


def _documents(record: Record) -> dict[str, bytes]:
    """The record as it appears in each format's document, and on a feed page."""
    docs = {f"all.{f.name}": f.document(HEAD, f.entries([record], "tag:t:"))
            for f in FORMATS.values()}
    site = html.Site("Feeds", "All", "../", "http://feeds.test/feeds.opml")
    links = html.FeedLinks("all", "all", "Feeds", "All", "All", 1,
                           {"atom": "a.atom", "rss": "a.rss", "json": "a.json"}, record)
    view = html.EntryView(record, tuple((t, "topics/x") for t in record.topics), "providers/x")
    docs["all/index.html"] = html.feed_page(site, links, [html.entry(site, view)])
    docs["index.html"] = html.index(site, [links])
    return docs


def _assert_publishes_cleanly(mapping: dict[str, Any]) -> None:
    try:
        record = record_from_mapping(mapping, "p.txt", "0123456789abcdef", NOW)
    except RecordError as error:
        assert error.path == "p.txt" and error.field and error.reason
        return
    for path, body in _documents(record).items():
        assert document_problems(path, body) == [], (path, body[:2000])


@FAST
@given(values=st.fixed_dictionaries({name: ANY_TEXT for name in TEXT_FIELDS}),
       topics=st.lists(ANY_TEXT, max_size=4), provider=ANY_TEXT, related=ANY_TEXT,
       url_tail=ANY_TEXT)
def test_property_any_text_in_every_field_publishes_parseable_documents(
        values: dict[str, str], topics: list[str], provider: str, related: str, url_tail: str) -> None:
    _assert_publishes_cleanly(_mapping_with_text(values, topics, provider, related, url_tail))


@FAST
@given(values=st.fixed_dictionaries({name: ANY_TEXT for name in TEXT_FIELDS}),
       topics=st.lists(ANY_TEXT, max_size=4), provider=ANY_TEXT, related=ANY_TEXT,
       url_tail=ANY_TEXT)
def test_property_any_text_through_a_record_file_never_crashes_ingest(
        values: dict[str, str], topics: list[str], provider: str, related: str, url_tail: str) -> None:
    mapping = _mapping_with_text(values, topics, provider, related, url_tail)
    # allow_unicode=False: what UTF-8 cannot carry (lone surrogates) is written as an escape.
    data = ("---\n" + yaml.safe_dump(mapping, allow_unicode=False) + "---\n").encode()
    try:
        record = parse_record("p.txt", data, MAX_BYTES, NOW)
    except RecordError as error:
        assert error.path == "p.txt" and error.field and error.reason
        return
    for path, body in _documents(record).items():
        assert document_problems(path, body) == [], path


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), ANY_TEXT,
                    st.datetimes(timezones=st.one_of(st.none(), st.timezones())), st.dates())
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(TEXT, st.integers()), inner, max_size=4)),
    max_leaves=12)
FIELDS = ("title", "excerpt", "publishedDateTime", "webUrl", "originalUrl", "ampWebUrl",
          "cdnAmpWebUrl", "category", "type", "quality", "heat", "published", "provider", "topics",
          "images", "related")


@FAST
@given(changes=st.dictionaries(st.sampled_from(FIELDS), VALUES, min_size=1, max_size=4))
def test_property_any_value_of_any_type_is_published_or_reported(changes: dict[str, Any]) -> None:
    mapping = _base()
    mapping.update(changes)
    _assert_publishes_cleanly(mapping)


YAML_TOKENS = st.sampled_from(
    ["---", "...", "\n", "  ", "- ", ": ", "? ", "a", "title", "&x ", "*x", "&y ", "*y",
     "!!python/object:os.system ", "!!binary ", "!!str ", "!!int ", "!!set ", "!!omap ", "!!timestamp ",
     "!tag ", "%YAML 1.1\n", "[", "]", "{", "}",
     ",", '"', "'", "\\u", "\\x0", "#", "|", ">", "<<: ", "2023-05-01", "1e999", "0x1F", "~", "null", "\t",
     "\x00", "\ufeff", "\r", "\x85", "\u2028", "\ud800", "é", "\U0001f600"])
YAMLISH = st.lists(st.one_of(YAML_TOKENS, TEXT), max_size=40).map("".join)


@settings(max_examples=400, deadline=None)
@given(body=YAMLISH, close=st.booleans(), encoding=st.sampled_from(["utf-8", "utf-16", "latin-1"]))
def test_property_yamlish_documents_give_a_mapping_or_a_record_error(
        body: str, close: bool, encoding: str) -> None:
    text = "---\n" + body + ("\n---\n" if close else "")
    data = text.encode(encoding, "surrogatepass") if encoding != "latin-1" else text.encode(
        "latin-1", "replace")
    try:
        loaded = load_front_matter(data, "y.txt", MAX_BYTES)
    except RecordError as error:
        assert error.path == "y.txt" and error.field in ("file", "front matter"), str(error)
    else:
        assert isinstance(loaded, dict)


@FAST
@given(data=st.binary(max_size=300))
def test_property_arbitrary_bytes_give_a_mapping_or_a_record_error(data: bytes) -> None:
    try:
        assert isinstance(load_front_matter(b"---\n" + data + b"\n---\n", "b.txt", MAX_BYTES), dict)
    except RecordError as error:
        assert error.field in ("file", "front matter")
