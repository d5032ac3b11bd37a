"""The benchmark table: every measure per corpus size, its target, and its ratio to Hugo.

``benchmarks/run.py`` measures; this module only formats the stored results (one dict per
corpus size, as kept in ``docs/benchmarks/``) and writes them into ``docs/BENCHMARKS.md``.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
Result = dict[str, Any]


@dataclass(frozen=True)
class Row:
    measure: str
    reference: str
    value: Callable[[Result], float | None]
    shown: Callable[[float], str]
    targets: dict[int, float]
    higher_is_better: bool = False
    # Hugo's build in the same run ("limit_50" or "limit_all") and which of its figures
    # ("seconds" or "peak_rss_mb") the value is divided by.
    hugo: tuple[str, str] | None = None
    # Issue 15's build targets are ratios to Hugo: a machine's load moves both sides alike.
    target_is_ratio: bool = False


def _s(v: float) -> str:
    return f"{v:.2f} s"


def _mb(v: float) -> str:
    return f"{v:.0f} MB"


def _ratio(v: float) -> str:
    return f"{v:.3f}"


def _times(v: float) -> str:
    return f"{v:.1f}x"


def _get_key(*keys: str) -> Callable[[Result], float | None]:
    def value(result: Result) -> float | None:
        current: Any = result
        for key in keys:
            if not isinstance(current, dict) or key not in current or current[key] is None:
                return None
            current = current[key]
        return float(current)
    return value


def _over(a: tuple[str, ...], b: tuple[str, ...]) -> Callable[[Result], float | None]:
    def value(result: Result) -> float | None:
        top, bottom = _get_key(*a)(result), _get_key(*b)(result)
        return None if top is None or not bottom else top / bottom
    return value


# Hugo has no incremental build: an edit, or nothing at all, costs it a full rebuild, so the
# no-op and edit rows are set beside Hugo's full-history build.
ROWS = [
    Row("Hugo-equivalent build ÷ Hugo's RSS build (limit 50): feeds with RSS only, 50 items, "
        "no archives, no precompression, no HTML page per feed (`feed_pages: false`), from "
        "nothing", "feedgen naive: 4.9 s / 46 s",
        _get_key("hugo_s"), _s, {10_000: 1.0, 100_000: 1.0}, hugo=("limit_50", "seconds"),
        target_is_ratio=True),
    Row("full cold build ÷ Hugo with full history (limit -1): ingest + every feed in every format "
        "+ archives + precompressed siblings of current documents (archive pages are compressed "
        "on demand)", "", _get_key("build_cold_s"), _s,
        {10_000: 2.0, 100_000: 2.0}, hugo=("limit_all", "seconds"), target_is_ratio=True),
    Row("no-op build (nothing changed)", "", _get_key("build_noop_s"), _s,
        {10_000: 0.3, 100_000: 1}, hugo=("limit_all", "seconds")),
    Row("one-record edit, steady state (median of 3, a running newsroom)", "",
        _get_key("build_edit_s"), _s, {10_000: 0.3, 100_000: 1}, hugo=("limit_all", "seconds")),
    Row("one-record edit, the first after a cold build (no tree to recycle yet: every file linked)",
        "", _get_key("build_first_edit_s"), _s, {10_000: 0.3, 100_000: 1},
        hugo=("limit_all", "seconds")),
    Row("incremental build after adding 1,000 records", "", _get_key("build_add_s"), _s, {},
        hugo=("limit_all", "seconds")),
    Row("build peak RSS (full cold build, process tree) ÷ Hugo's (limit -1)", "",
        _get_key("build_rss_mb"), _mb, {10_000: 300, 100_000: 1000, 1_000_000: 2000},
        hugo=("limit_all", "peak_rss_mb")),
    Row("Hugo-equivalent build peak RSS ÷ Hugo's (limit 50)", "", _get_key("hugo_rss_mb"), _mb, {},
        hugo=("limit_50", "peak_rss_mb")),
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

HUGO_ROWS = [
    ("RSS only, limit 50", "limit_50"),
    ("full history, limit -1 (every record in every feed)", "limit_all"),
]


def cell(row: Row, result: Result, target: float | None) -> str:
    """One measure at one size: the value, its ratio to Hugo, and whether it meets ``target``."""
    value = row.value(result)
    if value is None:
        return "not measured"
    text = row.shown(value)
    ratio = None
    if row.hugo is not None:
        timing = result.get("hugo", {}).get(row.hugo[0])
        if timing is None:
            text += ", Hugo not measured"
        elif timing["failure"]:
            text += f", Hugo failed: {timing['failure']}"
        else:
            ratio = value / timing[row.hugo[1]]
            text += f" = {ratio:.2f}x Hugo"
    judged = ratio if row.target_is_ratio else value
    if target is not None and judged is not None:
        met = judged >= target if row.higher_is_better else judged <= target
        text += " ✅" if met else " ❌"
    return text


def _hugo_cell(found: Result | None, key: str) -> str:
    if found is None or key not in found:
        return "not measured"
    timing = found[key]
    if timing["failure"]:
        return f"failed: {timing['failure']}"
    return (f"{timing['seconds']:.2f} s, {timing['peak_rss_mb']:.0f} MB "
            f"(median of {timing['runs']} after a warm-up)")


def table(results: dict[int, Result]) -> str:
    sizes = sorted(results)
    head = ["measure", *(f"{n:,} records" for n in sizes), "target", "reference"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in ROWS:
        cells = [row.measure]
        cells += [cell(row, results[n], row.targets.get(n)) for n in sizes]
        shown = _times if row.target_is_ratio else row.shown
        cells.append(" / ".join(("≥ " if row.higher_is_better else "≤ ") + shown(row.targets[n])
                                for n in sizes if n in row.targets))
        cells.append(row.reference)
        lines.append("| " + " | ".join(cells) + " |")

    versions = sorted({results[n]["hugo"]["version"] for n in sizes if "hugo" in results[n]})
    lines += ["", f"Hugo in the same run ({', '.join(versions) or 'not measured'}; "
              "`benchmarks/hugo.py`: one content file per published record, RSS for the home page, "
              "taxonomies and terms, no pages rendered):", ""]
    lines += ["| " + " | ".join(["Hugo build", *(f"{n:,} records" for n in sizes)]) + " |",
              "|" + "---|" * (len(sizes) + 1)]
    for label, key in HUGO_ROWS:
        lines.append("| " + " | ".join([label, *(_hugo_cell(results[n].get("hugo"), key)
                                                 for n in sizes)]) + " |")

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
    # Sizes are kept from separate runs, so each says when and where it was measured.
    dates = ", ".join(
        f"{n:,}: {results[n]['date']} on {results[n].get('machine', 'a machine not recorded')} "
        f"(load average {results[n].get('load_before', 0):.1f} before, "
        f"{results[n].get('load_after', 0):.1f} after)" for n in sizes)
    summaries = "; ".join(f"{n:,}: {results[n].get('build_cold_summary', '?')}" for n in sizes)
    lines += ["", f"Measured {dates}. Full build output: {summaries}."]
    # benchmarks/run.py parses a sample of a large corpus and scales its times to every record.
    sampled = [f"{results[n]['parse_files']:,} of {n:,}" for n in sizes
               if results[n].get("parse_files", n) < n]
    not_run = [f"{n:,} records, {what}" for n in sizes for what in results[n].get("not_run", [])]
    if not_run:
        lines += ["", f"Not run: {'; '.join(not_run)}."]
    if sampled:
        lines += ["", "The floor and parser rows come from every k-th record file, their times "
                  f"scaled to the corpus: {', '.join(sampled)} files parsed."]
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


def write_doc(doc: Path, results: dict[int, Result], command: str) -> None:
    """Replace the generated block of ``doc`` (between the bench markers) with the table."""
    block = "\n".join([
        BEGIN,
        f"Command of the last run: `{command}` (each column is from the run dated below; "
        "`make bench` for 10,000 records, `make bench-full` for 100,000 too, "
        "`make bench-huge` for 1,000,000, builds only).",
        "",
        table(results),
        END,
    ])
    put_block(doc, block, BEGIN, END)


def put_block(doc: Path, block: str, begin: str, end: str) -> None:
    """Write ``block`` (from its ``begin`` marker to its ``end`` marker) into ``doc``, in place
    of the block with those markers, or at the end."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    if begin in text and end in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text += "\n" + block + "\n"
    doc.write_text(text, encoding="utf-8")
