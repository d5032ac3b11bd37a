"""Batches mapped in a process pool give the results, in the order, of mapping them here."""

from __future__ import annotations

import dataclasses
import importlib
import multiprocessing
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from feeds import export as export_module
from feeds.config import Settings
from feeds.export import export
from feeds.ingest import ingest
from feeds.pool import Workers, threaded_map
from feeds.store import Store, open_store

# feeds/__init__.py re-exports the function under the module's name.
ingest_module = importlib.import_module("feeds.ingest")


def _pid_and_square(batch: list[int]) -> tuple[int, list[int]]:
    return os.getpid(), [n * n for n in batch]


def test_workers_keep_input_order_and_run_in_other_processes() -> None:
    batches = [[n, n + 1] for n in range(0, 40, 2)]
    with Workers(2) as workers:
        pooled = list(workers.map(_pid_and_square, batches))
    assert [squares for _, squares in pooled] == [[n * n for n in b] for b in batches]
    assert os.getpid() not in {pid for pid, _ in pooled}


def _pid_when_both_workers_are_busy(batch: list[int], meeting: Any) -> int:
    # The timeout only ends a broken run (a worker missing); a loaded machine just waits longer.
    meeting.wait(timeout=120)
    return os.getpid()


def test_workers_are_started_once_and_serve_every_later_map() -> None:
    # Each map's two tasks wait for each other, so each map runs in both workers (one worker
    # cannot take every task, however the scheduler runs them): the same two processes twice.
    # The barrier is a manager's: workers forked by the fork server inherit nothing of ours.
    with multiprocessing.Manager() as manager, Workers(2) as workers:
        meet = partial(_pid_when_both_workers_are_busy, meeting=manager.Barrier(2))
        first = set(workers.map(meet, [[1], [2]]))
        later = set(workers.map(meet, [[3], [4]]))
    assert len(first) == 2 and later == first and os.getpid() not in first


def _ids_and_rss_kb(batch: list[int]) -> tuple[int, int, int]:
    status = Path("/proc/self/status").read_text()
    return os.getpid(), os.getppid(), int(status.split("VmRSS:")[1].split()[0])


def test_workers_do_not_count_the_callers_memory_as_their_own() -> None:
    held = bytearray(os.urandom(1)) * (200 * 2**20)  # touched: resident in this process
    with Workers(2) as workers:
        found = list(workers.map(_ids_and_rss_kb, [[1], [2]]))
    assert len(held) == 200 * 2**20
    # Forked from the fork server, not from this process: the 200 MB held here are not theirs.
    assert all(parent != os.getpid() and rss_kb < 150 * 1024 for _, parent, rss_kb in found)


_CALLER = """
import time
from feeds.pool import Workers
from tests.test_pool import _ids_and_rss_kb
found = list(Workers(2).map(_ids_and_rss_kb, [[1], [2], [3], [4]]))
print(*{pid for pid, _, _ in found} | {parent for _, parent, _ in found}, flush=True)
time.sleep(600)
"""


def test_a_killed_caller_leaves_no_worker_and_no_fork_server() -> None:
    with subprocess.Popen([sys.executable, "-c", _CALLER], stdout=subprocess.PIPE, text=True,
                          cwd=Path(__file__).resolve().parent.parent) as caller:
        assert caller.stdout is not None
        started = [int(pid) for pid in caller.stdout.readline().split()]
        assert len(started) >= 2  # a worker or two and the fork server
        caller.kill()  # SIGKILL: nothing of the caller's runs
    # The wait only ends a broken run; on a loaded machine the processes just end later.
    deadline = time.monotonic() + 120
    while any(Path(f"/proc/{pid}").exists() for pid in started) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in started if Path(f"/proc/{pid}").exists()]


def test_one_worker_runs_here() -> None:
    with Workers(1) as workers:
        assert {pid for pid, _ in workers.map(_pid_and_square, [[1], [2]])} == {os.getpid()}


def _thread_and_square(batch: list[int]) -> tuple[int, int, list[int]]:
    return os.getpid(), threading.get_ident(), [n * n for n in batch]


def test_threaded_map_runs_in_threads_of_this_process_in_order() -> None:
    batches = [[n, n + 1] for n in range(0, 40, 2)]
    pooled = list(threaded_map(_thread_and_square, batches, workers=2))
    assert [squares for _, _, squares in pooled] == [[n * n for n in b] for b in batches]
    assert {pid for pid, _, _ in pooled} == {os.getpid()}
    assert threading.get_ident() not in {thread for _, thread, _ in pooled}


def test_workers_read_batches_only_a_few_ahead_of_the_results() -> None:
    read: list[int] = []

    def batches() -> Iterator[list[int]]:
        for n in range(100):
            read.append(n)
            yield [n]

    with Workers(2) as workers:
        results = workers.map(_pid_and_square, batches())
        next(results)
        assert len(read) <= 2 * 2 + 1  # two batches per worker in flight, one taken


# The columns compared where a table also says when a row was written (changes.at, in seconds):
# two equal ingests a second apart differ there and only there.
# Columns an ingest's work decides (not when, nor each store's random id).
_COMPARED = {"changes": "seq, feeds",
             "meta": "key, CASE WHEN key = 'store_id' THEN '' ELSE value END"}


def _store_rows(store: Store) -> dict[str, list[tuple[object, ...]]]:
    tables = [r[0] for r in store.db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    return {t: sorted(store.db.execute(f"SELECT {_COMPARED.get(t, '*')} FROM {t}").fetchall(), key=repr)
            for t in tables}


def test_ingest_in_a_pool_equals_ingest_here(settings: Settings, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    seeds = tmp_path / "copied-seeds"
    shutil.copytree(settings.seeds_dir, seeds)
    first = sorted(seeds.glob("*.txt"))[0]
    (seeds / ("zz" + first.name)).write_bytes(first.read_bytes())  # a duplicate: refused
    (seeds / "zz_broken.txt").write_text("---\ntitle: [unclosed\n---\n", encoding="utf-8")
    serial = open_store(tmp_path / "serial.sqlite3")
    pooled = open_store(tmp_path / "pooled.sqlite3")
    expected = ingest(serial, seeds, settings.max_record_bytes)
    monkeypatch.setattr(ingest_module, "POOL_THRESHOLD", 0)
    monkeypatch.setattr(ingest_module, "_CHUNK", 3)
    with Workers(2) as workers:
        got = ingest(pooled, seeds, settings.max_record_bytes, workers=workers)
    assert got.summary() == expected.summary() and len(got.errors) == 2
    assert [str(e) for e in got.errors] == [str(e) for e in expected.errors]
    assert got.changed_feeds == expected.changed_feeds
    assert _store_rows(pooled) == _store_rows(serial)


def _tree(output: Path) -> dict[str, bytes]:
    root = output.resolve()
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_export_compressing_in_threads_writes_the_same_tree(settings: Settings, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(settings.store_path)
    ingest(store, settings.seeds_dir, settings.max_record_bytes)
    export(store, dataclasses.replace(settings, build_processes=1), tmp_path / "serial")
    monkeypatch.setattr(export_module, "_BATCH_BYTES", 1)
    report = export(store, dataclasses.replace(settings, build_processes=2), tmp_path / "pooled")
    assert report.written == report.total
    serial, pooled = _tree(tmp_path / "serial"), _tree(tmp_path / "pooled")
    assert any(name.endswith(".br") for name in pooled)
    assert pooled == serial
