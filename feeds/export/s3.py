"""Object storage as an export target: ``feeds build --output s3://BUCKET/PREFIX/``.

The export is built locally as for a directory (a staging tree under the store's directory,
so every incremental trick of feeds.export applies), then the objects that differ from what
the bucket holds are uploaded, concurrently, with the headers the server sends. What the bucket
holds is recorded in ``<PREFIX>.feeds-manifest.json`` beside the objects: a machine that has
never built this export (a fresh CI runner) reads it and uploads only what changed.

Any S3-compatible store (AWS S3, Cloudflare R2, MinIO, Ceph) configured the standard way:
``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``
or ``AWS_PROFILE`` (https://docs.aws.amazon.com/sdkref/latest/guide/settings-reference.html).

Readers never see a half-written document: a PUT replaces an object at once (S3 has
read-after-write consistency), and the order of work keeps the set consistent if a build dies
at any moment: assets and archive pages first, then feed documents (which link their archives),
then feed pages, then the index and OPML (which link the feeds); only then are vanished objects
deleted, and the manifest written last. A killed build leaves old objects wherever new ones
were not uploaded yet, and the next build uploads whatever the manifest does not vouch for.

S3 cannot choose a content coding by Accept-Encoding: the document is uploaded as is (every
client can read it, and CDNs compress at the edge); with ``precompress`` the ``.gz``/``.br``
siblings the export wrote (current documents': feeds.hosting.precompressed) are uploaded too,
with ``Content-Encoding`` set, for an edge that picks one itself.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feeds.catalog import STATIC_DOCUMENTS, parse_feed_document_path, parse_feed_page_path
from feeds.compress import CODINGS
from feeds.config import Settings
from feeds.errors import ConfigError, ExportError
from feeds.hosting import SIBLINGS
from feeds.http import document_cache_control
from feeds.surrogate import document_keys

__all__ = [
    "MANIFEST_KEY",
    "ObjectSpec",
    "S3Report",
    "S3Target",
    "is_s3_url",
    "object_specs",
    "parse_s3_url",
    "upload",
    "upload_plan",
    "wave_of",
]

MANIFEST_KEY = ".feeds-manifest.json"
_FORMAT = 1
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class S3Target:
    """A bucket and a key prefix (``""`` or ending in ``/``)."""

    bucket: str
    prefix: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def key(self, path: str) -> str:
        return self.prefix + path


def is_s3_url(value: str) -> bool:
    """True for an ``s3://`` output, which is a target in a bucket, not a local directory."""
    return value.startswith("s3://")


def parse_s3_url(value: str) -> S3Target:
    """``s3://BUCKET/PREFIX/`` as a target; ConfigError names what was expected."""
    bucket, _, prefix = value.removeprefix("s3://").partition("/")
    if not is_s3_url(value) or not _BUCKET.match(bucket) or ".." in prefix or "//" in prefix:
        raise ConfigError(f"--output: expected s3://BUCKET/PREFIX/ with a valid bucket name, got {value!r}")
    return S3Target(bucket, prefix if not prefix or prefix.endswith("/") else prefix + "/")


@dataclass(frozen=True)
class ObjectSpec:
    """One object to put: its file in the staged export and the headers it is served with."""

    path: str
    content_type: str
    cache_control: str
    content_encoding: str | None
    keys: str
    # The bytes' identity (the document's ETag, per coding): equal specs mean equal objects.
    etag: str

    @property
    def signature(self) -> str:
        fields = (self.etag, self.content_type, self.cache_control, self.content_encoding, self.keys)
        return hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:24]


def object_specs(files: Mapping[str, Mapping[str, Any]], settings: Settings) -> dict[str, ObjectSpec]:
    """Every object of an export's manifest files: each document, and its siblings if any."""
    specs: dict[str, ObjectSpec] = {}
    for path, entry in files.items():
        cache = document_cache_control(settings, bool(entry.get("immutable")))
        keys = " ".join(document_keys(path))
        specs[path] = ObjectSpec(path, entry["media_type"], cache, None, keys, entry["etag"])
        for coding in CODINGS:
            if coding in (entry.get("encoded") or {}):
                sibling = path + SIBLINGS[coding]
                specs[sibling] = ObjectSpec(sibling, entry["media_type"], cache, coding, keys,
                                            f"{entry['etag']}-{coding}")
    return specs


def wave_of(path: str) -> int:
    """When an object goes up (0 first): what is linked goes up before what links to it."""
    document = path.removesuffix(".gz").removesuffix(".br")
    parsed = parse_feed_document_path(document)
    if document in STATIC_DOCUMENTS or (parsed is not None and parsed[1] is not None):
        return 0
    if parsed is not None:
        return 1
    if parse_feed_page_path(document) is not None:
        return 2
    return 3


def upload_plan(held: Mapping[str, str],
         wanted: Mapping[str, ObjectSpec]) -> tuple[list[list[ObjectSpec]], list[str]]:
    """What to upload (in waves, each after the one before) and which paths to delete."""
    changed = [spec for path, spec in sorted(wanted.items()) if held.get(path) != spec.signature]
    waves = [[spec for spec in changed if wave_of(spec.path) == rank] for rank in range(4)]
    return [wave for wave in waves if wave], sorted(set(held) - set(wanted))


@dataclass(frozen=True)
class S3Report:
    uploaded: int
    deleted: int
    unchanged: int
    seconds: float
    target: str

    def summary(self) -> str:
        return (f"{self.uploaded + self.unchanged} objects at {self.target}: {self.uploaded} uploaded, "
                f"{self.unchanged} unchanged, {self.deleted} deleted in {self.seconds:.2f} s")


def client_for(concurrency: int) -> Any:
    """An S3 client from the standard AWS configuration, with a connection per upload thread."""
    import boto3
    from botocore.config import Config

    return boto3.client("s3", config=Config(max_pool_connections=concurrency,
                                            retries={"max_attempts": 5, "mode": "standard"}))


def _held(client: Any, target: S3Target) -> dict[str, str]:
    from botocore.exceptions import ClientError

    try:
        body = client.get_object(Bucket=target.bucket, Key=target.key(MANIFEST_KEY))["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return {}
        raise
    try:
        data = json.loads(body)
    except ValueError:
        return {}  # unreadable: trust nothing, upload everything
    objects = data.get("objects") if isinstance(data, dict) and data.get("format") == _FORMAT else None
    return objects if isinstance(objects, dict) else {}


def upload(tree: Path, files: Mapping[str, Mapping[str, Any]], settings: Settings, target: S3Target,
           client: Any = None, concurrency: int = 16,
           progress: Callable[[int, int], None] | None = None) -> S3Report:
    """Bring ``target`` in line with the staged export at ``tree`` (its manifest ``files``)."""
    from botocore.exceptions import BotoCoreError, ClientError

    started = time.monotonic()
    client = client or client_for(concurrency)
    wanted = object_specs(files, settings)
    try:
        held = _held(client, target)
        waves, vanished = upload_plan(held, wanted)
        total, done = sum(len(wave) for wave in waves), 0

        def put(spec: ObjectSpec) -> None:
            extra = {"ContentEncoding": spec.content_encoding} if spec.content_encoding else {}
            client.put_object(Bucket=target.bucket, Key=target.key(spec.path),
                              Body=(tree / spec.path).read_bytes(), ContentType=spec.content_type,
                              CacheControl=spec.cache_control, Metadata={"surrogate-key": spec.keys},
                              **extra)

        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="s3") as pool:
            for wave in waves:
                for _ in pool.map(put, wave):
                    done += 1
                    if progress is not None:
                        progress(done, total)
        # https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html: 1,000 a request.
        for start in range(0, len(vanished), 1000):
            batch = [{"Key": target.key(path)} for path in vanished[start:start + 1000]]
            client.delete_objects(Bucket=target.bucket, Delete={"Objects": batch, "Quiet": True})
        signatures = {path: spec.signature for path, spec in sorted(wanted.items())}
        state = {"format": _FORMAT, "objects": signatures}
        client.put_object(Bucket=target.bucket, Key=target.key(MANIFEST_KEY),
                          Body=json.dumps(state, separators=(",", ":")).encode(),
                          ContentType="application/json", CacheControl="no-store")
    except (BotoCoreError, ClientError, OSError) as exc:
        raise ExportError(f"{target.url}: cannot upload the export ({exc}); objects not uploaded "
                          f"yet keep their previous versions") from None
    return S3Report(total, len(vanished), len(wanted) - total, time.monotonic() - started, target.url)
