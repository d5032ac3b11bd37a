"""What an export holds, apart from where it is written: every document's content key, which
of them a target's manifest already holds, and the bytes of the others.

A target (the build tree on disk, feeds.export; another store of files) reads its manifest,
asks ``plan`` what to write, renders the stale documents through ``Plan.document`` and records
the new manifest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from feeds.config import Settings
from feeds.export.manifest import Files, same_layout, unchanged
from feeds.pool import Workers
from feeds.render.renderer import Document, Renderer
from feeds.store import Store

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


def plan(store: Store, settings: Settings, manifest: dict[str, Any]) -> Plan:
    """The plan of an export of ``store`` to a target whose manifest is ``manifest`` ({}: none)."""
    renderer = Renderer(store, settings)
    versions = renderer.content_keys()
    # Files of an export made under other settings (precompression, brotli quality…) are redone.
    reusable = manifest["files"] if same_layout(manifest, settings) else {}
    return Plan(renderer, versions, reusable, unchanged(manifest, settings, versions))
