"""Verify an export: manifest, hashes, siblings, formats, internal links, and nothing private."""

from __future__ import annotations

import gzip
import json
import os
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import brotli
from lxml import etree

from feeds.export import MANIFEST, read_manifest_document, sibling_paths
from feeds.hosting import HEADERS_FILE, IMMUTABLE_MARKERS
from feeds.render.renderer import etag_of

__all__ = ["check_export", "secret_fragments"]

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_HREF = re.compile(rb'(?:href|xmlUrl|htmlUrl)="([^"]+)"')
_SECURED = re.compile(r'^secured:\s*"?([^"\n]*)"?\s*$', re.MULTILINE)
_ATOM = "{http://www.w3.org/2005/Atom}"
_ROOTS = {".atom": f"{_ATOM}feed", ".rss": "rss", ".opml": "opml"}
# Record ids are words of letters and digits (entry ids end with one: tag:…:8d2f7a4c1e95b063).
_WORD = re.compile(rb"[0-9A-Za-z]+")
_DECODERS = {".gz": gzip.decompress, ".br": brotli.decompress}


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


def _secret_finder(secrets: set[bytes]) -> Callable[[bytes], bool]:
    """A test for any of ``secrets`` in a body that slides windows only over plausible runs.

    A window equal to a secret consists of the secrets' characters only, so only runs of those
    characters at least as long as the shortest secret need to be looked at.
    """
    if not secrets:
        return lambda body: False
    alphabet = sorted(set(b"".join(secrets)))
    shortest = min(len(s) for s in secrets)
    lengths = sorted({len(s) for s in secrets})
    runs = re.compile(b"[" + b"".join(re.escape(bytes([c])) for c in alphabet) + b"]{%d,}" % shortest)

    def found(body: bytes) -> bool:
        for run in runs.findall(body):
            for n in lengths:
                if not secrets.isdisjoint(run[i:i + n] for i in range(len(run) - n + 1)):
                    return True
        return False

    return found


def _parse(path: str, body: bytes) -> tuple[str | None, list[str], str | None]:
    """(problem, links the document declares in its structure, its self link) of one document."""
    suffix = Path(path).suffix
    try:
        if suffix == ".json":
            data = json.loads(body)
            if not isinstance(data, dict) or data.get("version") != "https://jsonfeed.org/version/1.1":
                return "not a JSON Feed 1.1 document", [], None
            links = [data[k] for k in ("home_page_url", "feed_url", "next_url")
                     if isinstance(data.get(k), str)]
            return None, links, data.get("feed_url")
        if suffix in _ROOTS:
            root = etree.fromstring(body, _PARSER)
            if root.tag != _ROOTS[suffix]:
                return f"root element {root.tag}, expected {_ROOTS[suffix]}", [], None
            selves = root.xpath("//*[local-name()='link' and @rel='self']/@href")
            # RSS names its site as element text, which the href scan cannot see.
            site = [str(url).strip() for url in root.xpath("/rss/channel/link/text()")]
            return None, site, str(selves[0]) if selves else None
        if suffix == ".html":
            etree.fromstring(body, etree.HTMLParser(no_network=True))
    except (ValueError, etree.XMLSyntaxError) as exc:
        return f"not well-formed: {exc}", [], None
    return None, [], None


def _link_problems(path: str, body: bytes, extra: list[str], base_url: str,
                   files: dict[str, Any]) -> Iterator[str]:
    hrefs = [h.decode("utf-8", "replace").replace("&amp;", "&") for h in _HREF.findall(body)]
    for url in sorted(set(hrefs + extra)):
        if not base_url or not url.startswith(base_url):
            continue  # articles, images and hubs live elsewhere
        target = url[len(base_url):].split("#")[0].split("?")[0]
        if target == "" or target.endswith("/"):
            target += "index.html"
        if target not in files:
            yield f"{path}: links to {url}, which is not in the export"


def _sibling_problems(output: Path, path: str, entry: dict[str, Any], body: bytes) -> Iterator[str]:
    sizes = entry.get("encoded") or {}
    for sibling in sibling_paths(path, entry):
        try:
            encoded = (output / sibling).read_bytes()
        except OSError:
            yield f"{sibling}: precompressed copy listed in the manifest but missing"
            continue
        coding = "br" if sibling.endswith(".br") else "gzip"
        if len(encoded) != sizes.get(coding):
            yield f"{sibling}: size {len(encoded)}, the manifest says {sizes.get(coding)}"
        try:
            decoded = _DECODERS[Path(sibling).suffix](encoded)
        except (OSError, EOFError, zlib.error, brotli.error):
            yield f"{sibling}: does not decompress"
            continue
        if decoded != body:
            yield f"{sibling}: decompresses to bytes other than {path}'s"


def _unlisted(output: Path, expected: set[str]) -> Iterator[str]:
    for directory, _, names in os.walk(output):
        for name in names:
            relative = os.path.relpath(os.path.join(directory, name), output)
            if relative not in expected:
                yield f"{relative}: in the export but not in the manifest"


def check_export(output: Path, secrets: Iterable[bytes] = (),
                 unpublished_ids: Iterable[str] = ()) -> list[str]:
    """Every problem found in the export at ``output``; an empty list means it is sound.

    ``unpublished_ids`` are record ids (the hex part of entry ids) that must appear nowhere.
    """
    manifest = read_manifest_document(output)
    files = manifest.get("files")
    if not isinstance(files, dict):
        return [f"{output / MANIFEST}: missing or unreadable manifest"]
    base_url = str(manifest.get("base_url", ""))
    problems: list[str] = []
    secrets_found = _secret_finder(set(secrets))
    unpublished = {i.encode() for i in unpublished_ids}
    expected = {MANIFEST, HEADERS_FILE}
    for path, entry in sorted(files.items()):
        expected.update([path, *sibling_paths(path, entry)])
        if entry.get("immutable"):
            expected.add(f"{IMMUTABLE_MARKERS}/{path}")
            if not (output / IMMUTABLE_MARKERS / path).is_file():
                problems.append(f"{path}: immutable, but its marker {IMMUTABLE_MARKERS}/{path} is missing")
        try:
            body = (output / path).read_bytes()
        except OSError:
            problems.append(f"{path}: listed in the manifest but missing")
            continue
        if len(body) != entry.get("size"):
            problems.append(f"{path}: {len(body)} bytes, the manifest says {entry.get('size')}")
        elif etag_of(body) != entry.get("etag"):
            problems.append(f"{path}: content differs from the manifest's hash {entry.get('etag')}")
        problems += _sibling_problems(output, path, entry, body)
        error, links, self_url = _parse(path, body)
        if error:
            problems.append(f"{path}: {error}")
        if self_url is not None and base_url and self_url != base_url + path:
            problems.append(f"{path}: self link {self_url}, expected {base_url + path}")
        problems += _link_problems(path, body, links, base_url, files)
        if secrets_found(body):
            problems.append(f"{path}: contains part of a record's secured value")
        for record_id in sorted(unpublished.intersection(_WORD.findall(body))):
            problems.append(f"{path}: contains the unpublished record {record_id.decode()}")
    if not (output / HEADERS_FILE).is_file():
        problems.append(f"{HEADERS_FILE}: missing (header rules for static hosts)")
    problems += _unlisted(output, expected)
    return problems
