"""PostgreSQL beside SQLite, in one run: cold ingest throughput, and requests/s of two nodes.

``python benchmarks/scale_store.py --records 10000`` (part of ``make bench-scale``) starts a
throwaway PostgreSQL cluster on a Unix socket (``tests/pg.py``'s, as the tests do), ingests the
same generated corpus into SQLite and into PostgreSQL with ``feeds ingest`` (a process each,
as a user would run it), then serves the PostgreSQL store from two ``feeds serve --no-ingest``
nodes loaded at once by wrk, beside one node on the SQLite store loaded alone. The table goes
to ``docs/BENCHMARKS.md`` between its own markers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.run import DOC, FEED_50, _free_port, corpus, feeds, fresh, machine, run, wrk  # noqa: E402
from tests.pg import throwaway_cluster  # noqa: E402

BEGIN, END = "<!-- bench-scale-store:begin -->", "<!-- bench-scale-store:end -->"


@contextmanager
def node(seeds: Path, store: str, work: Path, *extra: str) -> Iterator[tuple[str, int]]:
    """A ``feeds serve`` process on a free port; yields (base URL, pid)."""
    port = _free_port()
    cfg = work / f"node-{port}.yaml"
    values = {"seeds_dir": str(seeds), "store_path": store, "access_log": False, "port": port,
              "base_url": "https://feeds.example/"}
    cfg.write_text(json.dumps(values) + "\n", encoding="utf-8")  # JSON is YAML
    process = subprocess.Popen(feeds("serve", "--config", str(cfg), *extra), cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            try:
                urllib.request.urlopen(f"{base}/{FEED_50}", timeout=5).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"feeds serve on {store} did not start") from None
                time.sleep(0.2)
        yield base, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def measure(n: int, seconds: int, work: Path) -> dict[str, Any]:
    seeds = corpus(n, 0, ROOT / "var" / "bench")
    found: dict[str, Any] = {"records": n, "load_before": os.getloadavg()[0]}
    with throwaway_cluster() as server:
        pg_url = server.url(server.new_database())
        sqlite = str(fresh(work) / "store.sqlite3")
        for name, store in (("sqlite", sqlite), ("postgresql", pg_url)):
            took = run(feeds("ingest", "--seeds", str(seeds), "--store", store)).seconds
            found[f"ingest_{name}_s"] = took
            found[f"ingest_{name}_rps"] = n / took
        with node(seeds, sqlite, work) as (base, pid):
            found["one_sqlite_node"] = wrk(f"{base}/{FEED_50}", seconds, 64, {}, pid)["rps"]
        with node(seeds, pg_url, work, "--no-ingest") as first, \
                node(seeds, pg_url, work, "--no-ingest") as second, ThreadPoolExecutor(2) as pool:
            loads = [pool.submit(wrk, f"{base}/{FEED_50}", seconds, 32, {}, pid)
                     for base, pid in (first, second)]
            found["two_pg_nodes"] = sum(load.result()["rps"] for load in loads)
    found["load_after"] = os.getloadavg()[0]
    return found


def table(found: dict[str, Any]) -> str:
    n = found["records"]
    ratio = found["ingest_postgresql_rps"] / found["ingest_sqlite_rps"]
    return "\n".join([
        f"| measure ({n:,} records, same run) | SQLite | PostgreSQL |",
        "|---|---|---|",
        f"| cold ingest (`feeds ingest`) | {found['ingest_sqlite_s']:.2f} s, "
        f"{found['ingest_sqlite_rps']:,.0f}/s | {found['ingest_postgresql_s']:.2f} s, "
        f"{found['ingest_postgresql_rps']:,.0f}/s ({ratio:.2f} of SQLite) |",
        f"| `{FEED_50}` 200s/s, wrk 64 connections | one node: {found['one_sqlite_node']:,.0f}/s "
        f"| two `--no-ingest` nodes, 32 connections each: {found['two_pg_nodes']:,.0f}/s |",
    ])


def write_doc(found: dict[str, Any], command: str) -> None:
    block = "\n".join([
        BEGIN, f"Machine: {machine()}.", "", f"Command: `{command}` (`make bench-scale`).", "",
        table(found), "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC (load average {found['load_before']:.1f} "
        f"before, {found['load_after']:.1f} after). PostgreSQL 15 on a Unix socket, "
        "on the same 2 cores as the nodes and wrk (two nodes there share the cores they would "
        "each have on machines of their own).", END,
    ])
    text = DOC.read_text(encoding="utf-8")
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text += "\n## PostgreSQL beside SQLite\n\n" + block + "\n"
    DOC.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk measurement")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: run `make bench-tools` (apt-get install wrk) as root")
    found = measure(args.records, args.duration, ROOT / "var" / "bench" / "scale-store")
    print(table(found))
    write_doc(found, f"python benchmarks/scale_store.py --records {args.records}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
