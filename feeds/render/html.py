"""HTML pages, from Jinja2 templates with autoescaping on."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

__all__ = ["MEDIA_TYPE", "FeedLinks", "index"]

MEDIA_TYPE = "text/html; charset=utf-8"


@dataclass(frozen=True)
class FeedLinks:
    """A feed as a page lists it."""

    path: str
    kind: str
    title: str
    name: str
    count: int
    urls: dict[str, str]


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("feeds", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_template(name: str, **context: Any) -> bytes:
    return _environment().get_template(name).render(**context).encode()


def index(site_title: str, description: str, feeds: list[FeedLinks], opml_url: str) -> bytes:
    """The site's front page: every feed, its entry count and its links, with autodiscovery."""
    by_kind: dict[str, list[FeedLinks]] = {}
    for feed in feeds:
        by_kind.setdefault(feed.kind, []).append(feed)
    return render_template(
        "index.html", site_title=site_title, description=description, by_kind=by_kind,
        main=by_kind.get("all", [None])[0], opml_url=opml_url,
    )
