"""The reference server for the benchmark: one Starlette route returning constant bytes.

``uvicorn benchmarks.bare_app:app`` with ``FEEDS_BENCH_BODY`` naming a file whose bytes it
serves (the feed's own, so both servers move as much data), with an ETag so 304s work too.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

ETAG = '"bare"'


def create() -> Starlette:
    body = Path(os.environ["FEEDS_BENCH_BODY"]).read_bytes()

    async def constant(request: Request) -> Response:
        if request.headers.get("if-none-match") == ETAG:
            return Response(status_code=304, headers={"ETag": ETAG})
        return Response(body, headers={"ETag": ETAG}, media_type="application/atom+xml")

    return Starlette(routes=[Route("/bare", constant)])
