"""Several server processes on one store: each follows the change log, one ingests.

Every process runs ``follow``: it waits on the store for a commit (any process's) and then
switches its requests to the new snapshot, within a few tens of milliseconds. Every process
runs ``lead`` too: it takes the ingest lease when it is free (at start, or when the holder
dies) and from then on watches the seeds, ingests them and releases scheduled records at
their date; only the holder notifies WebSub hubs (``Publisher.switch``), so each change is
announced once, not once per process.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from datetime import datetime
from typing import Protocol

import anyio

from feeds.config import Settings
from feeds.ingest import IngestReport
from feeds.lease import RETRY_SECONDS, Lease
from feeds.store import CHANGE_POLL_SECONDS, Store
from feeds.watch import watch_seeds

__all__ = ["RECHECK_SECONDS", "Node", "follow", "lead", "release_when_due"]

log = logging.getLogger("feeds")

# How often the timer reads the next due date again although no ingest of this process woke it:
# another process's API may have stored a scheduled record (which changes no feed, so no
# change-log entry tells anyone).
RECHECK_SECONDS = 5.0


class Node(Protocol):
    """What the loops need from the server's state (``feeds.app.Publisher``)."""

    settings: Settings
    store: Store
    lease: Lease
    head: int

    rescheduled: anyio.Event | None

    def switch(self) -> frozenset[str]: ...

    async def ingest_now(self) -> IngestReport: ...

    def next_due(self) -> datetime | None: ...

    async def release_now(self) -> IngestReport: ...


async def follow(node: Node, halt: threading.Event) -> None:
    """Switch to each newer committed snapshot as soon as the store has one, until ``halt``."""
    while not halt.is_set():
        head = await anyio.to_thread.run_sync(_next_head, node.store, node.head, halt)
        if head != node.head:
            node.switch()


def _next_head(store: Store, head: int, halt: threading.Event) -> int:
    """The head once it passes ``head``, or ``head`` when halted; in a thread of its own.

    Waits in short slices (each one query of the store) so a stopping server does not wait."""
    while not halt.is_set():
        found = store.wait_for_change(head, CHANGE_POLL_SECONDS)
        if found > head:
            return found
    return head


async def lead(node: Node, stop: anyio.Event, catch_up: bool) -> None:
    """Once the lease is ours, watch the seeds and ingest their changes, until ``stop``.

    ``catch_up``: ingest as soon as the lease is taken, for what landed while nobody watched
    (always so when the lease is taken over).
    """
    while not node.lease.try_take():
        catch_up = True
        with anyio.move_on_after(RETRY_SECONDS):
            await stop.wait()
        if stop.is_set():
            return
    log.info("this process (the lease holder) ingests the seeds")

    async def on_change(names: set[str]) -> None:
        log.info("ingest: %s", (await node.ingest_now()).summary())

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(release_when_due, node, stop)
        if node.settings.watch:
            tasks.start_soon(watch_seeds, node.settings.seeds_dir, on_change, stop)
            # The watcher registers with the kernel before its first await: let it run that
            # far, so a file landing during the catch-up scan is seen by one or the other.
            await anyio.sleep(0)
        if catch_up:
            await on_change(set())


async def release_when_due(node: Node, stop: anyio.Event) -> None:
    """Publish each scheduled record at its date, with no change on disk, until ``stop``: sleep
    until the next one is due (or an ingest wakes the timer, or RECHECK_SECONDS pass), then
    release what is due. The lease holder runs it, so a record is released once."""
    while not stop.is_set():
        woken = node.rescheduled = anyio.Event()
        due = await anyio.to_thread.run_sync(node.next_due)
        delay = math.inf if due is None else max(0.0, due.timestamp() - time.time())
        with anyio.move_on_after(min(delay, RECHECK_SECONDS)):
            await woken.wait()
        if delay <= RECHECK_SECONDS and not woken.is_set() and not stop.is_set():
            report = await node.release_now()
            log.info("release: scheduled records joined %d feeds", len(report.changed_feeds))
