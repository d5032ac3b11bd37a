"""The snapshot promise (README, "Live syndication"): every response comes from one committed
snapshot of the store, never a mix of two, while records land through the API and the seeds."""

from __future__ import annotations

import os
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.live import TOKEN, serving
from tests.snapshots import FORMATS, Layout, Readers, settled, walk

LAYOUT = Layout(items_per_feed=5, archive_page_size=10, max_limit=20)
SETTINGS = "items_per_feed: 5\narchive_page_size: 10\nmax_limit: 20\n"
# How long records land while the readers hammer the server.
WRITING_SECONDS = 8.0

RECORD = """---
title: "{title}"
publishedDateTime: {date:%Y-%m-%dT%H:%M:%SZ}
webUrl: "https://{domain}/{key}"
published: true
provider:
  name: {provider}
  domain: {domain}
topics: [{topics}]
---
"""
NEW_START = datetime(2025, 1, 1, tzinfo=UTC)
OLD_START = datetime(2001, 1, 1, tzinfo=UTC)


def _posted(n: int) -> bytes:
    """Record n of the API's: each newer than the last, so its feeds only grow at the top."""
    topics = ("Snap A, Snap B", "Snap A", "Snap B")[n % 3]
    return RECORD.format(title=f"Snap {n}", date=NEW_START + timedelta(minutes=n), domain="snap.example",
                         key=n, provider="Snap", topics=topics).encode()


def _drop(seeds: Path, numbers: list[int], rng: random.Random) -> list[str]:
    """Old records written atomically into the seeds: they land below the newest of all.atom."""
    ids = []
    for m in numbers:
        record_id = f"{0xd0000000 + m:016x}"
        moment = OLD_START + timedelta(seconds=rng.randrange(10**8) * 3 + m % 3)
        staged = seeds.parent / f"{record_id}.tmp"
        staged.write_text(RECORD.format(title=f"Old {m}", date=moment, domain="old.example", key=m,
                                        provider="Old", topics="Snap Old"), encoding="utf-8")
        os.replace(staged, seeds / f"500_{record_id}.txt")
        ids.append(record_id)
    return ids


def _post(client: httpx.Client, n: int) -> str:
    response = client.post("/api/records", content=_posted(n),
                           headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


# One process, and three behind one socket (`feeds serve --workers 3`): each of those follows
# the change log on its own, so responses over time may come from different snapshots, and only
# the checks that hold for each response alone apply (tests/snapshots.py says which).
@pytest.mark.parametrize("workers", [1, 3])
def test_snapshots_every_response_is_one_snapshot_while_records_land(
        seeds_dir: Path, tmp_path: Path, workers: int) -> None:
    rng = random.Random(16)
    extra = ("--workers", str(workers)) if workers > 1 else ()
    with serving(seeds_dir, tmp_path, *extra, more_settings=SETTINGS) as (client, _):
        posted = {_post(client, n): n for n in range(3)}
        dropped = _drop(seeds_dir, [0], rng)
        start = client.get("/healthz").json()["published"] - len(posted)
        settled(client, start + len(posted) + len(dropped))
        feeds = ["all", "topics/snap-a", "topics/snap-b", "providers/snap-example", "topics/snap-old",
                 "providers/old-example", "topics/ai"]
        growing = ["topics/snap-a", "topics/snap-b", "providers/snap-example"]
        stop = threading.Event()

        def drop_bursts() -> None:
            burst = 1
            while not stop.is_set():
                dropped.extend(_drop(seeds_dir, list(range(burst, burst + 10)), rng))
                burst += 10
                stop.wait(0.3)

        with Readers([str(client.base_url)], feeds, growing, LAYOUT,
                     one_process=workers == 1) as readers:
            dropper = threading.Thread(target=drop_bursts, daemon=True)
            dropper.start()
            deadline = time.monotonic() + WRITING_SECONDS
            n = len(posted)
            while time.monotonic() < deadline and not readers.problems:
                posted[_post(client, n)] = n
                n += 1
            stop.set()
            dropper.join()
            settled(client, start + len(posted) + len(dropped))
            if workers > 1:  # settled asked one process; the others follow within 1 s (test_cluster)
                time.sleep(1.0)
        assert readers.problems == [], "\n".join(readers.problems[:10])
        # Enough happened to tell (a few times more on an idle machine).
        assert readers.requests >= 100, readers.requests
        assert workers > 1 or readers.sandwiches >= 3, readers.sandwiches
        assert len(posted) >= 10 and len(dropped) >= 50, (len(posted), len(dropped))

        # At rest: every feed's pages hold exactly its records, alike in the three formats.
        snap = {"topics/snap-a": {i for i, n in posted.items() if n % 3 in (0, 1)},
                "topics/snap-b": {i for i, n in posted.items() if n % 3 in (0, 2)},
                "providers/snap-example": set(posted), "topics/snap-old": set(dropped),
                "providers/old-example": set(dropped)}
        for feed in feeds:
            chains = {}
            for fmt in FORMATS:
                problems, chain = walk(client, feed, fmt, LAYOUT)
                assert problems == [], problems
                chains[fmt] = [[entry_id for _, entry_id in page] for page in chain]
            assert chains["rss"] == chains["atom"] == chains["json"], feed
            ids = [entry_id[-16:] for page in chains["atom"] for entry_id in page]
            assert len(ids) == len(set(ids)), feed
            if feed in snap:
                assert set(ids) == snap[feed], feed
            if feed == "all":
                assert len(ids) == start + len(posted) + len(dropped)
                assert set(posted) | set(dropped) <= set(ids)
