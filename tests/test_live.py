"""Live syndication against a real server: seeds watched, the publishing API, consistency."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import feedparser
import pytest

from feeds.store import open_store
from tests.live import TOKEN, serving, wait_for

RECORD = """---
title: "{title}"
excerpt: "A new record for the live tests."
publishedDateTime: 2024-06-20T10:00:00Z
webUrl: "https://example.com/live/{key}"
published: {published}

provider:
  name: Example News
  domain: example.com

topics:
  - Cybersecurity
  - Live Topic

secured: "LIVESECRETVALUEabcdefghijklmnop;qrstuvwx=="
---
"""


def _etag(client, path: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get(path, headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200, (path, response.status_code)
    return str(response.headers["etag"])


def _titles(client, path: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.title for e in feedparser.parse(client.get(path).content).entries]


def test_live_new_file_reaches_its_feeds_and_unpublish_removes_it(seeds_dir: Path, tmp_path: Path) -> None:
    with serving(seeds_dir, tmp_path) as (client, _):
        paths = ("/feeds/topics/ai.atom", "/feeds/providers/cio-com.rss",
                 "/feeds/topics/cloud-computing.json")
        unrelated = {p: _etag(client, p) for p in paths}
        before = _etag(client, "/feeds/topics/cybersecurity.atom")
        path = seeds_dir / "100_00000000000000c1.txt"
        path.write_text(RECORD.format(title="Live one", key="1", published="true"), encoding="utf-8")
        wait_for(lambda: _etag(client, "/feeds/topics/cybersecurity.atom") != before, timeout=1.0)
        assert "Live one" in _titles(client, "/feeds/topics/cybersecurity.atom")
        assert "Live one" in _titles(client, "/feeds/topics/live-topic.atom")

        path.write_text(RECORD.format(title="Live one", key="1", published="false"), encoding="utf-8")
        wait_for(lambda: "Live one" not in _titles(client, "/feeds/topics/cybersecurity.atom"), timeout=1.0)
        assert client.get("/feeds/topics/live-topic.atom").status_code == 404
        assert {p: _etag(client, p) for p in unrelated} == unrelated


def test_live_burst_of_files_is_served_consistently(seeds_dir: Path, tmp_path: Path) -> None:
    with serving(seeds_dir, tmp_path) as (client, _):
        for n in range(2000):
            (seeds_dir / f"{200 + n}_{n:016x}.txt").write_text(
                RECORD.format(title=f"Burst {n}", key=f"b{n}", published="true"), encoding="utf-8")
            if n % 50 == 0:
                for feed in ("/feeds/all.atom", "/feeds/topics/live-topic.rss", "/feeds/all.json"):
                    response = client.get(feed)
                    assert response.status_code in (200, 404), (feed, response.status_code)
                    if response.status_code == 200 and feed.endswith(".json"):
                        json.loads(response.content)
                    elif response.status_code == 200:
                        assert not feedparser.parse(response.content).bozo
        wait_for(lambda: client.get("/healthz").json()["published"] == 2007, timeout=30)
        health = client.get("/healthz").json()
        assert health["rejected"] == 0
        assert len(_titles(client, "/feeds/topics/live-topic.atom")) == 50


def _post(client, body: bytes, token: str | None = TOKEN, content_type: str = "text/plain"):  # type: ignore[no-untyped-def]
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.post("/api/records", content=body, headers=headers)


def test_live_api_rules_and_idempotent_post(seeds_dir: Path, tmp_path: Path) -> None:
    body = RECORD.format(title="Posted", key="api", published="true").encode()
    with serving(seeds_dir, tmp_path) as (client, _):
        assert _post(client, body, token=None).status_code == 401
        assert _post(client, body, token="wrong").status_code == 403
        bad = _post(client, body.replace(b"https://example.com", b"javascript:alert(1)//"))
        assert bad.status_code == 400 and bad.json()["field"] == "webUrl"
        assert _post(client, b"x" * 2_000_000).status_code == 413
        created = _post(client, body)
        assert created.status_code == 201, created.text
        urls = created.json()["feeds"]
        assert any(u.endswith("/feeds/topics/live-topic.atom") for u in urls)
        assert "Posted" in _titles(client, "/feeds/topics/live-topic.atom")
        etag = _etag(client, "/feeds/all.atom")
        again = _post(client, body)
        assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
        assert _etag(client, "/feeds/all.atom") == etag
        assert len(list(seeds_dir.glob(f"*{created.json()['id']}.txt"))) == 1

        record_id = created.json()["id"]
        assert client.delete(f"/api/records/{record_id}").status_code == 401
        deleted = client.delete(f"/api/records/{record_id}", headers={"Authorization": f"Bearer {TOKEN}"})
        assert deleted.status_code == 200
        assert "Posted" not in _titles(client, "/feeds/all.atom")


def test_live_api_is_off_without_a_token(seeds_dir: Path, tmp_path: Path) -> None:
    with serving(seeds_dir, tmp_path, token="") as (client, _):
        assert _post(client, b"---\n---\n").status_code == 404


def test_live_events_stream_announces_changes(seeds_dir: Path, tmp_path: Path) -> None:
    with serving(seeds_dir, tmp_path) as (client, _):
        with client.stream("GET", "/api/events") as stream:
            lines = (line for line in stream.iter_lines() if line)
            assert next(lines) == ": connected"
            (seeds_dir / "100_00000000000000c2.txt").write_text(
                RECORD.format(title="Evented", key="ev", published="true"), encoding="utf-8")
            event = [next(lines) for _ in range(3)]
        assert event[0] == "id: 1" and event[1] == "event: feeds"
        assert "topics/live-topic" in json.loads(event[2].removeprefix("data: "))["changed"]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_live_accepted_record_survives_kill_9(seeds_dir: Path, tmp_path: Path) -> None:
    body = RECORD.format(title="Durable", key="durable", published="true").encode()
    with serving(seeds_dir, tmp_path) as (client, process):
        created = _post(client, body)
        assert created.status_code == 201
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    store = open_store(tmp_path / "store.sqlite3")
    try:
        assert created.json()["id"] in store.published_ids()
    finally:
        store.close()
    assert (seeds_dir / created.json()["file"]).read_bytes() == body
