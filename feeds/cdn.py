"""CDN endpoints that a publish purges (the ``purge`` setting), and the requests each kind takes.

Pure: parsing the setting and shaping requests. Sending them, in the background with retries,
is feeds/purge.py. Three kinds:

- ``varnish``: ``PURGE`` to the cache itself with the keys in an ``xkey-purge`` header, which the
  VCL from ``python -m feeds.hosting varnish`` accepts from its allowed addresses only.
- ``fastly``: https://www.fastly.com/documentation/reference/api/purging/ ("Purge multiple
  surrogate key tags"): ``POST /service/{service_id}/purge`` with ``Surrogate-Key: k1 k2``,
  at most 256 keys a request, the token in ``Fastly-Key``.
- ``cloudflare``: https://developers.cloudflare.com/api/resources/cache/methods/purge/
  ``POST /zones/{zone_id}/purge_cache`` with ``{"tags": [...]}`` and ``Authorization: Bearer``;
  30 tags a request, the smallest limit of any plan.

Tokens are read from the environment (``token_env``), never from the settings file, and are sent
to the configured endpoint only: over HTTPS, or plain HTTP to a loopback address (a local
stand-in); redirects are not followed (feeds/purge.py).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from feeds.errors import ConfigError

__all__ = [
    "KINDS",
    "PurgeRequest",
    "PurgeTarget",
    "may_carry_credentials",
    "purge_requests",
    "purge_targets",
]

# kind → (keys per request, default API base URL, default environment variable of the token)
KINDS: dict[str, tuple[int, str, str]] = {
    "varnish": (100, "", ""),
    "fastly": (256, "https://api.fastly.com/", "FASTLY_API_TOKEN"),
    "cloudflare": (30, "https://api.cloudflare.com/client/v4/", "CLOUDFLARE_API_TOKEN"),
}
# The field naming the service each API kind purges.
_SERVICE_FIELD = {"fastly": "service_id", "cloudflare": "zone_id"}
# The xkey-purge request header the generated VCL reads (feeds/vcl.py).
VARNISH_KEYS_HEADER = "xkey-purge"


@dataclass(frozen=True)
class PurgeTarget:
    """One CDN endpoint: its kind, URL, the service it purges and where its token is."""

    kind: str
    url: str
    service: str = ""
    token_env: str = ""

    @property
    def batch(self) -> int:
        """How many keys one request may carry."""
        return KINDS[self.kind][0]

    def as_setting(self) -> dict[str, str]:
        """The mapping the ``purge`` setting gives for this target (purge_targets reads it back)."""
        if not self.service:
            return {"kind": self.kind, "url": self.url}
        return {"kind": self.kind, "url": self.url, _SERVICE_FIELD[self.kind]: self.service,
                "token_env": self.token_env}

    @property
    def name(self) -> str:
        """How logs name it: kind and host, never a token."""
        return f"{self.kind} {urlsplit(self.url).netloc}"


@dataclass(frozen=True)
class PurgeRequest:
    """One HTTP request to send as is."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""


def may_carry_credentials(url: str) -> bool:
    """True for HTTPS URLs, and plain HTTP only to a loopback address (a stand-in on this machine)."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return True
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def _target(entry: Any, where: str) -> PurgeTarget:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: expected a mapping with kind and url (or service_id/zone_id)")
    kind = entry.get("kind")
    if kind not in KINDS:
        raise ConfigError(f"{where}.kind: expected one of {', '.join(KINDS)}, got {kind!r}")
    service_field = _SERVICE_FIELD.get(kind, "")
    known = {"kind", "url"} | ({service_field, "token_env"} if service_field else set())
    unknown = sorted(set(entry) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(map(str, unknown))} for kind "
                          f"{kind}; known: {', '.join(sorted(known))}")
    _, default_url, default_env = KINDS[kind]
    url = entry.get("url", default_url)
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConfigError(f"{where}.url: expected an absolute http(s) URL, got {url!r}")
    url = url if url.endswith("/") else url + "/"
    if not service_field:
        return PurgeTarget(kind, url)
    service = entry.get(service_field)
    if not isinstance(service, str) or not service.strip() or "/" in service:
        raise ConfigError(f"{where}.{service_field}: expected the {kind} {service_field} "
                          f"(text without slashes), got {service!r}")
    token_env = entry.get("token_env", default_env)
    if not isinstance(token_env, str) or not token_env.isidentifier():
        raise ConfigError(f"{where}.token_env: expected the name of an environment variable, "
                          f"got {token_env!r}")
    if not may_carry_credentials(url):
        raise ConfigError(f"{where}.url: the {kind} token is sent only over https (or http to a "
                          f"loopback address), got {url!r}")
    return PurgeTarget(kind, url, service.strip(), token_env)


def purge_targets(value: Any, name: str = "purge") -> tuple[PurgeTarget, ...]:
    """The ``purge`` setting, a list of mappings, as targets; ConfigError names the bad field."""
    if isinstance(value, tuple) and all(isinstance(v, PurgeTarget) for v in value):
        return value
    if not isinstance(value, list):
        raise ConfigError(f"{name}: expected a list of CDN endpoints (kind: varnish, fastly or "
                          f"cloudflare), got {value!r}")
    return tuple(_target(entry, f"{name}[{n}]") for n, entry in enumerate(value))


def purge_requests(target: PurgeTarget, keys: Sequence[str], token: str = "") -> list[PurgeRequest]:
    """The requests purging ``keys`` at ``target``, ``target.batch`` keys each."""
    batches = [list(keys[start:start + target.batch]) for start in range(0, len(keys), target.batch)]
    if target.kind == "varnish":
        return [PurgeRequest("PURGE", target.url, ((VARNISH_KEYS_HEADER, " ".join(batch)),))
                for batch in batches]
    if target.kind == "fastly":
        url = f"{target.url}service/{target.service}/purge"
        return [PurgeRequest("POST", url, (("Fastly-Key", token), ("Accept", "application/json"),
                                           ("Surrogate-Key", " ".join(batch))))
                for batch in batches]
    url = f"{target.url}zones/{target.service}/purge_cache"
    return [PurgeRequest("POST", url, (("Authorization", f"Bearer {token}"),
                                       ("Content-Type", "application/json")),
                         json.dumps({"tags": batch}).encode())
            for batch in batches]
