"""Watch the seeds directory and ingest what changes, in batches."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
from watchfiles import Change, awatch

__all__ = ["is_record_change", "watch_seeds"]

log = logging.getLogger("feeds.watch")

# A burst (a sync tool dropping thousands of files) is grouped for up to this long.
DEBOUNCE_MS = 400
# A single change is picked up after this much quiet.
STEP_MS = 30


def is_record_change(change: Change, path: str) -> bool:
    """Only record files matter; hidden names are editors' and our own temporary files."""
    name = Path(path).name
    return name.endswith(".txt") and not name.startswith(".")


async def watch_seeds(seeds_dir: Path, on_change: Callable[[set[str]], Awaitable[None]],
                      stop: anyio.Event | None = None) -> None:
    """Call ``on_change`` with the changed file names, one call per batch, until ``stop``."""
    async for changes in awatch(
        seeds_dir, watch_filter=is_record_change, debounce=DEBOUNCE_MS, step=STEP_MS,
        stop_event=stop, recursive=False, ignore_permission_denied=True,
    ):
        names = {Path(path).name for _, path in changes}
        log.info("seeds changed: %d file(s)", len(names))
        await on_change(names)
