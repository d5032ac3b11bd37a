"""The whole path on the sample seeds, checked the way feed readers see the documents."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from feeds.config import Settings
from tests.conftest import build
from tests.helpers import documents, front_matter, jing_errors, leaked, secret_chunks

PUBLISHED = {  # record id -> (topics, provider domain), from the sample seeds
    "3f9a2c7e8b104d5a": ({"AI in Healthcare", "AI", "Digital Health"}, "beckershospitalreview.com"),
    "e5f4058c570a59fe": ({"AI Ethics", "AI", "AI in Healthcare"}, "cio.com"),
    "a71c5e09d2f48b36": ({"AI in Healthcare", "AI Ethics", "AI"}, "statnews.com"),
    "5be20d8f93c1a647": ({"Cybersecurity", "Digital Health"}, "healthcareitnews.com"),
    "c4e8f1a2096b7d3e": ({"Cloud Computing", "Digital Health", "AI"}, "cio.com"),
    "8d2f7a4c1e95b063": ({"AI Ethics", "AI in Healthcare", "AI", "Digital Health"},
                         "healthcareitnews.com"),
    "2c6b9e0f47d1a85b": ({"AI", "AI in Healthcare", "Digital Health"}, "statnews.com"),
}
UNPUBLISHED = {"db6714534f1f249c", "e09b36d4a5c7f218"}
EXPECTED_FEEDS = {
    "all",
    "topics/ai", "topics/ai-ethics", "topics/ai-in-healthcare", "topics/cloud-computing",
    "topics/cybersecurity", "topics/digital-health",
    "providers/beckershospitalreview-com", "providers/cio-com",
    "providers/healthcareitnews-com", "providers/statnews-com",
}


def _seed(seeds: Path, record_id: str) -> dict[str, object]:
    return front_matter(next(seeds.glob(f"*_{record_id}.txt")))


def _expected_ids(feed: str, seeds: Path) -> list[str]:
    """The records a feed must hold, newest first, ties broken by id descending."""
    members = []
    for record_id, (topics, domain) in PUBLISHED.items():
        slugs = {t.lower().replace(" ", "-") for t in topics}
        if (feed == "all" or feed == f"providers/{domain.replace('.', '-')}"
                or (feed.removeprefix("topics/") in slugs and feed.startswith("topics/"))):
            published = _seed(seeds, record_id)["publishedDateTime"]
            members.append((published, record_id))
    return [record_id for _, record_id in sorted(members, reverse=True)]


def _feed_paths(output: Path) -> list[str]:
    return sorted(
        str(p.relative_to(output / "feeds").with_suffix(""))
        for p in (output / "feeds").rglob("*.atom")
    )


def test_build_makes_every_expected_feed_in_every_format(output: Path) -> None:
    assert set(_feed_paths(output)) == EXPECTED_FEEDS
    for feed in EXPECTED_FEEDS:
        for fmt in ("atom", "rss", "json"):
            assert (output / "feeds" / f"{feed}.{fmt}").is_file()
    assert (output / "index.html").is_file()
    assert (output / "feeds.opml").is_file()


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
def test_every_feed_parses_without_bozo_and_holds_expected_entries(
    output: Path, seeds_dir: Path, fmt: str
) -> None:
    for feed in EXPECTED_FEEDS:
        body = (output / "feeds" / f"{feed}.{fmt}").read_bytes()
        if fmt == "json":
            data = json.loads(body)
            assert data["version"] == "https://jsonfeed.org/version/1.1"
            ids = [item["id"] for item in data["items"]]
        else:
            etree.fromstring(body)  # well-formed, or raises
            parsed = feedparser.parse(body)
            assert not parsed.bozo, (feed, parsed.get("bozo_exception"))
            ids = [entry.id for entry in parsed.entries]
        expected = [f"tag:feeds.local,2024:{i}" for i in _expected_ids(feed, seeds_dir)]
        assert ids == expected, feed


def test_atom_entries_carry_images_related_links_author_and_categories(output: Path) -> None:
    parsed = feedparser.parse((output / "feeds" / "all.atom").read_bytes())
    entry = next(e for e in parsed.entries if e.id.endswith("a71c5e09d2f48b36"))
    related = [link for link in entry.links if link.rel == "related"]
    assert len(related) == 2 and all(link.get("title") for link in related)
    assert {link.rel for link in entry.links} >= {"alternate", "related", "amphtml"}
    assert [m["medium"] for m in entry.media_content] == ["image", "image"]
    assert entry.media_content[0]["width"] == "1600"
    assert entry.media_thumbnail[0]["url"] == entry.media_content[0]["url"]
    assert entry.author_detail.name == "STAT"
    assert entry.author_detail.href == "https://statnews.com/"
    assert {t.term for t in entry.tags} == {"AI in Healthcare", "AI Ethics", "AI"}
    assert "Related articles" in entry.content[0].value


def test_rss_items_carry_guid_media_related_and_creator(output: Path) -> None:
    body = (output / "feeds" / "all.rss").read_bytes()
    root = etree.fromstring(body)
    ns = {"atom": "http://www.w3.org/2005/Atom", "media": "http://search.yahoo.com/mrss/",
          "dc": "http://purl.org/dc/elements/1.1/"}
    item = next(i for i in root.iter("item") if i.findtext("guid").endswith("a71c5e09d2f48b36"))
    assert item.find("guid").get("isPermaLink") == "false"
    assert len(item.findall("atom:link[@rel='related']", ns)) == 2
    assert len(item.findall("media:content", ns)) == 2
    assert item.find("media:group", ns) is None
    assert item.findtext("dc:creator", namespaces=ns) == "STAT"
    channel = root.find("channel")
    assert channel.find("atom:link[@rel='self']", ns).get("href") == "http://feeds.test/feeds/all.rss"
    assert channel.findtext("lastBuildDate") == "Wed, 12 Jun 2024 16:20:00 +0000"


def test_record_without_images_or_related_has_neither(output: Path) -> None:
    data = json.loads((output / "feeds" / "topics" / "cybersecurity.json").read_bytes())
    (item,) = data["items"]
    assert "image" not in item and "_related" not in item
    parsed = feedparser.parse((output / "feeds" / "topics" / "cybersecurity.atom").read_bytes())
    assert "media_content" not in parsed.entries[0]
    assert [link.rel for link in parsed.entries[0].links] == ["alternate", "amphtml"]


def test_json_feed_items_carry_image_tags_authors_and_related(output: Path) -> None:
    data = json.loads((output / "feeds" / "all.json").read_bytes())
    item = next(i for i in data["items"] if i["id"].endswith("a71c5e09d2f48b36"))
    assert item["image"].startswith("https://")
    assert set(item["tags"]) == {"AI in Healthcare", "AI Ethics", "AI"}
    assert item["authors"] == [{"name": "STAT", "url": "https://statnews.com/"}]
    assert len(item["_related"]["articles"]) == 2
    assert data["feed_url"] == "http://feeds.test/feeds/all.json"


def test_feed_updated_is_newest_entry_date_not_the_clock(output: Path) -> None:
    parsed = feedparser.parse((output / "feeds" / "topics" / "cloud-computing.atom").read_bytes())
    assert parsed.feed.updated == "2021-11-09T13:45:00+00:00"


def test_atom_documents_are_valid_against_rfc4287_relax_ng(settings: Settings) -> None:
    # Pages of two, so archive documents (prev/next-archive links, fh:archive) are validated too.
    output = build(dataclasses.replace(settings, items_per_feed=2, archive_page_size=2))
    atoms = sorted(output / path for path in documents(output) if path.endswith(".atom"))
    assert any("/archive/" in str(p) for p in atoms)
    assert jing_errors(atoms) == ""


def test_unpublished_records_appear_nowhere(output: Path, seeds_dir: Path) -> None:
    for path, body in documents(output).items():
        for record_id in UNPUBLISHED:
            assert record_id.encode() not in body, path
            web_url = str(_seed(seeds_dir, record_id)["webUrl"]).encode()
            assert web_url not in body, path
    assert not (output / "feeds" / "topics" / "quantum-computing.atom").exists()


def test_no_byte_of_secured_appears_in_any_output(output: Path, seeds_dir: Path) -> None:
    chunks = secret_chunks(seeds_dir)
    assert chunks
    for path in output.rglob("*"):
        if path.is_file():
            assert not leaked(path.read_bytes(), chunks), path


def test_two_builds_of_the_same_input_are_byte_identical(settings: Settings, tmp_path: Path) -> None:
    first = documents(build(settings))
    again = Settings(**{**settings.__dict__, "store_path": tmp_path / "other.sqlite3",
                        "output_dir": tmp_path / "other-output"})
    assert documents(build(again)) == first
