"""The two escapes of issue 13 closed: names readers take as HTML, and URLs with characters URLs
cannot carry. Records from the nasty corpus (tests/nasty/records), built and read as readers do."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from lxml import etree, html

from feeds.config import Settings
from feeds.export import export
from feeds.ingest import ingest
from feeds.store import Store
from feeds.validate import check_url

NASTY = Path(__file__).resolve().parent / "nasty" / "records"
NOW = datetime(2024, 7, 1, tzinfo=UTC)
# What RFC 3986 allows in a URI, and non-ASCII letters in the host (an IRI host, kept as written).
_URI = re.compile(r"https?://[\w.-]+(?:[/?#](?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-F]{2})*"
                  r"(?:#(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-F]{2})*)?)?")
UNSAFE_URL = "https://nasty.example/a%3Cb%3E%22c%22%5Cd%7Be%7D%7Cf%5Eg%60h/%C3%BCn%C3%AF%25zz?q=%3Cx%3E#frag%232"


@pytest.fixture(scope="module")
def output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("escapes")
    seeds = root / "seeds"
    seeds.mkdir()
    for name in ("ok_url_unsafe_characters.txt", "ok_topic_provider_markup.txt"):
        shutil.copy(NASTY / name, seeds / name)
    settings = Settings(seeds_dir=seeds, store_path=root / "store.sqlite3", output_dir=root / "output",
                        base_url="http://feeds.test/", watch=False)
    store = Store.open(settings.store_path)
    try:
        assert ingest(store, seeds, settings.max_record_bytes, now=NOW).rejected == 0
        export(store, settings)
    finally:
        store.close()
    return settings.output_dir


def _feed(output: Path, kind: str, fmt: str) -> bytes:
    found = sorted((output / "feeds" / kind).glob(f"*markup*.{fmt}"))
    assert len(found) == 1, found
    return found[0].read_bytes()


@pytest.mark.parametrize(("kind", "name"), [
    ("topics", "<script>alert(3)</script>Markup Topic"),
    ("providers", "<svg onload=alert(4)>Markup News"),
])
def test_escapes_names_show_as_text_in_every_feed_title_and_description(output: Path, kind: str,
                                                                       name: str) -> None:
    for fmt in ("atom", "rss"):
        parsed = feedparser.parse(_feed(output, kind, fmt))
        assert not parsed.bozo, fmt
        for detail in (parsed.feed.title_detail, parsed.feed.subtitle_detail):
            # RSS's channel description is HTML to readers: it must show the name, not run it.
            shown = detail.value if detail.type == "text/plain" else html.fragment_fromstring(
                detail.value, create_parent="div").text_content()
            assert name in shown, (fmt, detail)
            if detail.type != "text/plain":
                tree = html.fragment_fromstring(detail.value, create_parent="div")
                assert [e.tag for e in tree.iter()] == ["div"], (fmt, detail.value)
    feed = json.loads(_feed(output, kind, "json"))  # JSON Feed's title and description are text
    assert name in feed["title"] and name in feed["description"]


def test_escapes_unsafe_url_characters_are_percent_encoded_in_every_format(output: Path) -> None:
    atom = feedparser.parse((output / "feeds" / "all.atom").read_bytes())
    rss = feedparser.parse((output / "feeds" / "all.rss").read_bytes())
    items = json.loads((output / "feeds" / "all.json").read_bytes())["items"]
    entry = next(e for e in atom.entries if "url_unsafe" in e.title)
    assert entry.link == UNSAFE_URL
    assert next(e for e in rss.entries if "url_unsafe" in e.title).link == UNSAFE_URL
    assert next(i for i in items if "url_unsafe" in i["title"])["url"] == UNSAFE_URL
    image = "https://nasty.example/%7Bi%7D%7C%C3%A9t%C3%A9.jpg"
    assert next(i for i in items if "url_unsafe" in i["title"])["image"] == image
    assert entry.media_content[0]["url"] == image


def test_escapes_every_url_published_is_a_valid_uri(output: Path) -> None:
    urls: list[str] = []
    for fmt in ("atom", "rss"):
        root = etree.fromstring((output / "feeds" / f"all.{fmt}").read_bytes())
        urls += [v for e in root.iter() for k, v in e.attrib.items() if k in ("href", "url", "src")]
        for content in root.iter("{*}content", "{*}encoded"):
            if content.text:
                fragment = html.fragment_fromstring(content.text, create_parent="div")
                urls += [v for e in fragment.iter() for k, v in e.attrib.items() if k in ("href", "src")]
    urls += re.findall(r'"(?:url|image|href)":"([^"]+)"', (output / "feeds" / "all.json").read_text())
    assert len(urls) > 20
    assert [url for url in urls if not _URI.fullmatch(url)] == []


def test_escapes_check_url_keeps_valid_urls_and_encodes_each_octet_once() -> None:
    def fail(name: str, reason: str) -> ValueError:
        return ValueError(name, reason)

    for url in ("https://a.example/x?q=1&r=%20#top", "http://[::1]:8080/p", "https://b\u00fccher.example/"):
        assert check_url(url, fail, "webUrl") == url
    assert check_url("https://a.example/\u00e9?%%41", fail, "webUrl") == "https://a.example/%C3%A9?%25%41"
    encoded = check_url("https://a.example/<>", fail, "webUrl")
    assert check_url(encoded, fail, "webUrl") == encoded == "https://a.example/%3C%3E"
    with pytest.raises(ValueError, match="host name"):
        check_url("https://a<b.example/", fail, "webUrl")
