"""Object storage as an export target, against moto's S3 server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from feeds.cli import main
from feeds.compress import MIN_SIZE
from feeds.config import Settings
from feeds.errors import ConfigError
from feeds.export import read_manifest
from feeds.export.s3 import MANIFEST_KEY, S3Target, object_specs, parse_s3_url, upload_plan, wave_of
from tests.helpers import NEW_RECORD
from tests.s3server import aws_environment, moto_server

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = re.compile(r"^upload: (\d+) objects at (\S+): (\d+) uploaded, (\d+) unchanged, (\d+) deleted",
                     re.MULTILINE)


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with moto_server(tmp_path_factory.mktemp("moto")) as url:
        yield url


@pytest.fixture
def aws(endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    environment = aws_environment(endpoint, tmp_path)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return environment


@pytest.fixture
def s3(aws: dict[str, str]) -> Any:
    return boto3.client("s3")


@pytest.fixture
def bucket(s3: Any, request: pytest.FixtureRequest) -> str:
    name = "feeds-" + hashlib.sha256(request.node.name.encode()).hexdigest()[:12]
    s3.create_bucket(Bucket=name)
    return name


def _config(root: Path, seeds: Path, extra: str = "") -> Path:
    """A feeds.yaml for one machine: its own store (and so its own staging tree)."""
    root.mkdir(parents=True, exist_ok=True)
    config = root / "feeds.yaml"
    config.write_text(f"seeds_dir: {seeds}\nstore_path: {root / 'var' / 'store.sqlite3'}\n"
                      f"base_url: https://feeds.example/\nitems_per_feed: 2\narchive_page_size: 2\n"
                      f"build_processes: 1\n{extra}", encoding="utf-8")
    return config


def _build(config: Path, url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, int, int]:
    """`feeds build --output URL`: (uploaded, unchanged, deleted) from its summary line."""
    assert main(["build", "--quiet", "--config", str(config), "--output", url]) == 0
    found = SUMMARY.search(capsys.readouterr().out)
    assert found is not None
    return int(found[3]), int(found[4]), int(found[5])


def _objects(s3: Any, bucket: str, prefix: str) -> dict[str, str]:
    """Key (under ``prefix``) → S3 ETag (the MD5 of a simple upload's bytes)."""
    found: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", ()):
            found[item["Key"].removeprefix(prefix)] = item["ETag"].strip('"')
    return found


def _staged(config: Path, url: str) -> Path:
    target = parse_s3_url(url)
    return (config.parent / "var" / "s3" / target.bucket / target.prefix / "export").resolve()


def _md5s(tree: Path) -> dict[str, str]:
    specs = object_specs(read_manifest(tree), Settings())
    return {path: hashlib.md5((tree / path).read_bytes()).hexdigest() for path in specs}


def test_s3_url_names_a_bucket_and_a_prefix() -> None:
    assert parse_s3_url("s3://feeds-bucket/site") == S3Target("feeds-bucket", "site/")
    assert parse_s3_url("s3://feeds-bucket/") == S3Target("feeds-bucket", "")
    for bad in ("s3://", "s3://UPPER/x/", "s3://b/x/", "s3://bucket/a//b/", "s3://bucket/../x/"):
        with pytest.raises(ConfigError, match="--output: expected s3://BUCKET/PREFIX/"):
            parse_s3_url(bad)


def test_s3_plan_uploads_what_is_linked_before_what_links_to_it() -> None:
    files = {path: {"media_type": "x", "etag": f'"{path}"', "immutable": False, "encoded": {}}
             for path in ("index.html", "feeds.opml", "topics/ai/index.html", "feeds/topics/ai.atom",
                          "feeds/topics/ai/archive/1.atom", "style.css")}
    waves, deleted = upload_plan({"gone.atom": "x"}, object_specs(files, Settings()))
    assert [[spec.path for spec in wave] for wave in waves] == [
        ["feeds/topics/ai/archive/1.atom", "style.css"], ["feeds/topics/ai.atom"],
        ["topics/ai/index.html"], ["feeds.opml", "index.html"]]
    assert deleted == ["gone.atom"]


def test_s3_build_uploads_every_document_with_the_servers_headers(
        tmp_path: Path, seeds_dir: Path, s3: Any, bucket: str, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"s3://{bucket}/site/"
    config = _config(tmp_path / "machine", seeds_dir)
    uploaded, unchanged, deleted = _build(config, url, capsys)
    tree = _staged(config, url)
    files = read_manifest(tree)
    assert (unchanged, deleted) == (0, 0) and uploaded == len(_md5s(tree)) > len(files)
    held = _objects(s3, bucket, "site/")
    assert held.pop(MANIFEST_KEY) and held == _md5s(tree)
    archive = s3.get_object(Bucket=bucket, Key="site/feeds/all/archive/1.atom")
    assert archive["CacheControl"] == "public, max-age=31536000, immutable"
    assert archive["ContentType"] == "application/atom+xml; charset=utf-8"
    assert archive["Metadata"] == {"surrogate-key": "feed:all feeds"}
    # Archive pages have no siblings: the edge compresses them when asked (feeds.hosting).
    assert "site/feeds/all/archive/1.atom.gz" not in held and archive["ContentLength"] >= MIN_SIZE
    current = s3.get_object(Bucket=bucket, Key="site/feeds/all.json")
    assert current["CacheControl"] == "public, max-age=300, stale-while-revalidate=60"
    assert current["Body"].read() == (tree / "feeds/all.json").read_bytes()
    sibling = s3.get_object(Bucket=bucket, Key="site/feeds/all.json.gz")
    assert (sibling["ContentEncoding"], sibling["ContentType"]) == ("gzip", current["ContentType"])
    assert s3.get_object(Bucket=bucket, Key="site/index.html")["ContentType"] == "text/html; charset=utf-8"


def test_s3_one_edit_uploads_only_its_documents_and_a_removed_feed_is_deleted(
        tmp_path: Path, seeds_dir: Path, s3: Any, bucket: str, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"s3://{bucket}/"
    config = _config(tmp_path / "machine", seeds_dir)
    _build(config, url, capsys)
    before = _objects(s3, bucket, "")
    assert _build(config, url, capsys)[0] == 0  # nothing changed, nothing sent

    (seeds_dir / "100_0123456789abcdef.txt").write_text(NEW_RECORD)
    uploaded, _, deleted = _build(config, url, capsys)
    after = _objects(s3, bucket, "")
    changed = {key for key in after if before.get(key) != after[key]} - {MANIFEST_KEY}
    assert uploaded == len(changed) and deleted == 0
    assert changed and all(key.startswith(("feeds/all", "feeds/providers/statnews-com", "all/",
                                           "providers/statnews-com/", "index.html", "feeds.opml"))
                           for key in changed), sorted(changed)

    (seeds_dir / "100_0123456789abcdef.txt").unlink()
    uploaded, _, deleted = _build(config, url, capsys)
    gone = set(_objects(s3, bucket, "")) ^ set(after)
    assert deleted == len(gone) > 0 and all("statnews-com" in key or "/archive/" in key for key in gone)


def test_s3_a_fresh_machine_builds_against_the_bucket_without_uploading_again(
        tmp_path: Path, seeds_dir: Path, bucket: str, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"s3://{bucket}/site/"
    _build(_config(tmp_path / "first", seeds_dir), url, capsys)
    fresh = _config(tmp_path / "second", seeds_dir)
    assert not (fresh.parent / "var").exists()
    assert _build(fresh, url, capsys)[0] == 0


def test_s3_a_build_killed_mid_upload_leaves_a_complete_consistent_set(
        tmp_path: Path, seeds_dir: Path, s3: Any, bucket: str, aws: dict[str, str],
        capsys: pytest.CaptureFixture[str]) -> None:
    url = f"s3://{bucket}/"
    _build(_config(tmp_path / "machine", seeds_dir), url, capsys)
    for attempt in range(40):
        # A new site title changes every document but the assets: a long upload to interrupt.
        config = _config(tmp_path / "machine", seeds_dir, f"site_title: Edition {attempt}\n")
        old = _objects(s3, bucket, "")
        process = subprocess.Popen([sys.executable, "-m", "feeds", "build", "--quiet", "--config",
                                    str(config), "--output", url], env={**os.environ, **aws},
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while process.poll() is None and _objects(s3, bucket, "") == old:
            time.sleep(0.005)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        now = _objects(s3, bucket, "")
        if now[MANIFEST_KEY] != old[MANIFEST_KEY] or now == old:
            continue  # finished, or killed before uploading: try again
        new = _md5s(_staged(config, url))
        # Nothing deleted; every object is whole, its old bytes or its new ones.
        assert set(old) <= set(now)
        assert all(now[key] in (old[key], new.get(key)) for key in now)
        # Whatever links to a new document went up after it: a new object of one wave means
        # every changed object of the waves before is new too.
        fresh = {key for key in now if now[key] != old[key] and key != MANIFEST_KEY}
        pending = {key for key in new if new[key] != now.get(key)}
        assert fresh and pending
        assert max(map(wave_of, fresh)) <= min(map(wave_of, pending))
        # The next build completes the set.
        _build(config, url, capsys)
        assert {k: v for k, v in _objects(s3, bucket, "").items() if k != MANIFEST_KEY} == new
        break
    else:
        pytest.fail("no kill landed mid-upload in 40 rounds")
    state = json.loads(s3.get_object(Bucket=bucket, Key=MANIFEST_KEY)["Body"].read())
    assert set(state["objects"]) == set(new)
