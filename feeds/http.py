"""HTTP decisions as pure functions: conditional requests and content coding (RFC 9110)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for annotations
    from feeds.config import Settings

__all__ = [
    "EXPOSED_HEADERS",
    "cache_control",
    "choose_encoding",
    "document_cache_control",
    "encoded_etag",
    "http_date",
    "is_not_modified",
    "link_header",
    "qvalues",
]


# Web-based readers fetch feeds cross-origin; ETag and Link are not CORS-safelisted, so every
# document exposes them, from the server and from static hosts alike:
# https://fetch.spec.whatwg.org/#http-access-control-expose-headers
EXPOSED_HEADERS = "ETag, Link"


def http_date(moment: datetime) -> str:
    """An IMF-fixdate: https://www.rfc-editor.org/rfc/rfc9110#section-5.6.7."""
    return format_datetime(moment, usegmt=True)


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def _if_none_match(etag: str, header: str) -> bool:
    """Weak comparison against a list of tags or ``*``: RFC 9110 section 13.1.2."""
    if header.strip() == "*":
        return True
    return any(_opaque(candidate) == _opaque(etag) for candidate in header.split(","))


def is_not_modified(etag: str, last_modified: datetime | None,
                    request_headers: Mapping[str, str]) -> bool:
    """True when a GET or HEAD should be answered 304 Not Modified.

    If-None-Match takes precedence: If-Modified-Since is evaluated only when it is absent
    (https://www.rfc-editor.org/rfc/rfc9110#section-13.2.2). A malformed date is ignored.
    """
    if_none_match = request_headers.get("if-none-match")
    if if_none_match is not None:
        return _if_none_match(etag, if_none_match)
    if_modified_since = request_headers.get("if-modified-since")
    if if_modified_since is None or last_modified is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:
        return False
    return last_modified.replace(microsecond=0) <= since


def qvalues(header: str) -> dict[str, float]:
    """The weight of each item (a coding, a media range) of an Accept-like header, lower-cased.

    https://www.rfc-editor.org/rfc/rfc9110#section-12.4.2: ``q`` from 0 to 1, 1 when absent; a
    malformed or out-of-range weight counts as 0 (not acceptable) rather than refusing the
    request. Other parameters are ignored.
    """
    weights: dict[str, float] = {}
    for part in header.split(","):
        item, *params = part.split(";")
        weight = 1.0
        for param in params:
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
                if not 0.0 <= weight <= 1.0:
                    weight = 0.0
        if item.strip():
            weights[item.strip().lower()] = weight
    return weights


def choose_encoding(accept_encoding: str | None, available: tuple[str, ...]) -> str:
    """The best of ``available`` codings ('br', 'gzip') the client accepts, else 'identity'.

    q-values as in https://www.rfc-editor.org/rfc/rfc9110#section-12.5.3; ties prefer the
    order of ``available``. Malformed parts are ignored rather than refused.
    """
    if not accept_encoding:
        return "identity"
    weights = qvalues(accept_encoding)
    best, best_weight = "identity", 0.0
    for coding in available:
        weight = weights.get(coding, weights.get("*", 0.0))
        if weight > best_weight:
            best, best_weight = coding, weight
    return best


def encoded_etag(etag: str, coding: str) -> str:
    """A distinct strong tag per content coding, as RFC 9110 section 8.8.3 requires."""
    if coding == "identity":
        return etag
    return etag[:-1] + "-" + coding + '"'


def cache_control(max_age: int, stale_while_revalidate: int, immutable: bool) -> str:
    """Cache-Control for a document; RFC 8246 ``immutable`` for full archive pages."""
    if immutable:
        return f"public, max-age={max_age}, immutable"
    return f"public, max-age={max_age}, stale-while-revalidate={stale_while_revalidate}"


def document_cache_control(settings: Settings, immutable: bool) -> str:
    """Cache-Control for a public document: what the server sends and static hosts are told to
    (feeds.serve, feeds.hosting); full archive pages (``immutable``) are kept for a year."""
    max_age = settings.archive_max_age if immutable else settings.max_age
    return cache_control(max_age, settings.stale_while_revalidate, immutable)


def link_header(links: Iterable[tuple[str, str]]) -> str:
    """A Link header value (https://www.rfc-editor.org/rfc/rfc8288#section-3) from (rel, URL) pairs."""
    return ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links)
