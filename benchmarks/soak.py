"""Soak test: 256 concurrent connections against `feeds serve` on 127.0.0.1 while records land.

    python benchmarks/soak.py [--duration 60] [--connections 256] [--records 2000]   (or `make soak`)

Passes when there are no 5xx responses, no transport errors, no malformed documents among the
sampled responses, and the server's RSS at the end is within 10% of its RSS after warm-up.
Prints the figures; exits 1 when a criterion fails. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.corpus import generate  # noqa: E402
from tests.live import serving  # noqa: E402
from tests.wellformed import document_problems  # noqa: E402

SAMPLE_EVERY = 25  # parse one response in this many
WARM_UP_SHARE = 0.2


def _rss_kib(pid: int) -> int:
    match = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) if match else 0


def _targets(client: httpx.Client) -> list[str]:
    """Every feed's documents and page, from the OPML, plus the site pages and a few archives."""
    opml = client.get("/feeds.opml").text
    base = str(client.base_url).rstrip("/")
    feeds = [url.removeprefix(base) for url in re.findall(r'xmlUrl="([^"]+)"', opml)]
    paths = ["/", "/all/", "/feeds.opml", "/feeds/all/archive/1.atom", "/feeds/all/archive/2.json"]
    for atom in feeds:
        stem = atom.removesuffix(".atom")
        paths += [atom, stem + ".rss", stem + ".json", stem.replace("/feeds/", "/", 1) + "/"]
    return paths


async def _load(base_url: str, paths: list[str], seconds: float, connections: int) -> dict[str, Any]:
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    problems: list[str] = []
    transport: Counter[str] = Counter()
    etags: dict[str, str] = {}
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:

        async def worker(seed: int) -> None:
            rng = random.Random(seed)
            count = 0
            while time.monotonic() < deadline:
                path = rng.choice(paths)
                headers = {"Accept-Encoding": rng.choice(["gzip", "br", "identity", "br;q=abc, *;q=-1"])}
                if path in etags and rng.random() < 0.3:
                    headers["If-None-Match"] = etags[path]
                try:
                    response = await client.get(path, headers=headers)
                except httpx.HTTPError as exc:
                    transport[type(exc).__name__] += 1
                    continue
                statuses[response.status_code] += 1
                count += 1
                if response.status_code >= 500:
                    failures.append(f"{response.status_code} {path}")
                if response.status_code == 200:
                    etags[path] = response.headers.get("etag", "")
                    if count % SAMPLE_EVERY == 0:
                        problems.extend(document_problems(path, response.content))

        await asyncio.gather(*(worker(n) for n in range(connections)))
    return {"statuses": dict(statuses), "failures": failures[:20], "problems": problems[:20],
            "problem_count": len(problems), "transport": dict(transport),
            "sampled": sum(statuses.values()) // SAMPLE_EVERY}


def _load_process(base_url: str, paths: list[str], seconds: float, connections: int,
                  out: multiprocessing.Queue[dict[str, Any]]) -> None:
    out.put(asyncio.run(_load(base_url, paths, seconds, connections)))


def _publish_continuously(seeds: Path, stop: threading.Event, interval: float) -> list[int]:
    """Write new records into the seeds directory until ``stop``; returns [files written]."""
    written = [0]

    def run() -> None:
        n = 0
        while not stop.wait(interval):
            batch = Path(tempfile.mkdtemp(dir=seeds.parent))
            generate(3, batch, seed=10_000 + n)
            for path in batch.glob("*.txt"):
                # Fresh names and URLs, so every file is a new record.
                text = path.read_text(encoding="utf-8").replace("https://", f"https://soak{n}.", 1)
                target = seeds / f"soak{n:05d}_{path.name}"
                temporary = seeds / f".{target.name}.tmp"
                temporary.write_text(text, encoding="utf-8")
                os.replace(temporary, target)
                written[0] += 1
            n += 1

    threading.Thread(target=run, daemon=True).start()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--connections", type=int, default=256)
    parser.add_argument("--records", type=int, default=2000, help="records in the starting corpus")
    parser.add_argument("--cache-mb", type=int, default=8, help="the server's cache_mb setting")
    parser.add_argument("--ingest-interval", type=float, default=0.5,
                        help="seconds between batches of new records")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="feeds-soak-") as tmp:
        root = Path(tmp)
        seeds = root / "seeds"
        generate(args.records, seeds, seed=1)
        # A cache small enough to fill during warm-up: after that, memory must stay flat.
        extra = f"cache_mb: {args.cache_mb}\n"
        with serving(seeds, root, timeout=120, more_settings=extra) as (client, process):
            paths = _targets(client)
            stop = threading.Event()
            written = _publish_continuously(seeds, stop, args.ingest_interval)
            results: multiprocessing.Queue[dict[str, Any]] = multiprocessing.Queue()
            loader = multiprocessing.Process(
                target=_load_process,
                args=(str(client.base_url), paths, args.duration, args.connections, results))
            started = time.monotonic()
            loader.start()
            samples: list[tuple[float, int]] = []
            while loader.is_alive() and time.monotonic() - started < args.duration + 60:
                samples.append((time.monotonic() - started, _rss_kib(process.pid)))
                time.sleep(1)
                if not results.empty():
                    break
            figures = results.get(timeout=60)
            loader.join(10)
            stop.set()
            elapsed = time.monotonic() - started
            health = client.get("/healthz").json()
    warm_at = args.duration * WARM_UP_SHARE
    warm = next((rss for t, rss in samples if t >= warm_at), samples[-1][1])
    end = samples[-1][1]
    total = sum(figures["statuses"].values())
    server_errors = sum(n for status, n in figures["statuses"].items() if status >= 500)
    growth = (end - warm) / warm * 100
    print(f"soak: {args.connections} connections for {args.duration:.0f} s over {len(paths)} documents")
    print(f"requests: {total:,} ({total / elapsed:,.0f}/s); statuses: {figures['statuses']}")
    print(f"5xx: {server_errors}; transport errors: {figures['transport'] or 0}")
    print(f"sampled and parsed: {figures['sampled']:,}; malformed: {figures['problem_count']}")
    print(f"records written during the run: {written[0]}; store now: {health}")
    print(f"server RSS: after warm-up ({warm_at:.0f} s) {warm / 1024:.1f} MiB, end {end / 1024:.1f} MiB "
          f"({growth:+.1f}%), max {max(rss for _, rss in samples) / 1024:.1f} MiB")
    for line in figures["failures"] + figures["problems"]:
        print(f"  {line}")
    ok = (server_errors == 0 and not figures["transport"] and figures["problem_count"] == 0
          and growth <= 10.0 and total > 0)
    print("soak: PASS" if ok else "soak: FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
