from __future__ import annotations

from pathlib import Path

import pytest

from feeds.config import RESOLVED_SETTINGS, Settings, load_settings, resolved_settings, settings_json
from feeds.errors import ConfigError


def test_config_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FEEDS_CONFIG", raising=False)
    assert load_settings() == Settings()


def test_config_file_then_overrides(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("site_title: News\nitems_per_feed: 20\nbase_url: https://cdn.example\n")
    settings = load_settings(path, {"items_per_feed": 5, "seeds_dir": None})
    assert (settings.site_title, settings.items_per_feed) == ("News", 5)
    assert settings.base_url == "https://cdn.example/"


def test_config_from_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "other.yaml"
    path.write_text("site_title: From env\n")
    monkeypatch.setenv("FEEDS_CONFIG", str(path))
    assert load_settings().site_title == "From env"


def test_config_empty_environment_variable_means_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Shells and container recipes often leave FEEDS_CONFIG set but empty.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FEEDS_CONFIG", "")
    assert load_settings() == Settings()
    (tmp_path / "feeds.yaml").write_text("site_title: From the default file\n")
    assert load_settings().site_title == "From the default file"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nonsense: 1\n", "unknown setting(s) nonsense"),
        ("items_per_feed: many\n", "items_per_feed: expected an integer"),
        ("items_per_feed: 0\n", "items_per_feed: expected a positive integer"),
        ("base_url: feeds.example\n", "base_url: expected an absolute http(s) URL"),
        ("schedule_tolerance: -1\n", "schedule_tolerance: expected 0 seconds or more"),
        ("- a list\n", "expected a mapping"),
        ("workers: 4\n", "workers: renamed build_processes"),
        ("serve_workers: 0\n", "serve_workers: expected 1 or more"),
    ],
)
def test_config_errors_name_the_setting(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings(path)


def test_config_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "absent.yaml")


def test_config_resolved_settings_reach_worker_processes_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(seeds_dir=tmp_path / "s", hubs=("https://hub.example/",), formats=("rss",),
                        serve_workers=3, api_token="t")
    monkeypatch.setenv(RESOLVED_SETTINGS, settings_json(settings))
    monkeypatch.setenv("FEEDS_CONFIG", str(tmp_path / "absent.yaml"))  # not read
    assert resolved_settings() == settings
    monkeypatch.setenv(RESOLVED_SETTINGS, "[]")
    with pytest.raises(ConfigError, match=f"{RESOLVED_SETTINGS}: expected a JSON object"):
        resolved_settings()


def test_config_resolved_settings_without_a_parent_read_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("site_title: From the file\n")
    monkeypatch.delenv(RESOLVED_SETTINGS, raising=False)
    monkeypatch.setenv("FEEDS_CONFIG", str(path))
    assert resolved_settings().site_title == "From the file"
