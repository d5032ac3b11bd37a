"""Live syndication: seconds from a record file landing to its topic feed's new ETag being served.

Usage: python benchmarks/live_bench.py [--trials 100] [--burst 10000]
Starts `feeds serve` on 127.0.0.1 over a copy of seeds/, drops files, polls, prints a table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
RECORD = """---
title: "Live benchmark {n}"
excerpt: "Measuring the time from a file landing to a new ETag."
publishedDateTime: 2024-06-20T10:00:00Z
webUrl: "https://example.com/live/{tag}/{n}"
published: true

provider:
  name: Example News
  domain: example.com

topics:
  - Live Benchmark {topic}
---
"""


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(work: Path) -> tuple[subprocess.Popen[bytes], httpx.Client]:
    port = _port()
    config = work / "feeds.yaml"
    config.write_text(f"seeds_dir: {work / 'seeds'}\nstore_path: {work / 'store.sqlite3'}\n"
                      f"port: {port}\nbase_url: http://127.0.0.1:{port}/\naccess_log: false\n")
    process = subprocess.Popen([sys.executable, "-m", "feeds", "serve", "--quiet", "--config",
                                str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    for _ in range(600):
        try:
            if client.get("/healthz").status_code == 200:
                return process, client
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def _etag(client: httpx.Client, path: str) -> str | None:
    response = client.get(path, headers={"Accept-Encoding": "identity"})
    return response.headers.get("etag") if response.status_code == 200 else None


def latency(client: httpx.Client, seeds: Path, trials: int) -> list[float]:
    """Each trial adds one record to the same topic and waits for that feed's ETag to change."""
    results = []
    feed = "/feeds/topics/live-benchmark-0.atom"
    for n in range(trials):
        before = _etag(client, feed)
        path = seeds / f"{500000 + n}_{n:016x}.txt"
        temporary = seeds / f".{path.name}.tmp"
        temporary.write_text(RECORD.format(n=n, tag="lat", topic=0))
        start = time.perf_counter()
        os.replace(temporary, path)  # lands atomically, as sync tools do
        while _etag(client, feed) == before:
            if time.perf_counter() - start > 10:
                raise RuntimeError(f"trial {n}: no new ETag after 10 s")
        results.append(time.perf_counter() - start)
    return results


def burst(client: httpx.Client, seeds: Path, count: int) -> tuple[float, int]:
    """Drop ``count`` files at once; seconds until all are published."""
    staging = seeds.parent / "staging"
    staging.mkdir()
    for n in range(count):
        (staging / f"{700000 + n}_{(1 << 40) + n:016x}.txt").write_text(
            RECORD.format(n=n, tag="burst", topic=1 + n % 50))
    published = client.get("/healthz").json()["published"]
    start = time.perf_counter()
    for path in staging.iterdir():
        os.replace(path, seeds / path.name)
    while client.get("/healthz").json()["published"] < published + count:
        if time.perf_counter() - start > 600:
            raise RuntimeError("burst not ingested within 600 s")
        time.sleep(0.05)
    return time.perf_counter() - start, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--burst", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        shutil.copytree(ROOT / "seeds", work / "seeds")
        process, client = _serve(work)
        try:
            times = latency(client, work / "seeds", args.trials)
            seconds, count = burst(client, work / "seeds", args.burst)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
    print("| measure | value |\n|---|---|")
    median = statistics.median(times) * 1000
    print(f"| file landed → new ETag served, median of {len(times)} | {median:.0f} ms |")
    print(f"| file landed → new ETag served, worst of {len(times)} | {max(times) * 1000:.0f} ms |")
    print(f"| burst of {count} files: all published | {seconds:.1f} s ({count / seconds:.0f} records/s) |")


if __name__ == "__main__":
    main()
