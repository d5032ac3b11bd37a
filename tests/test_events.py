from __future__ import annotations

import asyncio

from feeds.events import Broadcaster, format_event


def test_events_format_is_one_sse_message() -> None:
    assert format_event("feeds", {"changed": ["all"]}, 3) == (
        b'id: 3\nevent: feeds\ndata: {"changed":["all"]}\n\n'
    )


def test_events_reach_every_subscriber() -> None:
    async def scenario() -> list[bytes]:
        broadcaster = Broadcaster()
        streams = [broadcaster.stream(heartbeat=5), broadcaster.stream(heartbeat=5)]
        firsts = [await anext(s) for s in streams]
        assert firsts == [b": connected\n\n"] * 2
        broadcaster.publish("feeds", {"changed": ["topics/ai"]}, 1)
        received = [await anext(s) for s in streams]
        for stream in streams:
            await stream.aclose()
        assert not broadcaster.subscribers
        return received

    received = asyncio.run(scenario())
    assert received == [b'id: 1\nevent: feeds\ndata: {"changed":["topics/ai"]}\n\n'] * 2


def test_events_slow_subscriber_keeps_only_the_newest() -> None:
    async def scenario() -> bytes:
        broadcaster = Broadcaster()
        stream = broadcaster.stream(heartbeat=5)
        await anext(stream)
        for n in range(150):
            broadcaster.publish("feeds", {"n": n}, n)
        first = await anext(stream)
        await stream.aclose()
        return first

    assert b'"n":50' in asyncio.run(scenario())


def test_events_heartbeat_when_quiet() -> None:
    async def scenario() -> bytes:
        stream = Broadcaster().stream(heartbeat=0.01)
        await anext(stream)
        beat = await anext(stream)
        await stream.aclose()
        return beat

    assert asyncio.run(scenario()) == b": heartbeat\n\n"
