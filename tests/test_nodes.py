"""Several nodes on one PostgreSQL: real `feeds serve` and `feeds ingest` processes, a real database."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from feeds.store import open_store
from tests.live import TOKEN, serving, wait_for
from tests.pg import PostgresServer
from tests.test_store import record_text

PUBLIC = "https://feeds.example/"
DOCUMENTS = ("feeds/all.atom", "feeds/all.rss", "feeds/all.json", "index.html")


def _node_dirs(tmp_path: Path, name: str, seeds: Path | None = None) -> tuple[Path, Path]:
    root = tmp_path / name
    root.mkdir()
    target = root / "seeds"
    if seeds is None:
        target.mkdir()
    else:
        shutil.copytree(seeds, target)
    return target, root


def _served(client: httpx.Client) -> dict[str, tuple[bytes, str]]:
    answers = {}
    for path in DOCUMENTS:
        response = client.get("/" + path)
        assert response.status_code == 200, (path, response.status_code)
        answers[path] = (response.content, response.headers["etag"])
    return answers


def test_two_nodes_serve_the_same_bytes_of_records_from_the_api_of_one_and_the_seeds_of_the_other(
        seeds_dir: Path, tmp_path: Path, pg_url: str) -> None:
    b_seeds, b_root = _node_dirs(tmp_path, "b", seeds_dir)
    a_seeds, a_root = _node_dirs(tmp_path, "a")
    with serving(b_seeds, b_root, store=pg_url, base_url=PUBLIC) as (b, _), \
            serving(a_seeds, a_root, "--no-ingest", store=pg_url, base_url=PUBLIC) as (a, a_process):
        assert _served(a) == _served(b)
        posted = a.post("/api/records", content=record_text(1).encode(),
                        headers={"Authorization": f"Bearer {TOKEN}"})
        assert posted.status_code == 201, posted.text
        record_id = posted.json()["id"]
        assert not list(a_seeds.iterdir())  # written into the store, not a folder
        wait_for(lambda: record_id.encode() in b.get("/feeds/all.atom").content, 5.0)
        (b_seeds / "0000aaaabbbbcccc.txt").write_text(record_text(2), encoding="utf-8")
        wait_for(lambda: b"/2/" in a.get("/feeds/all.atom").content, 5.0)
        wait_for(lambda: _served(a) == _served(b), 5.0)
        # The node that accepted the record dies; the record lives in the database.
        a_process.kill()
        a_process.wait()
        assert record_id.encode() in b.get("/feeds/all.json").content
        b_answers = _served(b)
    store = open_store(pg_url)
    try:
        assert store.record_path(record_id) == f"api/{record_id}.txt"
    finally:
        store.close()
    # A build of the shared store (no seeds of its own) exports the bytes the nodes served.
    output = tmp_path / "export"
    subprocess.run([sys.executable, "-m", "feeds", "build", "--quiet", "--no-ingest",
                    "--store", pg_url, "--seeds", str(a_seeds), "--output", str(output),
                    "--base-url", PUBLIC], check=True, capture_output=True)
    for path, (body, _) in b_answers.items():
        assert (output / path).read_bytes() == body, path


def test_postgresql_stopped_and_restarted_under_load_loses_nothing(
        seeds_dir: Path, tmp_path: Path, postgres: PostgresServer, pg_url: str) -> None:
    seeds, root = _node_dirs(tmp_path, "node", seeds_dir)
    with serving(seeds, root, store=pg_url, base_url=PUBLIC) as (client, _):
        _served(client)
        statuses: Counter[tuple[str, int]] = Counter()  # (path or error, status)
        done = threading.Event()

        def load() -> None:
            with httpx.Client(base_url=str(client.base_url), timeout=10) as own:
                while not done.is_set():
                    for path in ("/healthz", *("/" + d for d in DOCUMENTS)):
                        try:
                            statuses[path, own.get(path).status_code] += 1
                        except httpx.HTTPError as exc:
                            statuses[f"{path}: {exc!r}", 0] += 1

        threads = [threading.Thread(target=load) for _ in range(2)]
        for thread in threads:
            thread.start()
        try:
            postgres.stop()
            try:
                # Under load, the documents in memory go on being served meanwhile.
                wait_for(lambda: statuses["/healthz", 503] > 0, 10.0)
                reason = client.get("/healthz").json()["error"]
                assert "database is unavailable" in reason
                # A record lands while the database is away.
                (seeds / "0000aaaabbbbcccc.txt").write_text(record_text(3), encoding="utf-8")
                # Longer than a connection's wait: the ingest fails, and is tried again later.
                time.sleep(5.0)
            finally:
                postgres.start()
            wait_for(lambda: client.get("/healthz").status_code == 200, 20.0)
            wait_for(lambda: b"/3/" in client.get("/feeds/all.atom").content, 20.0)
        finally:
            done.set()
            for thread in threads:
                thread.join(20)
    failures = {key: n for key, n in statuses.items()
                if key[1] == 0 or (key[1] >= 500 and key[0] != "/healthz")}
    assert failures == {}, statuses
    assert statuses["/healthz", 503] > 0 and statuses["/feeds/all.atom", 200] > 0, statuses


def test_two_nodes_ingesting_the_same_thousand_files_store_each_record_once(
        tmp_path: Path, pg_url: str) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for n in range(1000):
        (seeds / f"{n:016x}.txt").write_text(record_text(n), encoding="utf-8")
    command = [sys.executable, "-m", "feeds", "ingest", "--quiet", "--store", pg_url, "--seeds"]
    nodes = [subprocess.Popen([*command, str(shutil.copytree(seeds, tmp_path / f"node{n}"))],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for n in range(2)]
    outputs = [node.communicate(timeout=120)[0].decode() for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], outputs
    store = open_store(pg_url)
    try:
        assert store.counts() == {"records": 1000, "published": 1000, "scheduled": 0, "rejected": 0}
        assert {f.path: f.count for f in store.feeds()}["all"] == 1000
        assert len(store.feed_entries("all")) == 1000
    finally:
        store.close()
