"""Static export: every public document written under the output directory, atomically.

``output`` is a symbolic link to a complete build tree under ``.output-builds/``. A build
fills a tree beside the current one, makes it durable, then repoints the link with one
``rename(2)``. The tree is the one from two builds back (``previous``, no longer current),
recycled: its manifest is deleted first, so a build killed while changing it leaves a tree the
next build deletes, never trusts; its manifest then says which files already hold the wanted
bytes, the others become hard links to the current tree's file (so unchanged files keep their
inode and mtime and rsync-style syncs skip them) or are written, and files the new manifest
does not list are removed. Without such a tree (the first builds, other settings) a new one is
filled the same way from the current tree.

Why a symlink switch rather than replacing files one by one: a static host reads many files
that refer to each other (the index lists feeds, feeds link their archives, the OPML lists
feeds). Replacing files in place would let a reader see a new index naming a feed not written
yet; the switch makes a whole export appear at once. nginx resolves ``root`` per request, so it
serves the old tree or the new one; a sync tool should copy ``$(readlink -f output)/``, which
stays complete until the build after next recycles it (the previous tree is kept for such
readers). A build killed at any moment leaves the link on the previous tree; the next build
deletes the half-written one. A lock refuses a second concurrent build.

A build with nothing to change (every document's content key as in the manifest) writes
nothing, not even a new tree. Documents whose version changed are rendered; those that render
to bytes a tree already holds are kept or linked, not rewritten. Only written documents are
compressed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from feeds.compress import CODINGS, encode_each
from feeds.config import Settings
from feeds.errors import ExportError
from feeds.hosting import HEADERS_FILE, IMMUTABLE_MARKERS, SIBLINGS, headers_file
from feeds.pool import Workers, threaded_map, worker_count
from feeds.render import Document, Renderer
from feeds.render.keys import export_key
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


def _file_count(files: dict[str, dict[str, Any]]) -> int:
    """How many documents and siblings a manifest lists (as ``_files_of`` names them)."""
    return len(files) + sum(len(entry.get("encoded") or ()) for entry in files.values())


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
           progress: Progress | None = None, workers: Workers | None = None) -> ExportReport:
    """Write every public document under ``output`` and switch to the new tree atomically.

    Entries are rendered by ``workers`` (a build passes those its ingest used), else by
    workers of its own, as many as ``settings.workers`` says.
    """
    output = output or settings.output_dir
    try:
        with build_lock(output), contextlib.ExitStack() as stack:
            if workers is None:
                workers = stack.enter_context(Workers(worker_count(settings.workers)))
            return _export(store, settings, output, progress, workers)
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
    if not _same_layout(previous, settings) or previous["files"].keys() != versions.keys():
        return False
    files = previous["files"]
    return all(files[path].get("version") == version for path, version in versions.items())


def _export(store: Store, settings: Settings, output: Path,
            progress: Progress | None, workers: Workers) -> ExportReport:
    root = builds_dir(output)
    previous = _current_tree(output, root)
    _remove_stale(root, keep=previous)
    old_manifest = read_manifest_document(previous) if previous else {}
    renderer = Renderer(store, settings)
    versions = renderer.content_keys()
    if previous is not None and _unchanged(old_manifest, settings, versions):
        files = _file_count(old_manifest["files"])
        return ExportReport(0, files, 0, files, output)
    # Files of an export made under other settings (precompression, brotli quality…) are redone.
    reusable = old_manifest["files"] if _same_layout(old_manifest, settings) else {}
    # Entries the changed documents lack are rendered up front, in parallel (one per CPU).
    stale = [p for p, v in versions.items() if reusable.get(p, {}).get("version") != v]
    renderer.prepare(stale, workers)
    workers.close()  # the rest is assembling and compressing (threads): free their memory
    tree, held = _new_tree(root, previous, settings)
    try:
        builder = _TreeBuilder(tree, previous, settings, held)

        def written() -> Iterator[tuple[str, bytes]]:
            for done, (path, version) in enumerate(versions.items(), start=1):
                body = builder.add(path, version, reusable.get(path), renderer)
                if body is not None and settings.precompress:
                    yield path, body
                if progress is not None:
                    progress(done, len(versions))

        # Compressing is most of a cold build's time: threads compress (zlib and brotli release
        # the GIL, and no document or result is copied through a pipe) while this thread renders
        # the next documents; the siblings are written here, in document order.
        for encoded in threaded_map(partial(encode_each, brotli_quality=settings.brotli_quality),
                                    _batches(written()), worker_count(settings.workers)):
            for path, bodies in encoded:
                builder.add_encoded(path, bodies)
        builder.finish(reusable)
        _make_durable(builder.new_files)
        _fsync(root)  # the tree's new name, before the link names it
        _switch(output, tree)
    except BaseException:
        shutil.rmtree(tree, ignore_errors=True)
        raise
    if previous is not None and previous.parent == root:
        _replace_link(root / _PREVIOUS, previous.name)
    _remove_stale(root, keep=tree)
    return ExportReport(builder.written, builder.unchanged, _removed(reusable, builder.manifest),
                        _file_count(builder.manifest), output)


def _same_layout(manifest: dict[str, Any], settings: Settings) -> bool:
    """True when a tree's files were made by this manifest format under these settings."""
    return (manifest.get("format") == MANIFEST_FORMAT
            and manifest.get("settings") == export_key(settings)
            and isinstance(manifest.get("files"), dict))


def _recyclable(root: Path, current: Path | None) -> Path | None:
    """The tree ``previous`` names, unless it is the current one or gone."""
    link = root / _PREVIOUS
    if not link.is_symlink():
        return None
    tree = root / os.readlink(link)
    return None if tree == current or not tree.is_dir() else tree


def _new_tree(root: Path, current: Path | None,
              settings: Settings) -> tuple[Path, dict[str, dict[str, Any]] | None]:
    """The tree this build fills, and what its manifest said it held (None: a new, empty tree).

    The tree from two builds back is recycled when its manifest is trusted: the manifest goes
    first, so a build killed from here on leaves a tree without one, deleted as garbage.
    """
    tree = root / f"build-{time.time_ns()}-{os.getpid()}"
    old = _recyclable(root, current)
    if old is not None:
        manifest = read_manifest_document(old)
        if _same_layout(manifest, settings):
            (old / MANIFEST).unlink()
            _fsync(old)
            old.rename(tree)
            return tree, manifest["files"]
    tree.mkdir()
    return tree, None


def _removed(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> int:
    """How many documents and siblings of the old manifest the new one no longer lists."""
    return sum(len(set(_files_of(p, e)) - set(_files_of(p, new[p]) if p in new else ()))
               for p, e in old.items() if new.get(p) is not e)


def _all_files(path: str, entry: dict[str, Any]) -> list[str]:
    """A document's files in a tree: itself, its siblings and its immutable marker."""
    names = _files_of(path, entry)
    if entry.get("immutable"):
        names.append(f"{IMMUTABLE_MARKERS}/{path}")
    return names


def _same_files(held: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """True when a tree holding ``held`` already has every file of ``wanted``, byte for byte.

    Siblings are a function of the document's bytes under one set of settings (gzip without a
    timestamp, brotli at one quality), so equal tags and equal codings mean equal files.
    """
    return (held.get("etag") == wanted.get("etag")
            and (held.get("encoded") or {}) == (wanted.get("encoded") or {})
            and bool(held.get("immutable")) == bool(wanted.get("immutable")))


def _same_header_rules(new: dict[str, dict[str, Any]], old: dict[str, dict[str, Any]]) -> bool:
    """True when ``_headers`` for ``new`` equals the one for ``old`` (under the same settings):
    the same documents, each with the same type and caching."""
    return new.keys() == old.keys() and all(
        entry is old[path] or (entry.get("media_type") == old[path].get("media_type")
                               and bool(entry.get("immutable")) == bool(old[path].get("immutable")))
        for path, entry in new.items())


class _TreeBuilder:
    """Fills a build tree, keeping or linking files wherever a manifest says the bytes are there.

    ``held`` is what a recycled tree's manifest listed (None for a new tree): those files are
    kept when they hold the wanted bytes, replaced (never written through: they may be hard
    links shared with the current tree) or removed at the end.
    """

    def __init__(self, tree: Path, previous: Path | None, settings: Settings,
                 held: dict[str, dict[str, Any]] | None = None) -> None:
        self.tree = tree
        self.previous = previous
        self.settings = settings
        self.held = held
        self.manifest: dict[str, dict[str, Any]] = {}
        self.written = 0
        self.unchanged = 0
        self._made: set[Path] = set()
        self.new_files: list[Path] = []
        # Documents whose files in a recycled tree were replaced: the only ones that can leave
        # a file of the old manifest behind (a sibling or marker the new entry lacks).
        self._replaced: list[str] = []

    def add(self, path: str, version: str | None, known: dict[str, Any] | None,
            renderer: Renderer) -> bytes | None:
        """Keep, link or write one document; returns its bytes when it was written (to compress)."""
        if known is not None and known.get("version") == version and self._reuse(path, known):
            self.manifest[path] = known
            return None
        document = renderer.render(path)
        if document is None:
            raise AssertionError(f"{path}: listed by the catalogue but not renderable")
        entry = _manifest_entry(document, version)
        if known is not None and known.get("etag") == entry["etag"]:
            entry["encoded"] = known.get("encoded", {})
            if self._reuse(path, entry):
                self.manifest[path] = entry
                return None
        held = (self.held or {}).get(path)
        if held is not None and held.get("etag") == entry["etag"]:
            # Bytes this tree already holds, though the current export has others: kept, but
            # counted as written, since a sync of the new export copies them.
            entry["encoded"] = held.get("encoded", {})
            if _same_files(held, entry):
                self.manifest[path] = entry
                self.written += len(_files_of(path, entry))
                return None
        self._put(path, document.body)
        self._replaced.append(path)
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
        if self.held is not None:
            target.unlink(missing_ok=True)  # a new inode: the old one may be the current tree's
        target.write_bytes(body)
        self.new_files.append(target)

    def _reuse(self, path: str, entry: dict[str, Any]) -> bool:
        """Keep the recycled tree's files if they are ``entry``'s, else link the current tree's."""
        held = None if self.held is None else self.held.get(path)
        if held is not None and _same_files(held, entry):
            self.unchanged += len(_files_of(path, entry))
            return True
        return self._link(path, entry)

    def _link(self, path: str, entry: dict[str, Any]) -> bool:
        """Hard-link a document, its siblings and marker from the previous tree, if all are there."""
        if self.previous is None:
            return False
        linked: list[Path] = []
        for name in _all_files(path, entry):
            target = self.tree / name
            self._dir(target)
            try:
                _link_over(self.previous / name, target)
            except FileNotFoundError:
                # Someone removed a file from the previous export: render it again.
                for done in linked:
                    done.unlink()
                return False
            linked.append(target)
        self.unchanged += len(_files_of(path, entry))
        self._replaced.append(path)
        return True

    def finish(self, old_files: dict[str, dict[str, Any]]) -> None:
        """Remove what the tree held but no longer lists; write the host header rules and the
        manifest, last (``old_files``: the current tree's manifest, when made alike)."""
        self._remove_unlisted()
        kept = self.held is not None and _same_header_rules(self.manifest, self.held)
        if not kept and not (_same_header_rules(self.manifest, old_files)
                             and self._link_file(HEADERS_FILE)):
            self._put(HEADERS_FILE, headers_file(self.manifest, self.settings))
        self._put(MANIFEST, _manifest_text(self.manifest, self.settings).encode("utf-8"))

    def _link_file(self, name: str) -> bool:
        if self.previous is None:
            return False
        try:
            _link_over(self.previous / name, self.tree / name)
        except FileNotFoundError:
            return False
        return True

    def _remove_unlisted(self) -> None:
        """Delete the recycled tree's files the new manifest does not list, and emptied folders."""
        if self.held is None:
            return
        stale = [name for path in self.held.keys() - self.manifest.keys()
                 for name in _all_files(path, self.held[path])]
        for path in self._replaced:
            if path in self.held:
                keep = _all_files(path, self.manifest[path])
                stale += [name for name in _all_files(path, self.held[path]) if name not in keep]
        emptied: set[Path] = set()
        for name in stale:
            target = self.tree / name
            target.unlink(missing_ok=True)
            emptied.add(target.parent)
        for directory in sorted(emptied, key=lambda d: len(d.parts), reverse=True):
            while directory != self.tree:
                try:
                    directory.rmdir()
                except OSError:  # not empty: still holds other documents
                    break
                directory = directory.parent


def _manifest_text(files: dict[str, dict[str, Any]], settings: Settings) -> str:
    """The manifest as JSON with one document per line, sorted: readable, and diffs stay small.

    Written line by line because ``json.dumps`` with ``indent`` runs in pure Python, three
    times slower than its C encoder for a 10,000-record export's manifest.
    """
    encode = json.JSONEncoder(sort_keys=True).encode
    head = {"format": MANIFEST_FORMAT, "base_url": settings.base_url,
            "settings": export_key(settings)}
    lines = [f"{encode(path)}: {encode(files[path])}" for path in sorted(files)]
    return encode(head)[:-1] + ', "files": {\n' + ",\n".join(lines) + "\n}}\n"


def _link_over(source: Path, target: Path) -> None:
    """Make ``target`` a hard link to ``source``, replacing the file there (never writing it)."""
    try:
        os.link(source, target)
    except FileExistsError:
        target.unlink()
        os.link(source, target)


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
_FSYNC_THREADS = 8


def _make_durable(files: list[Path]) -> None:
    """The new files reach the disk before the link names them (hard links already had)."""
    if len(files) > _FSYNC_LIMIT:
        os.sync()
        return
    # fsync waits for a journal commit; concurrent ones share commits instead of queueing.
    with ThreadPoolExecutor(_FSYNC_THREADS) as pool:
        for _ in pool.map(_fsync, files):
            pass


def _replace_link(link: Path, target: str) -> None:
    """Point ``link`` at ``target`` with one rename: readers see the old target or the new."""
    # A fixed name (the lock allows one build at a time) so a killed build leaves no litter.
    temporary = link.parent / f".{link.name}.new-link"
    with suppress(FileNotFoundError):
        temporary.unlink()
    temporary.symlink_to(target)
    os.replace(temporary, link)


def _fsync(path: Path) -> None:
    """Make a file's bytes, or the entries added to or removed from a directory, survive a
    power cut."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _switch(output: Path, tree: Path) -> None:
    _replace_link(output, os.path.relpath(tree, output.parent))
    _fsync(output.parent)  # the rename itself survives a power cut


def _remove_stale(root: Path, keep: Path | None) -> None:
    """Delete build trees other than ``keep`` and the one before it (killed or superseded builds)."""
    kept = {keep.name} if keep is not None and keep.parent == root else set()
    previous = root / _PREVIOUS
    if previous.is_symlink():
        kept.add(os.readlink(previous))
    for child in root.iterdir():
        if child.name not in kept and not child.is_symlink() and child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
