"""Feed-change notifications for dashboards and tests, as Server-Sent Events.

https://html.spec.whatwg.org/multipage/server-sent-events.html
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

__all__ = ["Broadcaster", "format_event"]

# A slow subscriber loses its oldest events rather than holding memory or the publisher.
QUEUE_SIZE = 100
HEARTBEAT_SECONDS = 15.0


def format_event(name: str, data: object, event_id: int) -> bytes:
    """One SSE message; JSON keeps the data on a single ``data:`` line."""
    payload = json.dumps(data, separators=(",", ":"), sort_keys=True)
    return f"id: {event_id}\nevent: {name}\ndata: {payload}\n\n".encode()


@dataclass
class Broadcaster:
    """Fans each published event out to every current subscriber's bounded queue."""

    subscribers: set[asyncio.Queue[bytes]] = field(default_factory=set)

    def publish(self, name: str, data: object, event_id: int) -> None:
        """Send an event; ``event_id`` is the change's number in the store's change log, so
        every server process gives one change the same id."""
        message = format_event(name, data, event_id)
        for queue in self.subscribers:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(message)

    async def stream(self, heartbeat: float = HEARTBEAT_SECONDS) -> AsyncIterator[bytes]:
        """Messages for one subscriber, with comment heartbeats that keep proxies from timing out."""
        queue: asyncio.Queue[bytes] = asyncio.Queue(QUEUE_SIZE)
        self.subscribers.add(queue)
        try:
            yield b": connected\n\n"
            while True:
                try:
                    yield await asyncio.wait_for(queue.get(), heartbeat)
                except TimeoutError:
                    yield b": heartbeat\n\n"
        finally:
            self.subscribers.discard(queue)
