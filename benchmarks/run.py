"""The benchmark suite: ingest, builds, memory, the server and the parsing floor, in one table.

``python benchmarks/run.py --records 10000 [--records 100000]`` generates corpora with
``benchmarks/corpus.py``, runs ``feeds`` as a separate process for every measurement (as a user
would), prints the table and writes it to ``docs/BENCHMARKS.md`` with the machine, the command
and the date. Results are kept per corpus size in ``docs/benchmarks/`` so a quick run at 10,000
records leaves the last 100,000-record column in the document.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import hugo  # noqa: E402
from benchmarks.corpus import generate  # noqa: E402
from benchmarks.process import Measured, _tree, rss_kb, run  # noqa: E402
from benchmarks.report import machine, table, write_doc  # noqa: E402
from feeds.ingest import scan_seeds  # noqa: E402

DOC = ROOT / "docs" / "BENCHMARKS.md"
RESULTS = ROOT / "docs" / "benchmarks"
FEED_50 = "feeds/all.atom"  # the site-wide feed's current page: items_per_feed (50) entries
# A feeds command's time limit: a cold build of 1,000,000 records takes a good part of an hour
# on a loaded machine, and a run stopped there would report nothing.
FEEDS_TIMEOUT_S = 6 * 3600
# Disk a build takes per byte of record files. The full build's, measured at 10,000 records
# (34 MB of files) since archive pages have no compressed siblings: the store 145 MB and the
# first tree 424 MB (every archive page in three formats), 17 bytes per byte; 20 leaves room
# for a later tree's own files. (At 100,000 records with the siblings it was 26.) The
# Hugo-equivalent build's: its store (fragments in one format).
FULL_BUILD_DISK_PER_BYTE = 20
SAME_BUILD_DISK_PER_BYTE = 8
# What a run leaves free for the other work on the machine, whatever it measures.
DISK_MARGIN_GB = 5


# -- processes -------------------------------------------------------------------------------

def feeds(*args: str) -> list[str]:
    return [sys.executable, "-m", "feeds", *args, "--quiet"]


def run_feeds(*args: str) -> Measured:
    return run(feeds(*args), timeout=FEEDS_TIMEOUT_S)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def uvicorn(app: str, env: dict[str, str], probe: str, factory: bool = False) -> Iterator[tuple[str, int]]:
    """A uvicorn process with the settings both servers share; yields (base URL, pid)."""
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
               "--workers", "1", "--loop", "uvloop", "--http", "httptools", "--no-access-log",
               "--log-level", "warning"]
    if factory:
        command.append("--factory")
    process = subprocess.Popen(command, env={**os.environ, **env}, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        started(process, app, lambda: urllib.request.urlopen(base + probe, timeout=5).read())
        yield base, process.pid
    finally:
        stop(process)


def started(process: subprocess.Popen[bytes], what: str, probe: Callable[[], object],
            timeout: float = 600) -> None:
    """Return once ``probe()`` raises no OSError or RuntimeError; fail if ``process`` ends first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            probe()
            return
        except (OSError, RuntimeError):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.2)


def stop(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """SIGTERM, and SIGKILL if that has not ended ``process`` within ``timeout`` seconds."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time so far of ``pid`` and its descendants (a server's workers)."""
    ticks = 0
    for member in _tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # ended meanwhile
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def wrk(url: str, seconds: int, connections: int, headers: dict[str, str],
        server_pid: int) -> dict[str, float]:
    """Requests/s, p50/p99 latency (ms) from ``wrk`` (its own process), and the server's CPU
    time per request (µs), which other load on the machine disturbs less than requests/s."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    cpu_before = _cpu_seconds(server_pid)
    text = subprocess.run([*command, url], capture_output=True, text=True, check=True,
                          timeout=seconds + 60).stdout
    cpu = _cpu_seconds(server_pid) - cpu_before
    rate = re.search(r"Requests/sec:\s+([0-9.]+)", text)
    count = re.search(r"([0-9]+) requests in", text)
    if rate is None or count is None or "Non-2xx or 3xx responses" in text:
        raise RuntimeError(f"wrk failed against {url}:\n{text}")

    def percentile(p: str) -> float:
        found = re.search(rf"^\s+{p}%\s+([0-9.]+)(us|ms|s)\s*$", text, re.M)
        if found is None:
            raise RuntimeError(f"wrk printed no {p}% latency:\n{text}")
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]
        return float(found.group(1)) * scale

    return {"rps": float(rate.group(1)), "p50_ms": percentile("50"), "p99_ms": percentile("99"),
            "cpu_us": cpu * 1e6 / max(int(count.group(1)), 1)}


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, b"", dict(exc.headers)


# -- the measurements ------------------------------------------------------------------------

def config(path: Path, seeds: Path, work: Path, **extra: Any) -> Path:
    values = {"seeds_dir": str(seeds), "store_path": str(work / "store.sqlite3"),
              "output_dir": str(work / "output"), "access_log": False, **extra}
    path.write_text(json.dumps(values, indent=1) + "\n", encoding="utf-8")  # JSON is YAML
    return path


def _now() -> str:
    return datetime.now(UTC).strftime("%H:%M:%S")


def disk_free_gb(path: Path) -> float:
    usage = shutil.disk_usage(path)
    return usage.free / 2**30


def fresh(work: Path) -> Path:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    return work


def corpus(n: int, seed: int, root: Path) -> Path:
    seeds = root / f"corpus-{n}-{seed}"
    done = seeds / ".complete"
    if not done.exists():
        shutil.rmtree(seeds, ignore_errors=True)
        print(f"{_now()} generating {n:,} records in {seeds} …", flush=True)
        generate(n, seeds, seed=seed)
        done.write_text("ok\n")
    return seeds


def parse_floor(seeds: Path, sample: int) -> dict[str, float]:
    """Seconds to parse every record's front matter: PyYAML's C loader, and the parser in use.

    Over ``sample`` files the figures come from every k-th file (in name order), scaled to the
    whole corpus: at 1,000,000 records reading every file into memory and parsing it three
    times would take a quarter of an hour and gigabytes, for a per-record cost that a sample of
    100,000 gives as well. ``parse_files`` says how many files were parsed.
    """
    import yaml

    from feeds.parse import YAML_LOADER, load_front_matter, split_front_matter

    names = sorted(scan_seeds(seeds))
    step = -(-len(names) // sample) if len(names) > sample else 1
    texts = []
    for name in names[::step]:
        data = (seeds / name).read_bytes()
        texts.append((name, data, split_front_matter(data.decode("utf-8-sig"), name)))
    start = time.perf_counter()
    for _, _, text in texts:
        yaml.load(text, Loader=yaml.CSafeLoader)
    pyyaml = time.perf_counter() - start
    start = time.perf_counter()
    for _, _, text in texts:
        yaml.load(text, Loader=YAML_LOADER)
    strict = time.perf_counter() - start
    start = time.perf_counter()
    for name, data, _ in texts:
        # Rejected records count too: only the time matters here.
        with contextlib.suppress(Exception):
            load_front_matter(data, name, 10**7)
    in_use = time.perf_counter() - start
    scale = len(names) / max(len(texts), 1)
    return {"pyyaml_c": pyyaml * scale, "pyyaml_strict": strict * scale, "in_use": in_use * scale,
            "files": float(len(texts))}


def edit_one(seeds: Path) -> Path:
    """Change one published record's title, as an editor would; returns the file.

    The file is replaced, not written through: the build's seeds are hard links to the
    pristine corpus, which must stay as generated.
    """
    names = sorted(scan_seeds(seeds))
    for name in names[len(names) // 2:]:
        path = seeds / name
        text = path.read_text(encoding="utf-8")
        if "\npublished: true" in text and "\ntitle: " in text:
            path.unlink()
            path.write_text(text.replace("\ntitle: ", "\ntitle: Updated: ", 1)
                            if '\ntitle: "' not in text
                            else text.replace('\ntitle: "', '\ntitle: "Updated: ', 1), encoding="utf-8")
            return path
    raise RuntimeError(f"{seeds}: no published record to edit")


def measure(n: int, args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    root = Path(args.workdir).resolve()
    pristine = corpus(n, args.seed, root)
    result: dict[str, Any] = {"records": n, "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                              "load_before": os.getloadavg()[0], "machine": machine()}

    # A long run says where it is: each step's start, with the time and the disk left.
    def step(what: str) -> None:
        log(f"[{_now()}, {disk_free_gb(root):.0f} GB free] {what} …")
        # What was measured so far, should the run be stopped.
        (root / f"partial-{n}.json").write_text(json.dumps(result, indent=1, sort_keys=True))

    corpus_bytes = sum(size for size, _ in scan_seeds(pristine).values())

    def room(what: str, per_byte: int) -> bool:
        """Whether the disk holds a build of ``what`` with the margin left, once the last
        build's work is removed; if not, says so."""
        shutil.rmtree(root / f"work-{n}", ignore_errors=True)
        needed = per_byte * corpus_bytes / 2**30
        free = disk_free_gb(root)
        if free - needed >= DISK_MARGIN_GB:
            return True
        result.setdefault("not_run", []).append(
            f"{what}: needs about {needed:.0f} GB of disk, {free:.0f} GB free")
        log(f"not run: {result['not_run'][-1]}")
        return False

    # Ingest: cold (empty store), then again with nothing changed.
    work = fresh(root / f"work-{n}")
    cfg = config(work / "feeds.yaml", pristine, work)
    step("ingest, cold")
    cold = run_feeds("ingest", "--config", str(cfg))
    result["ingest_cold_s"] = cold.seconds
    result["ingest_rps"] = n / cold.seconds
    step("ingest, no-op")
    result["ingest_noop_s"] = run_feeds("ingest", "--config", str(cfg)).seconds
    log(f"ingest cold {cold.seconds:.2f}s, no-op {result['ingest_noop_s']:.2f}s")

    if room("the Hugo-equivalent build", SAME_BUILD_DISK_PER_BYTE):
        # Hugo-equivalent: RSS only, current pages only, nothing compressed, no HTML page per
        # feed (Hugo's build renders none), from nothing.
        work = fresh(root / f"work-{n}")
        cfg = config(work / "feeds.yaml", pristine, work, formats=["rss"], archives=False,
                     precompress=False, feed_pages=False)
        step("Hugo-equivalent build")
        same = run_feeds("build", "--config", str(cfg))
        result["hugo_s"], result["hugo_rss_mb"] = same.seconds, same.peak_rss_mb
        log(f"hugo-equivalent {same.seconds:.2f}s {same.peak_rss_mb:.0f} MB")

    # Hugo itself on the same records, minutes from the feeds builds it is compared with.
    result["hugo"] = reference(pristine, root / f"hugo-{n}-{args.seed}", args, step, log)

    built = room("the full build", FULL_BUILD_DISK_PER_BYTE)
    if built:
        # The full build: cold, then warm, then after an edit, then after 1,000 new records. The
        # seeds are hard links to the corpus (edits replace a file): a copy of 1,000,000 files
        # would take minutes and gigabytes.
        work = fresh(root / f"work-{n}")
        seeds = work / "seeds"
        shutil.copytree(pristine, seeds, ignore=shutil.ignore_patterns(".complete"),
                        copy_function=os.link)
        cfg = config(work / "feeds.yaml", seeds, work)
        step("full build, cold")
        full = run_feeds("build", "--config", str(cfg))
        result["build_cold_s"], result["build_rss_mb"] = full.seconds, full.peak_rss_mb
        result["build_cold_summary"] = full.output.strip().splitlines()[-1]
        step("no-op build")
        warm = run_feeds("build", "--config", str(cfg))
        result["build_noop_s"] = warm.seconds
        log(f"build cold {full.seconds:.2f}s {full.peak_rss_mb:.0f} MB; no-op {warm.seconds:.2f}s")
        # The first edit after a cold build fills a second tree; later ones recycle the tree from
        # two builds back, as every edit in a running newsroom does: the median of three of those.
        step("edits")
        edit_one(seeds)
        first = run_feeds("build", "--config", str(cfg))
        result["build_first_edit_s"] = first.seconds
        edits = []
        for _ in range(3):
            edit_one(seeds)
            edits.append(run_feeds("build", "--config", str(cfg)))
        edited = sorted(edits, key=lambda m: m.seconds)[1]
        result["build_edit_s"], result["build_edit_rss_mb"] = edited.seconds, edited.peak_rss_mb
        extra = root / f"corpus-extra-{n}"
        if not (extra / ".complete").exists():
            shutil.rmtree(extra, ignore_errors=True)
            generate(1000, extra, seed=args.seed + 1_000_003)
            (extra / ".complete").write_text("ok\n")
        for path in extra.glob("*.txt"):
            shutil.copy2(path, seeds / ("x" + path.name))
        step("adding 1,000 records")
        added = run_feeds("build", "--config", str(cfg))
        result["build_add_s"] = added.seconds
        log(f"first edit {first.seconds:.2f}s, edit one {edited.seconds:.2f}s; "
            f"add 1,000 {added.seconds:.2f}s")

    step("parse floor")
    floor = parse_floor(pristine, args.parse_sample)
    result["parse_files"] = int(floor.pop("files"))
    result.update({f"parse_{k}_s": v for k, v in floor.items()})
    log("parse: " + ", ".join(f"{k} {v:.2f}s" for k, v in floor.items())
        + (f" (from {result['parse_files']:,} files, scaled)" if result["parse_files"] < n else ""))

    if built and not args.skip_server:
        step("server")
        result.update(server(cfg, work, args, log))
    if not args.keep_work:
        # The store and the trees: about 60 GB at 1,000,000 records.
        shutil.rmtree(root / f"work-{n}", ignore_errors=True)
    # Other work on the machine slows every figure: the 1-minute load average says how much.
    result["load_after"] = os.getloadavg()[0]
    return result


def reference(seeds: Path, site_dir: Path, args: argparse.Namespace,
              step: Callable[[str], None], log: Callable[[str], None]) -> dict[str, Any]:
    """Hugo's RSS build of the corpus at limit 50 and at -1 (full history); conversion untimed.

    Full history is more work than limit 50: when limit 50 failed (memory, time), so would it.
    """
    step("Hugo site conversion")
    site = hugo.site(seeds, site_dir, progress=log)
    found: dict[str, Any] = {"version": hugo.version(), "pages": site.pages}
    failed = None
    for key, limit in (("limit_50", 50), ("limit_all", -1)):
        step(f"Hugo, limit {limit}")
        timing = (hugo.build(site, limit, args.hugo_runs, args.hugo_max_rss_mb, args.hugo_timeout)
                  if failed is None else hugo.Timing(limit, 0, None, None, failed))
        failed = failed or (timing.failure and f"not run: limit 50 failed ({timing.failure})")
        found[key] = dataclasses.asdict(timing)
        log(f"Hugo, limit {limit}: " + (timing.failure or f"{timing.seconds:.2f}s "
                                        f"{timing.peak_rss_mb:.0f} MB"))
    return found


def server(cfg: Path, work: Path, args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    """Serve the built store; RSS after every document once; wrk against the feed and bare route."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk not found: run `make bench-tools` (apt-get install wrk) as root")
    found: dict[str, Any] = {}
    manifest = json.loads((work / "output" / "manifest.json").read_text())["files"]
    with uvicorn("server:app", {"FEEDS_CONFIG": str(cfg)}, "/" + FEED_50) as (base, pid):
        start = time.perf_counter()
        for path in sorted(manifest):
            status, _, _ = _get(f"{base}/{path}")
            if status != 200:
                raise RuntimeError(f"{base}/{path}: {status}")
        found["serve_all_s"] = time.perf_counter() - start
        found["server_rss_mb"] = rss_kb(pid) / 1024
        found["served_documents"] = len(manifest)
        _, body, headers = _get(f"{base}/{FEED_50}")
        etag = headers["etag"] if "etag" in headers else headers["ETag"]
        entries = body.count(b"<entry>")
        if entries != 50:
            raise RuntimeError(f"{FEED_50} has {entries} entries, expected 50")
        if _get(f"{base}/{FEED_50}", {"If-None-Match": etag})[0] != 304:
            raise RuntimeError(f"{FEED_50}: no 304 for its own ETag")
        found["feed_bytes"] = len(body)
        found["serve_200"] = wrk(f"{base}/{FEED_50}", args.duration, 64, {}, pid)
        found["serve_304"] = wrk(f"{base}/{FEED_50}", args.duration, 64, {"If-None-Match": etag},
                                 pid)
    (work / "body").write_bytes(body)
    with uvicorn("benchmarks.bare_app:create", {"FEEDS_BENCH_BODY": str(work / "body")}, "/bare",
                 factory=True) as (base, pid):
        if _get(f"{base}/bare")[1] != body:
            raise RuntimeError("the bare route does not return the feed's bytes")
        found["bare_200"] = wrk(f"{base}/bare", args.duration, 64, {}, pid)
        found["bare_304"] = wrk(f"{base}/bare", args.duration, 64, {"If-None-Match": '"bare"'}, pid)
    log(f"server RSS {found['server_rss_mb']:.0f} MB; 200 {found['serve_200']['rps']:.0f}/s, "
        f"304 {found['serve_304']['rps']:.0f}/s, bare {found['bare_200']['rps']:.0f}/s")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, action="append", help="corpus size (repeatable)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", default=str(ROOT / "var" / "bench"),
                        help="corpora and build trees (default var/bench)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk measurement")
    parser.add_argument("--skip-server", action="store_true", help="builds only")
    parser.add_argument("--hugo-runs", type=int, default=3,
                        help="Hugo builds timed after its warm-up, the median kept (default 3)")
    parser.add_argument("--hugo-max-rss-mb", type=float, default=8000,
                        help="stop a Hugo build whose memory grows past this (default 8000)")
    parser.add_argument("--hugo-timeout", type=float, default=1800,
                        help="seconds after which a Hugo build is stopped and reported as failed "
                             "(default 1800)")
    parser.add_argument("--parse-sample", type=int, default=100_000,
                        help="parse floor: at most this many files, every k-th, the times scaled "
                             "to the corpus (default 100000)")
    parser.add_argument("--keep-work", action="store_true",
                        help="keep the last build's store and trees (default: removed at the end)")
    parser.add_argument("--no-write", action="store_true", help="print; leave docs/ alone")
    args = parser.parse_args(argv)
    sizes = args.records or [10_000]
    RESULTS.mkdir(parents=True, exist_ok=True)
    for n in sizes:
        print(f"== {n:,} records ({_now()} UTC)", flush=True)
        result = measure(n, args, lambda line: print("  " + line, flush=True))
        if not args.no_write:
            (RESULTS / f"{n}.json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
        else:
            print(json.dumps(result, indent=1, sort_keys=True, default=str))
    results = {int(p.stem): json.loads(p.read_text()) for p in RESULTS.glob("*.json")}
    print(table(results))
    if not args.no_write:
        command = "python benchmarks/run.py " + " ".join(f"--records {n}" for n in sizes)
        write_doc(DOC, results, command)
        print(f"written to {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
