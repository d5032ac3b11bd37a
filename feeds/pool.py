"""Pure work in bulk: batches mapped in a pool of workers, results in input order.

Parsing records and rendering entry fragments are pure (bytes in, bytes out), so large batches
fan out to one forked process per CPU (``Workers``) while the caller keeps every write to the store and the
disk, in input order: the results are the same as without a pool. Compressing documents spends
its time in zlib and brotli, which release the GIL, so it runs in threads instead: no batch or
result is copied through a pipe.
"""

from __future__ import annotations

import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Executor, Future

__all__ = ["Workers", "threaded_map", "worker_count"]

T = TypeVar("T")
R = TypeVar("R")


def worker_count(setting: int) -> int:
    """Processes to use: the ``build_processes`` setting, where 0 means one per CPU this process may use."""
    return setting or len(os.sched_getaffinity(0))


# prctl(2) option: the signal this process gets when its parent dies.
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Pool worker start-up: end when the parent does (``kill -9`` of a build).

    An orphaned worker would otherwise wait for work forever, holding the parent's open files,
    among them the export's build lock, so every later build would be refused.
    """
    import ctypes

    # https://man7.org/linux/man-pages/man2/prctl.2.html (PR_SET_PDEATHSIG)
    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


class Workers:
    """A command's worker processes: forked on first use, then reused by every later ``map``.

    One set serves parsing and rendering. Forked early (at the ingest), while the parent is
    small: a forked worker counts the parent's pages at fork as its own, so workers forked after
    the ingest would each carry a copy of the memory it built up.
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self._executor: Executor | None = None

    def map(self, function: Callable[[T], R], batches: Iterable[T]) -> Iterator[R]:
        """``function(batch)`` for each batch, in order; in the workers when there are 2 or more.

        ``batches`` is read lazily, at most two batches per worker ahead of the results taken,
        so a caller producing batches overlaps with the workers and memory stays flat.
        """
        if self.count < 2:
            return map(function, batches)
        if self._executor is None:
            # Imported here: a small build (one record edited) starts no workers, and these
            # imports are a tenth of its start-up.
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # fork: workers start at once and inherit the imported modules; they touch no
            # connection or file of the parent's, only the batches they are sent.
            self._executor = ProcessPoolExecutor(
                self.count, mp_context=multiprocessing.get_context("fork"),
                initializer=_die_with_parent, initargs=(os.getpid(),))
        return _in_order(self._executor, function, batches, self.count)

    def close(self) -> None:
        """End the worker processes; a later ``map`` forks new ones."""
        if self._executor is not None:
            self._executor.shutdown(cancel_futures=True)
            self._executor = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def threaded_map(function: Callable[[T], R], batches: Iterable[T], workers: int) -> Iterator[R]:
    """``Workers.map`` in ``workers`` threads, started for this call: for work releasing the GIL."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(workers) as pool:
        yield from _in_order(pool, function, batches, workers)


def _in_order(pool: Executor, function: Callable[[T], R], batches: Iterable[T],
              workers: int) -> Iterator[R]:
    """Results in input order, reading at most two batches per worker ahead of them."""
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
