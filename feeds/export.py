"""Static export: every public document written under the output directory, atomically.

``output`` is a symbolic link to a complete build tree under ``.output-builds/``. A build
writes a new tree beside the current one, hard-linking every file whose bytes it keeps (so
unchanged files keep their inode and mtime and rsync-style syncs skip them), makes it durable,
then repoints the link with one ``rename(2)``.

Why a symlink switch rather than replacing files one by one: a static host reads many files
that refer to each other (the index lists feeds, feeds link their archives, the OPML lists
feeds). Replacing files in place would let a reader see a new index naming a feed not written
yet; the switch makes a whole export appear at once. nginx resolves ``root`` per request, so it
serves the old tree or the new one; a sync tool should copy ``$(readlink -f output)/``, which
stays complete until the build after next (the previous tree is kept for such readers). A
build killed at any moment leaves the link on the previous tree; the next build deletes the
half-written one. A lock refuses a second concurrent build.

A build with nothing to change (every document's content key as in the manifest) writes
nothing, not even a new tree. Documents whose version changed are rendered; those that render
to the same bytes are still linked, not rewritten. Only written documents are compressed.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from feeds.catalog import feed_document_path, pages
from feeds.compress import CODINGS, encode_each
from feeds.config import Settings
from feeds.errors import ExportError
from feeds.hosting import HEADERS_FILE, IMMUTABLE_MARKERS, SIBLINGS, headers_file
from feeds.pool import pooled_map, worker_count
from feeds.render import Document, Renderer
from feeds.store import Store

__all__ = [
    "MANIFEST",
    "MANIFEST_FORMAT",
    "ExportReport",
    "export",
    "read_manifest",
    "read_manifest_document",
    "sibling_paths",
]

MANIFEST = "manifest.json"
# Bump when the manifest or the tree layout changes: an older export is then rebuilt in full.
MANIFEST_FORMAT = 2
Progress = Callable[[int, int], None]
_PREVIOUS = "previous"
# Below this many documents a pool costs more to start than it saves.
_POOL_THRESHOLD = 200
_BATCH_BYTES = 256 * 1024


@dataclass(frozen=True)
class ExportReport:
    """Counts of files: documents and their precompressed siblings."""

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


def _files_of(path: str, entry: dict[str, Any]) -> list[str]:
    return [path, *sibling_paths(path, entry)]


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


def export(store: Store, settings: Settings, output: Path | None = None,
           progress: Progress | None = None) -> ExportReport:
    """Write every public document under ``output`` and switch to the new tree atomically."""
    output = output or settings.output_dir
    try:
        with build_lock(output):
            return _export(store, settings, output, progress)
    except OSError as exc:
        where = exc.filename or output
        raise ExportError(
            f"{where}: cannot write the export ({exc.strerror or exc}); the previous export "
            f"at {output} is unchanged"
        ) from None


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


def _current_tree(output: Path, root: Path) -> Path | None:
    """The tree ``output`` points at, adopting a plain directory left there by other means."""
    if output.is_symlink():
        target = output.resolve()
        return target if (target / MANIFEST).is_file() else None
    if not output.exists():
        return None
    if not output.is_dir():
        raise ExportError(f"{output}: exists and is not a directory; move it away and build again")
    # A plain directory (an export copied here, or from an older feeds): make it a build tree.
    # The one moment between the two calls is the only one without an export, once ever.
    adopted = root / f"adopted-{time.time_ns()}"
    output.rename(adopted)
    output.symlink_to(os.path.relpath(adopted, output.parent))
    return adopted


def _unchanged(previous: dict[str, Any], settings: Settings,
               versions: dict[str, str | None]) -> bool:
    """True when the previous export already holds exactly these document versions."""
    files = previous.get("files")
    if (previous.get("format") != MANIFEST_FORMAT or previous.get("settings") != _fingerprint(settings)
            or not isinstance(files, dict) or files.keys() != versions.keys()):
        return False
    return all(files[path].get("version") == version for path, version in versions.items())


def _fingerprint(settings: Settings) -> str:
    """The settings the export's bytes depend on beyond the documents' version keys."""
    return settings.fingerprint("base_url", "max_age", "stale_while_revalidate", "archive_max_age",
                                "brotli_quality", "precompress")


def _content_keys(store: Store, renderer: Renderer, settings: Settings) -> dict[str, str | None]:
    """Every document's path → a key of everything its bytes depend on, site pages first.

    Finer than ``Renderer.version``, which is per feed: one new record re-versions every archive
    page of ``all``, though only the pages whose slice of records moved have new bytes. A feed
    page's bytes depend on the settings and renderer (``global_key``), the feed's name, the
    page's number and the number of archive pages (its links), and the records in its slice.
    """
    keys: dict[str, str | None] = {path: renderer.version(path) for path in renderer.document_paths()}
    for feed in renderer.feeds.values():
        members = store.feed_digests(feed.path)
        for feed_page in pages(feed, settings):
            digest = hashlib.sha256(
                f"{renderer.global_key}\n{feed.path}\n{feed.kind}\n{feed.name}\n"
                f"{feed_page.number}\n{feed_page.archive_pages}\n".encode())
            for record_id, record_digest in members[feed_page.offset:feed_page.offset + feed_page.limit]:
                digest.update(f"{record_id}:{record_digest}\n".encode())
            key = digest.hexdigest()[:32]
            for fmt in settings.formats:
                keys[feed_document_path(feed.path, fmt, feed_page.number)] = key
    return keys


def _export(store: Store, settings: Settings, output: Path,
            progress: Progress | None) -> ExportReport:
    root = builds_dir(output)
    previous = _current_tree(output, root)
    _remove_stale(root, keep=previous)
    old_manifest = read_manifest_document(previous) if previous else {}
    renderer = Renderer(store, settings)
    versions = _content_keys(store, renderer, settings)
    if previous is not None and _unchanged(old_manifest, settings, versions):
        files = sum(len(_files_of(p, e)) for p, e in old_manifest["files"].items())
        return ExportReport(0, files, 0, files, output)
    # Files of an export made under other settings (precompression, brotli quality…) are redone.
    same_settings = (old_manifest.get("format") == MANIFEST_FORMAT
                     and old_manifest.get("settings") == _fingerprint(settings))
    reusable = old_manifest.get("files", {}) if same_settings else {}
    # Entries the changed documents lack are rendered up front, in parallel (one per CPU).
    stale = [p for p, v in versions.items() if reusable.get(p, {}).get("version") != v]
    renderer.prepare(stale, worker_count(settings.workers))
    tree = root / f"build-{time.time_ns()}-{os.getpid()}"
    tree.mkdir()
    try:
        builder = _TreeBuilder(tree, previous, settings)

        def written() -> Iterator[tuple[str, bytes]]:
            for done, (path, version) in enumerate(versions.items(), start=1):
                body = builder.add(path, version, reusable.get(path), renderer)
                if body is not None and settings.precompress:
                    yield path, body
                if progress is not None:
                    progress(done, len(versions))

        # Compressing is most of a cold build's time: the pool compresses while this process
        # renders the next documents; the siblings are written here, in document order.
        workers = worker_count(settings.workers) if len(stale) >= _POOL_THRESHOLD else 1
        for encoded in pooled_map(partial(encode_each, brotli_quality=settings.brotli_quality),
                                  _batches(written()), workers):
            for path, bodies in encoded:
                builder.add_encoded(path, bodies)
        builder.finish(old_manifest)
        _make_durable(builder.new_files)
        _switch(output, tree)
    except BaseException:
        shutil.rmtree(tree, ignore_errors=True)
        raise
    if previous is not None and previous.parent == root:
        _replace_link(root / _PREVIOUS, previous.name)
    _remove_stale(root, keep=tree)
    old_files = {f for p, e in reusable.items() for f in _files_of(p, e)}
    new_files = {f for p, e in builder.manifest.items() for f in _files_of(p, e)}
    return ExportReport(builder.written, builder.unchanged, len(old_files - new_files),
                        len(new_files), output)


class _TreeBuilder:
    """Fills a new build tree, reusing the previous tree's files wherever the bytes are kept."""

    def __init__(self, tree: Path, previous: Path | None, settings: Settings) -> None:
        self.tree = tree
        self.previous = previous
        self.settings = settings
        self.manifest: dict[str, dict[str, Any]] = {}
        self.written = 0
        self.unchanged = 0
        self._made: set[Path] = set()
        self.new_files: list[Path] = []

    def add(self, path: str, version: str | None, known: dict[str, Any] | None,
            renderer: Renderer) -> bytes | None:
        """Link or write one document; returns its bytes when it was written (to compress)."""
        if known is not None and known.get("version") == version and self._link(path, known):
            self.manifest[path] = known
            return None
        document = renderer.render(path)
        if document is None:
            raise AssertionError(f"{path}: listed by the catalogue but not renderable")
        entry = _manifest_entry(document, version)
        if known is not None and known.get("etag") == entry["etag"]:
            entry["encoded"] = known.get("encoded", {})
            if self._link(path, entry):
                self.manifest[path] = entry
                return None
        self._put(path, document.body)
        entry["encoded"] = {}
        if document.immutable:
            self._put(f"{IMMUTABLE_MARKERS}/{path}", b"")
        self.written += 1
        self.manifest[path] = entry
        return document.body

    def add_encoded(self, path: str, bodies: dict[str, bytes]) -> None:
        """Write the precompressed siblings of a document ``add`` wrote."""
        for coding, body in bodies.items():
            self._put(path + SIBLINGS[coding], body)
            self.manifest[path]["encoded"][coding] = len(body)
        self.written += len(bodies)

    def _dir(self, target: Path) -> None:
        if target.parent not in self._made:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(target.parent)

    def _put(self, path: str, body: bytes) -> None:
        target = self.tree / path
        self._dir(target)
        target.write_bytes(body)
        self.new_files.append(target)

    def _link(self, path: str, entry: dict[str, Any]) -> bool:
        """Hard-link a document, its siblings and marker from the previous tree, if all are there."""
        if self.previous is None:
            return False
        names = _files_of(path, entry)
        if entry.get("immutable"):
            names.append(f"{IMMUTABLE_MARKERS}/{path}")
        linked: list[Path] = []
        for name in names:
            target = self.tree / name
            self._dir(target)
            try:
                os.link(self.previous / name, target)
            except FileNotFoundError:
                # Someone removed a file from the previous export: render it again.
                for done in linked:
                    done.unlink()
                return False
            linked.append(target)
        self.unchanged += len(_files_of(path, entry))
        return True

    def finish(self, old_manifest: dict[str, Any]) -> None:
        """Write the manifest and the host header rules, keeping the old files if identical."""
        listing = {"format": MANIFEST_FORMAT, "base_url": self.settings.base_url,
                   "settings": _fingerprint(self.settings), "files": self.manifest}
        text = json.dumps(listing, indent=1, sort_keys=True) + "\n"
        self._keep_or_put(MANIFEST, text.encode("utf-8"))
        self._keep_or_put(HEADERS_FILE, headers_file(self.manifest, self.settings))

    def _keep_or_put(self, name: str, body: bytes) -> None:
        if self.previous is not None:
            with suppress(OSError):
                if (self.previous / name).read_bytes() == body:
                    os.link(self.previous / name, self.tree / name)
                    return
        self._put(name, body)


def _batches(documents: Iterator[tuple[str, bytes]]) -> Iterator[list[tuple[str, bytes]]]:
    """Documents in groups of about ``_BATCH_BYTES``: few enough messages to the pool."""
    batch: list[tuple[str, bytes]] = []
    size = 0
    for path, body in documents:
        batch.append((path, body))
        size += len(body)
        if size >= _BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


# Above this many new files one sync(2) is cheaper than an fsync(2) per file.
_FSYNC_LIMIT = 1000


def _make_durable(files: list[Path]) -> None:
    """The new files reach the disk before the link names them (hard links already had)."""
    if len(files) > _FSYNC_LIMIT:
        os.sync()
        return
    for path in files:
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _replace_link(link: Path, target: str) -> None:
    """Point ``link`` at ``target`` with one rename: readers see the old target or the new."""
    # A fixed name (the lock allows one build at a time) so a killed build leaves no litter.
    temporary = link.parent / f".{link.name}.new-link"
    with suppress(FileNotFoundError):
        temporary.unlink()
    temporary.symlink_to(target)
    os.replace(temporary, link)


def _switch(output: Path, tree: Path) -> None:
    _replace_link(output, os.path.relpath(tree, output.parent))
    directory = os.open(output.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)


def _remove_stale(root: Path, keep: Path | None) -> None:
    """Delete build trees other than ``keep`` and the one before it (killed or superseded builds)."""
    kept = {keep.name} if keep is not None and keep.parent == root else set()
    previous = root / _PREVIOUS
    if previous.is_symlink():
        kept.add(os.readlink(previous))
    for child in root.iterdir():
        if child.name not in kept and not child.is_symlink() and child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
