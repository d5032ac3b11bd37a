"""Hard faults: kill -9 during ingest, a damaged store, a store from an older version.

The store is either the previous state or the new one, never a mix, and the next ingest completes
it; a store that cannot be used says so, names the file and how to rebuild it from the seeds.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from benchmarks.corpus import generate
from feeds.cli import main
from feeds.errors import StoreError
from feeds.store import open_store
from tests.kills import spread

KILLS = 8  # rounds at least: aimed kills spread over an ingest's work reach all of it in a few
# More rounds, only while too few kills have landed mid-ingest (a loaded machine shifts timings).
MAX_KILLS = 40
RECORDS = 2000


def _ingest_command(seeds: Path, store: Path) -> list[str]:
    return [sys.executable, "-m", "feeds", "ingest", "--quiet", "--seeds", str(seeds), "--store", str(store)]


def _state(path: Path) -> dict[str, Any]:
    """What an ingest decides, independent of history (slugs and versions aside)."""
    db = sqlite3.connect(path)
    try:
        one = db.execute
        return {
            "files": one("SELECT path, digest, record_id, error FROM files ORDER BY path").fetchall(),
            "records": one("SELECT id, path, digest, url, published, published_at, data FROM records "
                           "ORDER BY id").fetchall(),
            "memberships": one("SELECT g.kind, g.key, m.published_at, m.record_id FROM memberships m "
                               "JOIN groups g ON g.path = m.feed ORDER BY 1, 2, 3, 4").fetchall(),
        }
    finally:
        db.close()


def _assert_consistent(path: Path) -> None:
    """The store opens and agrees with itself: files, records, memberships and feed counts."""
    store = open_store(path)
    try:
        db = store.db
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        orphans = db.execute("SELECT count(*) FROM memberships m LEFT JOIN records r ON r.id = m.record_id "
                             "WHERE r.id IS NULL OR r.published = 0").fetchone()[0]
        assert orphans == 0
        unknown_feeds = db.execute("SELECT count(*) FROM memberships m LEFT JOIN groups g ON g.path = m.feed "
                                   "WHERE g.path IS NULL").fetchone()[0]
        assert unknown_feeds == 0
        mismatched = db.execute(
            "SELECT count(*) FROM files f LEFT JOIN records r ON r.id = f.record_id "
            "WHERE f.record_id IS NOT NULL AND (r.id IS NULL OR r.path != f.path OR r.digest != f.digest)"
        ).fetchone()[0]
        assert mismatched == 0
        unowned = db.execute("SELECT count(*) FROM records r LEFT JOIN files f ON f.path = r.path "
                             "AND f.record_id = r.id WHERE f.path IS NULL").fetchone()[0]
        assert unowned == 0
        published = db.execute("SELECT count(*) FROM records WHERE published=1").fetchone()[0]
        feeds = {feed.path: feed.count for feed in store.feeds()}
        assert feeds["all"] == published
        for feed_path, count in feeds.items():
            members = db.execute("SELECT count(*) FROM memberships WHERE feed=?", (feed_path,)).fetchone()[0]
            assert members == count, feed_path
    finally:
        store.close()


def _complete(state: dict[str, Any], seeds: Path) -> bool:
    """True when the store reflects every file now in ``seeds``, as a finished ingest leaves it."""
    on_disk = sorted((p.name, hashlib.sha256(p.read_bytes()).hexdigest()) for p in seeds.glob("*.txt"))
    return [(path, digest) for path, digest, _, _ in state["files"]] == on_disk


def _mutate(seeds: Path, reserve: list[Path], rng: random.Random, round_number: int) -> None:
    """Add, edit, unpublish and delete some records, as a newsroom does between ingests."""
    files = sorted(seeds.glob("*.txt"))
    for path in rng.sample(files, len(files) // 3):  # enough work that kills land mid-ingest
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace('title: "', f'title: "R{round_number} ', 1), encoding="utf-8")
    for path in rng.sample(files, 5):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("published: true", "published: false", 1), encoding="utf-8")
    for path in rng.sample(files, 10):
        path.unlink(missing_ok=True)
    for _ in range(min(30, len(reserve))):
        source = reserve.pop()
        shutil.move(source, seeds / source.name)


def test_faults_kill_9_during_ingest_leaves_previous_or_new_state(tmp_path: Path) -> None:
    seeds, reserve_dir, store = tmp_path / "seeds", tmp_path / "reserve", tmp_path / "store.sqlite3"
    generate(RECORDS, seeds, seed=7)
    generate(MAX_KILLS * 30, reserve_dir, seed=8)
    reserve = sorted(reserve_dir.glob("*.txt"))
    # Reserve files carry other sequence numbers, so their names never clash with the seeds'.
    for path in reserve:
        path.rename(path.with_name("r" + path.name))
    reserve = sorted(reserve_dir.glob("*.txt"))
    rng = random.Random(20240701)
    started = time.monotonic()
    subprocess.run(_ingest_command(seeds, store), check=True, capture_output=True)
    full = time.monotonic() - started
    # An ingest with nothing to do: start-up and the directory scan, before any write.
    started = time.monotonic()
    subprocess.run(_ingest_command(seeds, store), check=True, capture_output=True)
    idle = time.monotonic() - started
    # A round's ingest, uninterrupted: kills aimed at the work land before it would commit
    # (a round changes a third of the files, so it takes less than the first, full ingest).
    _mutate(seeds, reserve, rng, MAX_KILLS)
    started = time.monotonic()
    subprocess.run(_ingest_command(seeds, store), check=True, capture_output=True)
    work = time.monotonic() - started
    outcomes = {"previous": 0, "new": 0, "mid-ingest": 0}
    for round_number in range(MAX_KILLS):
        if round_number >= KILLS and outcomes["mid-ingest"] >= 2 and outcomes["new"] >= 1:
            break
        _mutate(seeds, reserve, rng, round_number)
        before = _state(store)
        process = subprocess.Popen(_ingest_command(seeds, store), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        # Every other kill aims at the ingest's work; the rest anywhere from start-up to a little
        # after the ingest would have committed. A killed round's work is left to the next, so
        # after a run of kills an ingest redoes up to every file: a full ingest's time bounds it.
        delay = spread(round_number, idle * 1.5, max(idle * 1.6, work * 0.95)) if round_number % 2 \
            else spread(round_number, 0.1, full * 1.5)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        _assert_consistent(store)
        after = _state(store)
        if after == before:
            outcomes["previous"] += 1
            outcomes["mid-ingest"] += delay > idle * 1.2
        else:
            assert _complete(after, seeds), f"round {round_number}: neither previous nor complete"
            outcomes["new"] += 1
    print(f"kill -9 outcomes: {outcomes}; idle ingest {idle:.2f} s, a round's {work:.2f} s, "
          f"full {full:.2f} s")
    assert outcomes["mid-ingest"] >= 2 and outcomes["new"] >= 1, (outcomes, idle, work, full)
    # The next ingest completes the work, and agrees with an ingest from scratch.
    subprocess.run(_ingest_command(seeds, store), check=True, capture_output=True)
    _assert_consistent(store)
    fresh = tmp_path / "fresh.sqlite3"
    subprocess.run(_ingest_command(seeds, fresh), check=True, capture_output=True)
    finished = _state(store)
    assert _complete(finished, seeds)
    assert finished == _state(fresh)


def _built_store(tmp_path: Path) -> tuple[Path, Path]:
    seeds = Path(__file__).resolve().parent.parent / "seeds"
    store = tmp_path / "var" / "store.sqlite3"
    assert main(["ingest", "--quiet", "--seeds", str(seeds), "--store", str(store)]) == 0
    return seeds, store


def _rebuild_recovers(seeds: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", "--quiet", "--rebuild", "--seeds", str(seeds), "--store", str(store)]) == 0
    assert "9 files seen, 9 ingested" in capsys.readouterr().out
    _assert_consistent(store)
    assert len(open_store(store).published_ids()) == 7


def test_faults_garbage_store_is_refused_with_a_way_to_rebuild(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seeds, store = _built_store(tmp_path)
    for suffix in ("-wal", "-shm"):
        Path(str(store) + suffix).unlink(missing_ok=True)
    garbage = os.urandom(64 * 1024)
    store.write_bytes(garbage)
    with pytest.raises(StoreError, match=r"not a usable store") as refused:
        open_store(store)
    assert str(store) in str(refused.value) and "feeds ingest --rebuild" in str(refused.value)
    capsys.readouterr()
    assert main(["ingest", "--quiet", "--seeds", str(seeds), "--store", str(store)]) == 3
    error = capsys.readouterr().err
    assert str(store) in error and "feeds ingest --rebuild" in error and "Traceback" not in error
    assert store.read_bytes() == garbage  # nothing is thrown away without being asked
    _rebuild_recovers(seeds, store, capsys)


def test_faults_damaged_pages_are_refused_with_a_way_to_rebuild(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seeds, store = _built_store(tmp_path)
    db = sqlite3.connect(store)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    data = bytearray(store.read_bytes())
    page = 4096
    data[page:len(data)] = os.urandom(len(data) - page)  # the header survives, the pages do not
    store.write_bytes(bytes(data))
    capsys.readouterr()
    for command in (["ingest", "--quiet", "--seeds", str(seeds)], ["stats", "--quiet"]):
        assert main([*command, "--store", str(store)]) == 3
        error = capsys.readouterr().err
        assert str(store) in error and "feeds ingest --rebuild" in error, error
    _rebuild_recovers(seeds, store, capsys)


def test_faults_older_store_is_refused_with_a_way_to_rebuild(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seeds, store = _built_store(tmp_path)
    db = sqlite3.connect(store)
    db.execute("UPDATE meta SET value='1' WHERE key='schema_version'")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match=r"store format 1, this version of feeds needs") as refused:
        open_store(store)
    assert str(store) in str(refused.value) and "feeds ingest --rebuild" in str(refused.value)
    capsys.readouterr()
    assert main(["ingest", "--quiet", "--seeds", str(seeds), "--store", str(store)]) == 3
    assert "feeds ingest --rebuild" in capsys.readouterr().err
    _rebuild_recovers(seeds, store, capsys)

