"""The ``feeds`` command: ingest, build, serve, check, stats.

Exit codes: 0 success; 1 ``check`` found problems; 2 bad usage or configuration;
3 the store or the export could not be used (the message says why and what to do).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from feeds.config import Settings, load_settings
from feeds.errors import ConfigError, FeedsError, StoreError
from feeds.ingest import IngestReport, ingest
from feeds.model import utc_timestamp
from feeds.pool import Workers, worker_count
from feeds.store import FeedRow, Store

__all__ = ["main"]

EXIT_CODES = """exit codes:
  0  success (rejected record files are reported, and do not fail the command)
  1  check found problems in the export
  2  bad usage or configuration (the message names the setting and what was expected)
  3  the store or the export could not be used (the message says why and what to do)

On a terminal, long work shows a progress bar and ends with a summary table; with --quiet or
when the output is piped, each command prints plain, parseable lines."""

Progress = Callable[[int, int], None]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="feeds", description=__doc__.splitlines()[0],
                                     epilog=EXIT_CODES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help, epilog=EXIT_CODES,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.add_argument("--config", type=Path, metavar="PATH",
                         help="configuration file (default: $FEEDS_CONFIG or feeds.yaml if present)")
        sub.add_argument("--quiet", "-q", action="store_true", help="print only the summary")
        return sub

    def seeds_and_store(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--seeds", type=Path, metavar="DIR", help="record files (default: seeds)")
        sub.add_argument("--store", type=Path, metavar="PATH",
                         help="SQLite store (default: var/store.sqlite3)")
        sub.add_argument("--rebuild", action="store_true",
                         help="discard the store and ingest every record file again")

    sub = command("ingest", "Bring the store in line with the seeds directory.")
    seeds_and_store(sub)

    sub = command("build", "Ingest, then export every document under the output directory.")
    seeds_and_store(sub)
    sub.add_argument("--output", type=Path, metavar="DIR", help="export directory (default: output)")
    sub.add_argument("--base-url", metavar="URL", help="absolute URL the export is served from")

    sub = command("serve", "Ingest, then serve the feeds over HTTP.")
    seeds_and_store(sub)
    sub.add_argument("--host", metavar="HOST", help="address to listen on (default: 127.0.0.1)")
    sub.add_argument("--port", type=int, metavar="PORT", help="port (default: 8000)")
    sub.add_argument("--base-url", metavar="URL", help="absolute URL the feeds are served from")
    sub.add_argument("--no-watch", dest="watch", action="store_false", default=None,
                     help="do not ingest changes to the seeds directory as they happen")
    sub.add_argument("--workers", dest="serve_workers", type=int, metavar="N",
                     help="server processes (default: 1); one of them ingests at a time")

    sub = command("check", "Verify an export: manifest, hashes, formats, links, privacy.")
    sub.add_argument("output", nargs="?", type=Path, metavar="OUTPUT_DIR",
                     help="export directory (default: output)")
    sub.add_argument("--seeds", type=Path, metavar="DIR", help="record files, for privacy checks")
    sub.add_argument("--store", type=Path, metavar="PATH", help="store, for unpublished records")

    sub = command("stats", "Print the catalogue: feeds, entry counts, dates, rejected files.")
    sub.add_argument("--store", type=Path, metavar="PATH", help="SQLite store")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {
        "seeds_dir": getattr(args, "seeds", None),
        "store_path": getattr(args, "store", None),
        "output_dir": getattr(args, "output", None),
        "base_url": getattr(args, "base_url", None),
        "host": getattr(args, "host", None),
        "port": getattr(args, "port", None),
        "watch": getattr(args, "watch", None),
        "serve_workers": getattr(args, "serve_workers", None),
    }
    return load_settings(args.config, overrides)


def _plain(quiet: bool) -> bool:
    """Plain, parseable lines unless a person is watching a terminal."""
    return quiet or not sys.stdout.isatty()


def _table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A rich table on the terminal (numbers right-aligned)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for n, name in enumerate(header):
        numeric = bool(rows) and all(isinstance(row[n], int) for row in rows)
        table.add_column(name, justify="right" if numeric else "left", overflow="fold")
    for row in rows:
        table.add_row(*(f"{v:,}" if isinstance(v, int) else str(v) for v in row))
    Console().print(table)


@contextmanager
def _progress(label: str, quiet: bool) -> Iterator[Progress | None]:
    """A rich progress bar on a terminal; nothing when quiet or piped, so output stays parseable."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TaskProgressColumn(), _rate_column(), TimeElapsedColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _rate_column() -> Any:
    from rich.progress import ProgressColumn, Task
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Items per second, once rich has measured a rate."""

        def render(self, task: Task) -> Text:
            return Text(f"{task.speed:,.0f}/s" if task.speed else "", style="progress.data.speed")

    return RateColumn()


def _open_store(settings: Settings, rebuild: bool = False) -> Store:
    if rebuild:
        for suffix in ("", "-wal", "-shm"):
            Path(str(settings.store_path) + suffix).unlink(missing_ok=True)
    return Store.open(settings.store_path)


def _ingest(settings: Settings, args: argparse.Namespace,
            workers: Workers) -> tuple[Store, IngestReport]:
    if not settings.seeds_dir.is_dir():
        raise ConfigError(f"{settings.seeds_dir}: seeds directory not found (set --seeds)")
    store = _open_store(settings, getattr(args, "rebuild", False))
    with _progress("ingest", args.quiet) as progress:
        report = ingest(store, settings.seeds_dir, settings.max_record_bytes, progress,
                        workers=workers, schedule_tolerance=settings.schedule_tolerance)
    for error in report.errors:
        print(f"rejected: {error}", file=sys.stderr)
    if _plain(args.quiet):
        print(f"ingest: {report.summary()}")
    else:
        _table("ingest", ("files seen", "ingested", "unchanged", "rejected", "removed"),
               [(report.seen, report.ingested, report.unchanged, report.rejected, report.removed)])
    return store, report


def _run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.command == "ingest":
        with Workers(worker_count(settings.build_processes)) as workers:
            store, _ = _ingest(settings, args, workers)
        store.close()
        return 0
    if args.command == "build":
        from feeds.export import export

        # One set of workers for the whole build, forked at the ingest while this process is
        # small (each forked worker counts this process's memory at fork as its own).
        with Workers(worker_count(settings.build_processes)) as workers:
            store, ingested = _ingest(settings, args, workers)
            with _progress("build", args.quiet) as progress:
                report = export(store, settings, progress=progress, workers=workers)
        store.close()
        if _plain(args.quiet):
            print(f"build: {report.summary()}")
        else:
            _table(f"build: {report.directory}", ("files", "written", "unchanged", "removed"),
                   [(report.total, report.written, report.unchanged, report.removed)])
        if settings.hubs and ingested.changed_feeds:
            from feeds.websub import announce

            print(f"websub: {announce(settings, ingested.changed_feeds)}")
        return 0
    if args.command == "serve":
        return _serve(settings, args)
    if args.command == "check":
        return _check(settings, args)
    if args.command == "stats":
        return _stats(settings, _plain(args.quiet))
    raise AssertionError(args.command)


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import os

    import uvicorn

    from feeds.config import RESOLVED_SETTINGS, settings_json
    from feeds.websub import Notifier, notifications

    with Workers(worker_count(settings.build_processes)) as workers:
        store, report = _ingest(settings, args, workers)
    store.close()
    # The hubs hear of this ingest from here; the server processes announce later changes.
    notifier = Notifier()
    notifier.submit(notifications(settings, report.changed_feeds))
    # Every server process, this one or uvicorn's workers, builds its app from these settings.
    os.environ[RESOLVED_SETTINGS] = settings_json(settings)
    level = "warning" if args.quiet else "info"
    processes = settings.serve_workers
    print(f"Serving the feeds at http://{settings.host}:{settings.port}/ "
          f"({processes} process{'es' if processes > 1 else ''}; Ctrl+C to stop)", flush=True)
    # The app writes its own structured access log (settings.access_log); uvicorn's would repeat it.
    uvicorn.run("feeds.app:worker_app", factory=True, workers=processes, host=settings.host,
                port=settings.port, log_level=level, log_config=_log_config(level.upper()),
                access_log=False)
    notifier.close()
    return 0


def _log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging, and the app's (access log, ingests, WebSub) as plain lines on stderr:
    given to uvicorn, which applies it in each worker process it starts."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = {**LOGGING_CONFIG}
    config["formatters"] = {**LOGGING_CONFIG["formatters"], "plain": {"format": "%(message)s"}}
    config["handlers"] = {**LOGGING_CONFIG["handlers"], "plain": {
        "class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}}
    config["loggers"] = {**LOGGING_CONFIG["loggers"],
                         "feeds": {"handlers": ["plain"], "level": level, "propagate": False}}
    return config


def _check(settings: Settings, args: argparse.Namespace) -> int:
    from feeds.check import check_export, secret_fragments

    output = args.output or settings.output_dir
    if not output.is_dir():
        print(f"feeds: {output}: no export here (build one with `feeds build`)", file=sys.stderr)
        return 1
    unpublished: set[str] = set()
    if settings.store_path.exists():
        store = Store.open(settings.store_path)
        unpublished = store.unpublished_ids()
        store.close()
    problems = check_export(output, secret_fragments(settings.seeds_dir), sorted(unpublished))
    for problem in problems:
        print(f"problem: {problem}")
    print(f"check: {output}: {len(problems)} problem(s)")
    return 1 if problems else 0


def _day(moment: datetime | None) -> str:
    return utc_timestamp(moment) if moment else "-"


def _by_kind(feeds: Sequence[FeedRow]) -> list[tuple[str, int, int, str, str]]:
    """Per kind: feeds, entries (an article in three topics counts three times), oldest, newest."""
    rows = []
    for kind in dict.fromkeys(feed.kind for feed in feeds):
        group = [f for f in feeds if f.kind == kind]
        oldest = min((f.oldest for f in group if f.oldest), default=None)
        newest = max((f.newest for f in group if f.newest), default=None)
        rows.append((kind, len(group), sum(f.count for f in group), _day(oldest), _day(newest)))
    return rows


def _stats(settings: Settings, plain: bool) -> int:
    if not settings.store_path.exists():
        raise StoreError(f"{settings.store_path}: no store yet; run `feeds ingest` first "
                          f"(or pass --store PATH)")
    store = Store.open(settings.store_path)
    try:
        feeds, counts, rejected = store.feeds(), store.counts(), store.rejected()
    finally:
        store.close()
    kinds = _by_kind(feeds)
    per_feed = [(f.path, f.count, _day(f.oldest), _day(f.newest)) for f in feeds]
    totals = (f"{len(feeds)} feeds, {counts['published']} published of {counts['records']} records, "
              f"{counts['scheduled']} scheduled, {counts['rejected']} rejected files")
    if plain:
        print(f"{'kind':<12} {'feeds':>6} {'entries':>8}  {'oldest':<20} {'newest':<20}")
        for kind, n, entries, oldest, newest in kinds:
            print(f"{kind:<12} {n:>6} {entries:>8}  {oldest:<20} {newest:<20}")
        print()
        print(f"{'feed':<50} {'entries':>8}  {'oldest':<20} {'newest':<20}")
        for path, count, oldest, newest in per_feed:
            print(f"{path:<50} {count:>8}  {oldest:<20} {newest:<20}")
        print(totals)
        for path, error in rejected:
            print(f"rejected: {path}: {error}")
        return 0
    _table("feeds by kind", ("kind", "feeds", "entries", "oldest", "newest"), kinds)
    _table("feeds", ("feed", "entries", "oldest", "newest"), per_feed)
    if rejected:
        _table("rejected files", ("file", "reason"), rejected)
    print(totals)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except ConfigError as exc:
        print(f"feeds: {exc}", file=sys.stderr)
        return 2
    except FeedsError as exc:
        print(f"feeds: {exc}", file=sys.stderr)
        return 3
    except sqlite3.DatabaseError as exc:
        # Damaged pages show only when read: name the file and the way back, from the seeds.
        print(f"feeds: {_settings(args).store_path}: not a usable store ({exc}); rebuild it from "
              f"the seeds with `feeds ingest --rebuild`", file=sys.stderr)
        return 3
