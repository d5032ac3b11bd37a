"""An entry's content as subscribers see it, in every format: image, excerpt, provider, topics, related."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from lxml import etree, html

from feeds.model import Image, Provider, Record, Related
from feeds.render.common import FeedHead
from feeds.render.content import content_html, image_type
from feeds.render.formats import FORMATS

NOW = datetime(2024, 7, 1, tzinfo=UTC)
HEAD = FeedHead("http://feeds.test/feeds/all.atom", "Feeds", "All", "http://feeds.test/feeds/all.atom",
                "http://feeds.test/all/", NOW)
RECORD = Record(
    id="0123456789abcdef", title="Ambient scribes & consent", excerpt="Tools promise <hours> back.",
    published_at=NOW, web_url="https://news.example/scribes", original_url=None, amp_url=None,
    cdn_amp_url=None, category=None, type=None, quality=None, heat=None, published=True,
    provider=Provider("Health & News", "news.example"), topics=("AI", "Digital Health"),
    images=(Image("https://news.example/lead.jpg?w=1024", 1024, 576),
            Image("https://news.example/second.png", None, None)),
    related=(Related("Earlier piece", "https://other.example/earlier", None, None,
                     Provider("Other", "other.example"), None),),
)


def _contents(record: Record) -> dict[str, tuple[str, str]]:
    """Each format's (content HTML, summary as shown) of the record, as feedparser and JSON readers
    see them."""
    seen = {}
    for name, feed_format in FORMATS.items():
        body = feed_format.document(HEAD, feed_format.entries([record], "tag:t:"))
        if name == "json":
            item = json.loads(body)["items"][0]
            seen[name] = (item["content_html"], item["summary"])
            continue
        parsed = feedparser.parse(body)
        assert not parsed.bozo, (name, parsed.get("bozo_exception"))
        entry = parsed.entries[0]
        summary = entry.summary_detail
        # As shown: RSS's description is HTML, Atom's summary text.
        shown = summary.value if summary.type == "text/plain" else html.fragment_fromstring(
            summary.value, create_parent="div").text_content()
        seen[name] = (entry.content[0].value, shown)
    return seen


def test_content_shows_sized_image_excerpt_provider_topics_and_related_in_every_format() -> None:
    for name, (content, summary) in _contents(RECORD).items():
        tree = html.fragment_fromstring(content, create_parent="div")
        images = tree.findall(".//img")
        assert [(i.get("src"), i.get("width"), i.get("height"), i.get("alt")) for i in images] == [
            ("https://news.example/lead.jpg?w=1024", "1024", "576", "Ambient scribes & consent")], name
        text = tree.text_content()
        assert "Tools promise <hours> back." in text, name
        assert "via Health & News" in text and "Topics: AI, Digital Health" in text, name
        links = {a.text_content(): a.get("href") for a in tree.iter("a")}
        assert links == {"Health & News": "https://news.example/scribes",
                         "Earlier piece": "https://other.example/earlier"}, name
        # The summary stays the plain excerpt.
        assert summary == "Tools promise <hours> back.", name


def test_content_of_a_bare_record_still_names_its_provider() -> None:
    bare = Record(**{**RECORD.__dict__, "excerpt": None, "images": (), "related": (), "topics": ()})
    assert content_html(bare) == '<p>via <a href="https://news.example/scribes">Health &amp; News</a></p>'


def test_content_image_without_sizes_has_no_size_attributes() -> None:
    unsized = Record(**{**RECORD.__dict__, "images": (Image("https://news.example/x.png", None, None),)})
    expected = '<img src="https://news.example/x.png" alt="Ambient scribes &amp; consent">'
    assert expected in content_html(unsized)


def _rss_item(record: Record) -> etree._Element:
    rss = FORMATS["rss"]
    return etree.fromstring(rss.document(HEAD, rss.entries([record], "tag:t:"))).find("channel/item")


def test_content_rss_encloses_the_lead_image_with_its_type_and_zero_length() -> None:
    assert [dict(e.attrib) for e in _rss_item(RECORD).iter("enclosure")] == [
        {"url": "https://news.example/lead.jpg?w=1024", "length": "0", "type": "image/jpeg"}]
    unknown = Record(**{**RECORD.__dict__, "images": (Image("https://news.example/pic?id=3", 10, 10),)})
    assert _rss_item(unknown).find("enclosure") is None


def test_content_image_type_comes_from_the_path_extension_only() -> None:
    assert image_type("https://a.example/x.JPEG?format=png#y.gif") == "image/jpeg"
    assert image_type("https://a.example/img.webp") == "image/webp"
    assert image_type("https://a.example/photo?x=1.png") is None
    assert image_type("https://a.example/") is None


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_content_newsboat_keeps_the_full_content_of_an_exported_feed(output: Path, tmp_path: Path,
                                                                    fmt: str) -> None:
    # newsboat (Debian's, installed by scripts/install-test-tools) reads the exported file through
    # an exec: URL, and keeps what it shows of each entry in its cache.
    newsboat = shutil.which("newsboat")
    assert newsboat, "newsboat is missing: run scripts/install-test-tools as root (apt-get install newsboat)"
    (tmp_path / "urls").write_text(f'"exec:cat {output / "feeds" / f"all.{fmt}"}"\n')
    (tmp_path / "config").write_text("")
    cache = tmp_path / "cache.db"
    subprocess.run([newsboat, "-u", str(tmp_path / "urls"), "-c", str(cache), "-C", str(tmp_path / "config"),
                    "-x", "reload"], check=True, timeout=60, capture_output=True)
    with sqlite3.connect(cache) as db:
        rows = db.execute("SELECT title, content FROM rss_item").fetchall()
    entries = feedparser.parse((output / "feeds" / f"all.{fmt}").read_bytes()).entries
    assert len(rows) == len(entries)
    sized = 0
    for title, content in rows:
        tree = html.fragment_fromstring(content, create_parent="div")
        assert "via " in tree.text_content(), title
        image = tree.find(".//img")
        sized += image is not None and bool(image.get("width") and image.get("height"))
    assert sized == sum(bool(entry.get("media_content")) for entry in entries) > 0
