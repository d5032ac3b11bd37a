"""Exceptions raised by feeds.

FeedsError
 ├── ConfigError      a configuration file or option is invalid
 ├── RecordError      a record file cannot be published (path, field, reason)
 ├── StoreError       the SQLite store is unreadable or from another version
 └── ExportError      the output directory cannot be written
"""

from __future__ import annotations

__all__ = ["ConfigError", "ExportError", "FeedsError", "RecordError", "StoreError"]


class FeedsError(Exception):
    """Base class of every error feeds raises on purpose."""


class ConfigError(FeedsError):
    """A configuration file or option is invalid."""


class RecordError(FeedsError):
    """A record file was rejected; names the file, the field and what was expected."""

    def __init__(self, path: str, field: str, reason: str, retry: bool = False) -> None:
        super().__init__(f"{path}: {field}: {reason}")
        self.path = path
        self.field = field
        self.reason = reason
        # True when the same file may be accepted later (a duplicate, a future date).
        self.retry = retry

    def __reduce__(self) -> tuple[type[RecordError], tuple[str, str, str, bool]]:
        # Rebuilt from its fields when it comes back from a pool worker (ingest).
        return (RecordError, (self.path, self.field, self.reason, self.retry))


class StoreError(FeedsError):
    """The store cannot be used as it is."""


class ExportError(FeedsError):
    """The export could not be written."""
