"""Hugo beside feeds: the same corpus as a throwaway Hugo site, built in the same run.

Absolute times on a shared machine move by 2x from one day to the next, so the build targets
are ratios against Hugo measured on the same corpus, on the same machine, minutes apart
(issue 15). The site has one content file per published record, carrying the record's own front
matter (so Hugo parses as much YAML as feeds does) plus what Hugo reads: ``date``, ``summary``
and a ``providers`` taxonomy beside ``topics``. Hugo renders RSS only, for the home page, the
taxonomy lists and every term, and no page of its own.

Hugo is Debian's (0.111): ``make bench-tools`` installs it.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from benchmarks.process import Failed, run
from feeds.errors import RecordError
from feeds.ingest import parse_record, scan_seeds
from feeds.parse import split_front_matter
from feeds.pool import Workers, worker_count

HUGO = "hugo"
_CHUNK = 500  # record files per batch sent to a conversion worker
_PROGRESS_EVERY = 100_000
MAX_RECORD_BYTES = 10**7  # conversion only: the benchmark corpus has no oversized records

# Hugo 0.111 reads the RSS limit from ``services.rss.limit`` (``rssLimit`` is the older name
# of the same setting; both verified to cut index.xml to 50 items with 0.111.3):
# https://gohugo.io/templates/rss/#configure-rss
# ``_build.render = "link"`` keeps pages out of the output but gives them the permalink every
# RSS <link> needs (``"never"`` would leave the links empty):
# https://gohugo.io/content-management/build-options/#render
# Sections, the sitemap, robots.txt and the 404 page have no counterpart in feeds.
CONFIG = """\
baseURL = "https://feeds.example/"
title = "bench"
disableKinds = ["section", "sitemap", "robotsTXT", "404"]

[taxonomies]
  topic = "topics"
  provider = "providers"

[outputs]
  home = ["RSS"]
  taxonomy = ["RSS"]
  term = ["RSS"]

[services.rss]
  limit = {limit}

[[cascade]]
  [cascade._build]
    render = "link"
  [cascade._target]
    kind = "page"
"""

# Hugo reads ``published`` as an alias of ``publishDate``, so ``published: true`` would not
# parse as a date; only published records are written, so the flag carries nothing. ``secured``
# never leaves the store, and a throwaway site is no exception.
_DROPPED = re.compile(r"^(?:published|secured):.*\n", re.M)


@dataclass(frozen=True)
class Site:
    root: Path
    pages: int  # published records, one content file each


@dataclass(frozen=True)
class Timing:
    """Hugo's build at one RSS limit: the median of ``runs`` after a warm-up, or why it failed."""

    limit: int
    runs: int
    seconds: float | None
    peak_rss_mb: float | None
    failure: str | None


# A record file converted on its own: (id, web URL, content file or None when unpublished),
# or None when feeds rejects it.
_Converted = tuple[str, str, str | None] | None


def _convert(name: str, data: bytes) -> _Converted:
    try:
        record = parse_record(name, data, MAX_RECORD_BYTES)
    except RecordError:
        return None
    if not record.published:
        return record.id, record.web_url, None
    own = _DROPPED.sub("", split_front_matter(data.decode("utf-8-sig"), name) + "\n")
    # JSON strings and arrays are YAML flow scalars and sequences with the same meaning.
    added = (f"date: {record.published_at.isoformat()}\n"
             f"summary: {json.dumps(record.excerpt or '', ensure_ascii=False)}\n"
             f"providers: {json.dumps([record.provider.name], ensure_ascii=False)}\n")
    return record.id, record.web_url, f"---\n{own}{added}---\n"


def _accepted(converted: _Converted, seen: set[str]) -> str | None:
    """The content file of a converted record unless an earlier file had its id or URL."""
    if converted is None:
        return None
    record_id, web_url, text = converted
    if record_id in seen or web_url in seen:
        return None
    seen.update((record_id, web_url))
    return text


def content_file(name: str, data: bytes, seen: set[str]) -> str | None:
    """The Hugo content file for one record file, or None when feeds would not publish it.

    ``seen`` holds the ids and web URLs of records already accepted, in file name order: like
    feeds' ingest, the file whose name sorts first wins a duplicate id or URL.
    """
    return _accepted(_convert(name, data), seen)


def _convert_files(names: Sequence[str], seeds: Path) -> list[_Converted]:
    return [_convert(name, (seeds / name).read_bytes()) for name in names]


def site(seeds: Path, root: Path, progress: Callable[[str], None] | None = None) -> Site:
    """The Hugo site for the corpus in ``seeds``, converted once and kept beside the corpus.

    Records are parsed by one worker process per CPU (a million take minutes on one core),
    then accepted in file name order, as ``content_file`` does one by one.
    """
    done = root / ".complete"
    if done.exists():
        return Site(root, int(done.read_text()))
    shutil.rmtree(root, ignore_errors=True)
    content = root / "content"
    content.mkdir(parents=True)
    seen: set[str] = set()
    pages = 0
    names = sorted(scan_seeds(seeds))
    chunks = (names[start:start + _CHUNK] for start in range(0, len(names), _CHUNK))
    with Workers(worker_count(0)) as workers:
        converted = workers.map(partial(_convert_files, seeds=seeds), chunks)
        for number, batch in enumerate(converted, start=1):
            for name, one in zip(names[(number - 1) * _CHUNK:number * _CHUNK], batch, strict=True):
                text = _accepted(one, seen)
                if text is not None:
                    (content / name.replace(".txt", ".md")).write_text(text, encoding="utf-8")
                    pages += 1
            if progress is not None and number * _CHUNK % _PROGRESS_EVERY == 0:
                progress(f"Hugo site: {number * _CHUNK:,} of {len(names):,} records converted")
    done.write_text(f"{pages}\n")
    return Site(root, pages)


def items(feed: Path) -> int:
    """How many RSS items a Hugo output file holds."""
    return feed.read_bytes().count(b"<item>")


def build(site: Site, limit: int, runs: int, max_rss_mb: float, timeout: float = 1800) -> Timing:
    """Time ``hugo`` on ``site`` with RSS limit ``limit`` (-1: every record): a warm-up run,
    then the median of ``runs``; the output is removed before each run, outside the timing,
    and at the end. A run over ``max_rss_mb`` or ``timeout`` seconds is stopped: Hugo failed.

    The home feed must hold ``limit`` items (every page at -1), or the figure would time a build
    that did not do the work.
    """
    if shutil.which(HUGO) is None:
        raise RuntimeError("hugo not found: run `make bench-tools` (apt-get install hugo) as root")
    (site.root / "hugo.toml").write_text(CONFIG.format(limit=limit), encoding="utf-8")
    public = site.root / "public"
    # Hugo's file cache goes inside the site, not into the user's home.
    env = {"HUGO_CACHEDIR": str(site.root / "cache")}
    command = [HUGO, "--quiet", "--source", str(site.root), "--destination", str(public)]
    measured = []
    try:
        for _ in range(runs + 1):
            shutil.rmtree(public, ignore_errors=True)
            measured.append(run(command, cwd=site.root, env=env, timeout=timeout,
                                max_rss_mb=max_rss_mb))
        found = items(public / "index.xml")
    except Failed as failed:
        return Timing(limit, runs, None, None, failed.reason)
    finally:
        shutil.rmtree(public, ignore_errors=True)  # at 1,000,000 records, gigabytes
    expected = site.pages if limit < 0 else min(limit, site.pages)
    if found != expected:
        raise RuntimeError(f"{public / 'index.xml'}: {found} items, expected {expected}")
    timed = measured[1:]
    return Timing(limit, runs, statistics.median(m.seconds for m in timed),
                  max(m.peak_rss_mb for m in timed), None)


def version() -> str:
    """``hugo version``'s first words, for the table."""
    text = subprocess.run([HUGO, "version"], capture_output=True, text=True, check=True).stdout
    return " ".join(text.split()[:2])
