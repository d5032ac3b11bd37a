"""Is every response one committed snapshot? Readers that hammer live servers and check what they get.

Consecutive requests may straddle a switch of snapshot, so every check here holds for responses
from different snapshots too, as long as records are only added (which the writers of the
snapshot test do):

* each document on its own: it parses, its entries are newest first without duplicates, and
  it holds no more entries than its page may;
* a current page (or a ``?limit=N`` view) never goes back in time: an entry a reader has seen
  in that feed before it asked is in the page, or the page is full of newer entries;
* an Atom document, then the RSS and JSON of the same feed, then the Atom again: when both Atom
  answers are the same bytes, the three formats list the same entries (growing sets whose
  newest N agree at both ends agree in between);
* an archive walk (current page, then prev-archive links down to page 1) of a feed that only
  ever gains newer entries: full pages of exactly ``archive_page_size`` entries, each older than
  the next, and together holding every entry seen before the walk began;
* documents that exist when the test starts never answer 404, and nothing answers 5xx.

The two checks that compare responses over time (never back in time, the Atom sandwich) hold
for one process; ``one_process=False`` leaves them out for servers with several processes
behind one URL, whose snapshots advance independently.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx
from lxml import etree

__all__ = ["Layout", "Readers", "feed_entries", "settled", "walk"]

ATOM = "{http://www.w3.org/2005/Atom}"
FORMATS = ("atom", "rss", "json")
# One entry as a reader sees it: (published, id), which orders a feed's entries (ties by id,
# whose last 16 characters are the record id the store orders by).
Entry = tuple[datetime, str]


@dataclass(frozen=True)
class Layout:
    """The servers' paging settings."""

    items_per_feed: int
    archive_page_size: int
    max_limit: int


@dataclass(frozen=True)
class Parsed:
    entries: list[Entry]
    prev_archive: str | None  # the next older page's URL, if any
    next_archive: str | None


def _link(root: etree._Element, rel: str, tag: str) -> str | None:
    found = root.find(f"{tag}[@rel='{rel}']")
    return None if found is None else found.get("href")


def feed_entries(fmt: str, body: bytes) -> Parsed:
    """A feed document's entries, newest first as served, and its archive links."""
    if fmt == "json":
        feed = json.loads(body)
        return Parsed([(datetime.fromisoformat(item["date_published"]), item["id"])
                       for item in feed["items"]], feed.get("next_url"), None)
    root = etree.fromstring(body)
    if fmt == "atom":
        entries = [(datetime.fromisoformat(e.findtext(f"{ATOM}published") or ""),
                    e.findtext(f"{ATOM}id") or "") for e in root.iter(f"{ATOM}entry")]
        return Parsed(entries, _link(root, "prev-archive", f"{ATOM}link"),
                      _link(root, "next-archive", f"{ATOM}link"))
    channel = root.find("channel")
    assert channel is not None
    entries = [(parsedate_to_datetime(i.findtext("pubDate") or ""), i.findtext("guid") or "")
               for i in channel.iter("item")]
    return Parsed(entries, _link(channel, "prev-archive", f"{ATOM}link"),
                  _link(channel, "next-archive", f"{ATOM}link"))


def _order_problems(where: str, entries: list[Entry], most: int) -> list[str]:
    problems = []
    if entries != sorted(entries, key=lambda e: (e[0], e[1][-16:]), reverse=True):
        problems.append(f"{where}: entries not newest first")
    if len({e[1] for e in entries}) != len(entries):
        problems.append(f"{where}: an entry listed twice")
    if len(entries) > most:
        problems.append(f"{where}: {len(entries)} entries, more than the {most} a page holds")
    return problems


def _key(entry: Entry) -> tuple[datetime, str]:
    return entry[0], entry[1][-16:]


def walk(client: httpx.Client, feed: str, fmt: str, layout: Layout) -> tuple[list[str], list[list[Entry]]]:
    """A feed's current page and every archive page down to 1, newest page first; with problems.

    Holds for a feed that only gains entries newer than all it has: an archive page's slice of
    the feed never moves, whatever snapshot each page comes from.
    """
    problems: list[str] = []
    url: str | None = f"/feeds/{feed}.{fmt}"
    chain: list[list[Entry]] = []
    while url is not None:
        response = client.get(url)
        if response.status_code != 200:
            return [f"{url}: {response.status_code} in an archive walk"], chain
        parsed = feed_entries(fmt, response.content)
        where = f"{client.base_url}{url}"
        problems += _order_problems(where, parsed.entries, layout.items_per_feed if not chain
                                    else layout.archive_page_size)
        if len(chain) > 1 and len(parsed.entries) != layout.archive_page_size:
            problems.append(f"{where}: an archive page below the newest with "
                            f"{len(parsed.entries)} entries, not {layout.archive_page_size}")
        if len(chain) > 1 and parsed.entries and chain[-1] and \
                _key(parsed.entries[0]) >= _key(chain[-1][-1]):
            problems.append(f"{where}: newer than the next archive page")
        if len(chain) > 1 and parsed.entries and chain[0] and \
                _key(parsed.entries[0]) >= _key(chain[0][-1]):
            problems.append(f"{where}: newer than the current page")
        chain.append(parsed.entries)
        url = urlsplit(parsed.prev_archive).path if parsed.prev_archive else None
    archived = [e[1] for page in chain[1:] for e in page]
    if len(set(archived)) != len(archived):
        problems.append(f"{client.base_url} {feed}.{fmt}: an entry on two archive pages")
    return problems, chain


@dataclass
class _Seen:
    """What one server has shown, per feed: entries by id, for the never-back-in-time check."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    feeds: dict[str, dict[str, Entry]] = field(default_factory=dict)

    def before(self, feed: str) -> dict[str, Entry]:
        with self.lock:
            return dict(self.feeds.get(feed, {}))

    def add(self, feed: str, entries: Iterable[Entry]) -> None:
        with self.lock:
            self.feeds.setdefault(feed, {}).update((e[1], e) for e in entries)


class Readers:
    """Threads that request documents from ``base_urls`` until ``stop`` and collect problems.

    ``feeds`` exist when the readers start and never disappear; ``growing`` are those of them
    that only ever gain entries newer than all they hold (their archives are walked).
    """

    def __init__(self, base_urls: list[str], feeds: list[str], growing: list[str], layout: Layout,
                 *, one_process: bool = True, threads_per_url: int = 3, seed: int = 16) -> None:
        self.feeds, self.growing, self.layout = feeds, growing, layout
        self.one_process = one_process
        self.problems: list[str] = []
        self.requests = 0
        self.sandwiches = 0  # Atom sandwiches whose ends agreed, so the formats were compared
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._seen = {url: _Seen() for url in base_urls}
        self._threads = [
            threading.Thread(target=self._run, args=(url, random.Random(seed + n * 1000 + i)),
                             daemon=True)
            for n, url in enumerate(base_urls) for i in range(threads_per_url)
        ]

    def __enter__(self) -> Readers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(60)

    def _report(self, found: list[str]) -> None:
        if found:
            with self._lock:
                self.problems += found

    def _run(self, base_url: str, rng: random.Random) -> None:
        seen = self._seen[base_url]
        actions: list[Callable[[httpx.Client, _Seen, random.Random], list[str]]] = [
            self._current, self._current, self._limited, self._limited, self._site]
        if self.one_process:
            actions.append(self._sandwich)
        if self.growing:
            actions.append(self._walk)
        with httpx.Client(base_url=base_url, timeout=30) as client:
            while not self.stop.is_set() and len(self.problems) < 20:
                try:
                    self._report(rng.choice(actions)(client, seen, rng))
                except Exception as exc:  # any failure is a finding, with its URL
                    self._report([f"{base_url}: {type(exc).__name__}: {exc}"])

    def _get(self, client: httpx.Client, url: str) -> httpx.Response:
        response = client.get(url)
        with self._lock:
            self.requests += 1
        if response.status_code != 200:
            raise AssertionError(f"{url}: {response.status_code}, for a document that always exists")
        return response

    def _page(self, client: httpx.Client, seen: _Seen, feed: str, fmt: str,
              limit: int | None) -> tuple[list[str], list[Entry], str]:
        """One current page (or ``?limit`` view), checked on its own and against the past."""
        url = f"/feeds/{feed}.{fmt}" + (f"?limit={limit}" if limit else "")
        before = seen.before(feed) if self.one_process else {}
        response = self._get(client, url)
        size = limit or self.layout.items_per_feed
        entries = feed_entries(fmt, response.content).entries
        where = f"{client.base_url}{url}"
        problems = _order_problems(where, entries, size)
        if entries:
            oldest = _key(entries[-1])
            shown = {e[1] for e in entries}
            gone = [entry for entry in before.values() if entry[1] not in shown
                    and (len(entries) < size or _key(entry) > oldest)]
            if gone:
                problems.append(f"{where}: back in time: {len(gone)} entries shown before are "
                                f"missing, e.g. {gone[0][1]} of {gone[0][0]:%Y-%m-%d %H:%M:%S}, "
                                f"while the page lists {len(entries)} down to {entries[-1][0]}")
        elif before:
            problems.append(f"{where}: no entries, after some were shown")
        seen.add(feed, entries)
        return problems, entries, response.headers["etag"]

    def _current(self, client: httpx.Client, seen: _Seen, rng: random.Random) -> list[str]:
        return self._page(client, seen, rng.choice(self.feeds), rng.choice(FORMATS), None)[0]

    def _limited(self, client: httpx.Client, seen: _Seen, rng: random.Random) -> list[str]:
        # Many variants, so most are rendered for the request rather than found in a cache.
        limit = rng.randint(1, self.layout.max_limit)
        return self._page(client, seen, rng.choice(self.feeds), rng.choice(FORMATS), limit)[0]

    def _sandwich(self, client: httpx.Client, seen: _Seen, rng: random.Random) -> list[str]:
        feed = rng.choice(self.feeds)
        problems, atom, first = self._page(client, seen, feed, "atom", None)
        others = {fmt: self._page(client, seen, feed, fmt, None) for fmt in ("rss", "json")}
        more, _, last = self._page(client, seen, feed, "atom", None)
        problems += more + [p for found, _, _ in others.values() for p in found]
        if first == last:
            with self._lock:
                self.sandwiches += 1
            ids = [e[1] for e in atom]
            for fmt, (_, entries, _) in others.items():
                if [e[1] for e in entries] != ids:
                    problems.append(f"{client.base_url}/feeds/{feed}.{fmt}: lists other entries "
                                    f"than the Atom served before and after it (same ETag {first})")
        return problems

    def _walk(self, client: httpx.Client, seen: _Seen, rng: random.Random) -> list[str]:
        feed, fmt = rng.choice(self.growing), rng.choice(FORMATS)
        before = seen.before(feed) if self.one_process else {}
        problems, chain = walk(client, feed, fmt, self.layout)
        with self._lock:
            self.requests += len(chain)
        found = {e[1] for page in chain for e in page}
        missing = sorted(set(before) - found)
        if missing and not problems:
            problems.append(f"{client.base_url} {feed}.{fmt}: the archive walk misses "
                            f"{len(missing)} entries shown before it began, e.g. {missing[0]}")
        return problems

    def _site(self, client: httpx.Client, seen: _Seen, rng: random.Random) -> list[str]:
        for url in ("/", "/feeds.opml", "/all/", f"/{rng.choice(self.feeds)}/"):
            self._get(client, url)
        return []


def settled(client: httpx.Client, published: int, timeout: float = 30.0) -> None:
    """Wait until the server reports ``published`` records (writers stopped, ingests caught up)."""
    deadline = time.monotonic() + timeout
    while client.get("/healthz").json()["published"] != published:
        if time.monotonic() > deadline:
            raise AssertionError(f"{client.base_url}: not {published} published within {timeout} s: "
                                 f"{client.get('/healthz').json()}")
        time.sleep(0.05)
