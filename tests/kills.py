"""Aiming kill -9 at a child process's work: the moments to kill it at."""

from __future__ import annotations

_GOLDEN = 0.6180339887498949


def spread(index: int, low: float, high: float) -> float:
    """The ``index``-th of points filling [low, high] evenly in any prefix (golden-ratio steps).

    Kills aimed this way cover the span of a child's work in a few rounds, where random delays
    bunch up and need many more rounds to reach its every part.
    """
    return low + (high - low) * ((0.5 + index * _GOLDEN) % 1.0)
