"""The ``feeds`` command: ingest, build, serve, check, stats.

Exit codes: 0 success; 1 ``check`` found problems; 2 bad usage or configuration;
3 the store or the export could not be used (the message says why and what to do).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from feeds.config import Settings, load_settings
from feeds.errors import ConfigError, FeedsError
from feeds.ingest import IngestReport, ingest
from feeds.store import Store

__all__ = ["main"]

Progress = Callable[[int, int], None]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="feeds", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
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
    }
    return load_settings(args.config, overrides)


@contextmanager
def _progress(label: str, quiet: bool) -> Iterator[Progress | None]:
    """A rich progress bar on a terminal; nothing when quiet or piped, so output stays parseable."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _open_store(settings: Settings, rebuild: bool = False) -> Store:
    if rebuild:
        for suffix in ("", "-wal", "-shm"):
            Path(str(settings.store_path) + suffix).unlink(missing_ok=True)
    return Store.open(settings.store_path)


def _ingest(settings: Settings, args: argparse.Namespace) -> tuple[Store, IngestReport]:
    if not settings.seeds_dir.is_dir():
        raise ConfigError(f"{settings.seeds_dir}: seeds directory not found (set --seeds)")
    store = _open_store(settings, getattr(args, "rebuild", False))
    with _progress("ingest", args.quiet) as progress:
        report = ingest(store, settings.seeds_dir, settings.max_record_bytes, progress)
    for error in report.errors:
        print(f"rejected: {error}", file=sys.stderr)
    print(f"ingest: {report.summary()}")
    return store, report


def _run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.command == "ingest":
        store, _ = _ingest(settings, args)
        store.close()
        return 0
    if args.command == "build":
        from feeds.export import export

        store, _ = _ingest(settings, args)
        with _progress("build", args.quiet) as progress:
            report = export(store, settings, progress=progress)
        store.close()
        print(f"build: {report.summary()}")
        return 0
    if args.command == "serve":
        return _serve(settings, args)
    if args.command == "check":
        return _check(settings, args)
    if args.command == "stats":
        return _stats(settings)
    raise AssertionError(args.command)


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from feeds.app import create_app

    store, _ = _ingest(settings, args)
    store.close()
    app = create_app(settings)
    print(f"Serving the feeds at http://{settings.host}:{settings.port}/ (Ctrl+C to stop)",
          flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port,
                log_level="warning" if args.quiet else "info",
                access_log=settings.access_log)
    return 0


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


def _stats(settings: Settings) -> int:
    store = Store.open(settings.store_path)
    feeds = store.feeds()
    print(f"{'feed':<50} {'entries':>8}  {'oldest':<20} {'newest':<20}")
    for feed in feeds:
        oldest = feed.oldest.strftime("%Y-%m-%dT%H:%M:%SZ") if feed.oldest else "-"
        newest = feed.newest.strftime("%Y-%m-%dT%H:%M:%SZ") if feed.newest else "-"
        print(f"{feed.path:<50} {feed.count:>8}  {oldest:<20} {newest:<20}")
    counts = store.counts()
    print(f"{len(feeds)} feeds, {counts['published']} published of {counts['records']} records, "
          f"{counts['rejected']} rejected files")
    for path, error in store.rejected():
        print(f"rejected: {path}: {error}")
    store.close()
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
