"""The Starlette application: the same documents as the export, with HTTP caching."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
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
from feeds.cluster import follow, lead
from feeds.config import Settings, resolved_settings
from feeds.errors import StoreError
from feeds.events import Broadcaster
from feeds.filters import FeedQuery
from feeds.ingest import IngestReport, ingest, ingest_held, release, unpublish_held
from feeds.lease import Lease, lease_path
from feeds.memory import return_freed_blocks
from feeds.openapi import openapi_document
from feeds.purge import Purger
from feeds.render.renderer import Renderer
from feeds.serve import DocumentEndpoint
from feeds.store import Store, open_store
from feeds.surrogate import changed_keys
from feeds.websub import Notifier, notifications

__all__ = ["Publisher", "create_app", "worker_app"]

log = logging.getLogger("feeds")


@dataclass
class Publisher:
    """The server's state: the store, the current catalogue snapshot and the document caches.

    Requests read ``store``, pinned to one committed snapshot (``head`` in the change log);
    ingests write through ``writer`` in a worker thread, and only then does the server switch
    to a new snapshot and catalogue, so no response ever mixes two states. Other processes
    on the same store commit too: ``feeds.cluster.follow`` switches to theirs.
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
    head: int = field(init=False)
    lease: Lease = field(init=False)
    # The snapshot's record counts, for /healthz: read once per snapshot, not per request.
    _counts: dict[str, int] | None = field(init=False, default=None)
    # Keeps freshly rendered fragments off the event loop: another process may hold the store.
    saver: ThreadPoolExecutor = field(init=False)
    # Set by every ingest, so the lease holder's timer looks again at when the next scheduled
    # record is due (feeds.cluster.release_when_due).
    rescheduled: anyio.Event | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.head = self.store.head()
        self.renderer = self.new_renderer()
        self.lease = Lease(lease_path(self.settings.store_path, self.settings.seeds_dir))
        self.saver = ThreadPoolExecutor(1, thread_name_prefix="fragments")

    @classmethod
    def open(cls, settings: Settings, notifier: Notifier | None = None,
             purger: Purger | None = None) -> Publisher:
        # Small page caches: requests read a few pages each, and ingests here are incremental
        # but for the first one of a new store (about 10% slower with a small cache).
        writer = open_store(settings.store_path, page_cache_mb=2)
        store = open_store(settings.store_path, page_cache_mb=2)
        store.pin()
        return cls(settings, store, writer, DocumentCache(settings.cache_mb * 1024 * 1024),
                   ValidatorIndex(settings.etag_index_entries), notifier or Notifier(),
                   purger or Purger(settings.purge))

    @property
    def ingesting(self) -> bool:
        """Whether this process holds the ingest lease (watches the seeds, notifies hubs)."""
        return self.lease.held

    def new_renderer(self) -> Renderer:
        return Renderer(self.store, self.settings,
                        save_fragments=partial(self._save_fragments, self.head))

    def _save_fragments(self, head: int, fmt: str, key: str, bodies: dict[str, bytes]) -> None:
        self.saver.submit(self.keep_fragments, head, fmt, key, bodies)

    def keep_fragments(self, head: int, fmt: str, key: str, bodies: dict[str, bytes]) -> None:
        """Keep entries rendered from the snapshot at ``head`` while the store is still there:
        after a later change a record may hold other content (any process's ingest). Skipped,
        to be rendered again another time, while this process ingests or another holds the store."""
        if not self.write_lock.acquire(blocking=False):
            return
        try:
            with self.writer.transaction():
                if self.writer.head() == head:
                    self.writer.put_fragments(fmt, key, bodies)
        except (sqlite3.OperationalError, StoreError) as exc:
            log.debug("fragments not kept: %s", exc)
        finally:
            self.write_lock.release()

    def _write(self) -> IngestReport:
        with self.write_lock:
            report = ingest(self.writer, self.settings.seeds_dir, self.settings.max_record_bytes,
                            schedule_tolerance=self.settings.schedule_tolerance)
        for error in report.errors:
            log.warning("rejected %s", error)
        return report

    def _release(self) -> IngestReport:
        with self.write_lock:
            return release(self.writer, datetime.now(UTC))

    def next_due(self) -> datetime | None:
        """When the next scheduled record falls due, as the store says now (any process may
        have stored it); on the writer, whose reads see every commit."""
        with self.write_lock:
            return self.writer.next_due()

    async def release_now(self) -> IngestReport:
        """Publish the scheduled records now due, in a worker thread, and switch to them."""
        report = await anyio.to_thread.run_sync(self._release)
        self.switch()
        return report

    def wake(self) -> None:
        """Have the timer look again at when the next scheduled record is due."""
        if self.rescheduled is not None:
            self.rescheduled.set()

    def switch(self) -> frozenset[str]:
        """Serve the newest committed snapshot; tell subscribers (and hubs, if this process holds
        the lease) which feeds changed since the last one. Returns those feeds."""
        self.store.pin()
        self._counts = None
        head, changed = self.store.changes_since(self.head)
        if head == self.head:
            return frozenset()
        self.head = head
        self.renderer = self.new_renderer()
        # The change log's sequence number is the event id: the same on every process.
        self.events.publish("feeds", {"changed": sorted(changed)}, head)
        if self.ingesting:
            self.announce(changed)
        return changed

    def counts(self) -> dict[str, int]:
        """Records, published records and rejected files in the snapshot served."""
        if self._counts is None:
            self._counts = self.store.counts()
        return self._counts

    def ingest(self) -> IngestReport:
        """Ingest the seeds and switch to what that committed."""
        report = self._write()
        self.switch()
        self.wake()
        return report

    async def ingest_now(self) -> IngestReport:
        """Ingest in a worker thread while requests go on being served from the current snapshot.

        Any process may: the store's write transaction serialises ingests, and each one reads
        the files' state inside it, so two ingests of the same files store them once.
        """
        report = await anyio.to_thread.run_sync(self._write)
        self.switch()
        self.wake()
        return report

    async def store_record(self, name: str, data: bytes) -> IngestReport:
        """Write one record straight into the store (a node that does not ingest), then switch."""
        def write() -> IngestReport:
            with self.write_lock:
                return ingest_held(self.writer, name, data, self.settings.max_record_bytes,
                                   schedule_tolerance=self.settings.schedule_tolerance)
        report = await anyio.to_thread.run_sync(write)
        self.switch()
        self.wake()
        return report

    async def unpublish_held(self, record_id: str) -> IngestReport:
        def write() -> IngestReport:
            with self.write_lock:
                return unpublish_held(self.writer, record_id)
        report = await anyio.to_thread.run_sync(write)
        self.switch()
        return report

    def close(self) -> None:
        self.saver.shutdown(wait=True)
        self.notifier.close()
        self.purger.close()
        self.lease.release()
        self.store.close()
        self.writer.close()

    # -- what the publishing API needs (feeds.api.ApiHost) -------------------------------------

    @property
    def seeds_dir(self) -> Path:
        return self.settings.seeds_dir

    @property
    def holds_records(self) -> bool:
        return not self.settings.ingest

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

    def validators_of(self, path: str, query: FeedQuery | None) -> Validators | None:
        """The validators of a document, from the index when its version is current (no render)."""
        version = self.renderer.keys.version(path)
        if version is None:
            return None
        key = _key(path, query)
        found = self.validators.get(key, version)
        if found is not None:
            return found
        item = self._render(path, query, version)
        return None if item is None else item.validators

    def body(self, path: str, query: FeedQuery | None, validators: Validators,
             coding: str) -> bytes:
        """The bytes of a document in ``coding``, rendering it again if its body was evicted."""
        item = self.cache.get(_key(path, query), validators.version)
        if item is None:
            item = self._render(path, query, validators.version)
            assert item is not None, path  # the version was current a moment ago
        return item.body(coding)

    def _render(self, path: str, query: FeedQuery | None,
                version: str) -> Representations | None:
        document = self.renderer.render(path, query)
        if document is None:
            return None
        item = Representations.of(document, version, self.settings.brotli_quality)
        key = _key(path, query)
        self.cache.put(key, item)
        self.validators.put(key, item.validators)
        return item


def _key(path: str, query: FeedQuery | None) -> str:
    # Canonical, so ?q=AI&limit=5 and ?limit=5&q=ai share one cached variant.
    return path if query is None else f"{path}?{query.query_string()}"


async def _store_unavailable(request: Request, exc: Exception) -> Response:
    """A document not in memory while the database is away: try again shortly (what was
    rendered before goes on being served)."""
    return JSONResponse({"error": str(exc)}, status_code=503,
                        headers={"Cache-Control": "no-store", "Retry-After": "1"})


def create_app(settings: Settings, *, ingest_on_start: bool = True,
               notifier: Notifier | None = None, purger: Purger | None = None) -> Starlette:
    """An ASGI app serving the settings' store.

    The process that takes the ingest lease at start-up ingests the seeds before serving
    (``ingest_on_start``) and then watches them; the others take the lease over if it dies.
    """
    publisher = Publisher.open(settings, notifier, purger)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            # A node that does not ingest (--no-ingest) never takes the lease: it only follows.
            leading = settings.ingest and publisher.lease.try_take()
            if leading and ingest_on_start:
                log.info("ingest: %s", publisher.ingest().summary())
            async with anyio.create_task_group() as tasks:
                stop, halt = anyio.Event(), threading.Event()
                tasks.start_soon(follow, publisher, halt)
                if settings.ingest:
                    tasks.start_soon(lead, publisher, stop, False)
                try:
                    yield
                finally:
                    # The loops and the timer end, after any ingest they are running.
                    stop.set()
                    halt.set()
                    publisher.wake()
        finally:
            publisher.close()

    async def events(request: Request) -> Response:
        # https://html.spec.whatwg.org/multipage/server-sent-events.html
        return StreamingResponse(publisher.events.stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    async def healthz(request: Request) -> Response:
        no_store = {"Cache-Control": "no-store"}
        try:
            publisher.store.head()  # one indexed read: the store answers
            counts = publisher.counts()
        except (sqlite3.Error, StoreError) as exc:
            # A StoreError names the store already.
            reason = str(exc) if isinstance(exc, StoreError) else f"store {publisher.store.location}: {exc}"
            return JSONResponse({"status": "unavailable", "error": reason},
                                status_code=503, headers=no_store)
        # Which process answered and the change it serves: one process may be asked apart
        # from the others (each is current within a second of any commit).
        return JSONResponse({"status": "ok", "feeds": len(publisher.renderer.feeds), **counts,
                             "head": publisher.head, "pid": os.getpid(),
                             "ingesting": publisher.ingesting}, headers=no_store)

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
        exception_handlers={StoreError: _store_unavailable},
        lifespan=lifespan,
    )
    app.state.publisher = publisher
    return app


def worker_app() -> Starlette:
    """The app of one server process, as uvicorn's factory (`feeds serve`, ``server.py``): the
    settings its parent resolved, else those of $FEEDS_CONFIG or feeds.yaml."""
    return_freed_blocks()
    return create_app(resolved_settings())
