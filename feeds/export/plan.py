"""What an export holds, apart from where it is written: every document's content key, which
of them a target's manifest already holds, and the bytes of the others.

A target (the build tree on disk, feeds.export; another store of files) reads its manifest,
asks ``plan`` what to write, renders the stale documents through ``Plan.document`` and records
the new manifest.

A target that knows from which store state its manifest was made (``since``: the export's
stamp) has only the feeds changed since then keyed anew: every other feed's documents keep the
keys the manifest holds, so an edit costs the changed feeds, not the corpus. The keys are the
same either way (tests/test_keys_since.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from feeds.config import Settings
from feeds.export.manifest import Files, same_layout, unchanged
from feeds.export.stamp import Since
from feeds.pool import Workers
from feeds.render.keys import FeedKeys, known_keys
from feeds.render.renderer import Document, Renderer
from feeds.store import FeedRow, Store

__all__ = ["Plan", "plan"]


@dataclass(frozen=True)
class Plan:
    """One export's documents against the manifest of what a target holds now."""

    renderer: Renderer
    # Every document's path → its content key (feeds.render.keys), in catalogue order.
    versions: dict[str, str | None]
    # The target's manifest, when made under these settings: its files can be kept.
    reusable: Files
    # True when the target already holds exactly these documents: nothing to write.
    unchanged: bool
    # Each feed's newest record's line (feeds.render.keys.ContentKeys): for the stamp.
    newest: dict[str, str]

    def stale(self) -> list[str]:
        """The documents whose content key the target does not hold: they are rendered."""
        reusable = self.reusable
        return [p for p, v in self.versions.items() if reusable.get(p, {}).get("version") != v]

    def prepare(self, workers: Workers) -> None:
        """Render the entries the stale documents lack, in bulk, by ``workers``."""
        self.renderer.prepare(self.stale(), workers)

    def document(self, path: str) -> Document:
        """The document at ``path``, which the catalogue lists."""
        document = self.renderer.render(path)
        if document is None:
            raise AssertionError(f"{path}: listed by the catalogue but not renderable")
        return document


def plan(store: Store, settings: Settings, manifest: dict[str, Any],
         since: Since | None = None) -> Plan:
    """The plan of an export of ``store`` to a target whose manifest is ``manifest`` ({}: none).

    ``since``: from which change-log head the manifest's keys hold, under these settings
    (``feeds.export.stamp.since``), if known.
    """
    renderer = Renderer(store, settings)
    # Files of an export made under other settings (precompression, brotli quality…) are redone.
    reusable = manifest["files"] if same_layout(manifest, settings) else {}
    known = _known(store, renderer, reusable, since) if reusable else None
    keys = renderer.content_keys(known)
    return Plan(renderer, keys.documents, reusable,
                unchanged(manifest, settings, keys.documents), keys.newest)


def _known(store: Store, renderer: Renderer, files: Files,
           since: Since | None) -> Callable[[FeedRow], FeedKeys | None] | None:
    """The keys ``files`` holds for a feed the store has not changed since ``since``; None
    when every feed must be keyed (no ``since``, or other links to topic and provider pages:
    every feed page and site page links them)."""
    if since is None or since.links != renderer.links:
        return None
    # Asked after the renderer read its catalogue: a commit in between is counted as changed.
    _, changed = store.changes_since(since.head)
    settings, newest = renderer.settings, since.newest

    def known(feed: FeedRow) -> FeedKeys | None:
        return None if feed.path in changed else known_keys(feed, files, newest, settings)

    return known
