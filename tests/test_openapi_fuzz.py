"""Schemathesis generates requests from /openapi.json against the app: no 500s, and every
response conforms to the description (status codes, content types, headers, JSON schemas)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from feeds.app import create_app
from feeds.config import Settings
from tests.conftest import SEEDS

TOKEN = "fuzz-token-0123456789"
NASTY = Path(__file__).resolve().parent / "nasty" / "records"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Starlette]:
    root = tmp_path_factory.mktemp("fuzz")
    seeds = root / "seeds"
    shutil.copytree(SEEDS, seeds)
    for name in ("ok_html_everywhere.txt", "ok_symbol_only_topic.txt", "bad_yaml_billion_laughs.txt"):
        shutil.copy(NASTY / name, seeds / name)
    settings = Settings(seeds_dir=seeds, store_path=root / "store.sqlite3", output_dir=root / "out",
                        base_url="http://feeds.test/", watch=False, api_token=TOKEN,
                        items_per_feed=2, archive_page_size=2)
    application = create_app(settings)
    with TestClient(application):  # runs the lifespan: the first ingest
        yield application


def _without_lifespan(app: Starlette) -> ASGIApp:
    """The app for Schemathesis, which runs the lifespan on every call: the fixture runs it once."""

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return

    return serve


def _fuzz(app: Starlette, method: str | None, examples: int, headers: dict[str, str],
          excluded: list[schemathesis.CheckFunction] | None = None) -> int:
    """Run generated cases of every operation (or every ``method`` one); returns how many ran."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", _without_lifespan(app))
    ran = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        # The event stream never ends; it is exercised in tests/test_events.py.
        if operation.path == "/api/events" or (method and operation.method.upper() != method):
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, excluded_checks=excluded)

        run()
        ran += 1
    return ran


def test_openapi_fuzz_no_server_errors_and_responses_conform(app: Starlette) -> None:
    assert _fuzz(app, None, 20, {}) >= 16


def test_openapi_fuzz_publishing_api_with_the_token(app: Starlette) -> None:
    # With the right token, generated bodies reach the record parser and the ingest.
    # A record body is "a string" to the schema, yet most strings are not records: a 400 naming
    # the field is right, so Schemathesis's "valid data is accepted" check does not apply.
    excluded = [checks.positive_data_acceptance]
    assert _fuzz(app, "POST", 60, {"Authorization": f"Bearer {TOKEN}"}, excluded) == 1
