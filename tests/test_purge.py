"""Purge on publish: batched, retried, in the background, against stand-ins of the CDN APIs."""

from __future__ import annotations

import dataclasses
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from starlette.testclient import TestClient

from feeds.app import Publisher, create_app
from feeds.cdn import PurgeTarget
from feeds.cli import main
from feeds.config import Settings
from feeds.purge import Purger, purge_now
from tests.cdn_standins import cloudflare_standin, fastly_standin
from tests.helpers import NEW_RECORD
from tests.live import free_port


def _fastly(url: str) -> PurgeTarget:
    return PurgeTarget("fastly", url, "SU1Z0isxPaozGVKXdv0eY", "FASTLY_API_TOKEN")


def _cloudflare(url: str) -> PurgeTarget:
    return PurgeTarget("cloudflare", url, "023e105f4ecef8ad9ca31a8372d0c353", "CLOUDFLARE_API_TOKEN")


TOKENS = {"FASTLY_API_TOKEN": "fastly-test-token", "CLOUDFLARE_API_TOKEN": "cf-test-token"}


def test_purge_fastly_and_cloudflare_accept_the_requests_sent() -> None:
    keys = ["site", *(f"feed:topics/t{n}" for n in range(40))]
    with fastly_standin() as fastly, cloudflare_standin() as cloudflare:
        purger = Purger([_fastly(fastly.url), _cloudflare(cloudflare.url)], environ=TOKENS)
        purger.submit(keys)
        assert purger.drain(10)
        purger.close()
    assert (fastly.refused, cloudflare.refused) == ([], [])
    assert sorted(k for batch in fastly.purged for k in batch) == sorted(keys)
    assert [len(batch) for batch in cloudflare.purged] == [30, 11]
    assert (purger.sent, purger.failed) == (3, 0)


def test_purge_retries_server_errors_with_backoff_and_gives_up_on_refusals() -> None:
    with fastly_standin() as fastly:
        fastly.statuses = [503, 429]
        purger = Purger([_fastly(fastly.url)], environ=TOKENS, backoff=0.01)
        purger.submit(["feed:all"])
        assert purger.drain(10)
        assert (fastly.purged, purger.sent) == ([["feed:all"]], 1)
        fastly.statuses = [403]
        purger.submit(["feed:all"])
        assert purger.drain(10)
        purger.close()
    assert (purger.sent, purger.failed) == (1, 1)


def test_purge_without_its_token_sends_nothing() -> None:
    with cloudflare_standin() as cloudflare:
        purger = Purger([_cloudflare(cloudflare.url)], environ={})
        purger.submit(["site"])
        assert purger.drain(10)
        purger.close()
    assert (cloudflare.purged, cloudflare.refused, purger.failed) == ([], [], 1)


class _Slow(ThreadingHTTPServer):
    """A Varnish-like endpoint that holds each request until released, recording the keys."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SlowHandler)
        self.release = threading.Event()
        self.arrived = threading.Event()
        self.keys: list[str] = []
        self.headers_seen: list[dict[str, str]] = []


class _SlowHandler(BaseHTTPRequestHandler):
    server: _Slow

    def do_PURGE(self) -> None:
        self.server.arrived.set()
        self.server.release.wait(10)
        self.server.keys.append(self.headers["xkey-purge"])
        self.server.headers_seen.append(dict(self.headers.items()))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_purge_never_blocks_and_merges_keys_that_arrive_while_a_request_is_out() -> None:
    server = _Slow()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        purger = Purger([PurgeTarget("varnish", f"http://127.0.0.1:{server.server_address[1]}/")],
                        environ=TOKENS)
        purger.submit(["feed:a"])
        assert server.arrived.wait(10)  # the first request is out, and held
        for key in ("feed:b", "feed:c", "feed:b"):
            purger.submit([key])
        # Every submit returned while the endpoint held the first request.
        assert not purger.drain(0)
        server.release.set()
        assert purger.drain(10)
        purger.close()
    finally:
        server.shutdown()
        server.server_close()
    assert server.keys == ["feed:a", "feed:b feed:c"]
    # Varnish gets no token of any other kind.
    assert not any("token" in value for seen in server.headers_seen for value in seen.values())


def test_purge_endpoint_down_is_logged_and_given_up_in_bounded_time() -> None:
    target = PurgeTarget("varnish", f"http://127.0.0.1:{free_port()}/")
    line = purge_now([target], ["site"], timeout=10, purger=Purger([target], attempts=2, backoff=0.01))
    assert line == "0 purge request(s) sent, 1 failed"


def test_purge_feeds_build_purges_what_its_ingest_changed(
        settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with cloudflare_standin() as cloudflare:
        config = settings.store_path.parent.parent / "feeds.yaml"
        config.write_text(f"seeds_dir: {settings.seeds_dir}\nstore_path: {settings.store_path}\n"
                          f"output_dir: {settings.output_dir}\nbuild_processes: 1\npurge:\n"
                          f"  - kind: cloudflare\n    zone_id: 023e105f4ecef8ad9ca31a8372d0c353\n"
                          f"    url: {cloudflare.url}\n")
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "cf-test-token")
        assert main(["build", "--quiet", "--config", str(config)]) == 0
        (settings.seeds_dir / "100_0123456789abcdef.txt").write_text(NEW_RECORD)
        cloudflare.purged.clear()
        assert main(["build", "--quiet", "--config", str(config)]) == 0
        assert main(["build", "--quiet", "--config", str(config)]) == 0  # no change: no purge
    assert cloudflare.purged == [["feed:all", "feed:providers/statnews-com", "site"]]
    assert "purge: 1 purge request(s) sent, 0 failed" in capsys.readouterr().out


def test_purge_after_a_publishing_ingest_names_the_changed_feeds(settings: Settings) -> None:
    with fastly_standin() as fastly:
        configured = dataclasses.replace(settings, purge=(_fastly(fastly.url),))
        purger = Purger(configured.purge, environ=TOKENS)
        with TestClient(create_app(configured, purger=purger)) as client:
            publisher = client.app.state.publisher  # type: ignore[attr-defined]
            assert isinstance(publisher, Publisher)
            assert purger.drain(10)
            fastly.purged.clear()  # the first ingest changed every feed
            (settings.seeds_dir / "100_0123456789abcdef.txt").write_text(NEW_RECORD)
            publisher.ingest()
            assert purger.drain(10)
            assert fastly.purged == [["feed:all", "feed:providers/statnews-com", "site"]]
            publisher.ingest()  # nothing changed: nothing purged
            assert purger.drain(10)
            assert len(fastly.purged) == 1
