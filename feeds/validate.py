"""Turn a record file's front matter into a validated, normalised Record."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from feeds.errors import RecordError
from feeds.model import Image, Provider, Record, Related, utc_timestamp

__all__ = ["clean_text", "record_from_mapping"]

# XML 1.0 allows neither C0 controls (but tab, LF, CR), surrogates nor U+FFFE/U+FFFF, and
# discourages DEL and C1 controls, which readers show as Windows-1252 letters:
# https://www.w3.org/TR/xml/#charsets
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_SPACES = re.compile(r"\s+")
# What RFC 3986 allows after the authority (https://www.rfc-editor.org/rfc/rfc3986#appendix-A):
# unreserved and sub-delims characters, ":", "@", "/", "?", and "%" opening an escaped octet.
# Written as an "unrolled loop" (the characters, then each escape and the characters after it),
# possessive, so it runs in C: as "(?:[...]|%HH)*" it took a fifth of validating a record.
_URI_CHARS = r"[A-Za-z0-9._~!$&'()*+,;=:@/?-]*+"
_URI_TAIL = rf"{_URI_CHARS}(?:%[0-9A-Fa-f]{{2}}{_URI_CHARS})*+"
# Most URLs: http(s), a plain host name (no port, user or brackets), then only characters a URI
# may carry. urlsplit accepts every such URL and finds its host, so the checks below would pass.
_PLAIN_URL = re.compile(rf"(?i:https?)://[A-Za-z0-9.-]++(?:/{_URI_TAIL}(?:#{_URI_TAIL})?)?")
# One character a URI cannot carry after its authority (non-ASCII, "<", ">", '"', "\\", "{",
# "}", "|", "^", "`", "[", "]", or "%" not opening an escaped octet); "#" is matched apart.
_NOT_URI = re.compile(r"[^A-Za-z0-9._~!$&'()*+,;=:@/?%#-]|%(?![0-9A-Fa-f]{2})")
# A host as urlsplit gives it: ASCII or internationalised labels (an IRI), or an IP address.
_HOST = re.compile(r"[\w.-]+|[0-9A-Fa-f:.]+")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9-]{1,63}$")

MAX_TITLE = 1_000
MAX_TEXT = 10_000
MAX_URL = 2_048
MAX_TOPICS = 100
MAX_LIST = 100
MAX_IMAGE_SIDE = 100_000
# A record dated ahead is scheduled (feeds.ingest); this far ahead the date is more likely a
# typo (2205 for 2025) than a plan: an error, retried on later ingests.
SCHEDULE_HORIZON = timedelta(days=366)


def clean_text(text: str) -> str:
    """Drop characters XML cannot carry, collapse runs of whitespace, trim."""
    if text.isprintable() and "  " not in text:
        # Most text, curly quotes and accents included: every character XML forbids and every
        # whitespace character but the space is unprintable (tests/test_validate.py checks all
        # of Unicode), so the substitutions below would change nothing.
        return text.strip()
    return _SPACES.sub(" ", _XML_FORBIDDEN.sub("", text)).strip()


class _Fields:
    """Typed access to one mapping's fields, raising RecordError with the field's full name."""

    def __init__(self, data: dict[str, Any], path: str, prefix: str = "",
                 now: datetime | None = None) -> None:
        self.data = data
        self.path = path
        self.prefix = prefix
        self.now = now

    def fail(self, name: str, reason: str, retry: bool = False) -> RecordError:
        return RecordError(self.path, self.prefix + name, reason, retry)

    def text(self, name: str, *, required: bool, limit: int = MAX_TEXT) -> str | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise self.fail(name, "required; expected text")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(name, f"expected text, got {_kind(value)}")
        cleaned = clean_text(str(value))
        if not cleaned:
            if required:
                raise self.fail(name, "must not be empty")
            return None
        if len(cleaned) > limit:
            raise self.fail(name, f"{len(cleaned)} characters is over the limit of {limit}")
        return cleaned

    def url(self, name: str, *, required: bool) -> str | None:
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                raise self.fail(name, "required; expected an absolute http(s) URL")
            return None
        if not isinstance(value, str):
            raise self.fail(name, f"expected an absolute http(s) URL, got {_kind(value)}")
        return check_url(value.strip(), self.fail, name)

    def integer(self, name: str, *, minimum: int | None = None, maximum: int | None = None,
                required: bool = False) -> int | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise self.fail(name, "required; expected a whole number")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(name, f"expected a whole number, got {_kind(value)}")
        if minimum is not None and value < minimum:
            raise self.fail(name, f"expected at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise self.fail(name, f"expected at most {maximum}, got {value}")
        return value

    def moment(self, name: str, *, required: bool) -> datetime | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise self.fail(name, "required; expected an ISO-8601 date-time with a time zone")
            return None
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                raise self.fail(
                    name, "expected an ISO-8601 date-time such as 2023-10-16T14:48:00Z"
                ) from None
        if not isinstance(value, datetime):
            if isinstance(value, date):
                raise self.fail(name, "expected a date and a time with a time zone, got a date")
            raise self.fail(name, f"expected an ISO-8601 date-time, got {_kind(value)}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise self.fail(name, "no time zone; add Z or an offset such as +02:00")
        try:
            moment = value.astimezone(UTC).replace(microsecond=0)
        except OverflowError:  # e.g. year 1 east of UTC: before datetime.min once in UTC
            raise self.fail(name, "date out of range") from None
        if moment.year < 1970:
            raise self.fail(name, "dates before 1970 are not accepted")
        if self.now is not None and moment > self.now + SCHEDULE_HORIZON:
            raise self.fail(name, f"in the future ({utc_timestamp(moment)}), more than a year "
                                  f"ahead: records are scheduled at most a year ahead", retry=True)
        return moment

    def boolean(self, name: str) -> bool:
        value = self.data.get(name)
        if not isinstance(value, bool):
            raise self.fail(name, f"required; expected true or false, got {_kind(value)}")
        return value

    def mappings(self, name: str) -> list[_Fields]:
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(name, f"expected a list, got {_kind(value)}")
        if len(value) > MAX_LIST:
            raise self.fail(name, f"{len(value)} items is over the limit of {MAX_LIST}")
        items = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.fail(f"{name}[{index}]", f"expected a mapping, got {_kind(item)}")
            items.append(_Fields(item, self.path, f"{self.prefix}{name}[{index}].", self.now))
        return items

    def mapping(self, name: str, *, required: bool) -> _Fields | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise self.fail(name, "required; expected a mapping")
            return None
        if not isinstance(value, dict):
            raise self.fail(name, f"expected a mapping, got {_kind(value)}")
        return _Fields(value, self.path, f"{self.prefix}{name}.", self.now)


def check_url(url: str, fail: Any, name: str) -> str:
    """``url`` as published, if it is an absolute http(s) URL we are willing to publish.

    Characters a URI cannot carry after the host are percent-encoded (``percent_encode``); the
    host stays as written.
    """
    if len(url) > MAX_URL:
        raise fail(name, f"URL of {len(url)} characters is over the limit of {MAX_URL}")
    if _PLAIN_URL.fullmatch(url):
        return url
    # \s in a str pattern is str.isspace(): Unicode whitespace, the same test in C.
    if _XML_FORBIDDEN.search(url) or _SPACES.search(url):
        raise fail(name, "URL contains spaces or control characters; percent-encode them")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a malformed port
    except ValueError:
        raise fail(name, "malformed URL") from None
    del port
    if parts.scheme.lower() not in ("http", "https"):
        raise fail(name, "expected an absolute http(s) URL")
    if not parts.hostname:
        raise fail(name, "expected an absolute http(s) URL with a host name")
    if not _HOST.fullmatch(parts.hostname):
        raise fail(name, "expected a host name or an IP address")
    encoded = percent_encode(url, len(parts.scheme) + 3 + len(parts.netloc))
    if len(encoded) > MAX_URL:
        raise fail(name, f"URL of {len(encoded)} characters once percent-encoded is over the limit "
                         f"of {MAX_URL}")
    return encoded


def percent_encode(url: str, start: int) -> str:
    """``url`` with every character from ``start`` on that a URI cannot carry percent-encoded.

    RFC 4287 and the W3C feed validator require valid IRIs, RSS 2.0 and JSON Feed URLs, and a
    ``"`` or ``<`` in an attribute is where markup injection starts. Encoding (as UTF-8 octets,
    https://www.rfc-editor.org/rfc/rfc3986#section-2.1, as browsers do when they follow such a
    link: https://url.spec.whatwg.org/#path-percent-encode-set) names the same resource, so the
    record is published rather than lost. Every "#" after the first is encoded too: a fragment
    cannot hold one.
    """
    head, tail = url[:start], url[start:]
    before, hash_sign, fragment = tail.partition("#")
    encode = partial(_NOT_URI.sub, _escape_octets)
    return head + encode(before) + hash_sign + encode(fragment).replace("#", "%23")


def _escape_octets(match: re.Match[str]) -> str:
    return "".join(f"%{octet:02X}" for octet in match.group().encode("utf-8"))


def _provider(fields: _Fields | None) -> Provider | None:
    if fields is None:
        return None
    domain = (fields.text("domain", required=True, limit=253) or "").lower().rstrip(".")
    if not _HOSTNAME.match(domain):
        raise fields.fail("domain", "expected a host name such as cio.com")
    name = fields.text("name", required=False, limit=MAX_TITLE) or domain
    return Provider(name=name, domain=domain)


def _topics(fields: _Fields) -> tuple[str, ...]:
    value = fields.data.get("topics")
    if value is None:
        return ()
    if not isinstance(value, list):
        raise fields.fail("topics", f"expected a list of topic names, got {_kind(value)}")
    if len(value) > MAX_TOPICS:
        raise fields.fail("topics", f"{len(value)} topics is over the limit of {MAX_TOPICS}")
    seen: dict[str, str] = {}
    for index, topic in enumerate(value):
        if isinstance(topic, bool) or not isinstance(topic, str | int | float):
            raise fields.fail(f"topics[{index}]", f"expected text, got {_kind(topic)}")
        name = clean_text(str(topic))
        if not name:
            raise fields.fail(f"topics[{index}]", "empty topic name")
        if len(name) > 200:
            raise fields.fail(f"topics[{index}]", "topic names are limited to 200 characters")
        # Topics are the same topic whatever their case: keep the first spelling.
        seen.setdefault(name.casefold(), name)
    return tuple(seen.values())


def _images(fields: _Fields) -> tuple[Image, ...]:
    images = []
    for item in fields.mappings("images"):
        url = item.url("url", required=True)
        assert url is not None
        images.append(
            Image(
                url=url,
                width=item.integer("width", minimum=0, maximum=MAX_IMAGE_SIDE),
                height=item.integer("height", minimum=0, maximum=MAX_IMAGE_SIDE),
            )
        )
    return tuple(images)


def _related(fields: _Fields) -> tuple[Related, ...]:
    related = []
    for item in fields.mappings("related"):
        title = item.text("title", required=True, limit=MAX_TITLE)
        url = item.url("webUrl", required=True)
        assert title is not None and url is not None
        related.append(
            Related(
                title=title,
                url=url,
                excerpt=item.text("excerpt", required=False),
                published=item.moment("publishedDateTime", required=False),
                provider=_provider(item.mapping("provider", required=False)),
                amp_url=item.url("ampWebUrl", required=False),
            )
        )
    return tuple(related)


def record_from_mapping(data: dict[str, Any], path: str, record_id: str,
                        now: datetime | None = None) -> Record:
    """Validate and normalise one record; raises RecordError naming the first bad field.

    With ``now``, dates more than a year ahead of it are refused (and retried later).
    """
    # ``secured`` is never read here: it is not needed to publish, so it never leaves the file.
    fields = _Fields(data, path, now=now)
    title = fields.text("title", required=True, limit=MAX_TITLE)
    web_url = fields.url("webUrl", required=True)
    published_at = fields.moment("publishedDateTime", required=True)
    provider = _provider(fields.mapping("provider", required=True))
    assert title is not None and web_url is not None
    assert published_at is not None and provider is not None
    return Record(
        id=record_id,
        title=title,
        excerpt=fields.text("excerpt", required=False),
        published_at=published_at,
        web_url=web_url,
        original_url=fields.url("originalUrl", required=False),
        amp_url=fields.url("ampWebUrl", required=False),
        cdn_amp_url=fields.url("cdnAmpWebUrl", required=False),
        category=fields.text("category", required=False, limit=200),
        type=fields.text("type", required=False, limit=200),
        quality=fields.integer("quality"),
        heat=fields.integer("heat"),
        published=fields.boolean("published"),
        provider=provider,
        topics=_topics(fields),
        images=_images(fields),
        related=_related(fields),
    )


def _kind(value: Any) -> str:
    """Name a value's YAML type without echoing the value (it may be large or private)."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, datetime | date):
        return "a date"
    return type(value).__name__
