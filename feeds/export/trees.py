"""Build trees and the switch between them: one build at a time, durable files, one rename.

``output`` is a symbolic link to a complete tree under ``.<output>-builds/``. Beside it there,
the link ``previous`` (``RETIRED``) names the tree ``output`` named before the last switch:
kept complete for readers still copying it, and recycled by the next build, which fills it
(or a new tree) and then repoints ``output`` with one ``rename(2)``.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from feeds.config import Settings
from feeds.durable import fsync, replace_atomically
from feeds.errors import ExportError
from feeds.export.manifest import MANIFEST, Files, read_manifest_document, same_layout

__all__ = [
    "FSYNC_LIMIT",
    "RETIRED",
    "build_lock",
    "builds_dir",
    "current_tree",
    "make_durable",
    "new_tree",
    "remove_stale",
    "retire",
    "switch",
]

# The link to the tree ``output`` named before the last switch (its name on disk predates this
# module: existing exports keep it).
RETIRED = "previous"
# Above this many new files one sync(2) is cheaper than an fsync(2) per file.
FSYNC_LIMIT = 1000
_FSYNC_THREADS = 8


def builds_dir(output: Path) -> Path:
    return output.parent / f".{output.name}-builds"


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


def current_tree(output: Path, root: Path) -> Path | None:
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


def _retired_tree(root: Path, current: Path | None) -> Path | None:
    """The tree ``RETIRED`` names, unless it is the current one or gone."""
    link = root / RETIRED
    if not link.is_symlink():
        return None
    tree = root / os.readlink(link)
    return None if tree == current or not tree.is_dir() else tree


def new_tree(root: Path, current: Path | None, settings: Settings) -> tuple[Path, Files | None]:
    """The tree this build fills, and what its manifest said it held (None: a new, empty tree).

    The retired tree (two builds back) is recycled when its manifest is trusted: the manifest
    goes first, so a build killed from here on leaves a tree without one, deleted as garbage.
    """
    tree = root / f"build-{time.time_ns()}-{os.getpid()}"
    retired = _retired_tree(root, current)
    if retired is not None:
        manifest = read_manifest_document(retired)
        if same_layout(manifest, settings):
            (retired / MANIFEST).unlink()
            fsync(retired)
            retired.rename(tree)
            return tree, manifest["files"]
    tree.mkdir()
    return tree, None


def make_durable(files: Sequence[str | Path]) -> None:
    """The new files reach the disk before the link names them (hard links already had)."""
    if len(files) > FSYNC_LIMIT:
        os.sync()
        return
    # fsync waits for a journal commit; concurrent ones share commits instead of queueing.
    with ThreadPoolExecutor(_FSYNC_THREADS) as pool:
        for _ in pool.map(fsync, files):
            pass


def _replace_link(link: Path, target: str) -> None:
    """Point ``link`` at ``target``: readers see the old target or the new."""
    # A fixed temporary name (the lock allows one build at a time): a killed build leaves no
    # litter beside the output.
    replace_atomically(link, lambda temporary: temporary.symlink_to(target),
                       temporary=link.parent / f".{link.name}.new-link")


def switch(output: Path, tree: Path) -> None:
    """Make ``tree`` (complete and durable) the one ``output`` names."""
    fsync(tree.parent)  # the tree's new name, before the link names it
    _replace_link(output, os.path.relpath(tree, output.parent))


def retire(root: Path, tree: Path) -> None:
    """Name ``tree`` (the one ``output`` named until now) as the retired one, kept for one build."""
    if tree.parent == root:
        _replace_link(root / RETIRED, tree.name)


def remove_stale(root: Path, keep: Path | None) -> None:
    """Delete build trees other than ``keep`` and the retired one (killed or superseded builds)."""
    kept = {keep.name} if keep is not None and keep.parent == root else set()
    retired = root / RETIRED
    if retired.is_symlink():
        kept.add(os.readlink(retired))
    for child in root.iterdir():
        if child.name not in kept and not child.is_symlink() and child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
