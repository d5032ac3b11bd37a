"""The OpenAPI description lists every route the server answers, with its parameters."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from starlette.testclient import TestClient

from feeds.app import create_app
from feeds.config import Settings


def _matcher(template: str, parameters: list[dict[str, Any]]) -> re.Pattern[str]:
    """A regex for a path template, each parameter matching only what its schema allows."""
    schemas = {p["name"]: p["schema"] for p in parameters if p["in"] == "path"}
    assert set(re.findall(r"{(\w+)}", template)) == set(schemas), template
    pattern = re.escape(template)
    for name, schema in schemas.items():
        if "enum" in schema:
            part = "|".join(re.escape(v) for v in schema["enum"])
        elif schema["type"] == "integer":
            part = "[1-9][0-9]*"
        else:
            part = schema["pattern"].strip("^$")
        pattern = pattern.replace(re.escape("{" + name + "}"), f"(?:{part})")
    return re.compile(pattern + "$")


def test_openapi_served_and_describes_every_document(settings: Settings) -> None:
    small = dataclasses.replace(settings, items_per_feed=2, archive_page_size=2)
    with TestClient(create_app(small)) as client:
        spec = client.get("/openapi.json").json()
        publisher = client.app.state.publisher  # type: ignore[attr-defined]
        served = ["/" + path for path in publisher.renderer.document_paths()]
    assert spec["openapi"].startswith("3.1")
    matchers = {
        template: _matcher(template, next(iter(item.values())).get("parameters", []))
        for template, item in spec["paths"].items()
    }
    served += ["/", "/all/", "/topics/ai/", "/healthz", "/openapi.json"]
    assert any("/archive/" in path for path in served)
    for path in served:
        matching = [t for t, m in matchers.items() if m.match(path)]
        assert len(matching) == 1, (path, matching)
    for template, item in spec["paths"].items():
        assert set(item) <= {"get", "head", "post", "delete"}, template
        assert all(operation["responses"] for operation in item.values()), template


def test_openapi_documents_limit_and_status_codes(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        spec = client.get("/openapi.json").json()
    for template in ("/feeds/all.{ext}", "/feeds/{kind}/{slug}.{ext}"):
        operation = spec["paths"][template]["get"]
        limit = next(p for p in operation["parameters"] if p["name"] == "limit")
        assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": settings.max_limit}
        assert set(operation["responses"]) == {"200", "304", "400", "404"}
        assert set(operation["responses"]["200"]["content"]) == {
            "application/atom+xml", "application/rss+xml", "application/feed+json"}
        assert spec["paths"][template]["head"]["parameters"] == operation["parameters"]
    archive = spec["paths"]["/feeds/{kind}/{slug}/archive/{number}.{ext}"]["get"]
    assert "limit" not in {p["name"] for p in archive["parameters"]}
    assert set(archive["responses"]) == {"200", "304", "404"}
    assert set(spec["paths"]["/healthz"]["get"]["responses"]) == {"200", "503"}
