"""Property-based tests (Hypothesis): whatever a record holds, ingest reports or publishes it,
and what it publishes parses."""

from __future__ import annotations

from collections import Counter
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
# What a URL may hold (README: no spaces or control characters): markup, quotes, non-ASCII, emoji.
URL_TAIL = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp"),
                                 exclude_characters="\ufffe\uffff\x85\u180e\u200b\ufeff"),
                   max_size=40)
# YAML files carry any text but lone surrogates (UTF-8 cannot; tests/nasty has that case).
FILE_TEXT = st.one_of(st.text(st.characters(codec="utf-8"), max_size=60), TRICKY.map(
    lambda text: "".join(c for c in text if not 0xD800 <= ord(c) <= 0xDFFF)))
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
    """A valid record whatever the text: required text starts with a letter (so it never cleans
    to nothing), and the URL's tail has no whitespace or control character."""
    mapping = _base()
    mapping.update({name: "T" + value for name, value in values.items()})
    mapping["topics"] = ["t" + topic for topic in topics] or ["AI"]
    mapping["provider"] = {"name": provider, "domain": "example.com"}
    mapping["related"] = [{"title": "r" + related, "excerpt": related, "webUrl": "https://example.com/r"}]
    mapping["webUrl"] = "https://example.com/" + url_tail
    return mapping


HEAD = FeedHead("http://feeds.test/feeds/all.atom", "Feeds", "All", "http://feeds.test/feeds/all.atom",
                "http://feeds.test/all/", NOW,
                stylesheets=(("text/xsl", "../feed.xsl"), ("text/css", "../feed.css")))


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


def _published_cleanly(mapping: dict[str, Any]) -> bool:
    """Publish ``mapping``: True once every document holding it is well-formed and safe, False if
    it is rejected (with its file, field and reason)."""
    try:
        record = record_from_mapping(mapping, "p.txt", "0123456789abcdef", NOW)
    except RecordError as error:
        assert error.path == "p.txt" and error.field and error.reason
        return False
    for path, body in _documents(record).items():
        assert document_problems(path, body) == [], (path, body[:2000])
    return True


@FAST
@given(values=st.fixed_dictionaries({name: ANY_TEXT for name in TEXT_FIELDS}),
       topics=st.lists(ANY_TEXT, max_size=4), provider=ANY_TEXT, related=ANY_TEXT, url_tail=URL_TAIL)
def test_property_any_text_in_every_field_publishes_parseable_documents(
        values: dict[str, str], topics: list[str], provider: str, related: str, url_tail: str) -> None:
    # Every such record is valid, so every example reaches the renderers.
    assert _published_cleanly(_mapping_with_text(values, topics, provider, related, url_tail))


@FAST
@given(values=st.fixed_dictionaries({name: FILE_TEXT for name in TEXT_FIELDS}),
       topics=st.lists(FILE_TEXT, max_size=4), provider=FILE_TEXT, related=FILE_TEXT, url_tail=URL_TAIL)
def test_property_any_text_through_a_record_file_publishes_parseable_documents(
        values: dict[str, str], topics: list[str], provider: str, related: str, url_tail: str) -> None:
    mapping = _mapping_with_text(values, topics, provider, related, url_tail)
    data = ("---\n" + yaml.safe_dump(mapping, allow_unicode=True) + "---\n").encode()
    record = parse_record("p.txt", data, MAX_BYTES, NOW)
    for path, body in _documents(record).items():
        assert document_problems(path, body) == [], path


# One broken field at a time, and the field the error must name.
BROKEN = st.one_of(
    st.tuples(st.just("webUrl"), st.one_of(
        st.builds("javascript:{}".format, URL_TAIL), st.builds("/{}".format, URL_TAIL),
        st.builds("//example.com/{}".format, URL_TAIL), st.builds("data:text/html,{}".format, URL_TAIL),
        st.builds("https://example.com/{} x{}".format, URL_TAIL, URL_TAIL))),
    st.tuples(st.just("title"), st.text(st.sampled_from(" \t\n\x00\x01\x7f\x85\ufffe"), max_size=5)),
    st.tuples(st.just("publishedDateTime"), st.sampled_from(
        ["2023-05-01T10:00:00", "2023-05-01", "yesterday", "1969-12-31T23:59:59Z", "2999-01-01T00:00:00Z"])),
    st.tuples(st.just("provider.domain"), st.sampled_from(
        ["not a domain", "<b>x</b>", "b\u00fccher.example", "-x-.com", "a..b"])),
    st.tuples(st.just("topics[0]"), st.text(st.sampled_from(" \t\n\x00"), max_size=4)),
    st.tuples(st.just("images[0].width"), st.integers(max_value=-1)),
)


@FAST
@given(broken=BROKEN)
def test_property_a_broken_field_is_rejected_naming_that_field(broken: tuple[str, Any]) -> None:
    field, value = broken
    mapping = _base()
    if field == "provider.domain":
        mapping["provider"] = {"name": "Example", "domain": value}
    elif field == "topics[0]":
        mapping["topics"] = [value, "AI"]
    elif field == "images[0].width":
        mapping["images"] = [{"url": "https://example.com/i.jpg", "width": value, "height": 10}]
    else:
        mapping[field] = value
    try:
        record_from_mapping(mapping, "p.txt", "0123456789abcdef", NOW)
    except RecordError as error:
        assert error.field == field, (value, str(error))
    else:
        raise AssertionError(f"{field}={value!r} was published")


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), ANY_TEXT,
                    st.datetimes(timezones=st.one_of(st.none(), st.timezones())), st.dates())
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(TEXT, st.integers()), inner, max_size=4)),
    max_leaves=12)
FIELDS = ("title", "excerpt", "publishedDateTime", "webUrl", "originalUrl", "ampWebUrl",
          "cdnAmpWebUrl", "category", "type", "quality", "heat", "published", "provider", "topics",
          "images", "related")


_URL = URL_TAIL.map("https://example.com/{}".format)
# A valid value of each field, so that half the values drawn below are right.
VALID = {
    **{name: ANY_TEXT.map("x{}".format) for name in TEXT_FIELDS},
    **{name: _URL for name in ("webUrl", "originalUrl", "ampWebUrl", "cdnAmpWebUrl")},
    "publishedDateTime": st.datetimes(datetime(1971, 1, 1), datetime(2024, 1, 1), timezones=st.just(UTC)),
    "quality": st.integers(0, 100), "heat": st.integers(0, 10**6), "published": st.booleans(),
    "provider": st.fixed_dictionaries({"name": ANY_TEXT, "domain": st.just("example.com")}),
    "topics": st.lists(ANY_TEXT.map("t{}".format), max_size=4),
    "images": st.lists(st.fixed_dictionaries({"url": _URL}, optional={"width": st.integers(0, 5000)}),
                       max_size=2),
    "related": st.lists(st.fixed_dictionaries({"title": ANY_TEXT.map("r{}".format), "webUrl": _URL}),
                        max_size=2),
}


def test_property_any_value_of_any_type_is_published_or_reported() -> None:
    outcomes: Counter[bool] = Counter()

    @FAST
    @given(changes=st.lists(st.sampled_from(FIELDS).flatmap(
        lambda name: st.tuples(st.just(name), st.one_of(VALUES, VALID[name]))),
        min_size=1, max_size=4).map(dict))
    def publish(changes: dict[str, Any]) -> None:
        mapping = _base()
        mapping.update(changes)
        outcomes[_published_cleanly(mapping)] += 1

    publish()
    # Enough of the examples reach the renderers to count.
    assert outcomes[True] >= 0.2 * sum(outcomes.values()), outcomes


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
