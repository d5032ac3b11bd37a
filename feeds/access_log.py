"""Structured access logs: one JSON line per request on the ``feeds.access`` logger."""

from __future__ import annotations

import json
import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["AccessLogMiddleware", "access_line"]

log = logging.getLogger("feeds.access")


def access_line(method: str, path: str, status: int, size: int, seconds: float) -> str:
    """One request as a JSON object: method, path (with query), status, body bytes, duration."""
    return json.dumps(
        {"method": method, "path": path, "status": status, "bytes": size,
         "duration_ms": round(seconds * 1000, 3)},
        ensure_ascii=False, separators=(",", ":"),
    )


class AccessLogMiddleware:
    """ASGI middleware that logs each HTTP request once its response is complete."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        size = 0

        async def counting_send(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            path = scope.get("path", "")
            query = scope.get("query_string", b"")
            if query:
                path += "?" + query.decode("latin-1")
            log.info("%s", access_line(scope["method"], path, status, size,
                                       time.perf_counter() - started))
