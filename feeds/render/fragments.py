"""Entry fragments in bulk: each record rendered once per format, in parallel, kept in the store.

Rendering an entry is pure (record and id prefix in, bytes out), so a cold build fans the
records out to a process pool; the result is the same bytes as rendering them one by one.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from types import ModuleType

from feeds.model import Record
from feeds.render import atom, jsonfeed, rss
from feeds.store import Store

__all__ = ["FORMAT_MODULES", "fill", "render_rows", "worker_count"]

FORMAT_MODULES: dict[str, ModuleType] = {"atom": atom, "rss": rss, "json": jsonfeed}
# Below this many records a pool costs more to start than it saves.
POOL_THRESHOLD = 1000
CHUNK = 200

# (record id, the record as the store keeps it (JSON), formats to render)
Row = tuple[str, str, tuple[str, ...]]
Fragment = tuple[str, str, bytes]


def worker_count(setting: int) -> int:
    """Processes to use: the ``workers`` setting, where 0 means one per CPU this process may use."""
    return setting or len(os.sched_getaffinity(0))


def render_rows(rows: Sequence[Row], id_prefix: str) -> list[Fragment]:
    """(record id, format, fragment) for every row and format; runs in pool workers."""
    out: list[Fragment] = []
    for record_id, data, formats in rows:
        record = Record.from_dict(json.loads(data))
        for fmt in formats:
            out.append((record_id, fmt, FORMAT_MODULES[fmt].entry(record, id_prefix)))
    return out


def _chunks(store: Store, missing: dict[str, tuple[str, ...]]) -> Iterator[list[Row]]:
    ids = sorted(missing)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        yield [(record_id, data, missing[record_id]) for record_id, data in store.record_rows(chunk)]


def fill(store: Store, missing: dict[str, tuple[str, ...]], id_prefix: str, key: str,
         workers: int) -> int:
    """Render and store the fragments ``missing`` names (record id → formats); returns how many."""
    if not missing:
        return 0
    written = 0
    with store.transaction():
        if workers < 2 or len(missing) < POOL_THRESHOLD:
            for rows in _chunks(store, missing):
                written += store.put_fragment_rows(key, render_rows(rows, id_prefix))
            return written
        # fork: workers start at once and inherit the imported renderers; they touch no
        # connection of ours, only the rows they are sent.
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            pending: set[Future[list[Fragment]]] = set()
            for rows in _chunks(store, missing):
                pending.add(pool.submit(render_rows, rows, id_prefix))
                if len(pending) >= 2 * workers:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        written += store.put_fragment_rows(key, future.result())
            for future in pending:
                written += store.put_fragment_rows(key, future.result())
    return written
