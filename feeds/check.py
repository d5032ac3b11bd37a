"""Verify an export: manifest, hashes, formats, internal links, and nothing private."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path

from lxml import etree

from feeds.export import MANIFEST, read_manifest_document

__all__ = ["check_export", "secret_fragments"]

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_HREF = re.compile(rb'(?:href|xmlUrl|htmlUrl)="([^"]+)"')
_SECURED = re.compile(r'^secured:\s*"?([^"\n]*)"?\s*$', re.MULTILINE)


def secret_fragments(seeds_dir: Path, length: int = 12) -> set[bytes]:
    """Every run of ``length`` characters of every ``secured`` value in the seeds."""
    fragments: set[bytes] = set()
    if not seeds_dir.is_dir():
        return fragments
    for path in seeds_dir.glob("*.txt"):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for value in _SECURED.findall(text):
            for part in re.split(r"[;=]", value):
                fragments.update(part[i:i + length].encode() for i in range(len(part) - length + 1))
    return fragments


def _well_formed(path: str, body: bytes) -> str | None:
    try:
        if path.endswith(".json"):
            data = json.loads(body)
            if data.get("version") != "https://jsonfeed.org/version/1.1":
                return "not a JSON Feed 1.1 document"
        elif path.endswith((".atom", ".rss", ".opml", ".xsl")):
            root = etree.fromstring(body, _PARSER)
            expected = {".atom": "{http://www.w3.org/2005/Atom}feed", ".rss": "rss",
                        ".opml": "opml"}.get(Path(path).suffix)
            if expected and root.tag != expected:
                return f"root element {root.tag}, expected {expected}"
    except (ValueError, etree.XMLSyntaxError) as exc:
        return f"not well-formed: {exc}"
    return None


def check_export(output: Path, secrets: Iterable[bytes] = (),
                 unpublished_ids: Iterable[str] = ()) -> list[str]:
    """Every problem found in the export at ``output``; an empty list means it is sound."""
    manifest = read_manifest_document(output)
    if not manifest:
        return [f"{output / MANIFEST}: missing or unreadable manifest"]
    files: dict[str, dict[str, object]] = manifest.get("files", {})
    base_url = str(manifest.get("base_url", ""))
    problems: list[str] = []
    secret_set = set(secrets)
    lengths = {len(s) for s in secret_set}
    unpublished = [i.encode() for i in unpublished_ids]
    for path, entry in sorted(files.items()):
        try:
            body = (output / path).read_bytes()
        except OSError:
            problems.append(f"{path}: listed in the manifest but missing")
            continue
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if etag != entry.get("etag") or len(body) != entry.get("size"):
            problems.append(f"{path}: bytes differ from the manifest (size or hash)")
        error = _well_formed(path, body)
        if error:
            problems.append(f"{path}: {error}")
        for href in _HREF.findall(body):
            url = href.decode("utf-8", "replace").replace("&amp;", "&")
            if base_url and url.startswith(base_url):
                target = url[len(base_url):] or "index.html"
                if target.endswith("/"):
                    target += "index.html"
                if target not in files:
                    problems.append(f"{path}: links to {url}, which is not in the export")
        for n in lengths:
            if not secret_set.isdisjoint(body[i:i + n] for i in range(len(body) - n + 1)):
                problems.append(f"{path}: contains part of a record's secured value")
        for record_id in unpublished:
            if record_id in body:
                problems.append(f"{path}: contains the unpublished record {record_id.decode()}")
    return problems
