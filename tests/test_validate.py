from __future__ import annotations

import re
import sys
import unicodedata
from datetime import UTC, datetime
from string import hexdigits
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from feeds.errors import RecordError
from feeds.validate import _PLAIN_URL, _SPACES, _XML_FORBIDDEN, clean_text, record_from_mapping


def _record(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "  A   title ",
        "excerpt": "An excerpt.",
        "publishedDateTime": datetime(2023, 10, 16, 14, 48, tzinfo=UTC),
        "webUrl": "https://example.com/a",
        "published": True,
        "provider": {"name": "Example", "domain": "Example.COM"},
        "topics": ["AI", "ai", " AI  Ethics "],
        "images": [{"url": "https://example.com/i.jpg", "width": 800, "height": 600}],
        "related": [{"title": "R", "webUrl": "https://example.org/r"}],
        "secured": "never-read",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_validate_normalises_text_topics_and_domain() -> None:
    record = record_from_mapping(_record(), "a.txt", "abc")
    assert record.title == "A title"
    assert record.topics == ("AI", "AI Ethics")
    assert record.provider.domain == "example.com"
    assert record.images[0].width == 800
    assert record.related[0].url == "https://example.org/r"


def test_validate_accepts_iso_strings_with_offsets_and_converts_to_utc() -> None:
    record = record_from_mapping(_record(publishedDateTime="2023-10-16T16:48:00+02:00"), "a.txt", "x")
    assert record.published_at == datetime(2023, 10, 16, 14, 48, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"title": None}, "title", "required"),
        ({"title": ["a"]}, "title", "expected text"),
        ({"webUrl": "javascript:alert(1)"}, "webUrl", "http(s)"),
        ({"webUrl": "/relative"}, "webUrl", "http(s)"),
        ({"webUrl": "https://exa mple.com/"}, "webUrl", "spaces"),
        ({"publishedDateTime": "2023-10-16T14:48:00"}, "publishedDateTime", "time zone"),
        ({"publishedDateTime": "yesterday"}, "publishedDateTime", "ISO-8601"),
        ({"publishedDateTime": "1969-12-31T00:00:00Z"}, "publishedDateTime", "1970"),
        ({"published": "yes"}, "published", "true or false"),
        ({"provider": None}, "provider", "required"),
        ({"provider": {"name": "X", "domain": "not a domain"}}, "provider.domain", "host name"),
        ({"topics": "AI"}, "topics", "list"),
        ({"topics": ["AI", ""]}, "topics[1]", "empty"),
        ({"images": [{"url": "https://e.com/i.jpg", "width": -1}]}, "images[0].width", "at least 0"),
        ({"images": [{"url": "data:image/png;base64,AAAA"}]}, "images[0].url", "http(s)"),
        ({"related": [{"title": "R"}]}, "related[0].webUrl", "required"),
        ({"quality": "high"}, "quality", "whole number"),
    ],
)
def test_validate_rejects_naming_the_field(changes: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(RecordError) as caught:
        record_from_mapping(_record(**changes), "bad.txt", "x")
    assert caught.value.field == field
    assert reason in caught.value.reason
    assert "never-read" not in str(caught.value)


def test_clean_text_drops_characters_xml_forbids() -> None:
    assert clean_text("a\x00b\x1fc\ufffe\uffffd\ud800e") == "abcde"


def test_clean_text_skips_its_substitutions_only_where_they_change_nothing() -> None:
    # The shortcut takes printable text without two spaces in a row as it is: every character
    # the substitutions drop or turn into a space (but the space itself) must be unprintable.
    every = "".join(map(chr, range(sys.maxunicode + 1)))
    touched = (set(_XML_FORBIDDEN.findall(every)) | set("".join(_SPACES.findall(every)))) - {" "}
    assert "\x85" in touched and "\u2028" in touched and "\ud800" in touched
    assert not [hex(ord(char)) for char in touched if char.isprintable()]
    assert clean_text(" \u201cWe\u2019re caf\u00e9\u201d ") == "\u201cWe\u2019re caf\u00e9\u201d"
    assert clean_text("a\u00a0 b\u3000c\x85d") == "a b cd"



# RFC 3986 appendix A, after the scheme and host: unreserved, sub-delims, ":", "@", "/", "?"
# and percent-escapes, with at most one "#".
_URI_REFERENCE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[A-Za-z0-9.-]*(?::[0-9]*)?"
                            r"(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*"
                            r"(?:#(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?")


def _published_as_documented(url: str) -> bool:
    """README, "Records": only absolute http(s) URLs of at most 2,048 characters, with a host,
    and without spaces or control characters, are published."""
    if not url or len(url) > 2048:
        return False
    if any(c.isspace() or unicodedata.category(c) in ("Cc", "Cs") or c in "\ufffe\uffff" for c in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a malformed port is a malformed URL
    except ValueError:
        return False
    host = parts.hostname or ""
    # "a host that is not a host name" rejects: letters, digits, dots and hyphens, or an IP address.
    named = all(c.isalnum() or c in "._-" for c in host) or all(c in hexdigits + ":." for c in host)
    return parts.scheme.lower() in ("http", "https") and bool(host) and named


_URLISH = st.text(alphabet="htps:/[]@?#%.-_ aZ09\t\n\x00\x85\u00e9\u2028", max_size=30)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(_URLISH, st.builds("{}://{}{}".format, st.sampled_from(["http", "HTTPS", "ftp", ""]),
                                    _URLISH, _URLISH)))
@example("https://example.com/a?b=1#c")
@example("HTTP://a/[x]")
@example("http://-")
@example("https://bücher.example/")
@example("//example.com/a")
@example("http://example.com:99999/")
@example("https://example.com/" + "a" * 2100)
def test_validate_publishes_exactly_the_urls_the_readme_allows(url: str) -> None:
    try:
        record = record_from_mapping(_record(webUrl=url), "u.txt", "x")
    except RecordError as error:
        assert error.field == "webUrl", (url, error)
        assert not _published_as_documented(url.strip()), (url, error.reason)
    else:
        assert _published_as_documented(url.strip()), url
        # README: characters a URL cannot carry after its host are percent-encoded; the
        # published URL names the same resource, and one that needed nothing is unchanged.
        assert unquote(record.web_url) == unquote(url.strip())
        published = urlsplit(record.web_url)
        assert (published.path + published.query + published.fragment).isascii(), record.web_url
        if _URI_REFERENCE.fullmatch(url.strip()):
            assert record.web_url == url.strip()


# The plain-URL shortcut as first written, a character or an escape at a time: the reference for
# the unrolled pattern validate runs.
_PLAIN_URL_AS_WRITTEN = re.compile(r"(?i:https?)://[A-Za-z0-9.-]+"
                                   r"(?:/(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*"
                                   r"(?:#(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?)?")


@settings(max_examples=400, deadline=None)
@given(st.builds("{}://{}{}".format, st.sampled_from(["http", "HTTPS", "hTtp", "ftp"]),
                 st.text(alphabet="a.-0_:@", max_size=6),
                 st.text(alphabet="/?#%aF09g.-~!$&'()*+,;=:@[] \u00e9", max_size=20)))
@example("https://example.com/a%2")
@example("https://example.com/%41%4g")
@example("https://example.com/a#b%20c#d")
def test_plain_url_shortcut_takes_the_urls_it_was_written_for(url: str) -> None:
    assert bool(_PLAIN_URL.fullmatch(url)) == bool(_PLAIN_URL_AS_WRITTEN.fullmatch(url)), url
