"""The ingest lease: of the server processes sharing a store, the one holding it watches the
seeds, ingests and notifies WebSub hubs.

An exclusive ``flock`` on a lock file beside the store (``<store>.lead``). The kernel releases
it when the holder's file is closed, which includes the holder dying in any way (``kill -9``
too), so a follower that retries every ``RETRY_SECONDS`` takes over within about that long:
https://man7.org/linux/man-pages/man2/flock.2.html
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

__all__ = ["RETRY_SECONDS", "Lease", "lease_path"]

# How often a follower tries to take the lease.
RETRY_SECONDS = 0.5


def lease_path(store_path: Path) -> Path:
    """The lock file of the store at ``store_path``."""
    return store_path.with_name(store_path.name + ".lead")


class Lease:
    """One process's claim on the lock file; ``held`` once ``try_take`` succeeded."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_take(self) -> bool:
        """Take the lease unless another open file holds it; never blocks. True when held."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Closed across exec (O_CLOEXEC): a program this process starts must not keep the lease.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        # Who holds it, for people looking at the file; the lock, not the text, is the lease.
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
