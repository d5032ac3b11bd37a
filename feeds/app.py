"""The Starlette application: the same documents as the export, with HTTP caching."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from feeds.cache import DocumentCache, Representations
from feeds.config import Settings
from feeds.http import cache_control, choose_encoding, encoded_etag, http_date, is_not_modified
from feeds.ingest import IngestReport, ingest
from feeds.negotiation import feed_media_type, varies_by_accept
from feeds.render import Renderer
from feeds.store import Store

__all__ = ["Publisher", "create_app"]

log = logging.getLogger("feeds")


@dataclass
class Publisher:
    """The server's state: the store, the current catalogue snapshot and the document cache."""

    settings: Settings
    store: Store
    renderer: Renderer
    cache: DocumentCache

    @classmethod
    def open(cls, settings: Settings) -> Publisher:
        store = Store.open(settings.store_path)
        return cls(settings, store, Renderer(store, settings),
                   DocumentCache(settings.cache_mb * 1024 * 1024))

    def ingest(self) -> IngestReport:
        """Ingest the seeds and, if anything changed, switch to a new catalogue snapshot."""
        report = ingest(self.store, self.settings.seeds_dir, self.settings.max_record_bytes)
        for error in report.errors:
            log.warning("rejected %s", error)
        if report.changed_feeds or report.removed:
            self.renderer = Renderer(self.store, self.settings)
        return report

    def representations(self, path: str) -> Representations | None:
        renderer = self.renderer
        version = renderer.version(path)
        if version is None:
            return None
        item = self.cache.get(path, version)
        if item is None:
            document = renderer.render(path)
            if document is None:
                return None
            item = Representations.of(document, version)
            self.cache.put(path, item)
        return item


def _document_path(request: Request) -> str:
    path = request.url.path.lstrip("/")
    # A directory URL such as /topics/ai/ is its index.html, as static hosts serve it.
    return path + "index.html" if not path or path.endswith("/") else path


def _respond(publisher: Publisher, request: Request) -> Response:
    settings = publisher.settings
    item = publisher.representations(_document_path(request))
    if item is None:
        return PlainTextResponse(
            f"Not found: {request.url.path}. The list of feeds is at {settings.base_url}",
            status_code=404,
        )
    document = item.document
    coding = choose_encoding(request.headers.get("accept-encoding"), item.codings)
    etag = encoded_etag(document.etag, coding)
    max_age = settings.archive_max_age if document.immutable else settings.max_age
    headers = {
        "ETag": etag,
        "Cache-Control": cache_control(max_age, settings.stale_while_revalidate,
                                       document.immutable),
        "Vary": "Accept, Accept-Encoding" if varies_by_accept(document.media_type)
        else "Accept-Encoding",
        "Access-Control-Allow-Origin": "*",
    }
    if document.last_modified is not None:
        headers["Last-Modified"] = http_date(document.last_modified)
    if is_not_modified(etag, document.last_modified, request.headers):
        return Response(status_code=304, headers=headers)
    if coding != "identity":
        headers["Content-Encoding"] = coding
    media_type = feed_media_type(document.media_type, request.headers.get("accept"))
    return Response(item.body(coding), headers=headers, media_type=media_type)


def create_app(settings: Settings, *, ingest_on_start: bool = True) -> Starlette:
    """An ASGI app serving the settings' store; ingests the seeds at start-up by default."""
    publisher = Publisher.open(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if ingest_on_start:
            report = publisher.ingest()
            log.info("ingest: %s", report.summary())
        yield
        publisher.store.close()

    async def document(request: Request) -> Response:
        return _respond(publisher, request)

    async def healthz(request: Request) -> Response:
        counts = publisher.store.counts()
        return JSONResponse({"status": "ok", "feeds": len(publisher.renderer.feeds), **counts})

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
            Route("/{path:path}", document, methods=["GET", "HEAD"]),
        ],
        lifespan=lifespan,
    )
    app.state.publisher = publisher
    return app
