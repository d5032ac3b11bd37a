"""Reading feed documents as an RFC 5005 client does: links, archive marker, entry ids."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from feeds.ingest import parse_record
from feeds.store import Store

ATOM = "http://www.w3.org/2005/Atom"
HISTORY = "http://purl.org/syndication/history/1.0"


@dataclass(frozen=True)
class Page:
    """What a client reads from one document of a feed."""

    ids: list[str]
    links: dict[str, list[str]]
    archive: bool | None  # None: the format has no marker (JSON Feed)

    def link(self, rel: str) -> str | None:
        found = self.links.get(rel, [])
        assert len(found) <= 1, (rel, found)
        return found[0] if found else None


def _links(parent: etree._Element, tag: str) -> dict[str, list[str]]:
    links: dict[str, list[str]] = {}
    for element in parent.findall(tag):
        links.setdefault(element.get("rel", "alternate"), []).append(element.get("href"))
    return links


def read_page(body: bytes, fmt: str) -> Page:
    if fmt == "json":
        data = json.loads(body)
        links = {"self": [data["feed_url"]]}
        if "next_url" in data:
            links["prev-archive"] = [data["next_url"]]
        for hub in data.get("hubs", []):
            links.setdefault("hub", []).append(hub["url"])
        return Page([item["id"] for item in data["items"]], links, None)
    root = etree.fromstring(body)
    if fmt == "atom":
        ids = [entry.findtext(f"{{{ATOM}}}id") for entry in root.findall(f"{{{ATOM}}}entry")]
        return Page(ids, _links(root, f"{{{ATOM}}}link"), root.find(f"{{{HISTORY}}}archive") is not None)
    channel = root.find("channel")
    ids = [item.findtext("guid") for item in channel.findall("item")]
    return Page(ids, _links(channel, f"{{{ATOM}}}link"),
                channel.find(f"{{{HISTORY}}}archive") is not None)


def walk(fetch: Callable[[str], bytes], current_url: str, fmt: str) -> list[tuple[str, Page]]:
    """Every document from the current one back through prev-archive, checking each link on the way.

    ``fetch`` takes an absolute URL and returns the document's bytes.
    """
    visited: list[tuple[str, Page]] = []
    url: str | None = current_url
    while url is not None:
        assert url not in {u for u, _ in visited}, f"archive chain loops at {url}"
        page = read_page(fetch(url), fmt)
        assert page.link("self") == url
        if not visited:
            assert page.archive in (False, None), f"{url}: the current document is not an archive"
            assert page.link("current") is None
        else:
            assert page.archive in (True, None), f"{url}: an archive page needs fh:archive"
            if fmt != "json":
                assert page.link("current") == current_url
                newer = visited[-1][0]
                # The newest archive page's successor is the current document, linked by `current`.
                assert page.link("next-archive") == (None if len(visited) == 1 else newer)
        visited.append((url, page))
        url = page.link("prev-archive")
    return visited


def expected_feeds(store: Store, seeds: Path, id_prefix: str) -> dict[str, list[str]]:
    """Each feed's published entry ids newest first, worked out from the record files themselves.

    Only the slug of each group and which files ingest refused come from the store.
    """
    paths = {(kind, key): path for path, kind, key in
             store.db.execute("SELECT path, kind, key FROM groups")}
    members: dict[str, list[tuple[int, str]]] = {}
    rejected = {path for path, _ in store.rejected()}  # e.g. a second file with the same URL
    for file in sorted(seeds.glob("*.txt")):
        if file.name in rejected:
            continue
        record = parse_record(file.name, file.read_bytes(), 1_000_000)
        if not record.published:
            continue
        key = (int(record.published_at.timestamp()), id_prefix + record.id)
        feeds = {paths[("all", "")], paths[("providers", record.provider.domain)]}
        feeds |= {paths[("topics", topic.casefold())] for topic in record.topics}
        for feed in feeds:
            members.setdefault(feed, []).append(key)
    return {feed: [i for _, i in sorted(keys, reverse=True)] for feed, keys in members.items()}
