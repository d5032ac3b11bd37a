"""Shared fixtures: a private copy of the seeds, settings pointing into tmp_path, a built export."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from feeds.app import create_app
from feeds.config import Settings
from feeds.export import export
from feeds.ingest import ingest
from feeds.store import Store, open_store
from tests.pg import pg_url, postgres  # noqa: F401 - fixtures: a real PostgreSQL

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture
def seeds_dir(tmp_path: Path) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    for path in target.iterdir():
        path.chmod(0o644)
    return target


@pytest.fixture
def settings(tmp_path: Path, seeds_dir: Path) -> Settings:
    return Settings(
        seeds_dir=seeds_dir,
        store_path=tmp_path / "var" / "store.sqlite3",
        output_dir=tmp_path / "output",
        base_url="http://feeds.test/",
        watch=False,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The app on the sample seeds, started (its lifespan ingests them) and stopped."""
    with TestClient(create_app(settings)) as opened:
        yield opened


@pytest.fixture
def store(settings: Settings) -> Store:
    opened = open_store(settings.store_path)
    yield opened  # type: ignore[misc]
    opened.close()


def build(settings: Settings) -> Path:
    """Ingest and export, as `feeds build` does; returns the output directory."""
    opened = open_store(settings.store_path)
    try:
        ingest(opened, settings.seeds_dir, settings.max_record_bytes)
        export(opened, settings)
    finally:
        opened.close()
    return settings.output_dir


@pytest.fixture
def output(settings: Settings) -> Path:
    return build(settings)
