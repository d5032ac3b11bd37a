"""The publishing API: POST a record, DELETE (unpublish) one; the seeds stay the source of truth.

An accepted record is written atomically into the seeds directory and ingested before the
response, so a 201 names the feeds it now appears in and survives a crash right after.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from feeds.durable import write_atomically
from feeds.errors import RecordError
from feeds.ingest import IngestReport, parse_record
from feeds.parse import RECORD_ID, identifying_url, load_front_matter, record_id_from_url

__all__ = ["ApiHost", "api_routes", "authorize", "to_record_file"]

# An id a client gives: the form a file name holds (feeds.parse.RECORD_ID has both forms).
_FILE_ID = re.compile(r"^[0-9a-f]{16}$")


class ApiHost(Protocol):
    """What the API needs from the server: where seeds live, and ingesting them now."""

    @property
    def seeds_dir(self) -> Path: ...

    @property
    def max_bytes(self) -> int: ...

    @property
    def token(self) -> str: ...

    def ingest_now(self) -> Awaitable[IngestReport]: ...

    def record_file(self, record_id: str) -> str | None: ...

    def feed_urls(self, record_id: str) -> list[str]: ...


def authorize(header: str | None, token: str) -> int | None:
    """None when the bearer token matches; else 401 (none given) or 403 (wrong one).

    https://www.rfc-editor.org/rfc/rfc6750#section-3.1; compared in constant time.
    """
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return 401
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return 403
    return None


def to_record_file(body: bytes, content_type: str) -> bytes:
    """The seeds-format bytes for a posted body: a front-matter document as is, JSON converted."""
    if content_type.split(";")[0].strip().lower() != "application/json":
        return body
    try:
        mapping = json.loads(body)
    except ValueError as exc:
        raise RecordError("request body", "body", f"not valid JSON: {exc}") from None
    except RecursionError:
        raise RecordError("request body", "body", "JSON nested too deeply") from None
    if not isinstance(mapping, dict):
        raise RecordError("request body", "body", "expected a JSON object of record fields")
    mapping.pop("id", None)
    dumped = yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True)
    return ("---\n" + dumped + "---\n").encode()


def _record_id(body: bytes, data: bytes, content_type: str,
               max_bytes: int) -> tuple[str, str | None]:
    """The posted record's stable id: an ``id`` given in JSON (the 16 hex digits of a file
    name), else the one ingest derives from its URL; and, for the latter, the id the API gave
    the same URL before ids derived from URLs had one rule, to find a file it named so.

    ``data`` is ``body`` as a record file (to_record_file), so it has been checked already.
    """
    if content_type.split(";")[0].strip().lower() == "application/json":
        given = json.loads(body).get("id")
        if given is not None:
            if not isinstance(given, str) or not _FILE_ID.match(given):
                raise RecordError("request body", "id", "expected 16 lowercase hex digits")
            return given, None
    url = identifying_url(load_front_matter(data, "request body", max_bytes), "request body")
    return record_id_from_url(url), hashlib.sha256(url.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class _Problem(Exception):
    status: int
    body: dict[str, Any]


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _Problem(413, {"error": f"body over the limit of {limit} bytes"})
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _Problem(413, {"error": f"body over the limit of {limit} bytes"})
        chunks.append(chunk)
    return b"".join(chunks)


def _guard(host: ApiHost, request: Request) -> None:
    if not host.token:
        raise _Problem(404, {"error": "the publishing API is off: set api_token or FEEDS_API_TOKEN"})
    status = authorize(request.headers.get("authorization"), host.token)
    if status == 401:
        raise _Problem(401, {"error": "send Authorization: Bearer <token>"})
    if status == 403:
        raise _Problem(403, {"error": "the bearer token is not valid"})


def api_routes(host: Callable[[], ApiHost]) -> list[Route]:
    """Starlette routes for the publishing API, bound to the server's current host object."""

    async def post_record(request: Request) -> Response:
        api = host()
        try:
            _guard(api, request)
            body = await _read_body(request, api.max_bytes)
            content_type = request.headers.get("content-type", "text/plain")
            data = to_record_file(body, content_type)
            record_id, named_before = _record_id(body, data, content_type, api.max_bytes)
            name = (api.record_file(record_id)
                    or (api.record_file(named_before) if named_before else None)
                    or f"{record_id}.txt")
            record = parse_record(name, data, api.max_bytes)
        except _Problem as problem:
            return JSONResponse(problem.body, status_code=problem.status)
        except RecordError as error:
            return JSONResponse({"error": error.reason, "field": error.field}, status_code=400)
        target = api.seeds_dir / name
        created = not target.exists()
        if created or target.read_bytes() != data:
            write_atomically(target, data)
        report = await api.ingest_now()
        rejected = [e for e in report.errors if e.path == name]
        if rejected:
            return JSONResponse({"error": rejected[0].reason, "field": rejected[0].field},
                                status_code=409)
        payload = {"id": record.id, "file": name, "published": record.published,
                   "feeds": api.feed_urls(record.id)}
        return JSONResponse(payload, status_code=201 if created else 200)

    async def delete_record(request: Request) -> Response:
        api = host()
        try:
            _guard(api, request)
        except _Problem as problem:
            return JSONResponse(problem.body, status_code=problem.status)
        record_id = request.path_params["record_id"]
        name = api.record_file(record_id) if RECORD_ID.match(record_id) else None
        if name is None:
            return JSONResponse({"error": f"no record {record_id}"}, status_code=404)
        target = api.seeds_dir / name
        text = target.read_text(encoding="utf-8")
        updated, count = re.subn(r"(?m)^published:\s*true\s*$", "published: false", text)
        if count:
            write_atomically(target, updated.encode())
            await api.ingest_now()
        return JSONResponse({"id": record_id, "file": name, "published": False})

    return [
        Route("/api/records", post_record, methods=["POST"]),
        Route("/api/records/{record_id}", delete_record, methods=["DELETE"]),
    ]

