"""Entry fragments in bulk: each record rendered once per format, in parallel, kept in the store.

Rendering an entry is pure (record and id prefix in, bytes out), so a cold build fans the
records out to a process pool; the result is the same bytes as rendering them one by one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from functools import partial

from feeds.model import Record
from feeds.pool import Workers
from feeds.render.formats import FORMATS
from feeds.store import Store

__all__ = ["fill", "render_rows"]

# Below this many records a pool costs more to start than it saves.
POOL_THRESHOLD = 1000
CHUNK = 200
# Fragments written between two returns of the store's page cache to the OS.
SHRINK_BYTES = 16 * 1024 * 1024

# (record id, the record as the store keeps it (JSON), formats to render)
Row = tuple[str, str, tuple[str, ...]]
Fragment = tuple[str, str, bytes]


def render_rows(rows: Sequence[Row], id_prefix: str) -> list[Fragment]:
    """(record id, format, fragment) for every row and format; runs in pool workers."""
    wanted: dict[str, list[Record]] = {}
    for _, data, formats in rows:
        record = Record.from_dict(json.loads(data))
        for fmt in formats:
            wanted.setdefault(fmt, []).append(record)
    out: list[Fragment] = []
    # A format's records in one batch: its renderer sets up once per batch, not per record.
    for fmt, records in wanted.items():
        bodies = FORMATS[fmt].entries(records, id_prefix)
        out.extend((record.id, fmt, body) for record, body in zip(records, bodies, strict=True))
    return out


def _chunks(store: Store, missing: dict[str, tuple[str, ...]]) -> Iterator[list[Row]]:
    ids = sorted(missing)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        yield [(record_id, data, missing[record_id]) for record_id, data in store.record_rows(chunk)]


def fill(store: Store, missing: dict[str, tuple[str, ...]], id_prefix: str, key: str,
         workers: Workers | None = None) -> int:
    """Render and store the fragments ``missing`` names (record id → formats); returns how many."""
    if not missing:
        return 0
    written = unshrunk = 0
    work = partial(render_rows, id_prefix=id_prefix)
    # Below the threshold, sending the work to other processes costs more than it saves.
    pool = workers if len(missing) >= POOL_THRESHOLD else None
    chunks = _chunks(store, missing)
    for fragments in (pool.map(work, chunks) if pool is not None else map(work, chunks)):
        # A transaction per chunk (fragments are a cache: each one stored is valid on its own),
        # so the pages written are not all held at once: a cold build's fragments are some
        # 100 MB at 10,000 records, and this runs while the workers are alive too.
        with store.transaction():
            written += store.put_fragment_rows(key, fragments)
        unshrunk += sum(len(body) for _, _, body in fragments)
        if unshrunk >= SHRINK_BYTES:
            store.shrink_memory()
            unshrunk = 0
    return written
