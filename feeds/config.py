"""Settings: defaults, overridden by a YAML file, overridden by command-line options."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from feeds.cdn import PurgeTarget, purge_targets
from feeds.errors import ConfigError
from feeds.store import is_database_url

__all__ = ["DEFAULT_CONFIG_FILE", "RESOLVED_SETTINGS", "Settings", "load_settings",
           "resolved_settings", "settings_json"]

DEFAULT_CONFIG_FILE = Path("feeds.yaml")
# https://www.rfc-editor.org/rfc/rfc5646#section-2.1, loosely: a language and its subtags.
_LANGUAGE = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*")
_HEX_COLOUR = re.compile(r"[0-9A-Fa-f]{6}")
# The environment variable carrying `feeds serve`'s resolved settings to its worker processes.
RESOLVED_SETTINGS = "FEEDS_RESOLVED_SETTINGS"
# Settings that were renamed: the old name is refused with the new one, never guessed at.
_RENAMED = {
    "workers": "workers: renamed build_processes (a build's processes; 0: one per CPU); "
               "the server's processes are serve_workers (`feeds serve --workers N`)",
}


@dataclass(frozen=True)
class Settings:
    """Everything configurable; every field has a sensible default."""

    site_title: str = "Feeds"
    site_description: str = "The latest articles, by topic and by provider."
    base_url: str = "http://127.0.0.1:8000/"
    items_per_feed: int = 50
    archive_page_size: int = 50
    seeds_dir: Path = Path("seeds")
    # A file (SQLite, the embedded default) or a postgresql:// URL (libpq form) for a store
    # several nodes share.
    store_path: Path | str = Path("var/store.sqlite3")
    output_dir: Path = Path("output")
    host: str = "127.0.0.1"
    port: int = 8000
    # Entry ids are tag: URIs under this prefix; readers deduplicate by id, so set it once.
    id_prefix: str = "tag:feeds.local,2024:"
    max_record_bytes: int = 1_000_000
    max_age: int = 300
    stale_while_revalidate: int = 60
    archive_max_age: int = 31_536_000
    # The export's precompressed .br files: 11 is ~10% smaller than 8 but ~50 times slower.
    brotli_quality: int = 5
    cache_mb: int = 40
    # Documents whose validators (version, ETag, dates) are kept to answer 304s without rendering.
    etag_index_entries: int = 100_000
    # The largest ?limit=N a feed accepts.
    max_limit: int = 50
    hubs: tuple[str, ...] = ()
    access_log: bool = True
    # The publishing API is off while this is empty; FEEDS_API_TOKEN overrides the file.
    api_token: str = ""
    watch: bool = True
    # False: never scan or watch the seeds (a node of a shared store that others fill); the
    # publishing API then writes records straight into the store.
    ingest: bool = True
    # What a build makes: feed formats (of atom, rss, json), RFC 5005 archive pages, and the
    # export's precompressed .gz/.br siblings. Fewer of each means a faster, smaller build.
    # The registry's names (feeds.render.formats.NAMES), spelled out: the registry's renderers
    # read Settings, so this module cannot import it at its top; __post_init__ checks them.
    formats: tuple[str, ...] = ("atom", "rss", "json")
    archives: bool = True
    precompress: bool = True
    # Archive pages' siblings too: off, since readers rarely fetch archives and compressing
    # them was two thirds of a build's compression; servers and hosts compress them on demand.
    precompress_archives: bool = False
    # False: no HTML page per feed (a feed-only site: a feed CDN, an aggregator's endpoint);
    # the feeds' site links (Atom alternate, RSS <link>, JSON Feed home_page_url, OPML
    # htmlUrl) then point to the site's index, which lists the feeds without linking pages.
    feed_pages: bool = True
    # A build's processes that parse records and render entries; 0 means one per CPU.
    build_processes: int = 0
    # Server processes of `feeds serve` (its --workers): one ingests, all serve.
    serve_workers: int = 1
    # Feeds' language (an IETF tag such as en or pt-BR): Atom xml:lang, RSS <language>, JSON
    # Feed language. Empty: not stated.
    language: str = ""
    # Feeds' pictures, as site paths (the site's own PNGs, feeds/static/) or absolute URLs:
    # square icons (Atom icon, JSON Feed icon at 512x512, its favicon at 64x64), a 2:1 logo
    # (Atom logo) and the RSS <image> (at most 144 wide and 400 high); with Feedly's webfeeds
    # accent colour (six hex digits, no #).
    icon: str = "icon-512.png"
    favicon: str = "icon-64.png"
    logo: str = "logo.png"
    rss_image: str = "icon-144.png"
    accent_color: str = "c2410c"
    # A record dated at most this many seconds ahead is published at once (the writer's clock
    # may run a little fast); one dated further ahead is scheduled: held until its date.
    schedule_tolerance: int = 10
    # CDN endpoints purged after every ingest that changes documents (feeds.cdn, feeds.purge).
    purge: tuple[PurgeTarget, ...] = ()

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"base_url: expected an absolute http(s) URL, got {self.base_url!r}")
        for hub in self.hubs:
            if not hub.startswith(("http://", "https://")):
                raise ConfigError(f"hubs: expected absolute http(s) URLs of WebSub hubs, got {hub!r}")
        if not self.base_url.endswith("/"):
            object.__setattr__(self, "base_url", self.base_url + "/")
        for name in ("items_per_feed", "archive_page_size", "max_record_bytes", "cache_mb",
                     "etag_index_entries", "max_limit"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}: expected a positive integer, got {getattr(self, name)}")
        if not 0 <= self.brotli_quality <= 11:
            raise ConfigError(f"brotli_quality: expected 0 to 11, got {self.brotli_quality}")
        # Imported when settings are checked: the registry's package imports this module.
        from feeds.render.formats import NAMES

        unknown = [f for f in self.formats if f not in NAMES]
        if unknown or not self.formats or len(set(self.formats)) != len(self.formats):
            raise ConfigError(f"formats: expected one or more of {', '.join(NAMES)} without "
                              f"repeats, got {list(self.formats)!r}")
        if self.language and not _LANGUAGE.fullmatch(self.language):
            raise ConfigError(f"language: expected an IETF language tag such as en or pt-BR, "
                              f"got {self.language!r}")
        for name in ("icon", "favicon", "logo", "rss_image"):
            value = getattr(self, name)
            if not value or value.startswith(("/", "//")) or (
                    ":" in value and not value.startswith(("http://", "https://"))):
                raise ConfigError(f"{name}: expected a site path such as icon-512.png or an "
                                  f"absolute http(s) URL, got {value!r}")
        if not _HEX_COLOUR.fullmatch(self.accent_color):
            raise ConfigError(f"accent_color: expected six hex digits such as c2410c, "
                              f"got {self.accent_color!r}")
        if self.build_processes < 0:
            raise ConfigError(f"build_processes: expected 0 (one per CPU) or more, "
                              f"got {self.build_processes}")
        if self.serve_workers < 1:
            raise ConfigError(f"serve_workers: expected 1 or more server processes, "
                              f"got {self.serve_workers}")
        if self.schedule_tolerance < 0:
            raise ConfigError(f"schedule_tolerance: expected 0 seconds or more, "
                              f"got {self.schedule_tolerance}")

    def url(self, path: str) -> str:
        """The absolute URL of a site path such as ``feeds/all.atom``."""
        return self.base_url + path.lstrip("/")

    def asset_url(self, value: str) -> str:
        """The absolute URL of a picture setting: a site path, or already an absolute URL."""
        return value if value.startswith(("http://", "https://")) else self.url(value)

    def fingerprint(self, *names: str) -> str:
        """A short hash of the named settings, to key caches of rendered bytes."""
        values = {name: str(getattr(self, name)) for name in names}
        return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


# Settings whose values are structured: parsed by their own module, which names the bad field.
_PARSERS: dict[str, Callable[[Any, str], Any]] = {"purge": purge_targets}


def _coerce(name: str, value: Any, default: Any) -> Any:
    if name == "store_path" and isinstance(value, str) and is_database_url(value):
        return value  # a URL: Path() would fold its "//"
    if name in _PARSERS:
        return _PARSERS[name](value, name)
    if isinstance(default, Path):
        if not isinstance(value, str | Path):
            raise ConfigError(f"{name}: expected a path, got {value!r}")
        return Path(value)
    if isinstance(default, tuple):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{name}: expected a list of strings, got {value!r}")
        return tuple(value)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{name}: expected true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{name}: expected an integer, got {value!r}")
        return value
    if not isinstance(value, str):
        raise ConfigError(f"{name}: expected text, got {value!r}")
    return value


def load_settings(
    config: Path | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Read ``config`` (or ``$FEEDS_CONFIG``, or ``feeds.yaml`` if present) and apply overrides."""
    # Set but empty (as shells and container recipes often leave it) means "no file".
    from_env = os.environ.get("FEEDS_CONFIG", "")
    explicit = config is not None or bool(from_env)
    path = config or (Path(from_env) if from_env else DEFAULT_CONFIG_FILE)
    values: dict[str, Any] = {}
    if path.exists():
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: cannot read the configuration: {exc}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of setting names to values")
        # An empty value (``api_token:``) means the default, as an absent one does.
        values.update({k: v for k, v in loaded.items() if v is not None})
    elif explicit:
        raise ConfigError(f"{path}: configuration file not found")
    if os.environ.get("FEEDS_API_TOKEN"):
        values["api_token"] = os.environ["FEEDS_API_TOKEN"]
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return _settings_of(values, str(path))


def _settings_of(values: Mapping[str, Any], source: str) -> Settings:
    for old, message in _RENAMED.items():
        if old in values:
            raise ConfigError(f"{source}: {message}")
    defaults = {f.name: f.default for f in fields(Settings)}
    unknown = sorted(set(values) - set(defaults))
    if unknown:
        raise ConfigError(
            f"{source}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(defaults))}"
        )
    coerced = {name: _coerce(name, value, defaults[name]) for name, value in values.items()}
    return dataclasses.replace(Settings(), **coerced)


def settings_json(settings: Settings) -> str:
    """``settings`` as JSON that ``resolved_settings`` reads back equal."""
    values = {f.name: getattr(settings, f.name) for f in fields(Settings)}
    values["purge"] = [target.as_setting() for target in settings.purge]
    return json.dumps({name: str(value) if isinstance(value, Path)
                       else list(value) if isinstance(value, tuple) else value
                       for name, value in values.items()})


def resolved_settings() -> Settings:
    """The settings of a server worker process: those its parent resolved (``$FEEDS_RESOLVED_SETTINGS``,
    set by `feeds serve --workers N`), else read as ``load_settings`` does (`uvicorn server:app`)."""
    text = os.environ.get(RESOLVED_SETTINGS, "")
    if not text:
        return load_settings()
    try:
        values = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"${RESOLVED_SETTINGS}: expected JSON of settings: {exc}") from None
    if not isinstance(values, dict):
        raise ConfigError(f"${RESOLVED_SETTINGS}: expected a JSON object of settings")
    return _settings_of(values, f"${RESOLVED_SETTINGS}")
