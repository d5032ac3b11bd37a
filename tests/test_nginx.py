"""A real static server: nginx serving the export with docs/nginx.conf answers as `feeds serve` does."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from feeds.app import create_app
from feeds.config import Settings
from feeds.export import read_manifest
from feeds.hosting import url_paths
from tests.conftest import ROOT, build, require

# nginx's own, on every response: about the connection, not the document.
TRANSPORT = frozenset(("date", "server", "connection", "accept-ranges"))
# Validators nginx derives from each file's mtime and size (docs/nginx.conf says so): sound, but
# not the server's hash-based ETag or newest-entry date. Both must be there; values differ.
OWN_VALIDATORS = frozenset(("etag", "last-modified"))


def _nginx() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None)
    require("nginx", found is not None, "the export is not checked against a real static server")
    assert found is not None
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def nginx_url(tmp_path: Path, archived_output: Path) -> Iterator[str]:
    """nginx on 127.0.0.1 serving the export with docs/nginx.conf; stopped afterwards."""
    binary = _nginx()
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    port = _free_port()
    # Workers started by root default to `nobody`, who cannot enter pytest's private tmp dirs.
    user = "user root;" if os.geteuid() == 0 else ""
    temp_paths = "\n".join(f"    {kind}_temp_path {prefix}/{kind};"
                           for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (prefix / "nginx.conf").write_text(f"""
{user}
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
{temp_paths}
    server {{
        listen 127.0.0.1:{port};
        root {archived_output};
        include {ROOT / "docs" / "nginx.conf"};
    }}
}}
""")
    process = subprocess.Popen(
        [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log"),
         "-g", "daemon off;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(url + "/", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    errors = process.stderr.read().decode() if process.stderr else ""
                    pytest.fail(f"nginx did not start: {errors}")
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()


@pytest.fixture
def archived(settings: Settings) -> Settings:
    return dataclasses.replace(settings, items_per_feed=2, archive_page_size=2)


@pytest.fixture
def archived_output(archived: Settings) -> Path:
    return build(archived)


async def _from_app(settings: Settings, requests: list[tuple[str, str]]) -> list[httpx.Response]:
    """The Starlette app's answers, in process (starlette's TestClient wants another httpx)."""
    app = create_app(settings, ingest_on_start=False)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://feeds.test") as client:
            return [await client.get(url, headers={"Accept-Encoding": coding})
                    for url, coding in requests]
    finally:
        app.state.publisher.store.close()


def test_nginx_serves_every_document_with_the_servers_bytes_and_headers(
        nginx_url: str, archived: Settings, archived_output: Path) -> None:
    files = read_manifest(archived_output)
    paths = sorted(files)
    assert any("/archive/" in p for p in paths)
    requests = [(path, url, coding) for path in paths for url in url_paths(path)
                for coding in ("identity", "gzip")]
    answers = asyncio.run(_from_app(archived, [(url, coding) for _, url, coding in requests]))
    with httpx.Client(base_url=nginx_url) as static:
        for (path, url, coding), expected in zip(requests, answers, strict=True):
            got = static.get(url, headers={"Accept-Encoding": coding})
            if expected.headers.get("content-encoding") == "gzip" and "gzip" not in files[path]["encoded"]:
                # No sibling (an archive page): nginx compresses as it sends, so the length
                # is not known up front. The bytes and every other header are the server's.
                assert got.headers.pop("transfer-encoding") == "chunked", url
                del expected.headers["content-length"]
            assert (got.status_code, expected.status_code) == (200, 200), url
            assert got.content == expected.content, (url, coding)
            served = {k: v for k, v in expected.headers.items() if k not in OWN_VALIDATORS}
            static_headers = {k: v for k, v in got.headers.items()
                              if k not in TRANSPORT | OWN_VALIDATORS}
            if "vary" in served:
                # Only the server varies feeds by Accept (browsers get application/xml);
                # a static host answers every Accept alike.
                served["vary"] = served["vary"].replace("Accept, ", "")
            assert static_headers == served, (url, coding)
            assert OWN_VALIDATORS & expected.headers.keys() <= got.headers.keys(), (url, coding)


def test_nginx_marks_only_full_archive_pages_immutable(nginx_url: str) -> None:
    full = httpx.get(nginx_url + "/feeds/all/archive/1.atom")
    partial = httpx.get(nginx_url + "/feeds/all/archive/3.atom")
    assert full.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert partial.headers["cache-control"] == "public, max-age=300, stale-while-revalidate=60"
    assert httpx.get(nginx_url + "/.immutable/feeds/all/archive/1.atom").status_code == 404


def test_nginx_gzips_archive_pages_the_export_leaves_uncompressed(
        nginx_url: str, archived_output: Path) -> None:
    archive = "feeds/all/archive/1.atom"
    assert read_manifest(archived_output)[archive]["encoded"] == {}
    assert not (archived_output / (archive + ".gz")).exists()
    got = httpx.get(f"{nginx_url}/{archive}", headers={"Accept-Encoding": "gzip"})
    assert got.headers["content-encoding"] == "gzip"
    assert got.content == (archived_output / archive).read_bytes()
