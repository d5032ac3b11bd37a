"""Shared fixtures: a private copy of the seeds, settings pointing into tmp_path, a built export."""

from __future__ import annotations

import os
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

# Set by .ci/run and by `make test` as root (where scripts/install-test-tools installs the tools):
# a missing tool then fails the test that needs it instead of skipping it.
REQUIRE_TOOLS = os.environ.get("FEEDS_REQUIRE_TOOLS", "") == "1"


def require(tool: str, available: bool, consequence: str) -> None:
    """Skip (or, with FEEDS_REQUIRE_TOOLS=1, fail) unless ``tool`` is ``available``.

    The one place a test may step aside for a missing tool, so CI cannot pass without it.
    """
    if available:
        return
    message = f"{tool} is missing: {consequence} (scripts/install-test-tools installs it as root)"
    if REQUIRE_TOOLS:
        pytest.fail(f"FEEDS_REQUIRE_TOOLS=1: {message}", pytrace=False)
    pytest.skip(f"LOUD SKIP: {message}")


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


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a store of each backend lives: a SQLite file, or a database of the suite's
    PostgreSQL server (tests/pg.py)."""
    if request.param == "sqlite":
        return str(tmp_path / "store.sqlite3")
    return str(request.getfixturevalue("pg_url"))


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
