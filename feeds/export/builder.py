"""Filling one build tree with documents: kept, hard-linked or written, as its manifest says."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from feeds.config import Settings
from feeds.export.files import TreeFiles
from feeds.export.manifest import (
    MANIFEST,
    Files,
    all_files,
    files_of,
    manifest_entry,
    manifest_text,
    same_files,
    same_header_rules,
)
from feeds.hosting import HEADERS_FILE, IMMUTABLE_MARKERS, SIBLINGS, headers_file
from feeds.render.renderer import Document

__all__ = ["TreeBuilder"]


class TreeBuilder:
    """Fills a build tree, keeping or linking files wherever a manifest says the bytes are there.

    ``current`` is the tree ``output`` names now (None on a first build): files it holds with
    the wanted bytes are hard-linked from it. ``held`` is what a recycled tree's manifest listed
    (None for a new tree): those files are kept when they hold the wanted bytes, replaced
    (never written through: they may be hard links shared with the current tree) or removed at
    the end.
    """

    def __init__(self, tree: Path, current: Path | None, settings: Settings,
                 held: Files | None = None) -> None:
        self.tree = tree
        self.current = current
        self._current = "" if current is None else str(current)
        self.settings = settings
        self.held = held
        self.manifest: Files = {}
        self.written = 0
        self.unchanged = 0
        # The files this build creates (not those kept or linked): made durable before the switch.
        self.files = TreeFiles(tree)
        # Documents whose files in a recycled tree were replaced: the only ones that can leave
        # a file of the old manifest behind (a sibling or marker the new entry lacks).
        self._replaced: list[str] = []

    def add(self, path: str, version: str | None, known: dict[str, Any] | None,
            render: Callable[[str], Document]) -> bytes | None:
        """Keep, link or write one document (``known``: its entry in the current tree's
        manifest); returns its bytes when it was written (to compress)."""
        if known is not None and known.get("version") == version and self._reuse(path, known):
            self.manifest[path] = known
            return None
        document = render(path)
        entry = manifest_entry(document, version)
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
            if same_files(held, entry):
                self.manifest[path] = entry
                self.written += len(files_of(path, entry))
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

    def _put(self, path: str, body: bytes) -> None:
        # In a recycled tree, a new inode: the old one may be a hard link the current tree shares.
        self.files.write(path, body, replace=self.held is not None)

    def _reuse(self, path: str, entry: dict[str, Any]) -> bool:
        """Keep the recycled tree's files if they are ``entry``'s, else link the current tree's."""
        held = None if self.held is None else self.held.get(path)
        if held is not None and same_files(held, entry):
            self.unchanged += len(files_of(path, entry))
            return True
        return self._link(path, entry)

    def _link(self, path: str, entry: dict[str, Any]) -> bool:
        """Hard-link a document, its siblings and marker from the current tree, if all are there."""
        if self.current is None:
            return False
        linked: list[str] = []
        for name in all_files(path, entry):
            try:
                self.files.link(name, f"{self._current}/{name}")
            except FileNotFoundError:
                # Someone removed a file from the current export: render it again.
                for done in linked:
                    self.files.remove(done)
                return False
            linked.append(name)
        self.unchanged += len(files_of(path, entry))
        self._replaced.append(path)
        return True

    def finish(self, current_files: Files) -> None:
        """Remove what the tree held but no longer lists; write the host header rules and the
        manifest, last (``current_files``: the current tree's manifest, when made alike)."""
        self._remove_unlisted()
        kept = self.held is not None and same_header_rules(self.manifest, self.held)
        if not kept and not (same_header_rules(self.manifest, current_files)
                             and self._link_file(HEADERS_FILE)):
            self._put(HEADERS_FILE, headers_file(self.manifest, self.settings))
        self._put(MANIFEST, manifest_text(self.manifest, self.settings).encode("utf-8"))
        self.close()

    def close(self) -> None:
        """Close the folders held open (``finish`` does; call it when a build fails instead)."""
        self.files.close()

    def _link_file(self, name: str) -> bool:
        if self.current is None:
            return False
        try:
            self.files.link(name, f"{self._current}/{name}")
        except FileNotFoundError:
            return False
        return True

    def _remove_unlisted(self) -> None:
        """Delete the recycled tree's files the new manifest does not list, and emptied folders."""
        if self.held is None:
            return
        stale = [name for path in self.held.keys() - self.manifest.keys()
                 for name in all_files(path, self.held[path])]
        for path in self._replaced:
            if path in self.held:
                keep = all_files(path, self.manifest[path])
                stale += [name for name in all_files(path, self.held[path]) if name not in keep]
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
