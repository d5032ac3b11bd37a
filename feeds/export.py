"""Static export: every public document written under the output directory, atomically.

``output`` is a symbolic link to a complete build under ``.output-builds/``. A build writes a
new tree (hard links for unchanged files, so their bytes and mtimes stay as they were), then
swaps the link with one ``rename``: a web server or sync tool reading ``output/`` sees the old
export or the new one, never a mix, and a build killed at any moment leaves the old one.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feeds.config import Settings
from feeds.errors import ExportError
from feeds.render import Document, Renderer
from feeds.render.fragments import worker_count
from feeds.store import Store

__all__ = ["MANIFEST", "ExportReport", "export", "read_manifest"]

MANIFEST = "manifest.json"
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ExportReport:
    written: int
    unchanged: int
    removed: int
    total: int
    directory: Path

    def summary(self) -> str:
        return (
            f"{self.total} files in {self.directory}: {self.written} written, "
            f"{self.unchanged} unchanged, {self.removed} removed"
        )


def builds_dir(output: Path) -> Path:
    return output.parent / f".{output.name}-builds"


def read_manifest(tree: Path) -> dict[str, dict[str, Any]]:
    """The files of an export's manifest: path → size, etag, media type, last-modified, version."""
    files = read_manifest_document(tree).get("files")
    return files if isinstance(files, dict) else {}


def read_manifest_document(tree: Path) -> dict[str, Any]:
    """The whole manifest (base URL and files), or an empty mapping when there is none."""
    try:
        data = json.loads((tree / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@contextmanager
def build_lock(output: Path) -> Iterator[None]:
    """One build at a time per output directory; a second one is refused, not queued."""
    root = builds_dir(output)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise ExportError(
                f"{output}: another build is running (pid {holder}); try again when it ends"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield


def _write(path: Path, body: bytes) -> None:
    path.write_bytes(body)


def _manifest_entry(document: Document, version: str | None) -> dict[str, Any]:
    modified = document.last_modified
    return {
        "size": len(document.body),
        "etag": document.etag,
        "media_type": document.media_type,
        "last_modified": modified.strftime("%Y-%m-%dT%H:%M:%SZ") if modified else None,
        "immutable": document.immutable,
        "version": version,
    }


def export(store: Store, settings: Settings, output: Path | None = None,
           progress: Progress | None = None) -> ExportReport:
    """Write every public document under ``output`` and switch to the new tree atomically."""
    output = output or settings.output_dir
    try:
        with build_lock(output):
            return _export(store, settings, output, progress)
    except OSError as exc:
        raise ExportError(
            f"{output}: cannot write the export ({exc.strerror or exc}); the previous export "
            f"is unchanged"
        ) from None


def _export(store: Store, settings: Settings, output: Path,
            progress: Progress | None) -> ExportReport:
    root = builds_dir(output)
    previous = output.resolve() if output.is_symlink() else None
    if output.exists() and not output.is_symlink():
        # A plain directory from elsewhere: adopt it as the previous build.
        adopted = root / f"adopted-{time.time_ns()}"
        output.rename(adopted)
        output.symlink_to(os.path.relpath(adopted, output.parent))
        previous = adopted
    _remove_stale(root, keep=previous)
    old = read_manifest(previous) if previous else {}
    renderer = Renderer(store, settings)
    paths = list(renderer.document_paths())
    # Entries the changed documents lack are rendered up front, in parallel (one per CPU).
    renderer.prepare([p for p in paths if old.get(p, {}).get("version") != renderer.version(p)],
                     worker_count(settings.workers))
    tree = root / f"build-{time.time_ns()}-{os.getpid()}"
    tree.mkdir()
    manifest: dict[str, dict[str, Any]] = {}
    written = unchanged = 0
    made_dirs: set[Path] = set()
    for done, path in enumerate(paths, start=1):
        target = tree / path
        if target.parent not in made_dirs:
            target.parent.mkdir(parents=True, exist_ok=True)
            made_dirs.add(target.parent)
        version = renderer.version(path)
        known = old.get(path)
        if previous and known and known.get("version") == version:
            os.link(previous / path, target)
            manifest[path] = known
            unchanged += 1
        else:
            document = renderer.render(path)
            assert document is not None, path
            entry = _manifest_entry(document, version)
            if previous and known and known.get("etag") == entry["etag"]:
                os.link(previous / path, target)
                unchanged += 1
            else:
                _write(target, document.body)
                written += 1
            manifest[path] = entry
        if progress is not None:
            progress(done, len(paths))
    listing = {"base_url": settings.base_url, "files": manifest}
    (tree / MANIFEST).write_text(json.dumps(listing, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    _fsync_tree(tree)
    link = output.parent / f".{output.name}.new-link"
    if link.is_symlink():
        link.unlink()
    link.symlink_to(os.path.relpath(tree, output.parent))
    os.replace(link, output)
    removed = len(set(old) - set(manifest))
    _remove_stale(root, keep=tree)
    return ExportReport(written, unchanged, removed, len(manifest), output)


def _fsync_tree(tree: Path) -> None:
    """Make the new tree durable before the link points at it."""
    for directory, _, files in os.walk(tree):
        for name in files:
            fd = os.open(os.path.join(directory, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _remove_stale(root: Path, keep: Path | None) -> None:
    """Delete builds that are not the current one (left over from finished or killed builds)."""
    for child in root.iterdir():
        if child.is_dir() and (keep is None or child.resolve() != keep.resolve()):
            shutil.rmtree(child, ignore_errors=True)
