"""HTML pages, from Jinja2 templates with autoescaping on."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from feeds.model import Record, utc_timestamp

if TYPE_CHECKING:
    from jinja2 import BytecodeCache, Environment

__all__ = ["MEDIA_TYPE", "EntryView", "FeedLinks", "Site", "entry", "environment", "feed_page", "index",
           "template_cache"]

log = logging.getLogger(__name__)

MEDIA_TYPE = "text/html; charset=utf-8"
# Also the order of the index's sections.
KIND_HEADINGS = {"all": "Everything", "topics": "Topics", "providers": "Providers"}


@dataclass(frozen=True)
class Site:
    """What every page shares. ``root`` is the relative URL back to the site root (``../../``)."""

    title: str
    description: str
    root: str
    opml_url: str
    # Whether each feed has its page (Settings.feed_pages): the index links them only then.
    feed_pages: bool = True


@dataclass(frozen=True)
class FeedLinks:
    """A feed as a page lists it: names, size, subscription URLs and its newest record."""

    path: str
    kind: str
    title: str
    subtitle: str
    name: str
    count: int
    urls: dict[str, str]
    newest: Record | None = None


@dataclass(frozen=True)
class EntryView:
    """A record on a feed page, with the feed paths of its topics and provider (None: no page)."""

    record: Record
    topics: tuple[tuple[str, str | None], ...]
    provider_path: str | None


def _day(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"


def template_cache(directory: str | None = None) -> BytecodeCache | None:
    """Jinja2's cache of compiled templates: in ``directory``, else in Jinja2's private folder
    under the system's temporary directory (made 0700 and checked to be the user's own); None
    where there is none to be had, and each process compiles the templates again.

    Compiling the page templates takes about 0.1 s, most of a one-record edit's rendering; the
    cache is keyed by each template's source, so a changed template is compiled again. It only
    saves time: a cache that cannot be written is skipped, never a failed page.
    """
    from jinja2 import FileSystemBytecodeCache
    from jinja2.bccache import Bucket

    class _Cache(FileSystemBytecodeCache):
        def load_bytecode(self, bucket: Bucket) -> None:
            try:
                super().load_bytecode(bucket)
            except (OSError, EOFError, ValueError, TypeError) as exc:
                log.debug("template cache not read: %s", exc)
                bucket.reset()

        def dump_bytecode(self, bucket: Bucket) -> None:
            try:
                super().dump_bytecode(bucket)
            except OSError as exc:
                log.debug("template cache not written: %s", exc)

    try:
        return _Cache(directory)
    except (OSError, RuntimeError) as exc:  # no safe folder of the user's own
        log.debug("no template cache: %s", exc)
        return None


@cache
def _environment() -> Environment:
    return environment(template_cache())


def environment(compiled: BytecodeCache | None) -> Environment:
    """The templates' environment, keeping compiled templates in ``compiled``."""
    # Imported at the first page rendered: a build with nothing new renders none.
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("feeds", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates ship inside the package: checking their mtimes costs a stat per render.
        auto_reload=False,
        bytecode_cache=compiled,
    )
    env.filters["day"] = _day
    env.filters["iso"] = utc_timestamp
    return env


def render_template(name: str, **context: Any) -> bytes:
    return _environment().get_template(name).render(**context).encode()


def index(site: Site, feeds: list[FeedLinks]) -> bytes:
    """The site's front page: every feed with its size, newest headline and links, filterable."""
    by_kind: dict[str, list[FeedLinks]] = {kind: [] for kind in KIND_HEADINGS}
    for feed in feeds:
        by_kind.setdefault(feed.kind, []).append(feed)
    by_kind = {kind: group for kind, group in by_kind.items() if group}
    main = by_kind.get("all", [None])[0]
    return render_template("index.html", site=site, by_kind=by_kind, headings=KIND_HEADINGS,
                           main=main, total=len(feeds))


def entry(site: Site, view: EntryView) -> str:
    """One entry as a feed page lists it (an ``<li>``, with its line break), escaped HTML.

    Rendered apart from the page so a build renders a record once for every page of the same
    depth (``site.root``) it appears on, not once per page.
    """
    return _environment().get_template("_entry.html").render(site=site, entry=view) + "\n"


def feed_page(site: Site, feed: FeedLinks, entries: list[str]) -> bytes:
    """One feed's page: its newest entries (from ``entry``), subscription links, autodiscovery."""
    return render_template("feed.html", site=site, feed=feed, entries=entries,
                           entries_html=Markup("".join(entries)), headings=KIND_HEADINGS)
