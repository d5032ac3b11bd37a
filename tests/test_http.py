"""HTTP decisions as pure functions: RFC 9110 conditionals, content coding, Link."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feeds.config import Settings
from feeds.http import (
    cache_control,
    choose_encoding,
    document_cache_control,
    encoded_etag,
    http_date,
    is_not_modified,
    link_header,
    qvalues,
)

ETAG = '"abc123"'
MODIFIED = datetime(2024, 2, 7, 15, 30, tzinfo=UTC)


def test_http_date_is_an_imf_fixdate() -> None:
    assert http_date(MODIFIED) == "Wed, 07 Feb 2024 15:30:00 GMT"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('"abc123"', True),
        ('W/"abc123"', True),  # weak comparison: https://www.rfc-editor.org/rfc/rfc9110#section-13.1.2
        ('"other", "abc123"', True),
        ('"other" , W/"abc123" ', True),
        ("*", True),
        ('"other"', False),
        ('"abc12"', False),
        ("", False),
    ],
)
def test_http_if_none_match(header: str, expected: bool) -> None:
    assert is_not_modified(ETAG, MODIFIED, {"if-none-match": header}) is expected


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        ("Wed, 07 Feb 2024 15:30:00 GMT", True),
        ("Thu, 08 Feb 2024 00:00:00 GMT", True),
        ("Wed, 07 Feb 2024 15:29:59 GMT", False),
        ("yesterday", False),  # a malformed date is ignored
        ("Wed, 07 Feb 2024 15:30:00", False),  # no zone: not an HTTP date
    ],
)
def test_http_if_modified_since(since: str, expected: bool) -> None:
    assert is_not_modified(ETAG, MODIFIED, {"if-modified-since": since}) is expected


def test_http_if_none_match_takes_precedence_over_if_modified_since() -> None:
    # https://www.rfc-editor.org/rfc/rfc9110#section-13.2.2: a failed If-None-Match is final.
    headers = {"if-none-match": '"other"', "if-modified-since": "Thu, 08 Feb 2024 00:00:00 GMT"}
    assert not is_not_modified(ETAG, MODIFIED, headers)
    headers = {"if-none-match": ETAG, "if-modified-since": "Mon, 01 Jan 2001 00:00:00 GMT"}
    assert is_not_modified(ETAG, MODIFIED, headers)


def test_http_no_validators_means_modified() -> None:
    assert not is_not_modified(ETAG, MODIFIED, {})
    assert not is_not_modified(ETAG, None, {"if-modified-since": "Thu, 08 Feb 2024 00:00:00 GMT"})


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "identity"),
        ("", "identity"),
        ("gzip", "gzip"),
        ("gzip, br", "br"),
        ("br;q=0.5, gzip", "gzip"),
        ("br;q=0, gzip;q=0", "identity"),
        ("*", "br"),
        ("*;q=0.1, gzip;q=0.2", "gzip"),
        ("identity", "identity"),
        ("gzip;q=banana, br;q=2", "identity"),  # malformed weights refuse, not crash
        ("GZIP", "gzip"),
    ],
)
def test_http_choose_encoding_by_q_value(accept: str | None, expected: str) -> None:
    assert choose_encoding(accept, ("br", "gzip")) == expected


def test_http_choose_encoding_only_from_available_codings() -> None:
    assert choose_encoding("br, gzip", ()) == "identity"
    assert choose_encoding("br, gzip", ("gzip",)) == "gzip"


def test_http_encoded_etag_differs_per_coding_and_stays_strong() -> None:
    tags = {encoded_etag(ETAG, coding) for coding in ("identity", "gzip", "br")}
    assert len(tags) == 3
    assert encoded_etag(ETAG, "identity") == ETAG
    assert all(tag.startswith('"') and tag.endswith('"') for tag in tags)


def test_http_cache_control() -> None:
    assert cache_control(300, 60, False) == "public, max-age=300, stale-while-revalidate=60"
    assert cache_control(31536000, 60, True) == "public, max-age=31536000, immutable"


def test_http_document_cache_control_keeps_full_archive_pages_longest() -> None:
    settings = Settings(max_age=120, stale_while_revalidate=30, archive_max_age=86400)
    assert document_cache_control(settings, False) == cache_control(120, 30, False)
    assert document_cache_control(settings, True) == cache_control(86400, 30, True)


def test_http_qvalues_of_codings_and_media_ranges() -> None:
    assert qvalues("gzip;q=0.5, BR , identity;Q=0") == {"gzip": 0.5, "br": 1.0, "identity": 0.0}
    assert qvalues("text/html;level=1;q=0.3, */*;q=0.8") == {"text/html": 0.3, "*/*": 0.8}
    # Malformed or out-of-range weights make an item unacceptable rather than failing.
    assert qvalues("a;q=2, b;q=-1, c;q=nan, d;q=oops, , e") == {
        "a": 0.0, "b": 0.0, "c": 0.0, "d": 0.0, "e": 1.0}


def test_http_link_header() -> None:
    links = [("hub", "https://hub.example/"), ("self", "https://feeds.example/feeds/all.atom")]
    assert link_header(links) == (
        '<https://hub.example/>; rel="hub", <https://feeds.example/feeds/all.atom>; rel="self"'
    )
