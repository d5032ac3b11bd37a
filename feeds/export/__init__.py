"""Static export: every public document written under the output directory, atomically.

``output`` is a symbolic link to a complete build tree under ``.output-builds/``. A build
fills a tree beside the current one, makes it durable, then repoints the link with one
``rename(2)``. The tree filled is the retired one (``previous``: the tree ``output`` named
before the last switch, two builds back by the time it is recycled): its manifest is deleted
first, so a build killed while changing it leaves a tree the next build deletes, never trusts;
its manifest then says which files already hold the wanted bytes, the others become hard links
to the current tree's file (so unchanged files keep their inode and mtime and rsync-style syncs
skip them) or are written, and files the new manifest does not list are removed. Without such
a tree (the first builds, other settings) a new one is filled the same way from the current
tree.

Why a symlink switch rather than replacing files one by one: a static host reads many files
that refer to each other (the index lists feeds, feeds link their archives, the OPML lists
feeds). Replacing files in place would let a reader see a new index naming a feed not written
yet; the switch makes a whole export appear at once. nginx resolves ``root`` per request, so it
serves the old tree or the new one; a sync tool should copy ``$(readlink -f output)/``, which
stays complete until the build after next recycles it (the retired tree is kept for such
readers). A build killed at any moment leaves the link on the current tree; the next build
deletes the half-written one. A lock refuses a second concurrent build.

A build with nothing to change writes nothing, not even a new tree: ``stamp`` says so at once
when neither the store nor the settings changed since the current tree was built, else every
document's content key is compared with the manifest (only the feeds the store changed since
the stamp's state are keyed anew, when the stamp names the current tree: ``plan``). Documents
whose version changed are rendered; those that render to bytes a tree already holds are kept or
linked, not rewritten. Only written documents are compressed.

The package: ``plan`` (which documents and bytes: content keys against a manifest),
``manifest`` (the manifest's format and predicates), ``trees`` (lock, recycling, durability,
the switch), ``builder`` (filling one tree); this module composes them for the disk.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from feeds.config import Settings
from feeds.errors import ExportError
from feeds.export.manifest import (
    MANIFEST,
    MANIFEST_FORMAT,
    file_count,
    read_manifest,
    read_manifest_document,
    removed,
    sibling_paths,
)
from feeds.export.stamp import Basis, Stamp, base_token, read_stamp, since, token, write_stamp
from feeds.export.trees import (
    build_lock,
    builds_dir,
    current_tree,
    make_durable,
    new_tree,
    remove_stale,
    retire,
    switch,
)
from feeds.pool import Workers, threaded_map, worker_count
from feeds.store import Store

__all__ = [
    "MANIFEST",
    "MANIFEST_FORMAT",
    "ExportReport",
    "build_lock",
    "builds_dir",
    "export",
    "read_manifest",
    "read_manifest_document",
    "sibling_paths",
]

Progress = Callable[[int, int], None]
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


def export(store: Store, settings: Settings, output: Path | None = None,
           progress: Progress | None = None, workers: Workers | None = None) -> ExportReport:
    """Write every public document under ``output`` and switch to the new tree atomically.

    Entries are rendered by ``workers`` (a build passes those its ingest used), else by
    workers of its own, as many as ``settings.build_processes`` says.
    """
    output = output or settings.output_dir
    try:
        with build_lock(output), contextlib.ExitStack() as stack:
            if workers is None:
                workers = stack.enter_context(Workers(worker_count(settings.build_processes)))
            return _export(store, settings, output, progress, workers)
    except OSError as exc:
        where = exc.filename or output
        raise ExportError(
            f"{where}: cannot write the export ({exc.strerror or exc}); the previous export "
            f"at {output} is unchanged"
        ) from None


def _export(store: Store, settings: Settings, output: Path,
            progress: Progress | None, workers: Workers) -> ExportReport:
    root = builds_dir(output)
    current = current_tree(output, root)
    remove_stale(root, keep=current)
    # Read before any document: a commit after it makes the stamp older than the tree, never
    # newer (the next build then compares content keys).
    state = store.state()
    base = base_token(settings)
    built_from = token(base, state)
    stamp = read_stamp(root) if current is not None else None
    if (current is not None and stamp is not None and stamp.tree == current.name
            and stamp.token == built_from):
        return ExportReport(0, stamp.files, 0, stamp.files, output)
    # What plans, renders and compresses is loaded only now: a build the stamp answers (nothing
    # new) loads none of it, and starts about 20 ms sooner.
    from feeds.compress import encode_each
    from feeds.export.builder import TreeBuilder
    from feeds.export.plan import plan
    from feeds.hosting import precompressed

    todo = plan(store, settings, read_manifest_document(current) if current else {},
                since(root, stamp, current.name, base, state) if current is not None else None)
    basis = Basis(base, state, todo.renderer.links)
    if todo.unchanged:
        files = file_count(todo.reusable)
        if current is not None:
            write_stamp(root, Stamp(current.name, built_from, files, basis), todo.newest)
        return ExportReport(0, files, 0, files, output)
    # Entries the changed documents lack are rendered up front, in parallel (one per CPU).
    todo.prepare(workers)
    workers.close()  # the rest is assembling and compressing (threads): free their memory
    tree, held = new_tree(root, current, settings)
    reusable = todo.reusable
    builder = TreeBuilder(tree, current, settings, held)
    try:
        def written() -> Iterator[tuple[str, bytes]]:
            versions = todo.versions
            for done, (path, version) in enumerate(versions.items(), start=1):
                body = builder.add(path, version, reusable.get(path), todo.document)
                if body is not None and precompressed(path, settings):
                    yield path, body
                if progress is not None:
                    progress(done, len(versions))

        # Compressing current documents is a large part of a cold build's time: threads compress
        # (zlib and brotli release the GIL, and no document or result is copied through a pipe)
        # while this thread renders the next documents; the siblings are written here, in order.
        for encoded in threaded_map(partial(encode_each, brotli_quality=settings.brotli_quality),
                                    _batches(written()), worker_count(settings.build_processes)):
            for path, bodies in encoded:
                builder.add_encoded(path, bodies)
        builder.finish(reusable)
        make_durable(builder.files.created)
        switch(output, tree)
    except BaseException:
        builder.close()
        shutil.rmtree(tree, ignore_errors=True)
        raise
    if current is not None:
        retire(root, current)
    remove_stale(root, keep=tree)
    files = file_count(builder.manifest)
    write_stamp(root, Stamp(tree.name, built_from, files, basis), todo.newest)
    return ExportReport(builder.written, builder.unchanged, removed(reusable, builder.manifest),
                        files, output)


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
