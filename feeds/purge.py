"""Purge on publish: tell each configured CDN which surrogate keys an ingest changed.

Every target has its own thread, so a CDN that is slow or down never holds up another, an
ingest or a response. Keys submitted while a target's request is in flight are merged into its
next batch (a burst of ingests is a few requests, not one per ingest); a request that gets no
answer, 429 or a server error is retried with exponential backoff, as WebSub notifications are
(feeds.websub); one that still fails is logged, and the cache falls back on max_age.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Mapping, Sequence

import httpx

from feeds.cdn import PurgeRequest, PurgeTarget, purge_requests
from feeds.websub import retry_delay, should_retry

__all__ = ["Purger", "purge_now"]

log = logging.getLogger("feeds.purge")


class _Channel:
    """One target's queue of keys and the thread that sends them."""

    def __init__(self, target: PurgeTarget, purger: Purger) -> None:
        self.target = target
        self.purger = purger
        self.pending: set[str] = set()
        self.busy = False
        self.thread = threading.Thread(target=self._run, name=f"purge {target.name}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        purger = self.purger
        with httpx.Client(timeout=purger.timeout, follow_redirects=False) as client:
            while True:
                with purger.changed:
                    while not self.pending and not purger.closing:
                        purger.changed.wait()
                    if not self.pending:
                        return
                    keys, self.pending, self.busy = sorted(self.pending), set(), True
                try:
                    self._purge(client, keys)
                finally:
                    with purger.changed:
                        self.busy = False
                        purger.changed.notify_all()

    def _purge(self, client: httpx.Client, keys: Sequence[str]) -> None:
        token = ""
        if self.target.token_env:
            token = self.purger.environ.get(self.target.token_env, "")
            if not token:
                self.purger.count(failed=1)
                log.warning("purge: %s: %s is not set; %d key(s) not purged", self.target.name,
                            self.target.token_env, len(keys))
                return
        for request in purge_requests(self.target, keys, token):
            self._send(client, request)

    def _send(self, client: httpx.Client, request: PurgeRequest) -> None:
        problem = ""
        for attempt in range(1, self.purger.attempts + 1):
            try:
                response = client.request(request.method, request.url, headers=list(request.headers),
                                          content=request.body)
            except httpx.HTTPError as exc:
                status, problem = None, f"{type(exc).__name__}: {exc}"
            else:
                status, problem = response.status_code, f"HTTP {response.status_code}"
                if response.is_success:
                    self.purger.count(sent=1)
                    log.info("purge: %s: %s", self.target.name, problem)
                    return
            if not should_retry(status) or attempt == self.purger.attempts or self.purger.closing:
                break
            with self.purger.changed:
                self.purger.changed.wait_for(lambda: self.purger.closing,
                                             retry_delay(attempt, self.purger.backoff))
        self.purger.count(failed=1)
        log.warning("purge: %s: not purged after %d attempt(s): %s", self.target.name, attempt, problem)


class Purger:
    """Sends purges of surrogate keys to ``targets`` from background threads.

    ``submit`` returns at once; ``drain`` waits (bounded) until every submitted key was sent or
    given up; ``close`` ends the threads. ``sent`` and ``failed`` count requests.
    """

    def __init__(self, targets: Sequence[PurgeTarget], *, attempts: int = 5, backoff: float = 1.0,
                 timeout: float = 10.0, environ: Mapping[str, str] | None = None) -> None:
        self.targets = tuple(targets)
        self.attempts = attempts
        self.backoff = backoff
        self.timeout = timeout
        # Tokens come from the environment when a request is made, never from the settings.
        self.environ = os.environ if environ is None else environ
        self.sent = 0
        self.failed = 0
        self.closing = False
        self.changed = threading.Condition()
        # Started now, each with its connection pool ready: the first purge after an ingest
        # should not wait for a thread or a TLS context.
        self._channels = [_Channel(target, self) for target in self.targets]

    def count(self, sent: int = 0, failed: int = 0) -> None:
        with self.changed:
            self.sent += sent
            self.failed += failed

    def submit(self, keys: Iterable[str]) -> None:
        """Queue ``keys`` for purging at every target and return at once."""
        wanted = set(keys)
        if not wanted or not self.targets:
            return
        with self.changed:
            if self.closing:
                return
            for channel in self._channels:
                channel.pending |= wanted
            self.changed.notify_all()

    def _idle(self) -> bool:
        return all(not c.pending and not c.busy for c in self._channels)

    def drain(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds until nothing is queued or in flight; True if so."""
        with self.changed:
            return self.changed.wait_for(self._idle, timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Give purges in flight up to ``timeout`` seconds, then end the threads."""
        if not self.drain(timeout):
            log.warning("purge: stopping with purges still pending")
        with self.changed:
            self.closing = True
            for channel in self._channels:
                channel.pending.clear()
            self.changed.notify_all()
        for channel in self._channels:
            channel.thread.join(timeout)


def purge_now(targets: Sequence[PurgeTarget], keys: Iterable[str], timeout: float = 60.0,
              purger: Purger | None = None) -> str:
    """Purge ``keys`` and wait up to ``timeout`` seconds; a summary line (``feeds build``).

    The export is already published, so a CDN that is down delays the command's exit by
    ``timeout`` at most and never fails it.
    """
    purger = purger or Purger(targets)
    purger.submit(keys)
    finished = purger.drain(timeout)
    purger.close(timeout=1.0)
    pending = "" if finished else ", some given up at exit"
    return f"{purger.sent} purge request(s) sent, {purger.failed} failed{pending}"
