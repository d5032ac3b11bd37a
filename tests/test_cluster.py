"""Several server processes on one store (`feeds serve --workers N`): one truth on every one.

The processes share one listening socket, so a test cannot choose which one answers. Each
answer of /healthz names its process and the state it serves; asking on new connections until
every process has answered (at or after a moment) checks them all.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import feedparser
import httpx
import pytest

from feeds.store import Store
from tests.live import TOKEN, serving, wait_for
from tests.test_websub import running_hub

RECORD = """---
title: "{title}"
excerpt: "A record for the tests of several server processes."
publishedDateTime: 2025-02-0{day}T10:00:00Z
webUrl: "https://example.com/cluster/{key}"
published: true
provider:
  name: Cluster News {key}
  domain: {key}.cluster.example
topics:
  - Cluster Topic
---
"""
SAMPLE_PUBLISHED = 7  # published records among the sample seeds


def _record(key: str, day: int = 1) -> str:
    return RECORD.format(title=f"Cluster {key}", key=key, day=day)


def _every_worker(client: httpx.Client, workers: int, check: Callable[[dict[str, Any]], bool],
                  attempts: int = 600) -> dict[int, dict[str, Any]]:
    """/healthz answers on new connections until ``workers`` processes answered; every answer
    must pass ``check``. Returns the last answer of each process."""
    seen: dict[int, dict[str, Any]] = {}
    for _ in range(attempts):
        answer = client.get("/healthz", headers={"Connection": "close"}).json()
        assert check(answer), answer
        seen[answer["pid"]] = answer
        if len(seen) == workers:
            return seen
    raise AssertionError(f"only {len(seen)} of {workers} processes answered in {attempts} requests")


def _settled(client: httpx.Client, workers: int, published: int, timeout: float = 20) -> None:
    """Wait until every process is up and serves ``published`` records."""
    def all_there() -> bool:
        try:
            _every_worker(client, workers, lambda a: a["published"] == published, attempts=200)
        except AssertionError:
            return False
        return True

    wait_for(all_there, timeout=timeout, interval=0.1)


def _listen(client: httpx.Client, count: int, into: list[str], ready: threading.Barrier) -> None:
    """Collect the ids of ``count`` Server-Sent Events from one new connection."""
    with client.stream("GET", "/api/events", headers={"Connection": "close"}) as stream:
        lines = (line for line in stream.iter_lines() if line)
        assert next(lines) == ": connected"
        ready.wait(timeout=20)
        while len(into) < count:
            line = next(lines)
            if line.startswith("id: "):
                into.append(line)


@pytest.mark.parametrize("workers", [2, 4])
def test_cluster_files_dropped_while_polling_reach_every_worker_within_1_s_events_and_pings_once(
        seeds_dir: Path, tmp_path: Path, workers: int) -> None:
    drops = 2
    with running_hub() as hub, serving(seeds_dir, tmp_path, "--workers", str(workers),
                                more_settings=f"hubs: ['{hub.url}']\n") as (client, _):
        _settled(client, workers, SAMPLE_PUBLISHED)
        wait_for(lambda: len(hub.received) == 11, timeout=20)  # the start-up ingest: every feed
        hub.received.clear()
        streams: list[list[str]] = [[] for _ in range(2 * workers)]
        ready = threading.Barrier(len(streams) + 1)
        listeners = [threading.Thread(target=_listen, args=(client, drops, ids, ready), daemon=True)
                     for ids in streams]
        for listener in listeners:
            listener.start()
        ready.wait(timeout=20)
        for n in range(drops):
            dropped = time.monotonic()
            (seeds_dir / f"100_{n + 1:016x}.txt").write_text(_record(f"d{n}"), encoding="utf-8")
            # Whatever answers meanwhile is a whole document, old or new.
            while time.monotonic() < dropped + 1.0:
                response = client.get("/feeds/all.atom", headers={"Connection": "close"})
                assert response.status_code == 200
                assert not feedparser.parse(response.content).bozo
            # One second after the file landed, no process serves the state before it.
            _every_worker(client, workers, lambda a, n=n: a["published"] == SAMPLE_PUBLISHED + n + 1)
            for _ in range(2 * workers):
                body = client.get("/feeds/all.atom", headers={"Connection": "close"}).content
                assert f"Cluster d{n}".encode() in body
        for listener in listeners:
            listener.join(timeout=20)
        heads = [f"id: {head}" for head in (2, 3)]  # the change log: the start-up ingest was 1
        assert streams == [heads] * len(streams)
        # Each dropped record changed three feeds (all, its provider, its topic): one ping each,
        # from the one process holding the lease.
        wait_for(lambda: len(hub.received) == 3 * drops, timeout=20)
        time.sleep(0.5)
        assert len(hub.received) == 3 * drops
        holders = _every_worker(client, workers, lambda a: True)
        assert sum(answer["ingesting"] for answer in holders.values()) == 1


def test_cluster_a_record_dropped_into_3_workers_is_served_by_every_worker_within_1_s(
        seeds_dir: Path, tmp_path: Path) -> None:
    workers = 3
    with serving(seeds_dir, tmp_path, "--workers", str(workers)) as (client, process):
        _settled(client, workers, SAMPLE_PUBLISHED)
        dropped = time.monotonic()
        (seeds_dir / "100_00000000000000e1.txt").write_text(_record("e1"), encoding="utf-8")
        time.sleep(max(0.0, dropped + 1.0 - time.monotonic()))
        answers = _every_worker(client, workers, lambda a: a["published"] == SAMPLE_PUBLISHED + 1)

        # Killing the process that ingests: another takes the lease over, catches up with the
        # files that landed meanwhile, and the API keeps accepting records on every process.
        leader = next(pid for pid, answer in answers.items() if answer["ingesting"])
        os.kill(leader, signal.SIGKILL)
        for n in range(3):
            (seeds_dir / f"100_00000000000000f{n}.txt").write_text(_record(f"f{n}", day=2),
                                                                   encoding="utf-8")
        posted = client.post("/api/records", content=_record("api", day=3).encode(),
                             headers={"Authorization": f"Bearer {TOKEN}",
                                      "Content-Type": "text/plain", "Connection": "close"})
        assert posted.status_code == 201, posted.text
        expected = SAMPLE_PUBLISHED + 1 + 3 + 1
        # uvicorn starts a process in place of the killed one; all of them catch up.
        _settled(client, workers, expected)
        after = _every_worker(client, workers, lambda a: a["published"] == expected)
        assert leader not in after
        assert sum(answer["ingesting"] for answer in after.values()) == 1
        assert process.poll() is None
    store = Store.open(tmp_path / "store.sqlite3")
    try:
        assert store.counts()["published"] == expected
        assert posted.json()["id"] in store.published_ids()
    finally:
        store.close()


def test_cluster_processes_starting_together_create_one_store(tmp_path: Path) -> None:
    # `uvicorn server:app --workers N` on a new store: every process opens it at once.
    path, go = tmp_path / "new.sqlite3", tmp_path / "go"
    opening = ("import sys, time; from pathlib import Path; from feeds.store import Store; "
               "print('ready', flush=True); go = Path(sys.argv[2])\n"
               "while not go.exists(): time.sleep(0.001)\n"
               "Store.open(Path(sys.argv[1])).close()")
    processes = [subprocess.Popen([sys.executable, "-c", opening, str(path), str(go)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]
    for process in processes:
        assert process.stdout is not None and process.stdout.readline() == b"ready\n"
    go.touch()
    errors = [process.communicate(timeout=60)[1].decode() for process in processes]
    assert [process.returncode for process in processes] == [0] * 4, errors
    store = Store.open(path)
    try:
        assert store.head() == 0 and store.feeds()[0].path == "all"
    finally:
        store.close()
