"""Pure work in bulk: batches mapped in a pool of forked processes, results in input order.

Parsing records, rendering entry fragments and compressing documents are pure (bytes in, bytes
out), so large batches fan out to one process per CPU while the caller keeps every write to the
store and the disk, in input order: the results are the same as without a pool.

Work that spends its time in C code releasing the GIL (zlib, brotli) is marked ``gil_free``
and runs in threads instead: no process copies each batch and result through a pipe.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

__all__ = ["gil_free", "pooled_map", "runs_in_threads", "worker_count"]

T = TypeVar("T")
R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., Any])

_GIL_FREE = "_feeds_gil_free"


def gil_free(function: F) -> F:
    """Mark ``function`` as spending its time in C code that releases the GIL."""
    setattr(function, _GIL_FREE, True)
    return function


def runs_in_threads(function: Callable[..., Any]) -> bool:
    """True when ``function`` (or the one a ``partial`` wraps) is marked ``gil_free``.

    Threads then run it in parallel as well as processes would, sharing the batches and
    results instead of pickling them through pipes (for compression, most of a build's bytes).
    """
    while isinstance(function, partial):
        function = function.func
    return bool(getattr(function, _GIL_FREE, False))


def worker_count(setting: int) -> int:
    """Processes to use: the ``workers`` setting, where 0 means one per CPU this process may use."""
    return setting or len(os.sched_getaffinity(0))


# prctl(2) option: the signal this process gets when its parent dies.
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Pool worker start-up: end when the parent does (``kill -9`` of a build).

    An orphaned worker would otherwise wait for work forever, holding the parent's open files,
    among them the export's build lock, so every later build would be refused.
    """
    # https://man7.org/linux/man-pages/man2/prctl.2.html (PR_SET_PDEATHSIG)
    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def pooled_map(function: Callable[[T], R], batches: Iterable[T], workers: int) -> Iterator[R]:
    """``function(batch)`` for each batch, in order; in ``workers`` processes (threads for
    ``gil_free`` work) when 2 or more.

    ``batches`` is read lazily, at most two batches per worker ahead of the results taken, so a
    caller producing batches (rendering documents) overlaps with the pool and memory stays flat.
    """
    if workers < 2:
        yield from map(function, batches)
        return
    executor: Executor
    if runs_in_threads(function):
        executor = ThreadPoolExecutor(workers)
    else:
        # fork: workers start at once and inherit the imported modules; they touch no
        # connection or file of the parent's, only the batches they are sent.
        executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                       initializer=_die_with_parent, initargs=(os.getpid(),))
    with executor as pool:
        pending: deque[Future[R]] = deque()
        try:
            for batch in batches:
                pending.append(pool.submit(function, batch))
                if len(pending) >= 2 * workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
