"""Serving one public document over HTTP: conditional requests, content coding, cache headers.

The endpoint is a plain ASGI app rather than a Starlette request/response pair: feed readers
poll the same few documents all day, so each representation's header lines are encoded once
(per content coding and media type) and every later response sends them as they are.
"""

from __future__ import annotations

from typing import Protocol

from starlette.datastructures import QueryParams
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from feeds.cache import Validators
from feeds.catalog import parse_feed_document_path
from feeds.config import Settings
from feeds.filters import FeedQuery, parse_feed_query
from feeds.http import (
    EXPOSED_HEADERS,
    choose_encoding,
    document_cache_control,
    encoded_etag,
    is_not_modified,
    link_header,
)
from feeds.negotiation import feed_media_type, varies_by_accept

__all__ = [
    "DocumentEndpoint",
    "DocumentSource",
    "HeaderLines",
    "document_path",
    "request_headers",
    "shared_headers",
]

RawHeaders = tuple[tuple[bytes, bytes], ...]

# The request headers a document's response depends on.
_CONSULTED = frozenset((b"accept", b"accept-encoding", b"if-none-match", b"if-modified-since"))


class DocumentSource(Protocol):
    """What the endpoint needs from the publisher: validators first, the body only for a 200."""

    settings: Settings

    def validators_of(self, path: str, query: FeedQuery | None) -> Validators | None: ...

    def body(self, path: str, query: FeedQuery | None, validators: Validators,
             coding: str) -> bytes: ...


def document_path(scope: Scope) -> str:
    """The document a request names; a directory URL such as /topics/ai/ is its index.html."""
    path: str = scope["path"].lstrip("/")
    return path + "index.html" if not path or path.endswith("/") else path


def request_headers(scope: Scope) -> dict[str, str]:
    """The consulted request headers by lower-case name; repeated lines joined with commas.

    Joining is how a recipient combines a field sent on several lines (RFC 9110 section 5.3).
    """
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        if name in _CONSULTED:
            key = name.decode("latin-1")
            text = value.decode("latin-1")
            found[key] = f"{found[key]}, {text}" if key in found else text
    return found


def _query(scope: Scope, path: str, maximum: int) -> FeedQuery | None:
    """The limit and filters asked for; raises ValueError when one is bad or names no feed."""
    if not scope.get("query_string"):
        return None
    params = QueryParams(scope["query_string"])
    query = parse_feed_query({name: params.getlist(name) for name in params}, maximum)
    parsed = parse_feed_document_path(path)
    if query is not None and (parsed is None or parsed[1] is not None):
        raise ValueError("only a feed's current document (not an archive page or a site page) "
                         "takes ?limit=N, ?min_quality=N, ?min_heat=N or ?q=words")
    return query


def shared_headers(settings: Settings, validators: Validators, etag: str) -> dict[str, str]:
    """Headers sent alike with 200, 304 and HEAD (RFC 9110 section 15.4.5)."""
    headers = {
        "ETag": etag,
        "Cache-Control": document_cache_control(settings, validators.immutable),
        "Vary": "Accept, Accept-Encoding" if varies_by_accept(validators.media_type)
        else "Accept-Encoding",
    }
    if validators.http_last_modified is not None:
        headers["Last-Modified"] = validators.http_last_modified
    # Every document is public, and static hosts (feeds.hosting) send the same on all of them.
    headers["Access-Control-Allow-Origin"] = "*"
    headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    if validators.links:
        headers["Link"] = link_header(validators.links)
    return headers


# Lines with few distinct values across documents: their encoded pairs are shared.
_SHARED_LINES = frozenset(("Cache-Control", "Vary", "Access-Control-Allow-Origin",
                           "Access-Control-Expose-Headers", "Content-Encoding", "Content-Type"))


class HeaderLines:
    """Response header lines for ``settings``, encoded once per document representation.

    They are kept on the document's validators (so they go when its version goes); lines most
    documents share are one object, which keeps a large validator index small.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._shared: dict[tuple[str, str], tuple[bytes, bytes]] = {}

    def _line(self, name: str, value: str) -> tuple[bytes, bytes]:
        line = (name.lower().encode("latin-1"), value.encode("latin-1"))
        if name not in _SHARED_LINES:
            return line
        return self._shared.setdefault((name, value), line)

    def of(self, validators: Validators, coding: str, media_type: str | None) -> RawHeaders:
        """The lines of a 304 (``media_type`` None) or of a 200 and HEAD."""
        key = (coding, media_type or "")
        found = validators.sent.get(key)
        if found is None:
            headers = shared_headers(self.settings, validators, encoded_etag(validators.etag, coding))
            if media_type is not None:
                if coding != "identity":
                    headers["Content-Encoding"] = coding
                # HEAD sends the length GET would (RFC 9110 section 9.3.2): one list serves both.
                headers["Content-Length"] = str(validators.length(coding))
                headers["Content-Type"] = media_type
            found = tuple(self._line(name, value) for name, value in headers.items())
            validators.sent[key] = found
        return found


class DocumentEndpoint:
    """The ASGI endpoint answering GET and HEAD for every public document."""

    def __init__(self, source: DocumentSource) -> None:
        self.source = source
        self.lines = HeaderLines(source.settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        settings = self.source.settings
        path = document_path(scope)
        try:
            query = _query(scope, path, settings.max_limit)
        except ValueError as exc:
            await PlainTextResponse(f"Bad request: {exc}", status_code=400)(scope, receive, send)
            return
        validators = self.source.validators_of(path, query)
        if validators is None:
            await PlainTextResponse(
                f"Not found: {scope['path']}. The list of feeds is at {settings.base_url}",
                status_code=404,
            )(scope, receive, send)
            return
        headers = request_headers(scope)
        coding = choose_encoding(headers.get("accept-encoding"), validators.codings)
        if is_not_modified(encoded_etag(validators.etag, coding), validators.last_modified, headers):
            await send({"type": "http.response.start", "status": 304,
                        "headers": self.lines.of(validators, coding, None)})
            await send({"type": "http.response.body", "body": b""})
            return
        media_type = feed_media_type(validators.media_type, headers.get("accept"))
        body = b"" if scope["method"] == "HEAD" else self.source.body(path, query, validators, coding)
        await send({"type": "http.response.start", "status": 200,
                    "headers": self.lines.of(validators, coding, media_type)})
        await send({"type": "http.response.body", "body": body})
