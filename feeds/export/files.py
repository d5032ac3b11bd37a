"""Creating a build tree's files (one ``openat``, ``write`` and ``close`` each) and hard links,
through the descriptors of their folders.

A cold build creates some ten thousand files. Through pathlib each one cost a ``Path``, a
buffered file object and an open resolving the whole path from the root; here a folder is made
and opened once, and its files are created relative to its descriptor (openat(2)). Documents
come feed by feed, so the few folders open at once are kept and the least recent closed.
Durability is the tree's (feeds.export.trees.make_durable), before the switch names it.
"""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path

from feeds.export.trees import FSYNC_LIMIT

__all__ = ["TreeFiles"]

# Folders kept open: a feed's documents share two (its folder and its archive folder).
_OPEN_FOLDERS = 16
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC


class TreeFiles:
    """Creates files and folders under ``tree`` by their paths relative to it (``a/b.atom``)."""

    def __init__(self, tree: Path) -> None:
        self.tree = tree
        self._root = str(tree)
        self._made: dict[str, str] = {}  # relative folder → its full path, made
        self._open: dict[str, int] = {}
        # The files created, by their full paths, for make_durable: beyond FSYNC_LIMIT it syncs
        # the whole disk instead, so no more are kept (a million paths are hundreds of MB).
        self.created: list[str] = []

    def folder(self, name: str) -> str:
        """Make the folder holding ``name`` (and its parents); returns the folder's full path."""
        # By string operations on the '/'-separated relative path, once per folder: a build
        # asks for every file it links or writes.
        parent = name.rpartition("/")[0]
        folder = self._made.get(parent)
        if folder is None:
            folder = f"{self._root}/{parent}" if parent else self._root
            os.makedirs(folder, exist_ok=True)
            self._made[parent] = folder
        return folder

    def write(self, name: str, body: bytes, *, replace: bool) -> None:
        """Create ``name`` holding ``body``. ``replace``: a file there is unlinked first, so
        the new one is a new inode (the old may be a hard link shared with the current tree)."""
        descriptor = self._descriptor(self.folder(name))
        base = os.path.basename(name)
        if replace:
            with suppress(FileNotFoundError):
                os.unlink(base, dir_fd=descriptor)
        handle = os.open(base, _CREATE, 0o666, dir_fd=descriptor)
        try:
            view = memoryview(body)
            while view:
                view = view[os.write(handle, view):]
        finally:
            os.close(handle)
        if len(self.created) <= FSYNC_LIMIT:
            self.created.append(os.path.join(self._root, name))

    def link(self, name: str, source: str) -> None:
        """Make ``name`` a hard link to the file at the full path ``source``, replacing a file
        there (unlinked, never written through). Raises FileNotFoundError without ``source``.

        Strings and the folder's descriptor, not paths: the first build after a cold one links
        every unchanged file of the current tree, and a ``Path`` per file cost more than the
        link(2) itself."""
        descriptor = self._descriptor(self.folder(name))
        base = name.rpartition("/")[2]
        try:
            os.link(source, base, dst_dir_fd=descriptor)
        except FileExistsError:
            os.unlink(base, dir_fd=descriptor)
            os.link(source, base, dst_dir_fd=descriptor)

    def remove(self, name: str) -> None:
        """Remove ``name``, if it is there."""
        with suppress(FileNotFoundError):
            os.unlink(os.path.basename(name), dir_fd=self._descriptor(self.folder(name)))

    def _descriptor(self, folder: str) -> int:
        descriptor = self._open.pop(folder, None)
        if descriptor is None:
            descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            if len(self._open) >= _OPEN_FOLDERS:
                os.close(self._open.pop(next(iter(self._open))))
        self._open[folder] = descriptor  # the most recent last
        return descriptor

    def close(self) -> None:
        """Close the folders' descriptors."""
        for descriptor in self._open.values():
            os.close(descriptor)
        self._open.clear()
