"""What the current export tree was built from, so a build with nothing to do says so at once.

Beside the trees (``.<output>-builds/stamp.json``, never in a tree: the export's files stay
those the documents make) a build records the tree it switched to and a token of everything
the tree's bytes depend on: the store's state (its id and change-log head, ``Store.state``:
every change to a feed's content is a commit there), the renderer version and the settings
in any document's or file's key (``feeds.render.keys``), the packaged assets' versions, and
the manifest format. A build
whose token and current tree match the stamp writes nothing, without reading a record or
the manifest.

The stamp is written after the switch; a build killed between the two leaves a stamp naming
the older tree, which no longer matches, so the next build compares content keys as before.
Anything that changes the bytes without a commit (a new feeds version, other settings) changes
the token.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from feeds.catalog import STATIC_DOCUMENTS
from feeds.config import Settings
from feeds.durable import replace_atomically
from feeds.export.manifest import MANIFEST_FORMAT
from feeds.render import static
from feeds.render.keys import export_key, settings_key

__all__ = ["STAMP", "Stamp", "read_stamp", "token", "write_stamp"]

STAMP = "stamp.json"


@dataclass(frozen=True)
class Stamp:
    """The tree ``output`` named when a build ended, what it was built from, and its file count."""

    tree: str
    token: str
    files: int


def token(settings: Settings, store_state: str) -> str:
    """A key of everything an export tree's files depend on, for the stamp."""
    # The assets ship with feeds, outside the renderer's version: a release that changes only
    # a stylesheet must still reach the export.
    assets = [static.asset_version(name) for name in STATIC_DOCUMENTS]
    parts = (str(MANIFEST_FORMAT), settings_key(settings), export_key(settings), *assets,
             store_state)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def read_stamp(root: Path) -> Stamp | None:
    """The stamp in the builds folder ``root``, or None when there is none (or not a whole one)."""
    try:
        data = json.loads((root / STAMP).read_bytes())
        return Stamp(str(data["tree"]), str(data["token"]), int(data["files"]))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def write_stamp(root: Path, stamp: Stamp) -> None:
    """Record that the tree ``stamp.tree`` (the current one) holds what ``stamp.token`` says.

    Under the build lock, so through a fixed temporary name (a killed build leaves no litter).
    Its bytes are not synced: a stamp a power cut leaves torn or empty is no stamp, and the
    next build compares content keys.
    """
    body = json.dumps({"tree": stamp.tree, "token": stamp.token, "files": stamp.files}) + "\n"

    def make(temporary: Path) -> None:
        temporary.write_text(body, encoding="utf-8")

    replace_atomically(root / STAMP, make, temporary=root / f".{STAMP}.new")
