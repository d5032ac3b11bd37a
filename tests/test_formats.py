"""The format registry: every other module reads the formats, their names and media types from it."""

from __future__ import annotations

import pytest

from feeds.config import Settings
from feeds.errors import ConfigError
from feeds.hosting import nginx_conf
from feeds.openapi import openapi_document
from feeds.render.formats import FORMATS, NAMES


def test_formats_every_registered_format_is_published_by_default() -> None:
    assert Settings().formats == NAMES == ("atom", "rss", "json")


def test_formats_a_name_outside_the_registry_is_refused_naming_the_setting_and_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"formats: expected one or more of atom, rss, json .*'rdf'"):
        Settings(formats=("atom", "rdf"))


def test_formats_static_hosts_serve_each_registered_format_with_its_media_type() -> None:
    conf = nginx_conf(Settings())
    for name, feed_format in FORMATS.items():
        assert f"    {feed_format.media_type.split(';')[0]} {name};" in conf


def test_formats_openapi_describes_only_the_configured_formats() -> None:
    document = openapi_document(Settings(formats=("json",)))
    parameters = [p for path in document["paths"].values() if "get" in path
                  for p in path["get"].get("parameters", []) if p["name"] == "ext"]
    assert parameters and all(p["schema"]["enum"] == ["json"] for p in parameters)
    assert all(p["description"] == "json: JSON Feed 1.1." for p in parameters)
