"""A real `feeds serve` on 127.0.0.1 in a subprocess, for tests of live behaviour."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

TOKEN = "test-token-123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def serving(seeds: Path, root: Path, *extra: str, token: str = TOKEN, timeout: float = 20.0,
            more_settings: str = "", listen: str = "config", base_url: str | None = None,
            env: dict[str, str] | None = None, store: str | None = None,
            port: int | None = None,
            ) -> Iterator[tuple[httpx.Client, subprocess.Popen[bytes]]]:
    """Run `python -m feeds serve` until the block ends (or the test kills it).

    ``more_settings`` is more feeds.yaml lines, e.g. ``cache_mb: 16``. ``listen`` says where the
    port and base URL come from: ``config`` (feeds.yaml), ``flags`` (``--host``, ``--port`` and
    ``--base-url``) or ``uvicorn`` (``uvicorn server:app``, the README's other way to serve,
    with feeds.yaml named by $FEEDS_CONFIG). ``env`` is added to the server's environment.
    ``store`` is a store other than ``root/store.sqlite3`` (a postgresql:// URL); with several
    nodes behind one name, give them all that name's ``base_url``. ``port`` is one chosen
    beforehand (a cache in front must know it), else a free one.
    """
    port = port or free_port()
    base_url = base_url or f"http://127.0.0.1:{port}/"
    config = root / "feeds.yaml"
    where = {"config": f"base_url: {base_url}\nport: {port}\n", "flags": "",
             "uvicorn": f"base_url: {base_url}\n"}[listen]
    config.write_text(
        f"seeds_dir: {seeds}\nstore_path: '{store or root / 'store.sqlite3'}'\n{where}access_log: false\n"
        f"api_token: '{token}'\n{more_settings}", encoding="utf-8",
    )
    log = open(root / f"server-{port}.log", "wb")  # noqa: SIM115 - closed in finally
    if listen == "uvicorn":
        command = [sys.executable, "-m", "uvicorn", "server:app", "--host", "127.0.0.1",
                   "--port", str(port), "--no-access-log", *extra]
    else:
        command = [sys.executable, "-m", "feeds", "serve", "--quiet", "--config", str(config), *extra]
        if listen == "flags":
            command += ["--host", "127.0.0.1", "--port", str(port), "--base-url", base_url]
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
        env={**os.environ, "FEEDS_API_TOKEN": "", "FEEDS_CONFIG": str(config), **(env or {})},
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {(root / f'server-{port}.log').read_text()}")
            time.sleep(0.05)
        yield client, process
    finally:
        client.close()
        stop(process)
        log.close()


def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """End a server this test started: SIGTERM, then SIGKILL after ``timeout`` seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(predicate, timeout: float, interval: float = 0.01) -> float:  # type: ignore[no-untyped-def]
    """Seconds until ``predicate()`` held; raises AssertionError after ``timeout``."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not within {timeout} s")
        time.sleep(interval)
    return time.monotonic() - start
