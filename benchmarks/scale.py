"""Many server processes on one machine: requests/s with 1, 2 and 4 `feeds serve` workers beside
nginx serving the export, and how soon a landed file is served by every worker.

``python benchmarks/scale.py [--records 10000]`` (``make bench-scale``) builds the corpus once
(``feeds build``: the store for the servers, the export for nginx), then in one run: wrk with 64
connections against ``/feeds/all.atom`` (a 200, and a 304 for its ETag) for each worker count
and for nginx; then, per worker count, 100 record files dropped into the seeds one at a time,
each timed from the write until every worker's /healthz says it serves the change it made.
The table goes to docs/BENCHMARKS.md between the scale markers, the figures to
docs/benchmarks/scale/<records>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.process import run  # noqa: E402
from benchmarks.report import machine, put_block  # noqa: E402
from benchmarks.run import (  # noqa: E402
    DOC,
    RESULTS,
    _free_port,
    _get,
    config,
    corpus,
    feeds,
    fresh,
    started,
    stop,
    wrk,
)

BEGIN, END = "<!-- scale:begin -->", "<!-- scale:end -->"
FEED = "feeds/all.atom"
WORKER_COUNTS = (1, 2, 4)

RECORD = """---
title: "Landed {n}"
excerpt: "A record timed from the moment its file lands."
publishedDateTime: {published}
webUrl: "https://example.com/landed/{n}"
published: true
provider:
  name: Landing News
  domain: landing.example
---
"""


def _health(base: str) -> dict[str, Any]:
    """/healthz on a new connection (the kernel picks the worker that accepts it)."""
    request = urllib.request.Request(base + "/healthz", headers={"Connection": "close"})
    with urllib.request.urlopen(request, timeout=30) as response:
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def _workers_at(base: str, workers: int, head: int, timeout: float = 120) -> float:
    """The moment (perf_counter) the first process answered at ``head`` or later; returns when
    ``workers`` distinct processes have."""
    start = time.perf_counter()
    current: set[int] = set()
    first = 0.0
    while len(current) < workers:
        answer = _health(base)
        if answer["head"] >= head:
            current.add(answer["pid"])
            first = first or time.perf_counter()
        if time.perf_counter() - start > timeout:
            raise RuntimeError(f"{len(current)} of {workers} workers at change {head} "
                               f"after {timeout} s")
    return first


@contextmanager
def serving(cfg: Path, workers: int) -> Iterator[tuple[str, int]]:
    """`feeds serve --workers N`, every worker up; yields (base URL, pid of the process tree)."""
    port = _free_port()
    process = subprocess.Popen(
        [*feeds("serve", "--config", str(cfg), "--workers", str(workers), "--port", str(port),
                "--base-url", f"http://127.0.0.1:{port}/")],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        started(process, f"feeds serve --workers {workers}",
                lambda: _workers_at(base, workers, 0, timeout=5))
        yield base, process.pid
    finally:
        stop(process, timeout=30)


@contextmanager
def nginx(export: Path) -> Iterator[tuple[str, int]]:
    """nginx (worker_processes auto) serving the export with docs/nginx.conf; yields (URL, pid)."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(binary, os.X_OK):
        raise RuntimeError("nginx not found: apt-get install nginx")
    prefix = export.parent / "nginx"
    fresh(prefix)
    port = _free_port()
    temp_paths = "\n".join(f"    {kind}_temp_path {prefix}/{kind};"
                           for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (prefix / "nginx.conf").write_text(f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes auto;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;  # as Debian's /etc/nginx/nginx.conf has it
{temp_paths}
    server {{
        listen 127.0.0.1:{port};
        root {export.resolve()};
        include {ROOT / "docs" / "nginx.conf"};
    }}
}}
""")
    process = subprocess.Popen([binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
                                "-e", str(prefix / "error.log"), "-g", "daemon off;"])
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while _get_or_none(base + "/" + FEED) is None:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not start: {(prefix / 'error.log').read_text()}")
            time.sleep(0.1)
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def _get_or_none(url: str) -> int | None:
    try:
        return _get(url)[0]
    except OSError:
        return None


def throughput(base: str, pid: int, seconds: int) -> dict[str, Any]:
    status, body, headers = _get(f"{base}/{FEED}")
    etag = headers.get("etag") or headers.get("ETag")
    if status != 200 or etag is None:
        raise RuntimeError(f"{base}/{FEED}: {status}, ETag {etag}")
    if _get(f"{base}/{FEED}", {"If-None-Match": etag})[0] != 304:
        raise RuntimeError(f"{base}/{FEED}: no 304 for its own ETag")
    return {"bytes": len(body),
            "200": wrk(f"{base}/{FEED}", seconds, 64, {}, pid),
            "304": wrk(f"{base}/{FEED}", seconds, 64, {"If-None-Match": etag}, pid)}


def landing(base: str, seeds: Path, workers: int, trials: int, first: int) -> dict[str, float]:
    """Seconds from writing a record file until every worker serves the change it made."""
    times, firsts = [], []
    for n in range(first, first + trials):
        head = _health(base)["head"]
        before = _get(f"{base}/{FEED}")[2].get("etag")
        path = seeds / f"zz{n:06d}_{n:016x}.txt"
        temporary = seeds / f".{path.name}.tmp"
        # The newest entry (a future date would be refused), so the feed's current page changes.
        published = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        temporary.write_text(RECORD.format(n=n, published=published), encoding="utf-8")
        start = time.perf_counter()
        os.replace(temporary, path)  # lands whole, as a sync tool or the API writes it
        firsts.append(_workers_at(base, workers, head + 1) - start)
        times.append(time.perf_counter() - start)
        if _get(f"{base}/{FEED}")[2].get("etag") == before:
            raise RuntimeError(f"{FEED}: the same ETag after record {n} landed")
    # The first process to answer with the change is usually the one that ingested it.
    return {"median_s": statistics.median(times), "worst_s": max(times), "trials": trials,
            "first_median_s": statistics.median(firsts)}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    root = Path(args.workdir).resolve()
    pristine = corpus(args.records, args.seed, root)
    work = fresh(root / f"scale-{args.records}")
    seeds = work / "seeds"
    shutil.copytree(pristine, seeds, ignore=shutil.ignore_patterns(".complete"))
    cfg = config(work / "feeds.yaml", seeds, work)
    run(feeds("build", "--config", str(cfg)), cwd=ROOT)
    result: dict[str, Any] = {"records": args.records, "load_before": os.getloadavg()[0],
                              "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                              "seconds": args.duration}
    with nginx(work / "output") as (base, pid):
        result["nginx"] = throughput(base, pid, args.duration)
    print(f"  nginx: 200 {result['nginx']['200']['rps']:,.0f}/s, "
          f"304 {result['nginx']['304']['rps']:,.0f}/s", flush=True)
    landed = 0
    for workers in WORKER_COUNTS:
        with serving(cfg, workers) as (base, pid):
            found = throughput(base, pid, args.duration)
            found["landing"] = landing(base, seeds, workers, args.trials, landed)
            landed += args.trials
        result[f"workers_{workers}"] = found
        print(f"  {workers} worker(s): 200 {found['200']['rps']:,.0f}/s, "
              f"304 {found['304']['rps']:,.0f}/s, landed → every worker: median "
              f"{found['landing']['median_s'] * 1000:.0f} ms, worst "
              f"{found['landing']['worst_s'] * 1000:.0f} ms", flush=True)
    result["load_after"] = os.getloadavg()[0]
    return result


def table(result: dict[str, Any]) -> str:
    def rate(found: dict[str, Any]) -> str:
        return (f"{found['rps']:,.0f}/s (p99 {found['p99_ms']:.1f} ms, "
                f"{found['cpu_us']:.0f} µs CPU/request)")

    lines = ["| server | 200 | 304 | file landed → served by every worker: median / worst "
             "| … by the first: median |", "|---|---|---|---|---|"]
    for workers in WORKER_COUNTS:
        found = result[f"workers_{workers}"]
        land = found["landing"]
        lines.append(f"| `feeds serve --workers {workers}` | {rate(found['200'])} | "
                     f"{rate(found['304'])} | {land['median_s'] * 1000:.0f} ms / "
                     f"{land['worst_s'] * 1000:.0f} ms ({land['trials']} trials) | "
                     f"{land['first_median_s'] * 1000:.0f} ms |")
    lines.append(f"| nginx (`worker_processes auto`), the export | {rate(result['nginx']['200'])} | "
                 f"{rate(result['nginx']['304'])} | | |")
    return "\n".join(lines)


def write_doc(result: dict[str, Any], command: str) -> None:
    block = "\n".join([
        BEGIN,
        f"Machine: {machine()}. Command: `{command}` (`make bench-scale`).",
        "",
        f"{result['records']:,} records; `/{FEED}` ({result['nginx']['bytes']:,} bytes from nginx, "
        f"uncompressed); wrk -t2 -c64, {result['seconds']} s per figure; wrk, the servers and "
        f"the landing probe share the machine.",
        "",
        table(result),
        "",
        f"Measured {result['date']} (load average {result['load_before']:.1f} before, "
        f"{result['load_after']:.1f} after).",
        END,
    ])
    put_block(DOC, block, BEGIN, END)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", default=str(ROOT / "var" / "bench"))
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk figure")
    parser.add_argument("--trials", type=int, default=100, help="files landed per worker count")
    parser.add_argument("--no-write", action="store_true", help="print; leave docs/ alone")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: run `make bench-tools` (apt-get install wrk) as root")
    print(f"== scale: {args.records:,} records", flush=True)
    result = measure(args)
    print(table(result))
    if not args.no_write:
        saved = RESULTS / "scale" / f"{args.records}.json"
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
        write_doc(result, f"python benchmarks/scale.py --records {args.records}")
        print(f"written to {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
