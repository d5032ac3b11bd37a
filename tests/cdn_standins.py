"""Local stand-ins for the Fastly and Cloudflare purge APIs, on 127.0.0.1 free ports.

Each checks the request shape its API documents and answers 400 (with the reason) when it is
wrong, so a test sees a malformed purge as a failure, as the real API would refuse it:

- Fastly, https://www.fastly.com/documentation/reference/api/purging/: ``POST
  /service/{service_id}/purge``, ``Fastly-Key`` (the token), up to 256 keys in
  ``Surrogate-Key`` separated by spaces; answers a JSON object of key → purge id.
- Cloudflare, https://developers.cloudflare.com/api/resources/cache/methods/purge/: ``POST
  /zones/{zone_id}/purge_cache``, ``Authorization: Bearer {token}``, a JSON body
  ``{"tags": [...]}`` of at most 30 tags; answers ``{"success": true, "result": {"id": …}}``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["StandIn", "cloudflare_standin", "fastly_standin"]


class StandIn(ThreadingHTTPServer):
    """A recording API server: ``purged`` lists the keys of each accepted request."""

    def __init__(self, kind: str, service: str, token: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.kind, self.service, self.token = kind, service, token
        self.purged: list[list[str]] = []
        self.refused: list[str] = []
        self.statuses: list[int] = []  # scripted answers to the next well-formed requests
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def check(self, method: str, path: str, headers: dict[str, str], body: bytes) -> list[str] | str:
        """The keys a request purges, or why the real API would refuse it."""
        if method != "POST":
            return f"method {method}"
        if self.kind == "fastly":
            if path != f"/service/{self.service}/purge":
                return f"path {path}"
            if headers.get("fastly-key") != self.token:
                return "Fastly-Key"
            keys = headers.get("surrogate-key", "").split()
            return keys if 0 < len(keys) <= 256 else f"{len(keys)} keys"
        if path != f"/zones/{self.service}/purge_cache":
            return f"path {path}"
        if headers.get("authorization") != f"Bearer {self.token}":
            return "Authorization"
        if headers.get("content-type", "").split(";")[0] != "application/json":
            return "Content-Type"
        try:
            tags = json.loads(body)["tags"]
        except (ValueError, KeyError, TypeError):
            return "body"
        if not isinstance(tags, list) or not all(isinstance(t, str) and "," not in t for t in tags):
            return "tags"
        return tags if 0 < len(tags) <= 30 else f"{len(tags)} tags"

    def answer(self, keys: list[str]) -> bytes:
        if self.kind == "fastly":
            return json.dumps({key: f"id-{n}" for n, key in enumerate(keys)}).encode()
        return json.dumps({"success": True, "errors": [], "messages": [],
                           "result": {"id": "purge-id"}}).encode()


class _Handler(BaseHTTPRequestHandler):
    server: StandIn

    def _any(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        headers = {name.lower(): value for name, value in self.headers.items()}
        found = self.server.check(self.command, self.path, headers, body)
        with self.server.lock:
            if isinstance(found, str):
                self.server.refused.append(found)
                status, payload = 400, found.encode()
            else:
                status = self.server.statuses.pop(0) if self.server.statuses else 200
                payload = self.server.answer(found)
                if status == 200:
                    self.server.purged.append(found)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_POST = do_GET = do_PURGE = _any

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def _running(server: StandIn) -> Iterator[StandIn]:
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextmanager
def fastly_standin(service: str = "SU1Z0isxPaozGVKXdv0eY", token: str = "fastly-test-token"
                   ) -> Iterator[StandIn]:
    with _running(StandIn("fastly", service, token)) as server:
        yield server


@contextmanager
def cloudflare_standin(zone: str = "023e105f4ecef8ad9ca31a8372d0c353", token: str = "cf-test-token"
                       ) -> Iterator[StandIn]:
    with _running(StandIn("cloudflare", zone, token)) as server:
        yield server
