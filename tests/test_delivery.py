"""One set of bytes: every exported document is served byte-for-byte, with the same ETag."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.testclient import TestClient

from feeds.app import create_app
from feeds.config import Settings

MEDIA_TYPES = {
    ".atom": "application/atom+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}


def test_served_documents_equal_exported_files(settings: Settings, output: Path) -> None:
    manifest = json.loads((output / "manifest.json").read_text())["files"]
    with TestClient(create_app(settings)) as client:
        for path, entry in manifest.items():
            if Path(path).suffix not in MEDIA_TYPES:
                continue
            url = "/" if path == "index.html" else f"/{path}"
            response = client.get(url, headers={"Accept-Encoding": "identity"})
            assert response.status_code == 200, path
            assert response.content == (output / path).read_bytes(), path
            assert response.headers["etag"] == entry["etag"], path
            assert response.headers["content-type"] == MEDIA_TYPES[Path(path).suffix], path


def test_unknown_feed_is_a_clear_404(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        response = client.get("/feeds/topics/no-such-topic.atom")
    assert response.status_code == 404
    assert "/feeds/topics/no-such-topic.atom" in response.text


def test_unpublished_topic_has_no_feed(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        assert client.get("/feeds/topics/quantum-computing.atom").status_code == 404
