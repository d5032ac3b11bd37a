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
the older tree, which no longer matches (every tree gets a name of its own, even a recycled
one), so the next build computes every content key. Anything that changes the bytes without a
commit (a new feeds version, other settings) changes the token.

A stamp also holds what a build after a commit needs to compute only the changed feeds' keys
(``Basis``): the token's parts apart from the store (``base_token``), the store state, the
key of the links to topic and provider pages; and, in a file of its own (``NEWEST``: 750 KB at
100,000 records, which a build with nothing new need not read), each feed's newest record's
line. ``since`` says from which change-log head the current tree's manifest can be trusted for
feeds unchanged since.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from feeds.catalog import STATIC_DOCUMENTS
from feeds.config import Settings
from feeds.durable import replace_atomically
from feeds.export.manifest import MANIFEST_FORMAT
from feeds.render import static
from feeds.render.keys import export_key, settings_key

__all__ = ["NEWEST", "STAMP", "Basis", "Since", "Stamp", "base_token", "read_stamp", "since",
           "token", "write_stamp"]

STAMP = "stamp.json"
NEWEST = "newest.json"


@dataclass(frozen=True)
class Basis:
    """What a tree was built from, apart: ``base_token``, the store's state (``Store.state``,
    read before the build read anything else) and the links key (``Renderer.links``)."""

    base: str
    state: str
    links: str


@dataclass(frozen=True)
class Since:
    """The change-log head a tree's content keys hold from, for the feeds changed since, and
    what its build keyed them with beyond the manifest (``Basis``)."""

    head: int
    links: str
    newest: dict[str, str]


@dataclass(frozen=True)
class Stamp:
    """The tree ``output`` named when a build ended, what it was built from, and its file count."""

    tree: str
    token: str
    files: int
    basis: Basis | None = None


def base_token(settings: Settings) -> str:
    """A key of everything an export tree's files depend on apart from the store."""
    # The assets ship with feeds, outside the renderer's version: a release that changes only
    # a stylesheet must still reach the export.
    assets = [static.asset_version(name) for name in STATIC_DOCUMENTS]
    parts = (str(MANIFEST_FORMAT), settings_key(settings), export_key(settings), *assets)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def token(base: str, store_state: str) -> str:
    """A key of everything an export tree's files depend on, for the stamp: ``base_token`` and
    the store's state."""
    return hashlib.sha256(f"{base}\n{store_state}".encode()).hexdigest()[:32]


def since(root: Path, stamp: Stamp | None, tree: str, base: str,
          store_state: str) -> Since | None:
    """From which change-log head the tree ``tree`` holds its keys, when the feeds the store
    changed since that head are all that can differ from it: ``stamp`` (of the builds folder
    ``root``) names that tree, the same settings, renderer and assets (``base``), and the same
    store (its id) at that head or after, and the feeds' newest lines written with it are
    there. None otherwise (the content keys are all computed).

    A store swapped for another has another id; one whose head went back (restored from a
    backup) cannot say what changed since.
    """
    if stamp is None or stamp.basis is None or stamp.tree != tree or stamp.basis.base != base:
        return None
    store, _, head = store_state.rpartition(":")
    built_store, _, built_head = stamp.basis.state.rpartition(":")
    if store != built_store or not (head.isdigit() and built_head.isdigit()):
        return None
    if int(built_head) > int(head):
        return None
    newest = _read_newest(root, tree, stamp.basis.state)
    return None if newest is None else Since(int(built_head), stamp.basis.links, newest)


def _read_newest(root: Path, tree: str, state: str) -> dict[str, str] | None:
    """The newest lines written for ``tree`` built from ``state``, or None (none, another
    build's: one killed between the two files, or a damaged file)."""
    try:
        data = json.loads((root / NEWEST).read_bytes())
        newest = data["newest"]
        if (data["tree"] != tree or data["state"] != state or not isinstance(newest, dict)
                or not all(isinstance(line, str) for line in newest.values())):
            return None
        return newest
    except (OSError, ValueError, TypeError, KeyError):
        return None


def read_stamp(root: Path) -> Stamp | None:
    """The stamp in the builds folder ``root``, or None when there is none (or not a whole one)."""
    try:
        data = json.loads((root / STAMP).read_bytes())
        return Stamp(str(data["tree"]), str(data["token"]), int(data["files"]),
                     _basis(data.get("basis")))
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def _basis(data: object) -> Basis | None:
    """A stamp's basis as ``write_stamp`` wrote it, or None (an older stamp, a damaged one)."""
    if not isinstance(data, dict):
        return None
    parts = (data.get("base"), data.get("state"), data.get("links"))
    if not all(isinstance(part, str) for part in parts):
        return None
    return Basis(str(parts[0]), str(parts[1]), str(parts[2]))


def write_stamp(root: Path, stamp: Stamp, newest: Mapping[str, str] | None = None) -> None:
    """Record that the tree ``stamp.tree`` (the current one) holds what ``stamp.token`` says,
    and, with a basis, each feed's ``newest`` record's line (``ContentKeys.newest``).

    Under the build lock, so through fixed temporary names (a killed build leaves no litter).
    The newest lines go first: a build killed between the two leaves them naming a tree or
    state the stamp does not, and the next build keys every feed. The bytes are not synced:
    a file a power cut leaves torn or empty is none, and the next build keys every feed.
    """
    fields: dict[str, object] = {"tree": stamp.tree, "token": stamp.token, "files": stamp.files}
    if stamp.basis is not None:
        fields["basis"] = {"base": stamp.basis.base, "state": stamp.basis.state,
                           "links": stamp.basis.links}
        if newest is not None:
            _write(root, NEWEST, {"tree": stamp.tree, "state": stamp.basis.state,
                                  "newest": dict(newest)})
    _write(root, STAMP, fields)


def _write(root: Path, name: str, fields: Mapping[str, object]) -> None:
    body = json.dumps(fields) + "\n"

    def make(temporary: Path) -> None:
        temporary.write_text(body, encoding="utf-8")

    replace_atomically(root / name, make, temporary=root / f".{name}.new")
