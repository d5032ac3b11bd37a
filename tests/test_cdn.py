"""The purge setting and the request shape of each CDN kind (pure: nothing is sent)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from feeds.cdn import PurgeTarget, may_carry_credentials, purge_requests, purge_targets
from feeds.config import RESOLVED_SETTINGS, Settings, load_settings, resolved_settings, settings_json
from feeds.errors import ConfigError

KEYS = [f"feed:topics/t{n}" for n in range(300)]


def test_cdn_purge_setting_is_read_from_the_configuration_file(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text('purge:\n  - kind: varnish\n    url: "http://127.0.0.1:6081"\n'
                    '  - kind: fastly\n    service_id: SVC\n'
                    '  - kind: cloudflare\n    zone_id: ZONE\n    token_env: CF_PURGE\n')
    assert load_settings(path).purge == (
        PurgeTarget("varnish", "http://127.0.0.1:6081/"),
        PurgeTarget("fastly", "https://api.fastly.com/", "SVC", "FASTLY_API_TOKEN"),
        PurgeTarget("cloudflare", "https://api.cloudflare.com/client/v4/", "ZONE", "CF_PURGE"),
    )


@pytest.mark.parametrize(("value", "message"), [
    ("varnish", "purge: expected a list of CDN endpoints"),
    (["http://x/"], "purge[0]: expected a mapping"),
    ([{"kind": "akamai", "url": "http://x/"}], "purge[0].kind: expected one of varnish, fastly, cloudflare"),
    ([{"kind": "varnish"}], "purge[0].url: expected an absolute http(s) URL"),
    ([{"kind": "varnish", "url": "http://x/", "token_env": "T"}], "purge[0]: unknown field(s) token_env"),
    ([{"kind": "fastly"}], "purge[0].service_id: expected the fastly service_id"),
    ([{"kind": "cloudflare", "zone_id": "Z", "token_env": "not a name"}], "purge[0].token_env"),
    # A token never travels in clear text off this machine.
    ([{"kind": "fastly", "service_id": "S", "url": "http://cdn.example/"}], "purge[0].url: the fastly token"),
])
def test_cdn_bad_purge_settings_name_the_field(value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        purge_targets(value)


def test_cdn_credentials_go_over_https_or_to_this_machine_only() -> None:
    assert may_carry_credentials("https://api.fastly.com/")
    assert may_carry_credentials("http://127.0.0.1:9000/") and may_carry_credentials("http://[::1]:80/")
    assert may_carry_credentials("http://localhost:8080/")
    assert not may_carry_credentials("http://api.fastly.com/")
    assert not may_carry_credentials("http://127.0.0.1.evil.example/")
    assert not may_carry_credentials("ftp://127.0.0.1/")


def test_cdn_varnish_requests_purge_keys_in_one_header_100_at_a_time() -> None:
    requests = purge_requests(PurgeTarget("varnish", "http://127.0.0.1:6081/"), KEYS)
    assert [len(r.headers[0][1].split()) for r in requests] == [100, 100, 100]
    assert {(r.method, r.url, r.headers[0][0]) for r in requests} == {
        ("PURGE", "http://127.0.0.1:6081/", "xkey-purge")}
    assert "Authorization" not in str(requests)


def test_cdn_fastly_requests_follow_the_bulk_purge_api() -> None:
    target = PurgeTarget("fastly", "https://api.fastly.com/", "SVC", "FASTLY_API_TOKEN")
    requests = purge_requests(target, KEYS, "tok")
    assert [len(dict(r.headers)["Surrogate-Key"].split()) for r in requests] == [256, 44]
    assert requests[0].url == "https://api.fastly.com/service/SVC/purge"
    assert (requests[0].method, dict(requests[0].headers)["Fastly-Key"]) == ("POST", "tok")


def test_cdn_cloudflare_requests_purge_30_tags_each() -> None:
    target = PurgeTarget("cloudflare", "https://api.cloudflare.com/client/v4/", "ZONE", "CF")
    requests = purge_requests(target, KEYS[:45], "tok")
    assert [len(json.loads(r.body)["tags"]) for r in requests] == [30, 15]
    assert requests[0].url == "https://api.cloudflare.com/client/v4/zones/ZONE/purge_cache"
    assert dict(requests[0].headers)["Authorization"] == "Bearer tok"


def test_cdn_purge_setting_reaches_server_worker_processes_unchanged(
        monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(purge=(PurgeTarget("varnish", "http://127.0.0.1:6081/"),
                               PurgeTarget("cloudflare", "https://api.cloudflare.com/client/v4/", "Z", "CF")))
    monkeypatch.setenv(RESOLVED_SETTINGS, settings_json(settings))
    assert resolved_settings() == settings
