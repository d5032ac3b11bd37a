"""The HTTP API described as an OpenAPI 3.1 document (https://spec.openapis.org/oas/v3.1.0).

Built from the same settings and media types the server uses, so the description cannot drift
from what is served: served at ``/openapi.json``.
"""

from __future__ import annotations

from typing import Any

from feeds import __version__
from feeds.catalog import STATIC_DOCUMENTS
from feeds.config import Settings
from feeds.filters import MAX_QUERY_CHARS
from feeds.render import html as html_format
from feeds.render import opml as opml_format
from feeds.render import static
from feeds.render.formats import FORMATS

__all__ = ["openapi_document"]

JSON = "application/json"
TEXT = "text/plain"


def _bare(media_type: str) -> str:
    return media_type.split(";")[0]


def _text(description: str) -> dict[str, Any]:
    return {"description": description, "content": {TEXT: {"schema": {"type": "string"}}}}


def _api_responses(status: str, description: str) -> dict[str, Any]:
    error = {"description": "", "content": {JSON: {"schema": {"type": "object"}}}}
    responses = {status: {**error, "description": description}}
    for code, text in (("200", "Unchanged: the same record was posted before"),
                       ("400", "The record is invalid: `field` names the field, `error` says why"),
                       ("401", "No bearer token"), ("403", "Wrong bearer token"),
                       ("404", "No such record, or the API is off (no token configured)"),
                       ("409", "Valid, but another file with the same id or URL wins"),
                       ("413", "Body over max_record_bytes")):
        responses.setdefault(code, {**error, "description": text})
    return responses


def _body_schema(media_type: str) -> dict[str, Any]:
    """JSON bodies (JSON Feed) are objects to a client that parses them; the rest are text."""
    if media_type.endswith(("/json", "+json")):
        return {"type": "object", "required": ["version", "title", "items"]}
    return {"type": "string"}


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string"}}


def _document_responses(media_types: list[str], settings: Settings, *, feed: bool) -> dict[str, Any]:
    headers = {
        "ETag": _header("Strong entity tag of this representation; differs per content coding."),
        "Last-Modified": _header("Date of the newest entry."),
        "Cache-Control": _header(
            f"public, max-age={settings.max_age}, stale-while-revalidate="
            f"{settings.stale_while_revalidate}; full archive pages: max-age="
            f"{settings.archive_max_age}, immutable."),
        "Vary": _header("Accept-Encoding"),
        # docs/CDN.md: for caches in front of the server to purge what an ingest changed.
        "Surrogate-Key": _header("Surrogate keys, space-separated: feed:<feed> (or site, static) "
                                 "and feeds."),
        "Cache-Tag": _header("The same keys, comma-separated (Cloudflare)."),
    }
    if feed:
        headers["Access-Control-Allow-Origin"] = _header("*")
        headers["Link"] = _header("WebSub hub and self links, when hubs are configured.")
    responses: dict[str, Any] = {
        "200": {
            "description": "The document; gzip or br content coding as Accept-Encoding allows.",
            "headers": headers,
            "content": {bare: {"schema": _body_schema(bare)} for bare in media_types},
        },
        "304": {"description": "Not Modified: the validators sent still match.", "headers": headers},
        "404": _text("No such document."),
    }
    if feed:
        responses["400"] = _text("A query parameter is malformed, e.g. limit out of range or "
                                 "min_quality not a whole number; the message names it.")
    return responses


_CONDITIONAL = [
    {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"},
     "description": "Entity tags (or *) of cached representations; weak comparison (RFC 9110 13.1.2)."},
    {"name": "If-Modified-Since", "in": "header", "required": False, "schema": {"type": "string"},
     "description": "An HTTP date; ignored when If-None-Match is present (RFC 9110 13.1.3)."},
    {"name": "Accept-Encoding", "in": "header", "required": False, "schema": {"type": "string"},
     "description": "gzip and br are offered, chosen by q-value."},
]


def _path_parameter(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


def openapi_document(settings: Settings) -> dict[str, Any]:
    """The OpenAPI description of every route the server answers."""
    feed_types = [_bare(FORMATS[fmt].media_type) for fmt in settings.formats]
    ext = _path_parameter("ext", {"type": "string", "enum": list(settings.formats)},
                          ", ".join(f"{fmt}: {FORMATS[fmt].title}" for fmt in settings.formats) + ".")
    kind = _path_parameter("kind", {"type": "string", "enum": ["topics", "providers"]},
                           "Feeds by topic or by provider.")
    slug = _path_parameter("slug", {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,120}$"},
                           "The topic's or provider's slug, as listed in /feeds.opml.")
    number = _path_parameter("number", {"type": "integer", "minimum": 1, "maximum": 999_999_999},
                             "Archive page, 1 the oldest (RFC 5005).")
    limit = {
        "name": "limit", "in": "query", "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": settings.max_limit},
        "description": "Only the newest N entries (of those the filters keep; without this, "
                       f"{settings.items_per_feed}); a view outside the archive chain.",
    }
    # feeds.filters: each combination is its own document, with its own self link and ETag.
    filters = [
        {"name": "min_quality", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": -999_999_999, "maximum": 999_999_999},
         "description": "Only entries whose quality is at least N (entries without one are left "
                        "out); applied before limit. Empty: no filter."},
        {"name": "min_heat", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": -999_999_999, "maximum": 999_999_999},
         "description": "Only entries whose heat is at least N; applied before limit."},
        {"name": "q", "in": "query", "required": False,
         # At least one word: what is not a word only separates words.
         "schema": {"type": "string", "maxLength": MAX_QUERY_CHARS, "pattern": r"\w"},
         "description": "Only entries whose title and excerpt contain every word (a run of "
                        "letters, digits, underscores) as a whole word, ignoring case; applied "
                        "before limit."},
    ]

    def get(summary: str, responses: dict[str, Any],
            parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        operation = {"summary": summary, "parameters": [*(parameters or []), *_CONDITIONAL],
                     "responses": responses}
        return {"get": operation, "head": {**operation, "summary": f"{summary} (headers only)"}}

    feed_responses = _document_responses(feed_types, settings, feed=True)
    archive_responses = _document_responses(feed_types, settings, feed=True)
    del archive_responses["400"]
    site = _document_responses([_bare(html_format.MEDIA_TYPE)], settings, feed=False)
    asset = _path_parameter("asset", {"type": "string", "enum": list(STATIC_DOCUMENTS)},
                            "Style sheet, script, feed stylesheets (XSLT; CSS without XSLT) or icon.")
    assets = _document_responses(sorted({_bare(static.media_type(name)) for name in STATIC_DOCUMENTS}),
                                 settings, feed=False)
    outline = _document_responses([_bare(opml_format.MEDIA_TYPE)], settings, feed=False)
    health = {
        "200": {"description": "The store answers.", "content": {JSON: {"schema": {
            "type": "object", "required": ["status", "feeds", "records", "published", "scheduled",
                                           "rejected", "head", "pid", "ingesting"],
            "properties": {
                "status": {"const": "ok"}, "feeds": {"type": "integer"},
                "records": {"type": "integer"}, "published": {"type": "integer"},
                "scheduled": {"type": "integer", "description": "Published records dated ahead, "
                              "held back until their date."},
                "rejected": {"type": "integer"},
                "head": {"type": "integer", "description": "The store change this process serves."},
                "pid": {"type": "integer", "description": "The server process that answered."},
                "ingesting": {"type": "boolean",
                              "description": "Whether this process watches and ingests the seeds."},
            }}}}},
        "503": {"description": "The store cannot be read.", "content": {JSON: {"schema": {
            "type": "object", "required": ["status", "error"],
            "properties": {"status": {"const": "unavailable"}, "error": {"type": "string"}}}}}},
    }
    # Each feed's HTML page, unless the site publishes feeds only (Settings.feed_pages).
    feed_pages = {
        "/all/": get("The page of every article (HTML)", site),
        "/all/index.html": get("The page of every article (HTML)", site),
        "/{kind}/{slug}/": get("A topic's or provider's page (HTML)", site, [kind, slug]),
        "/{kind}/{slug}/index.html": get("A topic's or provider's page (HTML)", site,
                                         [kind, slug]),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{settings.site_title} feeds",
            "version": __version__,
            "description": settings.site_description,
        },
        "servers": [{"url": settings.base_url.rstrip("/")}],
        "paths": {
            "/": get("Index of every feed (HTML)", site),
            "/index.html": get("Index of every feed (HTML)", site),
            "/feeds.opml": get("Every feed as an OPML 2.0 outline", outline),
            "/{asset}": get("A static asset of the pages", assets, [asset]),
            **(feed_pages if settings.feed_pages else {}),
            "/feeds/all.{ext}": get("Every article: the newest page", feed_responses,
                                              [ext, limit, *filters]),
            "/feeds/{kind}/{slug}.{ext}": get("A topic's or provider's newest page", feed_responses,
                                              [kind, slug, ext, limit, *filters]),
            "/feeds/all/archive/{number}.{ext}": get("An archive page of every article",
                                                     archive_responses, [number, ext]),
            "/feeds/{kind}/{slug}/archive/{number}.{ext}": get(
                "An archive page of a topic or provider", archive_responses,
                [kind, slug, number, ext]),
            "/healthz": {"get": {"summary": "Store reachable; counts of feeds and records",
                                 "responses": health}},
            "/openapi.json": {"get": {"summary": "This description", "responses": {
                "200": {"description": "OpenAPI 3.1", "content": {JSON: {"schema": {"type": "object"}}}},
            }}},
            "/api/events": {"get": {
                "summary": "Server-Sent Events: one `feeds` event per ingest that changed feeds",
                "responses": {"200": {"description": "An event stream that stays open",
                                      "content": {"text/event-stream": {"schema": {"type": "string"}}}}},
            }},
            "/api/records": {"post": {
                "summary": "Publish or update one record (the seeds' front-matter format, or JSON)",
                "security": [{"bearer": []}],
                "requestBody": {"required": True, "content": {
                    "text/plain": {"schema": {"type": "string"}},
                    JSON: {"schema": {"type": "object"}},
                }},
                "responses": _api_responses("201", "Created; lists the feed URLs it appears in"),
            }},
            "/api/records/{record_id}": {"delete": {
                "summary": "Unpublish one record (its file is kept with published: false)",
                "security": [{"bearer": []}],
                "parameters": [{"name": "record_id", "in": "path", "required": True,
                                "schema": {"type": "string", "pattern": "^(?:[0-9a-f]{16}|u[0-9a-f]{15})$"}}],
                "responses": _api_responses("200", "Unpublished"),
            }},
        },
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
