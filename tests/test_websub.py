"""WebSub: discovery links in every feed and header, and publish notifications to a test hub."""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from starlette.testclient import TestClient

from feeds.app import Publisher, create_app
from feeds.cli import main
from feeds.config import Settings
from feeds.websub import Notification, Notifier, notifications, retry_delay, should_retry
from tests.archive_walk import read_page
from tests.helpers import NEW_RECORD


class Hub(ThreadingHTTPServer):
    """A WebSub hub on 127.0.0.1 that records each publish request and answers as scripted."""

    request_queue_size = 64  # the notifier sends several at once

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _HubHandler)
        self.received: list[dict[str, list[str]]] = []
        self.statuses: list[int] = []  # answers to the next requests; then 204
        self.gate = threading.Event()
        self.gate.set()
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hub"


class _HubHandler(BaseHTTPRequestHandler):
    server: Hub

    def do_POST(self) -> None:
        self.server.gate.wait(timeout=30)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        with self.server.lock:
            status = self.server.statuses.pop(0) if self.server.statuses else 204
            if 200 <= status < 300:
                self.server.received.append(parse_qs(body))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def running_hub() -> Iterator[Hub]:
    """A Hub serving from a thread until the block ends."""
    server = Hub()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.gate.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def hub() -> Iterator[Hub]:
    with running_hub() as server:
        yield server


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hub"


def _fast() -> Notifier:
    return Notifier(attempts=3, backoff=0.01, timeout=5)


def _publisher(client: TestClient) -> Publisher:
    publisher = client.app.state.publisher  # type: ignore[attr-defined]
    assert isinstance(publisher, Publisher)
    return publisher


def _topics(received: list[dict[str, list[str]]]) -> list[list[str]]:
    assert all(form["hub.mode"] == ["publish"] for form in received)
    return sorted(form["hub.url"] for form in received)


def _feed_urls(settings: Settings, feed: str) -> list[str]:
    return [settings.url(f"feeds/{feed}.{fmt}") for fmt in ("atom", "rss", "json")]


def test_websub_notifications_one_per_hub_and_feed_with_every_format() -> None:
    settings = Settings(base_url="https://feeds.example/", hubs=("https://a.hub/", "https://b.hub/"))
    built = notifications(settings, ["topics/ai", "all"])
    assert [n.hub for n in built] == ["https://a.hub/"] * 2 + ["https://b.hub/"] * 2
    assert built[0] == Notification("https://a.hub/", (
        "https://feeds.example/feeds/all.atom", "https://feeds.example/feeds/all.rss",
        "https://feeds.example/feeds/all.json"))
    assert built[1].form() == {"hub.mode": "publish", "hub.url": _feed_urls(settings, "topics/ai")}
    assert notifications(Settings(), ["all"]) == []


def test_websub_retry_policy() -> None:
    assert should_retry(None) and should_retry(500) and should_retry(503) and should_retry(429)
    assert not should_retry(400) and not should_retry(404) and not should_retry(204)
    assert [retry_delay(n, 1.0) for n in (1, 2, 3)] == [1.0, 2.0, 4.0]
    assert retry_delay(30, 1.0) == 300.0


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
def test_websub_feeds_carry_hub_and_self_links_and_headers(settings: Settings, fmt: str) -> None:
    hub = _closed_port_url()  # nothing listens: the start-up notifications fail at once
    hubbed = dataclasses.replace(settings, hubs=(hub,), items_per_feed=2, archive_page_size=2)
    with TestClient(create_app(hubbed, notifier=Notifier(attempts=1))) as client:
        url = hubbed.url(f"feeds/topics/ai.{fmt}")
        response = client.get(url)
        page = read_page(response.content, fmt)
        assert page.links["hub"] == [hub]
        assert page.links["self"] == [url]
        assert response.headers["link"] == f'<{hub}>; rel="hub", <{url}>; rel="self"'
        # Archive pages and limited views are not topics the hub is told about.
        archive = client.get(hubbed.url(f"feeds/all/archive/1.{fmt}"))
        assert "hub" not in read_page(archive.content, fmt).links
        assert "link" not in archive.headers
        assert "link" not in client.get(url + "?limit=1").headers


def test_websub_no_links_without_hubs(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        response = client.get("/feeds/all.atom")
        assert "link" not in response.headers
        assert "hub" not in read_page(response.content, "atom").links


def test_websub_ingest_that_changes_two_feeds_sends_exactly_two_notifications(
    settings: Settings, seeds_dir: Path, hub: Hub
) -> None:
    hubbed = dataclasses.replace(settings, hubs=(hub.url,))
    with TestClient(create_app(hubbed, notifier=_fast())) as client:
        publisher = _publisher(client)
        assert publisher.notifier.drain(timeout=30)
        assert len(hub.received) == 11  # the first ingest published every feed
        hub.received.clear()
        (seeds_dir / "100_0123456789abcdef.txt").write_text(NEW_RECORD, encoding="utf-8")
        report = publisher.ingest()
        assert report.changed_feeds == {"all", "providers/statnews-com"}
        assert publisher.notifier.drain(timeout=30)
        assert _topics(hub.received) == [_feed_urls(hubbed, "all"),
                                         _feed_urls(hubbed, "providers/statnews-com")]
        # The hub fetches the new content: the switch happened before the notification.
        assert b"A short note with no topics" in client.get("/feeds/providers/statnews-com.atom").content
        publisher.ingest()  # nothing changed: nothing sent
        assert publisher.notifier.drain(timeout=30)
        assert len(hub.received) == 2


def test_websub_slow_hub_never_blocks_ingest(settings: Settings, seeds_dir: Path, hub: Hub) -> None:
    hubbed = dataclasses.replace(settings, hubs=(hub.url,))
    hub.gate.clear()  # the hub holds every request until released
    with TestClient(create_app(hubbed, notifier=_fast())) as client:
        publisher = _publisher(client)
        (seeds_dir / "100_0123456789abcdef.txt").write_text(NEW_RECORD, encoding="utf-8")
        publisher.ingest()
        assert client.get("/feeds/all.atom").status_code == 200
        assert hub.received == []
        hub.gate.set()
        assert publisher.notifier.drain(timeout=30)
        assert len(hub.received) == 11 + 2


def test_websub_retries_a_failing_hub_with_backoff(settings: Settings, hub: Hub) -> None:
    hubbed = dataclasses.replace(settings, hubs=(hub.url,))
    hub.statuses = [503, 500]  # the first two requests fail; the retries succeed
    notifier = _fast()
    with TestClient(create_app(hubbed, notifier=notifier)):
        assert notifier.drain(timeout=30)
        assert notifier.sent == 11 and notifier.failed == 0
        assert len(hub.received) == 11


def test_websub_hub_down_ingest_and_serving_still_succeed(
    settings: Settings, seeds_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hubbed = dataclasses.replace(settings, hubs=(_closed_port_url(),))
    notifier = _fast()
    with caplog.at_level(logging.WARNING, logger="feeds.websub"), \
            TestClient(create_app(hubbed, notifier=notifier)) as client:
        (seeds_dir / "100_0123456789abcdef.txt").write_text(NEW_RECORD, encoding="utf-8")
        report = _publisher(client).ingest()
        assert report.ingested == 1
        response = client.get("/feeds/providers/statnews-com.json")
        assert response.status_code == 200
        assert "A short note with no topics" in json.dumps(response.json())
        assert notifier.drain(timeout=30)
        assert notifier.sent == 0 and notifier.failed == 11 + 2
    failures = [r for r in caplog.records if "was not notified" in r.getMessage()]
    assert len(failures) == 13
    assert "after 3 attempt(s)" in failures[0].getMessage()


def test_websub_build_command_notifies_the_hubs(settings: Settings, hub: Hub, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text(
        f"seeds_dir: {settings.seeds_dir}\nstore_path: {settings.store_path}\n"
        f"output_dir: {settings.output_dir}\nbase_url: {settings.base_url}\nhubs: [{hub.url}]\n",
        encoding="utf-8")
    assert main(["build", "--config", str(config), "--quiet"]) == 0
    assert "websub: 11 of 11 hub notifications sent, 0 failed" in capsys.readouterr().out
    assert len(hub.received) == 11
    assert main(["build", "--config", str(config), "--quiet"]) == 0  # nothing changed
    assert "hub notifications" not in capsys.readouterr().out
    assert len(hub.received) == 11
