"""The nasty corpus (tests/nasty/records) ingested beside the real seeds.

Every bad file is reported with its path, field and reason; every good record is published;
every document stays well-formed, and record text never becomes live markup.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import feedparser
import pytest

from feeds.config import Settings
from feeds.errors import RecordError
from feeds.export import export
from feeds.ingest import IngestReport, ingest, parse_record
from feeds.store import Store
from tests.conftest import SEEDS
from tests.helpers import documents, jing_errors
from tests.wellformed import document_problems

NASTY = Path(__file__).resolve().parent / "nasty" / "records"
NOW = datetime(2024, 7, 1, tzinfo=UTC)
SCRIPT = "<script>alert(1)</script><img src=x onerror=alert(2)>"

# file → (field, part of the reason); tests/nasty/generate.py says how each file was made.
REJECTED = {
    "bad_url_javascript.txt": ("webUrl", "absolute http(s) URL"),
    "bad_url_data.txt": ("webUrl", "absolute http(s) URL"),
    "bad_url_relative.txt": ("webUrl", "absolute http(s) URL"),
    "bad_url_protocol_relative.txt": ("webUrl", "absolute http(s) URL"),
    "bad_url_spaces.txt": ("webUrl", "spaces"),
    "bad_url_over_8kb.txt": ("webUrl", "over the limit of 2048"),
    "bad_url_bad_port.txt": ("webUrl", "malformed URL"),
    "bad_image_url_javascript.txt": ("images[0].url", "absolute http(s) URL"),
    "bad_related_url_data.txt": ("related[0].webUrl", "absolute http(s) URL"),
    "bad_yaml_billion_laughs.txt": ("front matter", "more than 20000 values"),
    "bad_yaml_python_object.txt": ("front matter", "could not determine a constructor"),
    "bad_yaml_python_name.txt": ("front matter", "could not determine a constructor"),
    "bad_yaml_duplicate_keys.txt": ("front matter", "duplicate key 'published'"),
    "bad_yaml_deep_nesting.txt": ("front matter", "nesting depth"),
    "bad_yaml_unhashable_key.txt": ("front matter", "unhashable key"),
    "bad_yaml_no_closing_dashes.txt": ("file", "no closing ---"),
    "bad_yaml_no_opening_dashes.txt": ("file", "first line to be ---"),
    "bad_yaml_not_a_mapping.txt": ("front matter", "mapping of fields"),
    "bad_empty.txt": ("file", "empty file"),
    "bad_whitespace_only.txt": ("file", "empty file"),
    "bad_binary_png.txt": ("file", "binary content"),
    "bad_nul_in_text.txt": ("file", "binary content"),
    "bad_not_utf8.txt": ("file", "not valid UTF-8"),
    "bad_encoded_surrogate_bytes.txt": ("file", "not valid UTF-8"),
    "bad_raw_control_chars.txt": ("front matter", "character U+0007 is not allowed"),
    "bad_lone_surrogate_escape.txt": ("front matter", "invalid Unicode character escape"),
    "bad_date_naive.txt": ("publishedDateTime", "no time zone"),
    "bad_date_only.txt": ("publishedDateTime", "got a date"),
    "bad_date_future.txt": ("publishedDateTime", "in the future"),
    "bad_date_before_1970.txt": ("publishedDateTime", "before 1970"),
    "bad_date_year_1.txt": ("publishedDateTime", "out of range"),
    "bad_date_year_9999.txt": ("publishedDateTime", "out of range"),
    "bad_date_garbage.txt": ("publishedDateTime", "ISO-8601"),
    "bad_image_negative_size.txt": ("images[0].width", "at least 0"),
    "bad_image_absurd_size.txt": ("images[0].height", "at most 100000"),
    "bad_topic_empty.txt": ("topics[0]", "empty topic"),
    "bad_topic_whitespace.txt": ("topics[0]", "empty topic"),
    "bad_provider_idn_domain.txt": ("provider.domain", "host name"),
    "bad_provider_domain_markup.txt": ("provider.domain", "host name"),
    "bad_type_title.txt": ("title", "expected text, got a list"),
    "bad_type_excerpt.txt": ("excerpt", "expected text, got a mapping"),
    "bad_type_webUrl.txt": ("webUrl", "http(s) URL"),
    "bad_type_originalUrl.txt": ("originalUrl", "got a list"),
    "bad_type_ampWebUrl.txt": ("ampWebUrl", "got true/false"),
    "bad_type_cdnAmpWebUrl.txt": ("cdnAmpWebUrl", "got a mapping"),
    "bad_type_category.txt": ("category", "got a list"),
    "bad_type_type.txt": ("type", "got a mapping"),
    "bad_type_quality.txt": ("quality", "whole number, got text"),
    "bad_type_heat.txt": ("heat", "whole number, got a number"),
    "bad_type_published.txt": ("published", "true or false, got text"),
    "bad_type_publishedDateTime.txt": ("publishedDateTime", "got a number"),
    "bad_type_provider.txt": ("provider", "mapping, got text"),
    "bad_type_provider_domain.txt": ("provider.domain", "got a list"),
    "bad_type_topics.txt": ("topics", "list of topic names, got text"),
    "bad_type_images.txt": ("images", "list, got text"),
    "bad_type_images_width.txt": ("images[0].width", "whole number, got text"),
    "bad_type_related.txt": ("related", "list, got text"),
    "bad_type_related_title.txt": ("related[0].title", "got a list"),
    # Duplicates: the file name sorting first wins, whichever arrived first.
    "901_aaaaaaaaaaaaaaaa.txt": ("id", "duplicate of 900_aaaaaaaaaaaaaaaa.txt"),
    "903_cccccccccccccccc.txt": ("webUrl", "duplicate of 902_bbbbbbbbbbbbbbbb.txt"),
}


@dataclasses.dataclass(frozen=True)
class Built:
    settings: Settings
    report: IngestReport
    published: dict[str, str]  # file → record id, for every published record
    output: Path


def _ingest_and_export(settings: Settings) -> tuple[IngestReport, dict[str, str]]:
    store = Store.open(settings.store_path)
    try:
        report = ingest(store, settings.seeds_dir, settings.max_record_bytes, now=NOW)
        rows = store.db.execute("SELECT path, id FROM records WHERE published=1")
        published = {path: record_id for path, record_id in rows}
        export(store, settings)
    finally:
        store.close()
    return report, published


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("nasty")
    seeds = root / "seeds"
    shutil.copytree(SEEDS, seeds)
    for path in NASTY.iterdir():
        shutil.copy(path, seeds / path.name)
    settings = Settings(seeds_dir=seeds, store_path=root / "store.sqlite3",
                        output_dir=root / "output", base_url="http://feeds.test/", watch=False)
    report, published = _ingest_and_export(settings)
    return Built(settings, report, published, settings.output_dir)


def test_nasty_corpus_has_a_case_for_every_file() -> None:
    names = {p.name for p in NASTY.iterdir()}
    bad = {name for name in names if name.startswith("bad_")}
    assert bad <= set(REJECTED), sorted(bad - set(REJECTED))
    assert set(REJECTED) <= names
    assert len(names) >= 70


def test_nasty_files_are_rejected_with_path_field_and_reason(built: Built) -> None:
    reported = {error.path: error for error in built.report.errors}
    for name, (field, reason) in REJECTED.items():
        assert name in reported, f"{name} was not rejected"
        error = reported[name]
        assert (error.field, reason in error.reason) == (field, True), (name, str(error))
    assert set(reported) == set(REJECTED)
    assert built.report.rejected == len(REJECTED)


def test_nasty_rejections_do_not_echo_file_contents(built: Built) -> None:
    for error in built.report.errors:
        assert len(str(error)) < 300, str(error)
        assert "alert(" not in str(error) and "Zq+/Wq==" not in str(error)


def test_nasty_every_good_record_is_published(built: Built) -> None:
    good = [p.name for p in NASTY.iterdir() if p.name.startswith("ok_")]
    good += ["900_aaaaaaaaaaaaaaaa.txt", "902_bbbbbbbbbbbbbbbb.txt"]
    samples = [p.name for p in SEEDS.glob("*.txt") if "published: true" in p.read_text("utf-8")]
    for name in good + samples:
        assert name in built.published, f"{name} is not published"
    feed = json.loads((built.output / "feeds" / "all.json").read_bytes())
    assert len(feed["items"]) == len(good) + len(samples) == len(built.published)


def test_nasty_every_document_is_well_formed_and_safe(built: Built) -> None:
    docs = documents(built.output)
    assert sum(path.endswith(".atom") for path in docs) > 10
    problems = [p for path, body in docs.items() for p in document_problems(path, body)]
    assert problems == []


def test_nasty_html_pages_carry_no_record_markup(built: Built) -> None:
    for path, body in documents(built.output).items():
        # JSON Feed's title and summary are plain text; its content_html is checked as HTML above.
        if path.endswith((".html", ".atom", ".rss")):
            assert b"<script>alert" not in body, path
            assert b"<img src=x" not in body and b"javascript:" not in body, path


def _entry(parsed: feedparser.FeedParserDict, record_id: str) -> feedparser.FeedParserDict:
    return next(e for e in parsed.entries if e.id.endswith(record_id))


def test_nasty_markup_in_text_is_published_as_text(built: Built) -> None:
    record_id = built.published["ok_html_everywhere.txt"]
    for fmt in ("atom", "rss"):
        parsed = feedparser.parse((built.output / "feeds" / f"all.{fmt}").read_bytes())
        entry = _entry(parsed, record_id)
        assert entry.title == SCRIPT, fmt
        # As HTML, the summary shows the record's text; nothing of it is an element.
        summary = entry.summary_detail
        shown = summary.value if summary.type == "text/plain" else summary.value.replace(
            "&lt;", "<").replace("&gt;", ">")
        assert shown == SCRIPT, fmt
        assert [t.term for t in entry.tags] == [SCRIPT, "<b>bold</b>"], fmt
    items = json.loads((built.output / "feeds" / "all.json").read_bytes())["items"]
    item = next(i for i in items if i["id"].endswith(record_id))
    assert (item["title"], item["summary"], item["tags"][0]) == (SCRIPT, SCRIPT, SCRIPT)
    assert "<script" not in item["content_html"] and "&lt;script&gt;" in item["content_html"]


@pytest.mark.parametrize(("name", "title"), [
    ("ok_cdata_end.txt", "Ends ]]> here ]]>"),
    ("ok_entity_lookalikes.txt", "AT&amp;T &#0; &#x0; &lt;script&gt; &nbsp; &#128512;"),
    ("ok_rtl_combining_emoji.txt", "\u0645\u0631\u062d\u0628\u0627 \u202eevil\u202c e\u0301 "
     "\U0001f469\u200d\U0001f469\u200d\U0001f467 \U0001f1fa\U0001f1e6 \u05e9\u05dc\u05d5\u05dd"),
    # Characters XML 1.0 forbids or discourages (C1 controls) are dropped; U+FDD0 is allowed.
    ("ok_escaped_control_chars.txt", "Bell back tab form c1 \ufdd0 end"),
])
def test_nasty_text_comes_out_exactly_in_every_format(built: Built, name: str, title: str) -> None:
    record_id = built.published[name]
    for fmt in ("atom", "rss"):
        parsed = feedparser.parse((built.output / "feeds" / f"all.{fmt}").read_bytes())
        assert _entry(parsed, record_id).title == title, fmt
    items = json.loads((built.output / "feeds" / "all.json").read_bytes())["items"]
    assert next(i for i in items if i["id"].endswith(record_id))["title"] == title


def test_nasty_idn_hosts_are_published_as_given_and_their_paths_percent_encoded(built: Built) -> None:
    # An IRI host is a fine Atom link (RFC 4287 section 4.2.7.1) and browsers accept it; kept as
    # written. The path's non-ASCII characters are percent-encoded (feeds.validate.percent_encode).
    record_id = built.published["ok_idn_host.txt"]
    parsed = feedparser.parse((built.output / "feeds" / "all.atom").read_bytes())
    assert _entry(parsed, record_id).link == "https://b\u00fccher.example/stra%C3%9Fe"


@dataclasses.dataclass(frozen=True)
class Accepted:
    """What an ``ok_`` file publishes, in every format: a reader's view of it."""

    title: str
    link: str
    topics: dict[str, str]  # topic as published → its feed
    images: tuple[str, ...] = ()
    provider: str = "providers/nasty-example"


NASTY_NEWS = {"Nasty": "topics/nasty"}
# Every ok_ file (tests/nasty/generate.py says how each was made), exactly. Content HTML is left
# to the renderers' own tests; URLs are compared percent-decoded, so percent-encoding them is
# not a change of what is published.
ACCEPTED = {
    "ok_bom_crlf.txt": Accepted("A well-behaved title (bom_crlf)", "https://nasty.example/bom_crlf",
                                NASTY_NEWS),
    "ok_cdata_end.txt": Accepted("Ends ]]> here ]]>", "https://nasty.example/cdata_end", NASTY_NEWS),
    "ok_cr_only.txt": Accepted("A well-behaved title (cr_only)", "https://nasty.example/cr_only",
                               NASTY_NEWS),
    "ok_entity_lookalikes.txt": Accepted("AT&amp;T &#0; &#x0; &lt;script&gt; &nbsp; &#128512;",
                                         "https://nasty.example/entity_lookalikes", NASTY_NEWS),
    "ok_escaped_control_chars.txt": Accepted("Bell back tab form c1 \ufdd0 end",
                                             "https://nasty.example/escaped_control_chars", NASTY_NEWS),
    "ok_html_everywhere.txt": Accepted(SCRIPT, "https://nasty.example/html_everywhere", {
        SCRIPT: "topics/script-alert-1-script-img-src-x-onerror-alert-2", "<b>bold</b>": "topics/b-bold-b"}),
    # An IRI is a fine Atom link (RFC 4287 section 4.2.7.1) and browsers accept it: as written.
    "ok_idn_host.txt": Accepted("A well-behaved title (idn_host)", "https://b\u00fccher.example/stra\u00dfe",
                                NASTY_NEWS),
    "ok_no_final_newline.txt": Accepted("A well-behaved title (no_final_newline)",
                                        "https://nasty.example/no_final_newline", NASTY_NEWS),
    "ok_rtl_combining_emoji.txt": Accepted(
        "\u0645\u0631\u062d\u0628\u0627 \u202eevil\u202c e\u0301 \U0001f469\u200d\U0001f469\u200d\U0001f467 "
        "\U0001f1fa\U0001f1e6 \u05e9\u05dc\u05d5\u05dd", "https://nasty.example/rtl_combining_emoji",
        {"\U0001f525 Hot": "topics/hot", "\u0639\u0631\u0628\u064a": "topics/x-9f9a68"}),
    # Symbol-only topics: a slug from a hash of the name, the same on every build.
    "ok_symbol_only_topic.txt": Accepted("A well-behaved title (symbol_only_topic)",
                                         "https://nasty.example/symbol_only_topic",
                                         {"!!!": "topics/x-e84c53", "???": "topics/x-a03b22"}),
    # Case variants of one topic are one topic, spelt as first written, in one feed.
    "ok_topics_case_duplicates.txt": Accepted("A well-behaved title (topics_case_duplicates)",
                                              "https://nasty.example/topics_case_duplicates", NASTY_NEWS),
    # Markup in a topic or provider name is text: escaped wherever a reader treats it as HTML.
    "ok_topic_provider_markup.txt": Accepted(
        "A well-behaved title (topic_provider_markup)", "https://nasty.example/topic_provider_markup",
        {"<script>alert(3)</script>Markup Topic": "topics/script-alert-3-script-markup-topic"},
        provider="providers/markup-news-example"),
    # Characters a URL cannot carry are percent-encoded (compared here decoded: the same URL).
    "ok_url_unsafe_characters.txt": Accepted(
        "A well-behaved title (url_unsafe_characters)",
        'https://nasty.example/a<b>"c"\\d{e}|f^g`h/\u00fcn\u00ef%zz?q=<x>#frag#2', NASTY_NEWS,
        ("https://nasty.example/{i}|\u00e9t\u00e9.jpg",)),
    "ok_url_quotes_markup.txt": Accepted("A well-behaved title (url_quotes_markup)",
                                         'https://nasty.example/a"><script>alert(1)</script>', NASTY_NEWS,
                                         ('https://nasty.example/i.png?"onerror="alert(1)',)),
}
# Files whose bytes differ from an ordinary record file only in line ends, BOM or final newline.
TWINS = ("ok_bom_crlf.txt", "ok_cr_only.txt", "ok_no_final_newline.txt")


def _views(output: Path, feed: str, record_id: str) -> dict[str, tuple[str, str, list[str], list[str]]]:
    """(title, link, topics, image URLs) of the record's entry in each format of ``feed``."""
    views = {}
    for fmt in ("atom", "rss"):
        entry = _entry(feedparser.parse((output / "feeds" / f"{feed}.{fmt}").read_bytes()), record_id)
        views[fmt] = (entry.title, unquote(entry.link), [t.term for t in entry.get("tags", [])],
                      [unquote(m["url"]) for m in entry.get("media_content", [])])
    items = json.loads((output / "feeds" / f"{feed}.json").read_bytes())["items"]
    item = next(i for i in items if i["id"].endswith(record_id))
    images = [unquote(i["url"]) for i in item.get("_media", {}).get("images", [])]
    assert item.get("image") == (item["_media"]["images"][0]["url"] if images else None)
    views["json"] = (item["title"], unquote(item["url"]), item.get("tags", []), images)
    return views


def test_nasty_every_accepted_file_has_exact_expectations() -> None:
    assert set(ACCEPTED) == {p.name for p in NASTY.iterdir() if p.name.startswith("ok_")}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_nasty_accepted_file_publishes_exactly_its_title_link_topics_and_images(
        built: Built, name: str) -> None:
    expected, record_id = ACCEPTED[name], built.published[name]
    seen = (expected.title, expected.link, list(expected.topics), list(expected.images))
    for feed in ("all", expected.provider, *expected.topics.values()):
        assert _views(built.output, feed, record_id) == {"atom": seen, "rss": seen, "json": seen}, feed
    for topic_feed in expected.topics.values():
        assert (built.output / topic_feed / "index.html").is_file()


def test_nasty_case_variants_of_a_topic_are_one_feed(built: Built) -> None:
    topics = sorted(p.name for p in (built.output / "feeds" / "topics").glob("*nasty*.atom"))
    assert topics == ["nasty.atom"]


@pytest.mark.parametrize("name", TWINS)
def test_nasty_line_ends_bom_and_final_newline_publish_the_clean_twins_text(built: Built, name: str) -> None:
    raw = (NASTY / name).read_bytes()
    clean = raw.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    clean += b"" if clean.endswith(b"\n") else b"\n"
    assert clean != raw
    twin = parse_record(name, clean, 1_000_000, NOW)
    store = Store.open(built.settings.store_path)
    try:
        (published,) = store.records([built.published[name]])
    finally:
        store.close()
    assert published == twin


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory, built: Built) -> Path:
    """The nasty corpus built again with pages of two, so every feed has archive pages."""
    root = tmp_path_factory.mktemp("nasty-archived")
    settings = dataclasses.replace(built.settings, store_path=root / "store.sqlite3",
                                   output_dir=root / "output", items_per_feed=2, archive_page_size=2)
    _ingest_and_export(settings)
    return settings.output_dir


def test_nasty_export_with_archives_is_valid_atom_and_well_formed(archived: Path) -> None:
    docs = documents(archived)
    atoms = [archived / path for path in docs if path.endswith(".atom")]
    assert sum("/archive/" in str(path) for path in atoms) > 10
    assert jing_errors(atoms) == ""
    assert [p for path, body in docs.items() for p in document_problems(path, body)] == []


def test_nasty_duplicate_winner_does_not_depend_on_arrival_order(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    settings = Settings(seeds_dir=seeds, store_path=tmp_path / "s.sqlite3",
                        output_dir=tmp_path / "out", watch=False)
    store = Store.open(settings.store_path)
    try:
        for name in ("903_cccccccccccccccc.txt", "901_aaaaaaaaaaaaaaaa.txt",
                     "900_aaaaaaaaaaaaaaaa.txt", "902_bbbbbbbbbbbbbbbb.txt"):
            shutil.copy(NASTY / name, seeds / name)
            ingest(store, seeds, settings.max_record_bytes, now=NOW)
        rejected = dict(store.rejected())
        assert sorted(rejected) == ["901_aaaaaaaaaaaaaaaa.txt", "903_cccccccccccccccc.txt"]
        assert len(store.published_ids()) == 2
        # The winner goes away: the loser is published on the next ingest.
        (seeds / "900_aaaaaaaaaaaaaaaa.txt").unlink()
        ingest(store, seeds, settings.max_record_bytes, now=NOW)
        assert sorted(dict(store.rejected())) == ["903_cccccccccccccccc.txt"]
        assert store.record_path("aaaaaaaaaaaaaaaa") == "901_aaaaaaaaaaaaaaaa.txt"
    finally:
        store.close()


def _record(**fields: str) -> str:
    lines = {"title": "A title", "publishedDateTime": "2023-05-01T10:00:00Z",
             "webUrl": "https://nasty.example/big", "published": "true",
             "provider": "\n  name: N\n  domain: nasty.example", **fields}
    return "---\n" + "".join(f"{k}: {v}\n" for k, v in lines.items()) + "---\n"


def test_nasty_one_megabyte_title_is_refused_by_size_then_by_length(tmp_path: Path) -> None:
    data = _record(title="x" * 1_048_576).encode()
    with pytest.raises(RecordError, match=r"over the limit of 1000000 \(max_record_bytes\)") as by_size:
        parse_record("big.txt", data, 1_000_000)
    assert by_size.value.field == "file"
    with pytest.raises(RecordError, match="1048576 characters is over the limit of 1000") as by_length:
        parse_record("big.txt", data, 2_000_000)
    assert by_length.value.field == "title"


def test_nasty_fifty_megabyte_file_is_refused_by_the_configurable_limit(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    with open(seeds / "huge.txt", "wb") as handle:
        handle.write(_record().encode())
        handle.truncate(50 * 1024 * 1024)  # sparse: 50 MB without writing them
    (seeds / "small.txt").write_text(_record(webUrl="https://nasty.example/small"), encoding="utf-8")
    store = Store.open(tmp_path / "s.sqlite3")
    try:
        report = ingest(store, seeds, 1_000_000, now=NOW)
        (error,) = report.errors
        assert (error.path, error.field) == ("huge.txt", "file")
        assert "52428800 bytes is over the limit of 1000000 (max_record_bytes)" in error.reason
        assert report.ingested == 1
        # A bigger limit lets the file through to parsing, where its NUL padding is refused.
        (seeds / "huge.txt").touch()
        report = ingest(store, seeds, 60 * 1024 * 1024, now=NOW)
        (error,) = report.errors
        assert (error.field, error.reason.startswith("binary content")) == ("file", True)
    finally:
        store.close()


def test_nasty_ten_thousand_topics_are_refused() -> None:
    topics = "".join(f"\n  - topic {n}" for n in range(10_000))
    with pytest.raises(RecordError, match="10000 topics is over the limit of 100") as refused:
        parse_record("topics.txt", _record(topics=topics).encode(), 1_000_000)
    assert refused.value.field == "topics"


def test_wellformed_check_catches_live_markup_and_broken_documents() -> None:
    assert document_problems("a.html", b"<p><img src=x onerror=alert(1)></p>")
    assert document_problems("a.html", b'<a href="javascript:alert(1)">x</a>')
    assert document_problems("a.html", b"<p><script>alert(1)</script></p>")
    assert document_problems("a.atom", b"<feed><entry>")
    rss = (b'<rss version="2.0"><channel><title>t</title><item><title>x</title><description>'
           b'&lt;script&gt;alert(1)&lt;/script&gt;</description></item></channel></rss>')
    assert document_problems("a.rss", rss)
    assert document_problems("a.json", b'{"items":[{"id":"1","content_html":"<iframe></iframe>"}]}')
    assert document_problems("a.html", b'<p><a href="https://x/">fine</a></p>') == []
    page = b'<html><head><meta charset="utf-8"></head><body>%s</body></html>'
    assert document_problems("a.html", page % b"<p>fine</p>") == []
    for element in (b"<iframe src='https://x/'></iframe>", b"<object></object>", b"<embed>",
                    b"<form action='https://x/'></form>", b"<meta http-equiv='refresh'>",
                    b"<base href='https://evil.example/'>", b"<p style='position:fixed'>x</p>"):
        assert document_problems("a.html", page % element), element
    assert document_problems("a.html", page % b'<img src="https://x/i" style="aspect-ratio: 4 / 3">') == []
    xhtml = (b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><content type="xhtml">'
             b'<div xmlns="http://www.w3.org/1999/xhtml"><p onclick="x()">t</p></div></content>'
             b'</entry></feed>')
    assert document_problems("a.atom", xhtml)
    for field in (b'"home_page_url":"javascript:x"', b'"items":[{"id":"1","image":"data:x"}]',
                  b'"authors":[{"avatar":"javascript:x"}]',
                  b'"items":[{"id":"1","attachments":[{"url":"javascript:x"}]}]'):
        assert document_problems("a.json", b"{" + field + b"}"), field
