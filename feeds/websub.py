"""WebSub publishing (https://www.w3.org/TR/websub/): tell each hub which feeds changed.

One request per hub and changed feed, naming the feed's Atom, RSS and JSON Feed URLs (each a
topic of its own) as repeated ``hub.url`` values: a hub fetches them all, and one feed's change
is one notification. Requests are sent from a background thread with retries and exponential
backoff; a hub that is down is logged and never blocks or breaks publishing.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from feeds.catalog import feed_document_path
from feeds.config import Settings

__all__ = ["Notification", "Notifier", "announce", "notifications", "retry_delay", "should_retry"]

log = logging.getLogger("feeds.websub")


@dataclass(frozen=True)
class Notification:
    """One publish request: ``topics`` changed, tell ``hub``."""

    hub: str
    topics: tuple[str, ...]

    def form(self) -> dict[str, str | list[str]]:
        """The form fields. WebSub leaves publishing to hubs; this is the common ``hub.mode=publish``."""
        return {"hub.mode": "publish", "hub.url": list(self.topics)}


def notifications(settings: Settings, feeds: Iterable[str]) -> list[Notification]:
    """A notification per configured hub and changed feed (``all``, ``topics/ai``…), sorted."""
    topics = [
        tuple(settings.url(feed_document_path(feed, fmt)) for fmt in settings.formats)
        for feed in sorted(feeds)
    ]
    return [Notification(hub, urls) for hub in settings.hubs for urls in topics]


def should_retry(status: int | None) -> bool:
    """Worth another try: no answer at all, too many requests, or a server error."""
    return status is None or status == 429 or status >= 500


def retry_delay(attempt: int, backoff: float, cap: float = 300.0) -> float:
    """Seconds to wait after failed ``attempt`` (1, 2, …): ``backoff`` doubled each time, capped."""
    return float(min(cap, backoff * 2 ** (attempt - 1)))


class Notifier:
    """Delivers notifications concurrently from its own thread and event loop.

    ``submit`` returns at once; ``drain`` waits (bounded) for what is in flight; ``close`` ends
    the thread. ``sent`` and ``failed`` count outcomes.
    """

    def __init__(self, *, attempts: int = 5, backoff: float = 1.0, timeout: float = 10.0,
                 concurrency: int = 8) -> None:
        self.attempts = attempts
        self.backoff = backoff
        self.timeout = timeout
        self.concurrency = concurrency
        self.sent = 0
        self.failed = 0
        self._lock = threading.Lock()
        self._pending: set[concurrent.futures.Future[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: httpx.AsyncClient | None = None
        # A big ingest changes thousands of feeds: a few requests at a time, not a flood.
        self._slots: asyncio.Semaphore | None = None

    def _start(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=loop.run_forever, name="websub", daemon=True)
            self._thread.start()
            self._loop = loop
        return self._loop

    def submit(self, batch: Iterable[Notification]) -> None:
        """Queue ``batch`` for delivery and return at once."""
        for notification in batch:
            loop = self._start()
            future = asyncio.run_coroutine_threadsafe(self._deliver(notification), loop)
            with self._lock:
                self._pending.add(future)
            future.add_done_callback(self._done)

    def _done(self, future: concurrent.futures.Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    async def _deliver(self, notification: Notification) -> None:
        if self._client is None or self._slots is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=True)
            self._slots = asyncio.Semaphore(self.concurrency)
        problem = ""
        for attempt in range(1, self.attempts + 1):
            try:
                async with self._slots:
                    response = await self._client.post(notification.hub, data=notification.form())
            except httpx.HTTPError as exc:
                status, problem = None, f"{type(exc).__name__}: {exc}"
            else:
                status, problem = response.status_code, f"HTTP {response.status_code}"
                if response.is_success:
                    self.sent += 1
                    log.info("websub: notified %s of %s", notification.hub, notification.topics[0])
                    return
            if not should_retry(status) or attempt == self.attempts:
                break
            await asyncio.sleep(retry_delay(attempt, self.backoff))
        self.failed += 1
        log.warning("websub: hub %s was not notified of %s after %d attempt(s): %s",
                    notification.hub, notification.topics[0], attempt, problem)

    def drain(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for every submitted notification; True if all finished."""
        with self._lock:
            pending = set(self._pending)
        _, not_done = concurrent.futures.wait(pending, timeout=timeout)
        return not not_done

    def close(self, timeout: float = 5.0) -> None:
        """Give deliveries in flight up to ``timeout`` seconds, then stop the thread."""
        loop = self._loop
        if loop is None:
            return
        if not self.drain(timeout):
            log.warning("websub: stopping with notifications still pending")
        with self._lock:
            pending = set(self._pending)
        for future in pending:
            future.cancel()
        if self._client is not None:
            closing = asyncio.run_coroutine_threadsafe(self._client.aclose(), loop)
            with contextlib.suppress(Exception):
                closing.result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                return  # a daemon thread: it ends with the process
        loop.close()
        self._loop, self._thread, self._client = None, None, None


def announce(settings: Settings, feeds: Iterable[str], timeout: float = 60.0,
             notifier: Notifier | None = None) -> str:
    """Notify the hubs that ``feeds`` changed and wait up to ``timeout`` seconds; a summary line.

    For one-shot commands (``feeds build``): the export is already published, so a hub that is
    down delays the command's exit by ``timeout`` at most and never fails it.
    """
    notifier = notifier or Notifier()
    batch = notifications(settings, feeds)
    notifier.submit(batch)
    finished = notifier.drain(timeout)
    notifier.close(timeout=1.0)
    pending = "" if finished else f", {len(batch) - notifier.sent - notifier.failed} given up at exit"
    return f"{notifier.sent} of {len(batch)} hub notifications sent, {notifier.failed} failed{pending}"
