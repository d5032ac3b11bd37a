"""The Starlette application: the same documents as the export, with HTTP caching."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from feeds.access_log import AccessLogMiddleware
from feeds.api import api_routes
from feeds.cache import DocumentCache, Representations, ValidatorIndex, Validators
from feeds.catalog import feed_document_path
from feeds.config import Settings
from feeds.events import Broadcaster
from feeds.ingest import IngestReport, ingest
from feeds.openapi import openapi_document
from feeds.purge import Purger
from feeds.render import Renderer
from feeds.serve import DocumentEndpoint
from feeds.store import Store
from feeds.surrogate import changed_keys
from feeds.watch import watch_seeds
from feeds.websub import Notifier, notifications

__all__ = ["Publisher", "create_app"]

log = logging.getLogger("feeds")


@dataclass
class Publisher:
    """The server's state: the store, the current catalogue snapshot and the document caches.

    Requests read ``store``, pinned to one committed snapshot; ingests write through ``writer``
    in a worker thread, and only then does the server switch to a new snapshot and catalogue,
    so no response ever mixes two states.
    """

    settings: Settings
    store: Store
    writer: Store
    cache: DocumentCache
    validators: ValidatorIndex
    notifier: Notifier = field(default_factory=Notifier)
    purger: Purger = field(default_factory=lambda: Purger(()))
    events: Broadcaster = field(default_factory=Broadcaster)
    write_lock: threading.Lock = field(default_factory=threading.Lock)
    renderer: Renderer = field(init=False)

    def __post_init__(self) -> None:
        self.renderer = self.new_renderer()

    @classmethod
    def open(cls, settings: Settings, notifier: Notifier | None = None,
             purger: Purger | None = None) -> Publisher:
        # Small page caches: requests read a few pages each, and ingests here are incremental
        # but for the first one of a new store (about 10% slower with a small cache).
        writer = Store.open(settings.store_path, page_cache_mb=2)
        store = Store.open(settings.store_path, page_cache_mb=2)
        store.pin()
        return cls(settings, store, writer, DocumentCache(settings.cache_mb * 1024 * 1024),
                   ValidatorIndex(settings.etag_index_entries), notifier or Notifier(),
                   purger or Purger(settings.purge))

    def new_renderer(self) -> Renderer:
        return Renderer(self.store, self.settings, save_fragments=self._save_fragments)

    def _save_fragments(self, fmt: str, key: str, bodies: dict[str, bytes]) -> None:
        # Keep freshly rendered entries for later snapshots, unless an ingest holds the writer:
        # then they are simply rendered again, and the request does not wait.
        if self.write_lock.acquire(blocking=False):
            try:
                self.writer.put_fragments(fmt, key, bodies)
            finally:
                self.write_lock.release()

    def _write(self) -> IngestReport:
        with self.write_lock:
            return ingest(self.writer, self.settings.seeds_dir, self.settings.max_record_bytes)

    def _switch(self, report: IngestReport) -> IngestReport:
        for error in report.errors:
            log.warning("rejected %s", error)
        if report.changed_feeds or report.removed:
            self.store.pin()
            self.renderer = self.new_renderer()
            self.events.publish("feeds", {"changed": sorted(report.changed_feeds)})
        self.announce(report.changed_feeds)
        return report

    def ingest(self) -> IngestReport:
        """Ingest the seeds and, if anything changed, switch to a new catalogue and tell the hubs."""
        return self._switch(self._write())

    async def ingest_now(self) -> IngestReport:
        """Ingest in a worker thread while requests go on being served from the current snapshot."""
        return self._switch(await anyio.to_thread.run_sync(self._write))

    def close(self) -> None:
        self.notifier.close()
        self.purger.close()
        self.store.close()
        self.writer.close()

    # -- what the publishing API needs (feeds.api.ApiHost) -------------------------------------

    @property
    def seeds_dir(self) -> Path:
        return self.settings.seeds_dir

    @property
    def max_bytes(self) -> int:
        return self.settings.max_record_bytes

    @property
    def token(self) -> str:
        return self.settings.api_token

    def record_file(self, record_id: str) -> str | None:
        return self.store.record_path(record_id)

    def feed_urls(self, record_id: str) -> list[str]:
        """The URLs of the feed documents listing the record, in the formats the site publishes."""
        return [self.settings.url(feed_document_path(feed, fmt))
                for feed in self.store.feeds_of(record_id) for fmt in self.settings.formats]

    def announce(self, feeds: Iterable[str]) -> None:
        """Tell the WebSub hubs and the CDNs, in the background, that ``feeds`` changed.

        Called once the server reads the new snapshot, so a cache refetching a purged document
        gets the new bytes.
        """
        changed = frozenset(feeds)
        self.notifier.submit(notifications(self.settings, changed))
        self.purger.submit(changed_keys(changed))

    def validators_of(self, path: str, limit: int | None) -> Validators | None:
        """The validators of a document, from the index when its version is current (no render)."""
        version = self.renderer.keys.version(path)
        if version is None:
            return None
        key = _key(path, limit)
        found = self.validators.get(key, version)
        if found is not None:
            return found
        item = self._render(path, limit, version)
        return None if item is None else item.validators

    def body(self, path: str, limit: int | None, validators: Validators, coding: str) -> bytes:
        """The bytes of a document in ``coding``, rendering it again if its body was evicted."""
        item = self.cache.get(_key(path, limit), validators.version)
        if item is None:
            item = self._render(path, limit, validators.version)
            assert item is not None, path  # the version was current a moment ago
        return item.body(coding)

    def _render(self, path: str, limit: int | None, version: str) -> Representations | None:
        document = self.renderer.render(path, limit)
        if document is None:
            return None
        item = Representations.of(document, version, self.settings.brotli_quality)
        key = _key(path, limit)
        self.cache.put(key, item)
        self.validators.put(key, item.validators)
        return item


def _key(path: str, limit: int | None) -> str:
    return path if limit is None else f"{path}?limit={limit}"


def create_app(settings: Settings, *, ingest_on_start: bool = True,
               notifier: Notifier | None = None, purger: Purger | None = None,
               changed: Iterable[str] = ()) -> Starlette:
    """An ASGI app serving the settings' store; ingests the seeds at start-up by default.

    ``changed`` names feeds changed by an ingest made before the app, to announce to the hubs
    and purge from the CDNs.
    """
    publisher = Publisher.open(settings, notifier, purger)
    announced_first = frozenset(changed)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        publisher.announce(announced_first)
        if ingest_on_start:
            log.info("ingest: %s", publisher.ingest().summary())
        try:
            async with anyio.create_task_group() as tasks:
                stop = anyio.Event()
                if settings.watch:
                    tasks.start_soon(watch_seeds, settings.seeds_dir, _on_change, stop)
                try:
                    yield
                finally:
                    stop.set()  # the watcher ends, after any ingest it is running
        finally:
            publisher.close()

    async def _on_change(names: set[str]) -> None:
        report = await publisher.ingest_now()
        log.info("ingest: %s", report.summary())

    async def events(request: Request) -> Response:
        # https://html.spec.whatwg.org/multipage/server-sent-events.html
        return StreamingResponse(publisher.events.stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    async def healthz(request: Request) -> Response:
        no_store = {"Cache-Control": "no-store"}
        try:
            counts = publisher.store.counts()
        except sqlite3.Error as exc:
            return JSONResponse({"status": "unavailable", "error": f"store {settings.store_path}: {exc}"},
                                status_code=503, headers=no_store)
        return JSONResponse({"status": "ok", "feeds": len(publisher.renderer.feeds), **counts},
                            headers=no_store)

    description = openapi_document(settings)

    async def openapi(request: Request) -> Response:
        return JSONResponse(description)

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
            Route("/openapi.json", openapi, methods=["GET", "HEAD"]),
            Route("/api/events", events, methods=["GET"]),
            *api_routes(lambda: publisher),
            Route("/{path:path}", DocumentEndpoint(publisher), methods=["GET", "HEAD"]),
        ],
        middleware=[Middleware(AccessLogMiddleware)] if settings.access_log else [],
        lifespan=lifespan,
    )
    app.state.publisher = publisher
    return app
