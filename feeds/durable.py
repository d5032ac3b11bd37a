"""Changes to files that survive a crash or a power cut: fsync, and replacement by one rename.

Readers of a file replaced by ``replace_atomically`` see the old one or the new one, never a
part: the new one is made under a temporary name beside it, then renamed over it (rename(2) is
atomic within a file system), and the directory is synced so the rename itself is durable.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

__all__ = ["fsync", "replace_atomically", "write_atomically"]


def fsync(path: str | Path) -> None:
    """Make a file's bytes, or the entries added to or removed from a directory, survive a
    power cut."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def replace_atomically(target: Path, make: Callable[[Path], None],
                       temporary: Path | None = None) -> None:
    """Replace ``target`` (a file or a symbolic link) by what ``make`` creates at a temporary
    path beside it, with one rename; durable once this returns.

    ``temporary`` defaults to a hidden name per process (``.<name>.<pid>.tmp``: seeds scans and
    static hosts skip hidden files); a caller that holds a lock may pass a fixed one, so a
    process killed mid-way leaves nothing behind that the next one does not reuse.
    """
    temporary = temporary or target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with suppress(FileNotFoundError):
        temporary.unlink()
    try:
        make(temporary)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync(target.parent)


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` as a whole: after this returns, the file survives a crash."""

    def make(temporary: Path) -> None:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    replace_atomically(path, make)
