"""At the edge: upload to a local S3 API, publish → fresh through Varnish, Varnish beside nginx.

``python benchmarks/edge.py --records 10000`` (run by ``make bench``) uses the corpus of
``benchmarks/run.py``, moto's S3 server, Debian's varnish and nginx, all on 127.0.0.1, and
writes its table to docs/BENCHMARKS.md between its own markers:

- ``feeds build --output s3://…`` of the whole export (cold), then after editing one record:
  objects sent and the upload's seconds (its own summary line);
- publish → fresh: a record POSTed to the publishing API of a ``feeds serve`` behind Varnish
  (purging it), until Varnish serves the all feed with it; median and worst of 50 trials;
- requests/s for the all feed from Varnish's cache beside nginx serving the export (wrk, same run).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.run import FEED_50, config, corpus, edit_one, fresh, machine, run, wrk  # noqa: E402
from feeds.vcl import varnish_vcl  # noqa: E402
from tests.live import TOKEN, free_port, serving  # noqa: E402
from tests.s3server import aws_environment, moto_server  # noqa: E402
from tests.varnish import varnish  # noqa: E402

DOC = ROOT / "docs" / "BENCHMARKS.md"
# Apart from run.py's docs/benchmarks/<records>.json, which it reads back by name.
RESULTS = ROOT / "docs" / "benchmarks" / "edge"
BEGIN, END = "<!-- edge:begin -->", "<!-- edge:end -->"
UPLOAD = re.compile(r"^upload: (\d+) objects at \S+: (\d+) uploaded, (\d+) unchanged, (\d+) deleted "
                    r"in ([0-9.]+) s", re.MULTILINE)
RECORD = """---
title: "Edge trial {n}"
publishedDateTime: {moment}
webUrl: "https://edge.example/{stamp}/{n}"
published: true
provider:
  name: Edge
  domain: edge.example
---
"""


def _upload(cfg: Path, url: str, env: dict[str, str]) -> dict[str, float]:
    measured = run([sys.executable, "-m", "feeds", "build", "--quiet", "--config", str(cfg),
                    "--output", url], env=env)
    found = UPLOAD.search(measured.output)
    if found is None:
        raise RuntimeError(f"no upload summary:\n{measured.output[-2000:]}")
    return {"objects": int(found[1]), "sent": int(found[2]), "deleted": int(found[4]),
            "upload_s": float(found[5]), "build_s": measured.seconds}


def upload(n: int, seeds: Path, work: Path) -> dict[str, Any]:
    """A cold upload of the export to moto, then the upload after one edited record."""
    with moto_server(work / "moto") as endpoint:
        env = aws_environment(endpoint, work)
        import boto3

        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        client.create_bucket(Bucket="bench")
        cfg = config(work / "feeds.yaml", seeds, work)
        cold = _upload(cfg, "s3://bench/site/", env)
        edit_one(seeds)
        edited = _upload(cfg, "s3://bench/site/", env)
    return {"s3_cold": cold, "s3_edit": edited}


def _get(url: str) -> tuple[bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "identity"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read(), {k.lower(): v for k, v in response.headers.items()}


@contextmanager
def _nginx(export: Path, work: Path) -> Iterator[str]:
    """nginx serving the export with docs/nginx.conf on a free port."""
    prefix = work / "nginx"
    prefix.mkdir(parents=True, exist_ok=True)
    port = free_port()
    user = "user root;" if os.geteuid() == 0 else ""
    (prefix / "nginx.conf").write_text(f"""
{user}
worker_processes 1;
pid {prefix}/nginx.pid;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    server {{
        listen 127.0.0.1:{port};
        root {export};
        include {ROOT / "docs" / "nginx.conf"};
    }}
}}
""")
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    process = subprocess.Popen([binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
                                "-e", str(prefix / "error.log"), "-g", "daemon off;"])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _get(url + "/" + FEED_50)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("nginx did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def behind_varnish(seeds: Path, work: Path, trials: int, duration: int) -> dict[str, Any]:
    """Publish → fresh through Varnish, then Varnish's and nginx's requests/s for the all feed."""
    found: dict[str, Any] = {}
    cache_port, origin_port = free_port(), free_port()
    purge = f'purge:\n  - kind: varnish\n    url: "http://127.0.0.1:{cache_port}/"\ncache_mb: 64\n'
    vcl = varnish_vcl(f"127.0.0.1:{origin_port}", ["127.0.0.1"])
    stamp = int(time.time())
    work.mkdir(parents=True, exist_ok=True)
    with varnish(vcl, work / "varnish", cache_port) as cache, \
            serving(seeds, work, "--no-watch", more_settings=purge, port=origin_port,
                    timeout=600) as (origin, process):
        latencies = []
        for n in range(trials):
            _get(f"{cache}/{FEED_50}")
            if _get(f"{cache}/{FEED_50}")[1].get("x-cache") != "HIT":
                raise RuntimeError("the all feed is not cached")
            title = f"Edge trial {n}".encode()
            moment = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
            record = RECORD.format(n=n, moment=moment, stamp=stamp)
            start = time.perf_counter()
            posted = origin.post("/api/records", content=record.encode(),
                                 headers={"Authorization": f"Bearer {TOKEN}"})
            if posted.status_code != 201:
                raise RuntimeError(f"publish failed: {posted.status_code} {posted.text}")
            while title not in _get(f"{cache}/{FEED_50}")[0]:
                if time.perf_counter() - start > 30:
                    raise RuntimeError("not fresh within 30 s")
            latencies.append(time.perf_counter() - start)
        found["fresh_median_s"] = statistics.median(latencies)
        found["fresh_worst_s"] = max(latencies)
        found["fresh_trials"] = trials
        _get(f"{cache}/{FEED_50}")
        found["varnish"] = wrk(f"{cache}/{FEED_50}", duration, 64, {"Accept-Encoding": "gzip"},
                               process.pid)
    return found


def nginx_rate(seeds: Path, work: Path, duration: int) -> dict[str, Any]:
    cfg = config(work / "feeds-nginx.yaml", seeds, work / "static")
    run([sys.executable, "-m", "feeds", "build", "--quiet", "--config", str(cfg)])
    with _nginx((work / "static" / "output").resolve(), work) as url:
        pid = int((work / "nginx" / "nginx.pid").read_text())
        return {"nginx": wrk(f"{url}/{FEED_50}", duration, 64, {"Accept-Encoding": "gzip"}, pid)}


def table(result: dict[str, Any]) -> str:
    cold, edit = result["s3_cold"], result["s3_edit"]
    n = f"{result['records']:,}"
    trials = result["fresh_trials"]
    rows = [
        ("upload to S3 (moto, 16 at a time), cold: objects sent, upload seconds",
         f"{cold['sent']:,} of {cold['objects']:,}, {cold['upload_s']:.1f} s "
         f"(whole build {cold['build_s']:.1f} s)"),
        ("upload after editing one record: objects sent, upload seconds",
         f"{edit['sent']:,} of {edit['objects']:,}, {edit['upload_s']:.2f} s "
         f"(whole build {edit['build_s']:.1f} s)"),
        (f"publish → fresh through Varnish (API POST until Varnish serves it), {trials} trials",
         f"median {result['fresh_median_s'] * 1000:.0f} ms, worst {result['fresh_worst_s'] * 1000:.0f} ms"),
        ("all feed from Varnish's cache (gzip, wrk -t2 -c64)", f"{result['varnish']['rps']:,.0f}/s, "
         f"p50 {result['varnish']['p50_ms']:.2f} ms, p99 {result['varnish']['p99_ms']:.2f} ms"),
        ("all feed from nginx on the export (gzip_static, same run)", f"{result['nginx']['rps']:,.0f}/s, "
         f"p50 {result['nginx']['p50_ms']:.2f} ms, p99 {result['nginx']['p99_ms']:.2f} ms"),
        ("Varnish / nginx requests/s", f"{result['varnish']['rps'] / result['nginx']['rps']:.2f}"),
    ]
    lines = [f"| at the edge | {n} records |", "|---|---|", *(f"| {a} | {b} |" for a, b in rows)]
    lines += ["", f"Measured {result['date']} (load average {result['load_before']:.1f} before, "
              f"{result['load_after']:.1f} after) on {machine()}."]
    return "\n".join(lines)


def write_doc(text: str, command: str) -> None:
    block = "\n".join([BEGIN, f"Command: `{command}` (part of `make bench`).", "", text, END])
    current = DOC.read_text(encoding="utf-8")
    if BEGIN in current and END in current:
        current = current[:current.index(BEGIN)] + block + current[current.index(END) + len(END):]
    else:
        current += "\n## At the edge\n\n" + block + "\n"
    DOC.write_text(current, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", default=str(ROOT / "var" / "bench"))
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk measurement")
    parser.add_argument("--no-write", action="store_true", help="print; leave docs/ alone")
    args = parser.parse_args(argv)
    root = Path(args.workdir).resolve()
    pristine = corpus(args.records, args.seed, root)
    result: dict[str, Any] = {"records": args.records, "load_before": os.getloadavg()[0],
                              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    work = fresh(root / f"edge-{args.records}")
    seeds = work / "seeds"
    shutil.copytree(pristine, seeds, ignore=shutil.ignore_patterns(".complete"))
    with tempfile.TemporaryDirectory(dir=work) as scratch:
        result.update(upload(args.records, seeds, Path(scratch)))
    print(f"upload: cold {result['s3_cold']}, edit {result['s3_edit']}", flush=True)
    result.update(behind_varnish(seeds, work / "serve", args.trials, args.duration))
    result.update(nginx_rate(seeds, work, args.duration))
    result["load_after"] = os.getloadavg()[0]
    text = table(result)
    print(text)
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        saved = json.dumps(result, indent=1, sort_keys=True) + "\n"
        (RESULTS / f"{args.records}.json").write_text(saved)
        write_doc(text, f"python benchmarks/edge.py --records {args.records}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
