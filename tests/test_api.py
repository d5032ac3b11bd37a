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
from feeds.store import open_store
from tests.conftest import SEEDS
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
    store = open_store(tmp_path / "dropped.sqlite3")
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


def test_api_on_a_node_that_does_not_ingest_writes_into_the_store(settings: Settings) -> None:
    quiet = dataclasses.replace(settings, ingest=False, api_token="t0ken")
    auth = {"Authorization": "Bearer t0ken"}
    record = (settings.seeds_dir / "001_3f9a2c7e8b104d5a.txt").read_text(encoding="utf-8")
    record = record.replace("beckershospitalreview.com/healthcare", "beckershospitalreview.com/held")
    with TestClient(create_app(quiet)) as client:
        assert client.get("/healthz").json()["records"] == 0  # the seeds were not read
        posted = client.post("/api/records", content=record.encode(), headers=auth)
        assert posted.status_code == 201, posted.text
        record_id = posted.json()["id"]
        assert record_id.encode() in client.get("/feeds/all.atom").content
        assert client.post("/api/records", content=record.encode(), headers=auth).status_code == 200
        assert client.delete(f"/api/records/{record_id}", headers=auth).json()["published"] is False
        assert record_id.encode() not in client.get("/feeds/all.atom").content
    assert sorted(p.name for p in settings.seeds_dir.iterdir()) == sorted(p.name for p in SEEDS.iterdir())
    store = open_store(settings.store_path)
    try:
        assert store.record_path(record_id) == f"api/{record_id}.txt"
        assert store.unpublished_ids() == {record_id}
    finally:
        store.close()
