"""Live syndication against a real server: seeds watched, the publishing API, consistency."""

from __future__ import annotations

import json
import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from feeds.store import Store
from tests.helpers import front_matter
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


# Generous: a loaded machine may take seconds. How fast changes land is measured, against a peer,
# in benchmarks/live_bench.py.
DEADLINE = 30.0


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
        wait_for(lambda: _etag(client, "/feeds/topics/cybersecurity.atom") != before, timeout=DEADLINE)
        assert "Live one" in _titles(client, "/feeds/topics/cybersecurity.atom")
        assert "Live one" in _titles(client, "/feeds/topics/live-topic.atom")

        path.write_text(RECORD.format(title="Live one", key="1", published="false"), encoding="utf-8")
        wait_for(lambda: "Live one" not in _titles(client, "/feeds/topics/cybersecurity.atom"),
                 timeout=DEADLINE)
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
                    # all.* always exist; the new topic's feed once its first record is in.
                    allowed = (200, 404) if "live-topic" in feed else (200,)
                    assert response.status_code in allowed, (feed, response.status_code)
                    if response.status_code == 200 and feed.endswith(".json"):
                        json.loads(response.content)
                    elif response.status_code == 200:
                        assert not feedparser.parse(response.content).bozo
        wait_for(lambda: client.get("/healthz").json()["published"] == 2007, timeout=DEADLINE * 2)
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
            head = client.get("/healthz").json()["head"]
        # The id is the change's number in the store's change log (the start-up ingest was 1).
        assert event[0] == f"id: {head}" == "id: 2" and event[1] == "event: feeds"
        assert "topics/live-topic" in json.loads(event[2].removeprefix("data: "))["changed"]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_live_accepted_record_survives_kill_9(seeds_dir: Path, tmp_path: Path) -> None:
    body = RECORD.format(title="Durable", key="durable", published="true").encode()
    with serving(seeds_dir, tmp_path) as (client, process):
        created = _post(client, body)
        assert created.status_code == 201
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    store = Store.open(tmp_path / "store.sqlite3")
    try:
        assert created.json()["id"] in store.published_ids()
    finally:
        store.close()
    assert (seeds_dir / created.json()["file"]).read_bytes() == body


def _self_link(client, path: str) -> str:  # type: ignore[no-untyped-def]
    return str(feedparser.parse(client.get(path).content).feed.links[0].href)


@pytest.mark.parametrize("listen", ["uvicorn", "flags"])
def test_live_uvicorn_server_app_and_serve_flags_use_the_settings(
        seeds_dir: Path, tmp_path: Path, listen: str) -> None:
    """README: `uvicorn server:app` serves with the same settings; `feeds serve --host --port
    --base-url` override the file."""
    base = f"http://{listen}.example/"
    with serving(seeds_dir, tmp_path, listen=listen, base_url=base) as (client, _):
        assert client.get("/healthz").json()["published"] == 7
        assert _self_link(client, "/feeds/all.atom") == f"{base}feeds/all.atom"
        assert f'href="{base}feeds/all.atom"'.encode() in client.get("/").content
        # The seeds are watched either way.
        (seeds_dir / "100_00000000000000c3.txt").write_text(
            RECORD.format(title="Watched", key="w", published="true"), encoding="utf-8")
        wait_for(lambda: "Watched" in _titles(client, "/feeds/all.atom"), timeout=DEADLINE)


def test_live_api_token_from_the_environment_json_post_and_delete_keep_the_file(
        seeds_dir: Path, tmp_path: Path) -> None:
    """README: FEEDS_API_TOKEN overrides api_token; a JSON body is a record too; DELETE
    unpublishes, and the file stays with published: false."""
    record = {"title": "Posted as JSON", "publishedDateTime": "2024-06-21T09:30:00Z",
              "webUrl": "https://example.com/json/1", "published": True,
              "provider": {"name": "Example News", "domain": "example.com"},
              "topics": ["JSON Topic"], "secured": "JSONSECRETVALUE0123456789abcdef"}
    with serving(seeds_dir, tmp_path, token="file-token", env={"FEEDS_API_TOKEN": TOKEN}) as (client, _):
        body = json.dumps(record).encode()
        assert _post(client, body, token="file-token", content_type="application/json").status_code == 403
        created = _post(client, body, content_type="application/json")
        assert created.status_code == 201, created.text
        record_id = created.json()["id"]
        assert any(u.endswith("/feeds/topics/json-topic.json") for u in created.json()["feeds"])
        items = client.get("/feeds/topics/json-topic.json").json()["items"]
        assert [(i["title"], i["url"]) for i in items] == [("Posted as JSON", record["webUrl"])]
        assert "Posted as JSON" in _titles(client, "/feeds/all.atom")
        (path,) = seeds_dir.glob(f"*{record_id}.txt")
        written = front_matter(path)
        assert written["title"] == record["title"] and written["topics"] == record["topics"]

        deleted = client.delete(f"/api/records/{record_id}", headers={"Authorization": f"Bearer {TOKEN}"})
        assert deleted.status_code == 200, deleted.text
        assert path.exists()
        after = front_matter(path)
        assert after["published"] is False
        assert {k: v for k, v in after.items() if k != "published"} == \
            {k: v for k, v in written.items() if k != "published"}
        assert "Posted as JSON" not in _titles(client, "/feeds/all.atom")
        assert client.get("/feeds/topics/json-topic.json").status_code == 404


def test_live_no_watch_leaves_new_files_alone(seeds_dir: Path, tmp_path: Path) -> None:
    """--no-watch: a file that a watching server (the peer) picks up is not ingested."""
    (tmp_path / "still").mkdir()
    (tmp_path / "watching").mkdir()
    peer_seeds = tmp_path / "watching" / "seeds"
    peer_seeds.mkdir()
    for path in seeds_dir.iterdir():
        (peer_seeds / path.name).write_bytes(path.read_bytes())
    name, text = "100_00000000000000c4.txt", RECORD.format(title="Unwatched", key="u", published="true")
    with serving(seeds_dir, tmp_path / "still", "--no-watch") as (still, _), \
            serving(peer_seeds, tmp_path / "watching") as (watching, _):
        etag = _etag(still, "/feeds/all.atom")
        (seeds_dir / name).write_text(text, encoding="utf-8")
        (peer_seeds / name).write_text(text, encoding="utf-8")
        wait_for(lambda: "Unwatched" in _titles(watching, "/feeds/all.atom"), timeout=DEADLINE)
        assert _etag(still, "/feeds/all.atom") == etag
        assert still.get("/healthz").json()["published"] == 7


def test_live_scheduled_record_appears_at_its_time_not_before(seeds_dir: Path, tmp_path: Path) -> None:
    # A lowered tolerance keeps the wait short: the default (10 s) would need a date over 10 s ahead.
    with serving(seeds_dir, tmp_path, more_settings="schedule_tolerance: 1\n") as (client, _):
        due = int(time.time()) + 6
        when = datetime.fromtimestamp(due, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        text = RECORD.format(title="Scheduled one", key="s1", published="true")
        (seeds_dir / "100_00000000000000d1.txt").write_text(
            text.replace("2024-06-20T10:00:00Z", when), encoding="utf-8")
        # Seen by the watcher's ingest well before its date, so what follows checks it held back.
        wait_for(lambda: client.get("/healthz").json()["scheduled"] == 1, timeout=4.0)
        # Held: in no feed, page or OPML; nothing on disk changes from here on.
        assert "Scheduled one" not in _titles(client, "/feeds/all.atom")
        assert client.get("/feeds/topics/live-topic.atom").status_code == 404
        assert b"live-topic" not in client.get("/feeds.opml").content
        assert b"Scheduled one" not in client.get("/all/").content

        def shown() -> bool:
            if "Scheduled one" not in _titles(client, "/feeds/all.atom"):
                return False
            assert time.time() >= due, "published before its date"
            return True

        # Never early (asserted above); late only by how busy the machine is.
        wait_for(shown, timeout=due - time.time() + DEADLINE, interval=0.05)
        assert "Scheduled one" in _titles(client, "/feeds/topics/live-topic.atom")
        assert client.get("/healthz").json()["scheduled"] == 0
