"""Process-wide memory tuning for the server: freed document bodies go back to the OS."""

from __future__ import annotations

import ctypes

__all__ = ["return_freed_blocks"]

# glibc's <malloc.h>: https://man7.org/linux/man-pages/man3/mallopt.3.html
_M_MMAP_THRESHOLD = -3


def return_freed_blocks(threshold: int = 64 * 1024) -> bool:
    """Serve blocks of ``threshold`` bytes or more from mmap, so freeing one returns its memory.

    glibc raises its threshold (up to 32 MB) each time such a block is freed; documents and
    their compressed forms (10-300 KB, freed as the cache evicts them) then come from the heap
    and fragment it for good. False where the C library has no ``mallopt`` (not glibc).
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, threshold))
