"""Hostile requests: traversal, absurd paths and headers, unknown methods, malformed conditionals
and codings, broken API bodies. Each gets a clean 4xx (or the normal response), never a 5xx or a
file outside the served set; raw ones go over a socket to a real server."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from feeds.app import create_app
from feeds.config import Settings
from tests.live import TOKEN, serving

# Bytes that would show a file outside the served set had been read.
OUTSIDE = (b"[build-system]", b"root:x:0", b"SQLite format", b"secured:", b"import ", b"[core]")

TRAVERSALS = [
    "/feeds/../pyproject.toml", "/feeds/..%2fpyproject.toml", "/feeds/%2e%2e/pyproject.toml",
    "/%2e%2e/%2e%2e/etc/passwd", "/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/..%5c..%5cetc%5cpasswd",
    "/feeds\\..\\..\\pyproject.toml", "/feeds/%00.atom", "/feeds/all.atom%00.html",
    "/feeds/all.atom%00", "/static/../../feeds/app.py", "//etc/passwd", "/feeds/all.atom/..",
    "/.git/config", "/seeds/000_db6714534f1f249c.txt", "/var/store.sqlite3", "/../../../etc/passwd",
    "/feeds/topics/..%252f..%252fpyproject.toml", "/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
    "/feeds/all.atom;/../../pyproject.toml", "/templates/base.html", "/static/site.js",
    "/feeds/" + "a" * 5000 + ".atom", "/feeds/topics/" + "%ff" * 300 + ".atom",
    "/feeds/all.atom?limit=" + "9" * 1000, "/feeds/all.atom?" + "&" * 5000,
    "/?%ff%fe=%00&limit=%00", "/feeds/all.atom?limit=1&limit=2", "/feeds/all.atom?limit=-1",
    "/feeds/all/archive/" + "9" * 40 + ".atom", "/feeds/all/archive/0.atom",
    "/feeds/all/archive/-1.atom", "/feeds/all/archive/01.atom", "/feeds/ALL.ATOM",
    "/feeds/all.atom/", "/topics/../index.html", "/index.html?limit=5",
]


def _raw(port: int, request: bytes, timeout: float = 10.0) -> tuple[int | None, bytes]:
    """Send raw bytes; the status code (None if the server closed without one) and the response.

    Every request says ``Connection: close``, so the server must answer and close, or close: a
    connection still open after ``timeout`` is a hung server, and fails the test.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass  # closed, abruptly: an answer too
        except TimeoutError:
            raise AssertionError(f"the server hung: neither answered nor closed within {timeout} s "
                                 f"(got {b''.join(chunks)[:200]!r})") from None
    response = b"".join(chunks)
    if not response.startswith(b"HTTP/1."):
        return None, response
    return int(response.split(b" ", 2)[1]), response


def _get(port: int, target: bytes, headers: bytes = b"", method: bytes = b"GET") -> tuple[int | None, bytes]:
    return _raw(port, method + b" " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers
                + b"Connection: close\r\n\r\n")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    root = tmp_path_factory.mktemp("hostile-requests")
    seeds = root / "seeds"
    seeds.mkdir()
    for path in (Path(__file__).resolve().parent.parent / "seeds").glob("*.txt"):
        (seeds / path.name).write_bytes(path.read_bytes())
    with serving(seeds, root, "--no-watch") as (client, _process):
        yield int(client.base_url.port or 0)


@pytest.mark.parametrize("target", TRAVERSALS)
def test_hostile_paths_get_4xx_or_a_served_document_never_outside_files(server: int, target: str) -> None:
    status, response = _get(server, target.encode())
    assert status is not None and status < 500, (target, response[:300])
    body = response.partition(b"\r\n\r\n")[2]
    assert not any(marker in body for marker in OUTSIDE), target
    if status == 200:  # only documents of the served set, e.g. /static/site.js is not one
        assert target.split("?")[0] in ("/feeds/all.atom", "/", "/index.html"), target


@pytest.mark.parametrize("target", [b"/feeds/\x00.atom", b"/feeds\\..\\pyproject.toml",
                                    b"/\xff\xfe", b"/f\xc3\xa9eds/all.atom", b"*",
                                    b"http://evil.example/feeds/all.atom", b"/feeds/all.atom#frag",
                                    b"/feeds/all.atom\t", b"feeds/all.atom"])
def test_hostile_raw_request_targets_never_5xx(server: int, target: bytes) -> None:
    status, response = _get(server, target)
    assert status is None or status < 500, (target, response[:300])
    assert not any(marker in response for marker in OUTSIDE), target


@pytest.mark.parametrize("method", [b"FOO", b"PROPFIND", b"TRACE", b"OPTIONS", b"PUT", b"DELETE",
                                    b"PATCH", b"CONNECT", b"POST", b"G\x00T", b"get"])
def test_hostile_unknown_methods_get_4xx(server: int, method: bytes) -> None:
    status, response = _get(server, b"/feeds/all.atom", method=method)
    assert status is None or 400 <= status < 500, (method, response[:300])


@pytest.mark.parametrize("headers", [
    b"If-Modified-Since: garbage\r\n",
    b"If-Modified-Since: Tue, 99 Foo 99999 99:99:99 GMT\r\n",
    b"If-Modified-Since: \r\n",
    b"If-None-Match: \"\r\n", b"If-None-Match: W/\r\n", b"If-None-Match: ,,,,\r\n",
    b"If-None-Match: *\r\n",
    b"Accept-Encoding: br;q=abc, *;q=-1\r\n", b"Accept-Encoding: gzip;q=nan, br;q=inf\r\n",
    b"Accept-Encoding: ;;;,,,=\r\n", b"Accept-Encoding: " + b"gzip, " * 2000 + b"\r\n",
    b"Accept: \x01\x02/\x03\r\n", b"Accept: text/html;q=2;q=-5, */*;level=\r\n",
    b"Range: bytes=garbage\r\n", b"Range: bytes=0-0,-1\r\n",
    b"Content-Length: -5\r\n", b"Transfer-Encoding: chunked, gzip\r\n",
    b"X-Huge: " + b"a" * 65536 + b"\r\n",
    b"".join(b"X-Many-%d: v\r\n" % n for n in range(500)),
    b"Cookie: " + b"c=" * 20000 + b"\r\n",
])
def test_hostile_headers_get_4xx_or_the_normal_response(server: int, headers: bytes) -> None:
    status, response = _get(server, b"/feeds/all.atom", headers)
    assert status is None or status < 500, (headers[:60], response[:300])
    if status == 200:
        assert b"<feed" in response or b"content-encoding:" in response.lower()


def test_hostile_server_still_serves_after_everything(server: int) -> None:
    status, response = _get(server, b"/healthz")
    assert status == 200 and b'"status":"ok"' in response


def test_hostile_huge_request_line_is_refused_cleanly(server: int) -> None:
    status, response = _get(server, b"/" + b"a" * 200_000)
    assert status is None or 400 <= status < 500, response[:300]


# -- in process: the API's bodies, and paths the test client would otherwise normalise ------------


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(**{**settings.__dict__, "api_token": TOKEN}))) as test_client:
        yield test_client


AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON = {**AUTH, "Content-Type": "application/json"}


@pytest.mark.parametrize(("body", "headers"), [
    (b"[1, 2]", JSON), (b"not json", JSON), (b'"a string"', JSON), (b'{"id": 5}', JSON),
    (b'{"id": "../../etc/passwd"}', JSON), (b"[" * 100_000 + b"]" * 100_000, JSON),
    (b'{"title": "\\ud800", "webUrl": "https://e.com/x"}', JSON), (b"\xff\xfe\x00", JSON),
    (b"\xff\xfe\x00", AUTH), (b"", AUTH), (b"---\n!!python/object/apply:os.system [id]\n---\n", AUTH),
    (b"---\n" + b"[" * 50_000 + b"\n---\n", AUTH),
])
def test_hostile_api_bodies_get_4xx(client: TestClient, body: bytes, headers: dict[str, str]) -> None:
    response = client.post("/api/records", content=body, headers=headers)
    assert 400 <= response.status_code < 500, (body[:40], response.text[:300])
    assert "field" in response.json() or "error" in response.json()


@pytest.mark.parametrize("record_id", ["..%2f..%2fetc%2fpasswd", "%00", "A" * 5000, "0123456789abcdeg"])
def test_hostile_api_delete_ids_get_4xx(client: TestClient, record_id: str) -> None:
    response = client.delete(f"/api/records/{record_id}", headers=AUTH)
    assert 400 <= response.status_code < 500


def test_hostile_api_wrong_tokens_get_401_or_403(client: TestClient) -> None:
    for header in ("Bearer", "Bearer ", "Basic Zm9vOmJhcg==", "Bearer " + "x" * 10_000,
                   "bearer  " + TOKEN[:-1]):
        response = client.post("/api/records", content=b"x", headers={"Authorization": header})
        assert response.status_code in (401, 403), header
