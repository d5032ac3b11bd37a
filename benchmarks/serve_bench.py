"""Requests per second for a feed of 50 entries (200 and 304), beside a bare Starlette route.

Each server is uvicorn with the same settings (one worker, uvloop, httptools, no access log),
started as its own process; ``wrk`` (Debian package ``wrk``) loads it from another process with
64 connections. Run ``python benchmarks/serve_bench.py [--duration S]``; prints a table.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

ROOT = Path(__file__).resolve().parent.parent
FEED = "/feeds/all.atom"
BODY_FILE = "FEEDS_BENCH_BODY"


def _bare_app() -> Starlette:
    """One route returning constant bytes (the feed's own, so both move as much data)."""
    body = Path(os.environ[BODY_FILE]).read_bytes()
    etag = '"bare"'

    async def constant(request: Request) -> Response:
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag})
        return Response(body, headers={"ETag": etag}, media_type="application/atom+xml")

    return Starlette(routes=[Route("/bare", constant)])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _uvicorn(app: str, env: dict[str, str], factory: bool = False) -> Iterator[str]:
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
               "--workers", "1", "--loop", "uvloop", "--http", "httptools", "--no-access-log",
               "--log-level", "warning", "--app-dir", str(ROOT)]
    if factory:
        command.append("--factory")
    process = subprocess.Popen(command, env={**os.environ, **env}, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/openapi.json" if not factory else base + "/bare",
                                       timeout=1).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{app} did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wrk(url: str, duration: int, connections: int, headers: dict[str, str]) -> float:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True,
                            timeout=duration + 60).stdout
    found = re.search(r"Requests/sec:\s+([0-9.]+)", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if found is None or errors is not None:
        raise RuntimeError(f"wrk failed against {url}:\n{output}")
    return float(found.group(1))


def _check(url: str, headers: dict[str, str], status: int, size: int | None = None) -> None:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            got, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        got, body = exc.code, b""
    if got != status or (size is not None and len(body) != size):
        raise RuntimeError(f"{url} with {headers}: expected {status}, got {got}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement (10)")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections (64)")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("serve_bench: wrk not found; install it with `apt-get install -y wrk`", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    from benchmarks.corpus import generate
    from feeds.config import Settings
    from feeds.ingest import ingest
    from feeds.store import Store

    rows: list[tuple[str, str, float]] = []
    with tempfile.TemporaryDirectory(prefix="serve-bench-") as tmp:
        work = Path(tmp)
        generate(300, work / "seeds", seed=1)
        settings = Settings(seeds_dir=work / "seeds", store_path=work / "store.sqlite3",
                            items_per_feed=50, archive_page_size=50, access_log=False)
        store = Store.open(settings.store_path)
        ingest(store, settings.seeds_dir, settings.max_record_bytes)
        store.close()
        config = work / "feeds.yaml"
        config.write_text(
            f"seeds_dir: {settings.seeds_dir}\nstore_path: {settings.store_path}\n"
            "items_per_feed: 50\narchive_page_size: 50\naccess_log: false\n", encoding="utf-8")
        with _uvicorn("server:app", {"FEEDS_CONFIG": str(config)}) as base:
            with urllib.request.urlopen(base + FEED, timeout=10) as response:
                body, etag = response.read(), response.headers["ETag"]
            entries = body.count(b"<entry>")
            assert entries == 50, entries
            (work / "body").write_bytes(body)
            _check(base + FEED, {"If-None-Match": etag}, 304)
            rows.append((f"feeds {FEED} (50 entries, {len(body)} bytes)", "200",
                         _wrk(base + FEED, args.duration, args.connections, {})))
            rows.append((f"feeds {FEED}", "304",
                         _wrk(base + FEED, args.duration, args.connections, {"If-None-Match": etag})))
        with _uvicorn("benchmarks.serve_bench:_bare_app", {BODY_FILE: str(work / "body")},
                      factory=True) as base:
            _check(base + "/bare", {}, 200, len(body))
            _check(base + "/bare", {"If-None-Match": '"bare"'}, 304)
            rows.append((f"bare Starlette route ({len(body)} constant bytes)", "200",
                         _wrk(base + "/bare", args.duration, args.connections, {})))
            rows.append(("bare Starlette route", "304",
                         _wrk(base + "/bare", args.duration, args.connections,
                              {"If-None-Match": '"bare"'})))
    print(f"wrk -t2 -c{args.connections} -d{args.duration}s; uvicorn 1 worker, uvloop, httptools, "
          f"no access log; {os.cpu_count()} CPUs")
    print(f"{'target':<58} {'status':>6} {'requests/s':>12}")
    for target, status, rate in rows:
        print(f"{target:<58} {status:>6} {rate:>12,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
