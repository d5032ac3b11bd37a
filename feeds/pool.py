"""Pure work in bulk: batches mapped in a pool of workers, results in input order.

Parsing records and rendering entry fragments are pure (bytes in, bytes out), so large batches
fan out to one process per CPU (``Workers``) while the caller keeps every write to the store and the
disk, in input order: the results are the same as without a pool. The processes are forked from
a fork server (a fresh interpreter with the workers' modules imported), not from the caller:
a forked process counts its parent's pages as its own, and a caller that has scanned a million
record files would make each worker look as large as itself. Compressing documents spends
its time in zlib and brotli, which release the GIL, so it runs in threads instead: no batch or
result is copied through a pipe.
"""

from __future__ import annotations

import os
import select
import threading
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


# What the workers run, imported once by the fork server rather than by each worker.
_PRELOAD = ["feeds.ingest", "feeds.render.fragments"]


def _die_with_caller(caller: int) -> None:
    """Pool worker start-up: end when the caller does (``kill -9`` of a build).

    A worker's parent is the fork server, not the caller, and the fork server only exits once
    every process holding its "alive" pipe has (the caller and the workers alike), so an
    orphaned worker would wait for work forever and keep the fork server too. A thread waits
    on a pidfd of the caller, readable once it has ended:
    https://man7.org/linux/man-pages/man2/pidfd_open.2.html
    """
    try:
        caller_fd = os.pidfd_open(caller)
    except ProcessLookupError:  # the caller ended before this worker started
        os._exit(1)

    def wait_for_caller() -> None:
        select.select([caller_fd], [], [])
        os._exit(1)

    threading.Thread(target=wait_for_caller, name="die-with-caller", daemon=True).start()


class Workers:
    """A command's worker processes: started on first use, then reused by every later ``map``.

    One set serves parsing and rendering. They are forked by a fork server, so their memory is
    their own whatever the caller holds when they start (the scan of the seeds, the catalogue).
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

            # https://docs.python.org/3/library/multiprocessing.html#contexts-and-start-methods
            # forkserver: started once per process (exec, so it holds none of the caller's
            # memory, connections or files, the build lock among them), it imports _PRELOAD,
            # then forks each worker from itself.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(_PRELOAD)
            self._executor = ProcessPoolExecutor(
                self.count, mp_context=context,
                initializer=_die_with_caller, initargs=(os.getpid(),))
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
