"""The export's manifest: which files a tree holds, with the bytes' tags and content keys.

``manifest.json`` is written last into a tree; a tree without one is never trusted. Its
entries say, per document: size, ETag, media type, last-modified, whether it is immutable, its
content key (``version``, feeds.render.keys) and the sizes of its precompressed siblings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feeds.compress import CODINGS
from feeds.config import Settings
from feeds.hosting import IMMUTABLE_MARKERS, SIBLINGS
from feeds.model import utc_timestamp
from feeds.render.keys import export_key

if TYPE_CHECKING:  # the renderer is loaded only by a build that renders
    from feeds.render.renderer import Document

__all__ = [
    "MANIFEST",
    "MANIFEST_FORMAT",
    "Files",
    "all_files",
    "file_count",
    "files_of",
    "manifest_entry",
    "manifest_text",
    "read_manifest",
    "read_manifest_document",
    "removed",
    "same_files",
    "same_header_rules",
    "same_layout",
    "sibling_paths",
    "unchanged",
]

MANIFEST = "manifest.json"
# Bump when the manifest or the tree layout changes: an older export is then rebuilt in full.
MANIFEST_FORMAT = 2
# A manifest's files: document path → its entry.
Files = dict[str, dict[str, Any]]


def read_manifest(tree: Path) -> Files:
    """The files of an export's manifest: path → size, etag, media type, last-modified, version."""
    files = read_manifest_document(tree).get("files")
    return files if isinstance(files, dict) else {}


def read_manifest_document(tree: Path) -> dict[str, Any]:
    """The whole manifest (format, base URL, files), or an empty mapping when there is none."""
    try:
        data = json.loads((tree / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def sibling_paths(path: str, entry: dict[str, Any]) -> list[str]:
    """The precompressed files a manifest entry lists next to its document."""
    encoded = entry.get("encoded") or {}
    return [path + SIBLINGS[coding] for coding in CODINGS if coding in encoded]


def files_of(path: str, entry: dict[str, Any]) -> list[str]:
    """A document's counted files: itself and its siblings."""
    return [path, *sibling_paths(path, entry)]


def all_files(path: str, entry: dict[str, Any]) -> list[str]:
    """A document's files in a tree: itself, its siblings and its immutable marker."""
    names = files_of(path, entry)
    if entry.get("immutable"):
        names.append(f"{IMMUTABLE_MARKERS}/{path}")
    return names


def file_count(files: Files) -> int:
    """How many documents and siblings a manifest lists (as ``files_of`` names them)."""
    return len(files) + sum(len(entry.get("encoded") or ()) for entry in files.values())


def manifest_entry(document: Document, version: str | None) -> dict[str, Any]:
    """A document's entry, before its siblings are known."""
    modified = document.last_modified
    return {
        "size": len(document.body),
        "etag": document.etag,
        "media_type": document.media_type,
        "last_modified": utc_timestamp(modified) if modified else None,
        "immutable": document.immutable,
        "version": version,
    }


def manifest_text(files: Files, settings: Settings) -> str:
    """The manifest as JSON with one document per line, sorted: readable, and diffs stay small.

    Written line by line because ``json.dumps`` with ``indent`` runs in pure Python, three
    times slower than its C encoder for a 10,000-record export's manifest.
    """
    encode = json.JSONEncoder(sort_keys=True).encode
    head = {"format": MANIFEST_FORMAT, "base_url": settings.base_url,
            "settings": export_key(settings)}
    lines = [f"{encode(path)}: {encode(files[path])}" for path in sorted(files)]
    return encode(head)[:-1] + ', "files": {\n' + ",\n".join(lines) + "\n}}\n"


def same_layout(manifest: dict[str, Any], settings: Settings) -> bool:
    """True when a tree's files were made by this manifest format under these settings."""
    return (manifest.get("format") == MANIFEST_FORMAT
            and manifest.get("settings") == export_key(settings)
            and isinstance(manifest.get("files"), dict))


def unchanged(manifest: dict[str, Any], settings: Settings,
              versions: dict[str, str | None]) -> bool:
    """True when the tree of ``manifest`` already holds exactly these document versions."""
    if not same_layout(manifest, settings) or manifest["files"].keys() != versions.keys():
        return False
    files = manifest["files"]
    return all(files[path].get("version") == version for path, version in versions.items())


def removed(old: Files, new: Files) -> int:
    """How many documents and siblings of the old manifest the new one no longer lists."""
    return sum(len(set(files_of(p, e)) - set(files_of(p, new[p]) if p in new else ()))
               for p, e in old.items() if new.get(p) is not e)


def same_files(held: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """True when a tree holding ``held`` already has every file of ``wanted``, byte for byte.

    Siblings are a function of the document's bytes under one set of settings (gzip without a
    timestamp, brotli at one quality), so equal tags and equal codings mean equal files.
    """
    return (held.get("etag") == wanted.get("etag")
            and (held.get("encoded") or {}) == (wanted.get("encoded") or {})
            and bool(held.get("immutable")) == bool(wanted.get("immutable")))


def same_header_rules(new: Files, old: Files) -> bool:
    """True when ``_headers`` for ``new`` equals the one for ``old`` (under the same settings):
    the same documents, each with the same type and caching."""
    return new.keys() == old.keys() and all(
        entry is old[path] or (entry.get("media_type") == old[path].get("media_type")
                               and bool(entry.get("immutable")) == bool(old[path].get("immutable")))
        for path, entry in new.items())
