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
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.corpus import generate  # noqa: E402

DOC = ROOT / "docs" / "BENCHMARKS.md"
RESULTS = ROOT / "docs" / "benchmarks"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
FEED_50 = "feeds/all.atom"  # the site-wide feed's current page: items_per_feed (50) entries


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_rss_mb: float
    output: str


# -- processes -------------------------------------------------------------------------------

def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (a build's process pool counts towards its memory)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rpartition(")")[2].split()[1])
            parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(parents.get(current, []))
    return found


def _rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return int(match.group(1)) if match else 0


def run(command: Sequence[str], env: dict[str, str] | None = None, timeout: float = 3600) -> Measured:
    """Run ``command``; wall time and peak RSS (the process, or its whole tree when larger)."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                   env={**os.environ, **(env or {})}, cwd=ROOT)
        peak_tree = 0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            peak_tree = max(peak_tree, sum(_rss_kb(p) for p in _tree(process.pid)))
            if time.perf_counter() - start > timeout:
                process.kill()
            time.sleep(0.02)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read().decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}:\n{output[-3000:]}")
    return Measured(seconds, max(peak_tree, usage.ru_maxrss) / 1024, output)


def feeds(*args: str) -> list[str]:
    return [sys.executable, "-m", "feeds", *args, "--quiet"]


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


def fresh(work: Path) -> Path:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    return work


def corpus(n: int, seed: int, root: Path) -> Path:
    seeds = root / f"corpus-{n}-{seed}"
    done = seeds / ".complete"
    if not done.exists():
        shutil.rmtree(seeds, ignore_errors=True)
        print(f"generating {n:,} records in {seeds} …", flush=True)
        generate(n, seeds, seed=seed)
        done.write_text("ok\n")
    return seeds


def parse_floor(seeds: Path) -> dict[str, float]:
    """Seconds to parse every record's front matter: PyYAML's C loader, and the parser in use."""
    import yaml

    from feeds.parse import YAML_LOADER, load_front_matter, split_front_matter

    texts = []
    for path in sorted(seeds.glob("*.txt")):
        data = path.read_bytes()
        texts.append((path.name, data, split_front_matter(data.decode("utf-8-sig"), path.name)))
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
    return {"pyyaml_c": pyyaml, "pyyaml_strict": strict, "in_use": in_use}


def edit_one(seeds: Path) -> Path:
    """Change one published record's title, as an editor would; returns the file."""
    for path in sorted(seeds.glob("*.txt"))[len(list(seeds.glob("*.txt"))) // 2:]:
        text = path.read_text(encoding="utf-8")
        if "\npublished: true" in text and "\ntitle: " in text:
            path.write_text(text.replace("\ntitle: ", "\ntitle: Updated: ", 1)
                            if '\ntitle: "' not in text
                            else text.replace('\ntitle: "', '\ntitle: "Updated: ', 1), encoding="utf-8")
            return path
    raise RuntimeError(f"{seeds}: no published record to edit")


def measure(n: int, args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    root = Path(args.workdir).resolve()
    pristine = corpus(n, args.seed, root)
    result: dict[str, Any] = {"records": n, "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                              "load_before": os.getloadavg()[0]}

    # Ingest: cold (empty store), then again with nothing changed.
    work = fresh(root / f"work-{n}")
    cfg = config(work / "feeds.yaml", pristine, work)
    cold = run(feeds("ingest", "--config", str(cfg)))
    result["ingest_cold_s"] = cold.seconds
    result["ingest_rps"] = n / cold.seconds
    result["ingest_noop_s"] = run(feeds("ingest", "--config", str(cfg))).seconds
    log(f"ingest cold {cold.seconds:.2f}s, no-op {result['ingest_noop_s']:.2f}s")

    # Hugo-equivalent: RSS only, current pages only, nothing compressed, from nothing.
    work = fresh(root / f"work-{n}")
    cfg = config(work / "feeds.yaml", pristine, work, formats=["rss"], archives=False,
                 precompress=False)
    hugo = run(feeds("build", "--config", str(cfg)))
    result["hugo_s"], result["hugo_rss_mb"] = hugo.seconds, hugo.peak_rss_mb
    log(f"hugo-equivalent {hugo.seconds:.2f}s {hugo.peak_rss_mb:.0f} MB")

    # The full build: cold, then warm, then after an edit, then after 1,000 new records.
    work = fresh(root / f"work-{n}")
    seeds = work / "seeds"
    shutil.copytree(pristine, seeds, ignore=shutil.ignore_patterns(".complete"))
    cfg = config(work / "feeds.yaml", seeds, work)
    full = run(feeds("build", "--config", str(cfg)))
    result["build_cold_s"], result["build_rss_mb"] = full.seconds, full.peak_rss_mb
    result["build_cold_summary"] = full.output.strip().splitlines()[-1]
    warm = run(feeds("build", "--config", str(cfg)))
    result["build_noop_s"] = warm.seconds
    log(f"build cold {full.seconds:.2f}s {full.peak_rss_mb:.0f} MB; no-op {warm.seconds:.2f}s")
    # The first edit after a cold build fills a second tree; later ones recycle the tree from
    # two builds back, as every edit in a running newsroom does: the median of three of those.
    edit_one(seeds)
    first = run(feeds("build", "--config", str(cfg)))
    result["build_first_edit_s"] = first.seconds
    edits = []
    for _ in range(3):
        edit_one(seeds)
        edits.append(run(feeds("build", "--config", str(cfg))))
    edited = sorted(edits, key=lambda m: m.seconds)[1]
    result["build_edit_s"], result["build_edit_rss_mb"] = edited.seconds, edited.peak_rss_mb
    extra = root / f"corpus-extra-{n}"
    if not (extra / ".complete").exists():
        shutil.rmtree(extra, ignore_errors=True)
        generate(1000, extra, seed=args.seed + 1_000_003)
        (extra / ".complete").write_text("ok\n")
    for path in extra.glob("*.txt"):
        shutil.copy2(path, seeds / ("x" + path.name))
    added = run(feeds("build", "--config", str(cfg)))
    result["build_add_s"] = added.seconds
    log(f"first edit {first.seconds:.2f}s, edit one {edited.seconds:.2f}s; "
        f"add 1,000 {added.seconds:.2f}s")

    floor = parse_floor(pristine)
    result.update({f"parse_{k}_s": v for k, v in floor.items()})
    log("parse: " + ", ".join(f"{k} {v:.2f}s" for k, v in floor.items()))

    if not args.skip_server:
        result.update(server(cfg, work, args, log))
    # Other work on the machine slows every figure: the 1-minute load average says how much.
    result["load_after"] = os.getloadavg()[0]
    return result


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
        found["server_rss_mb"] = _rss_kb(pid) / 1024
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


# -- the table -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    measure: str
    reference: str
    value: Callable[[dict[str, Any]], float | None]
    shown: Callable[[float], str]
    targets: dict[int, float]
    higher_is_better: bool = False


def _s(v: float) -> str:
    return f"{v:.2f} s"


def _mb(v: float) -> str:
    return f"{v:.0f} MB"


def _ratio(v: float) -> str:
    return f"{v:.3f}"


def _get_key(*keys: str) -> Callable[[dict[str, Any]], float | None]:
    def value(result: dict[str, Any]) -> float | None:
        current: Any = result
        for key in keys:
            if not isinstance(current, dict) or key not in current:
                return None
            current = current[key]
        return float(current)
    return value


def _over(a: tuple[str, ...], b: tuple[str, ...]) -> Callable[[dict[str, Any]], float | None]:
    def value(result: dict[str, Any]) -> float | None:
        top, bottom = _get_key(*a)(result), _get_key(*b)(result)
        return None if top is None or not bottom else top / bottom
    return value


ROWS = [
    Row("Hugo-equivalent build: RSS only, 50 items, no archives, no compression, from nothing",
        "Hugo 0.111: 1.7 s / 18 s; feedgen naive: 4.9 s / 46 s", _get_key("hugo_s"), _s,
        {10_000: 0.9, 100_000: 9}),
    Row("full cold build: ingest + every feed in every format + archives + precompressed siblings",
        "", _get_key("build_cold_s"), _s, {10_000: 8, 100_000: 60}),
    Row("no-op build (nothing changed)", "", _get_key("build_noop_s"), _s, {10_000: 0.5, 100_000: 3}),
    Row("incremental build after editing one record (median of 3, a running newsroom)", "",
        _get_key("build_edit_s"), _s, {10_000: 0.3, 100_000: 1}),
    Row("the first edit after a cold build (no tree to recycle yet: every file linked)", "",
        _get_key("build_first_edit_s"), _s, {}),
    Row("incremental build after adding 1,000 records", "", _get_key("build_add_s"), _s, {}),
    Row("build peak RSS (full cold build, process tree)", "Hugo: 2.5 GB at 100,000",
        _get_key("build_rss_mb"), _mb, {10_000: 300, 100_000: 1000}),
    Row("server RSS after serving every document once", "", _get_key("server_rss_mb"), _mb,
        {10_000: 150, 100_000: 300}),
    Row("served 200s / bare Starlette 200s, same run, same uvicorn settings",
        "bare Starlette ~23,000/s (uvloop, httptools)", _over(("serve_200", "rps"), ("bare_200", "rps")),
        _ratio, {10_000: 0.8, 100_000: 0.8}, higher_is_better=True),
    Row("served 304s / bare Starlette 200s, same run", "",
        _over(("serve_304", "rps"), ("bare_200", "rps")), _ratio, {10_000: 1.0, 100_000: 1.0},
        higher_is_better=True),
    Row("served 200s / bare 200s by server CPU time per request (less disturbed by other load)",
        "", _over(("bare_200", "cpu_us"), ("serve_200", "cpu_us")), _ratio, {}, higher_is_better=True),
    Row("served 304s / bare 200s by server CPU time per request", "",
        _over(("bare_200", "cpu_us"), ("serve_304", "cpu_us")), _ratio, {}, higher_is_better=True),
    Row("ingest, cold (records/s)", "", _get_key("ingest_rps"), lambda v: f"{v:,.0f}/s", {},
        higher_is_better=True),
    Row("ingest, cold", "", _get_key("ingest_cold_s"), _s, {}),
    Row("ingest, no-op (nothing changed)", "", _get_key("ingest_noop_s"), _s, {}),
    Row("floor: PyYAML C safe loader alone, every record, one core",
        "0.3-0.4 ms/record: ~30 s at 100,000", _get_key("parse_pyyaml_c_s"), _s, {}),
    Row("parser in use alone (feeds.parse.load_front_matter), one core", "",
        _get_key("parse_in_use_s"), _s, {}),
]

SERVER_ROWS = [
    ("feed 200", "serve_200"), ("feed 304", "serve_304"),
    ("bare Starlette 200", "bare_200"), ("bare Starlette 304", "bare_304"),
]


def table(results: dict[int, dict[str, Any]]) -> str:
    sizes = sorted(results)
    head = ["measure", *(f"{n:,} records" for n in sizes), "target", "reference"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in ROWS:
        cells = [row.measure]
        targets = []
        for n in sizes:
            value = row.value(results[n])
            target = row.targets.get(n)
            if value is None:
                cells.append("not measured")
            else:
                met = "" if target is None else (
                    " ✅" if (value >= target if row.higher_is_better else value <= target) else " ❌")
                cells.append(row.shown(value) + met)
            if target is not None:
                targets.append(("≥ " if row.higher_is_better else "≤ ") + row.shown(target))
        cells.append(" / ".join(targets) or "")
        cells.append(row.reference)
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Server detail (wrk -t2 -c64, `--latency`; uvicorn 1 worker, uvloop, httptools, "
              "no access log; both servers in the same run):", ""]
    lines += ["| " + " | ".join(["target", *(f"{n:,} records" for n in sizes)]) + " |",
              "|" + "---|" * (len(sizes) + 1)]
    for label, key in SERVER_ROWS:
        cells = [label]
        for n in sizes:
            got = results[n].get(key)
            cells.append("not measured" if got is None else
                         f"{got['rps']:,.0f}/s, p50 {got['p50_ms']:.2f} ms, p99 {got['p99_ms']:.2f} ms"
                         + (f", server CPU {got['cpu_us']:.1f} µs/request" if "cpu_us" in got else ""))
        lines.append("| " + " | ".join(cells) + " |")
    dates = ", ".join(
        f"{n:,}: {results[n]['date']} (load average {results[n].get('load_before', 0):.1f} before, "
        f"{results[n].get('load_after', 0):.1f} after)" for n in sizes)
    summaries = "; ".join(f"{n:,}: {results[n].get('build_cold_summary', '?')}" for n in sizes)
    lines += ["", f"Measured {dates}. Full build output: {summaries}."]
    return "\n".join(lines)


def machine() -> str:
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as info:
        mem_kb = int(info.readline().split()[1])
    return (f"{os.cpu_count()} cores ({cpu}), {mem_kb / 1024 / 1024:.0f} GiB memory, "
            f"Linux {platform.release()}, Python {platform.python_version()}")


def write_doc(results: dict[int, dict[str, Any]], command: str) -> None:
    block = "\n".join([
        BEGIN,
        f"Machine: {machine()}.",
        "",
        f"Command: `{command}` (`make bench` for 10,000 records, `make bench-full` for 100,000 too).",
        "",
        table(results),
        END,
    ])
    put_block(block, BEGIN, END)


def put_block(block: str, begin: str, end: str) -> None:
    """Write ``block`` (from its ``begin`` marker to its ``end`` marker) into docs/BENCHMARKS.md,
    in place of the block with those markers, or at the end."""
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    if begin in text and end in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text += "\n" + block + "\n"
    DOC.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, action="append", help="corpus size (repeatable)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", default=str(ROOT / "var" / "bench"),
                        help="corpora and build trees (default var/bench)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk measurement")
    parser.add_argument("--skip-server", action="store_true", help="builds only")
    parser.add_argument("--no-write", action="store_true", help="print; leave docs/ alone")
    args = parser.parse_args(argv)
    sizes = args.records or [10_000]
    RESULTS.mkdir(parents=True, exist_ok=True)
    for n in sizes:
        print(f"== {n:,} records", flush=True)
        result = measure(n, args, lambda line: print("  " + line, flush=True))
        if not args.no_write:
            (RESULTS / f"{n}.json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
        else:
            print(json.dumps(result, indent=1, sort_keys=True, default=str))
    results = {int(p.stem): json.loads(p.read_text()) for p in RESULTS.glob("*.json")}
    print(table(results))
    if not args.no_write:
        command = "python benchmarks/run.py " + " ".join(f"--records {n}" for n in sizes)
        write_doc(results, command)
        print(f"written to {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
