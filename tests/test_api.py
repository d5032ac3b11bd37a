from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from starlette.testclient import TestClient

from feeds.api import authorize, to_record_file
from feeds.app import create_app
from feeds.config import Settings
from feeds.errors import RecordError
from feeds.ingest import ingest
from feeds.parse import RECORD_ID
from feeds.store import Store
from tests.helpers import NEW_RECORD


def test_api_authorize_needs_a_bearer_token() -> None:
    assert authorize(None, "s3cret") == 401
    assert authorize("Basic czNjcmV0", "s3cret") == 401
    assert authorize("Bearer ", "s3cret") == 401


def test_api_authorize_refuses_a_wrong_token() -> None:
    assert authorize("Bearer nope", "s3cret") == 403


def test_api_authorize_accepts_the_token() -> None:
    assert authorize("Bearer s3cret", "s3cret") is None
    assert authorize("bearer s3cret", "s3cret") is None


def test_api_front_matter_body_is_kept_as_is() -> None:
    body = b"---\ntitle: x\n---\n"
    assert to_record_file(body, "text/yaml") is body


def test_api_json_body_becomes_front_matter() -> None:
    body = json.dumps({"id": "00000000000000aa", "title": "T", "published": True}).encode()
    text = to_record_file(body, "application/json; charset=utf-8").decode()
    assert text.startswith("---\n") and text.endswith("---\n")
    assert yaml.safe_load(text.split("---\n")[1]) == {"title": "T", "published": True}


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]"])
def test_api_bad_json_names_the_body(body: bytes) -> None:
    with pytest.raises(RecordError) as caught:
        to_record_file(body, "application/json")
    assert caught.value.field == "body"


@pytest.fixture
def api_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(dataclasses.replace(settings, api_token="t0ken"))) as opened:
        yield opened


def test_api_posts_a_record_under_the_id_ingest_gives_its_url(
        api_client: TestClient, seeds_dir: Path, tmp_path: Path) -> None:
    dropped = tmp_path / "dropped"
    dropped.mkdir()
    (dropped / "one-article.txt").write_text(NEW_RECORD, encoding="utf-8")
    store = Store.open(tmp_path / "dropped.sqlite3")
    try:
        ingest(store, dropped, 1_000_000)
        (ingested,) = store.published_ids()
    finally:
        store.close()
    posted = api_client.post("/api/records", content=NEW_RECORD.encode(),
                             headers={"Authorization": "Bearer t0ken"})
    assert posted.status_code == 201, posted.text
    assert posted.json()["id"] == ingested and RECORD_ID.match(ingested)
    assert (seeds_dir / f"{ingested}.txt").is_file()
    deleted = api_client.delete(f"/api/records/{ingested}", headers={"Authorization": "Bearer t0ken"})
    assert deleted.status_code == 200 and deleted.json()["published"] is False


def test_api_updates_a_record_it_named_before_ids_had_one_rule(
        api_client: TestClient, seeds_dir: Path) -> None:
    url = "https://www.statnews.com/2025/01/01/short-note/"
    legacy = hashlib.sha256(url.encode()).hexdigest()[:16]
    (seeds_dir / f"{legacy}.txt").write_text(NEW_RECORD, encoding="utf-8")
    api_client.app.state.publisher.ingest()  # type: ignore[attr-defined]
    edited = NEW_RECORD.replace("A short note", "A longer note").encode()
    again = api_client.post("/api/records", content=edited, headers={"Authorization": "Bearer t0ken"})
    assert again.status_code == 200, again.text
    assert again.json()["id"] == legacy and again.json()["file"] == f"{legacy}.txt"
    assert "A longer note" in (seeds_dir / f"{legacy}.txt").read_text(encoding="utf-8")
    assert not list(seeds_dir.glob("u*.txt"))
