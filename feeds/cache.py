"""Bounded in-memory caches: rendered documents with their encodings, and their validators.

Two caches with one key (a document path, plus the canonical query of a limited or filtered
view): bodies are big and few are kept; validators are small and many are kept, so a body
evicted from memory never forces a render just to answer a conditional request with 304.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Generic, Protocol, TypeVar

from feeds.compress import CODINGS, encode
from feeds.http import http_date
from feeds.render.renderer import Document
from feeds.surrogate import document_keys

__all__ = ["DocumentCache", "Representations", "ValidatorIndex", "Validators", "VersionedLRU"]

T = TypeVar("T", bound="_Versioned")


@dataclass(frozen=True)
class Validators:
    """What a response needs besides the body: enough to answer 304 and HEAD without rendering."""

    version: str
    etag: str
    last_modified: datetime | None
    immutable: bool
    media_type: str
    links: tuple[tuple[str, str], ...]
    # Body length of each representation, identity first, then the content codings kept.
    lengths: tuple[tuple[str, int], ...]
    # Surrogate keys (feeds.surrogate): the groups a cache purges this document with.
    keys: tuple[str, ...] = ()
    # Response header lines as sent, by (content coding, media type; "" for 304), encoded on
    # first use by feeds.serve: they live and go with this version of the document.
    sent: dict[tuple[str, str], tuple[tuple[bytes, bytes], ...]] = field(
        default_factory=dict, compare=False, repr=False)

    @cached_property
    def http_last_modified(self) -> str | None:
        """Last-Modified as sent, formatted once."""
        return None if self.last_modified is None else http_date(self.last_modified)

    @cached_property
    def codings(self) -> tuple[str, ...]:
        """The content codings available besides identity, in preference order."""
        return tuple(coding for coding, _ in self.lengths if coding != "identity")

    def length(self, coding: str) -> int:
        return dict(self.lengths)[coding]


@dataclass(frozen=True)
class Representations:
    """A document and its content codings, compressed once per version and kept."""

    document: Document
    version: str
    encoded: dict[str, bytes]

    @classmethod
    def of(cls, document: Document, version: str, brotli_quality: int) -> Representations:
        encoded = {}
        for coding in CODINGS:
            body = encode(document.body, coding, brotli_quality=brotli_quality)
            if body is not None:
                encoded[coding] = body
        return cls(document, version, encoded)

    def body(self, coding: str) -> bytes:
        return self.document.body if coding == "identity" else self.encoded[coding]

    @property
    def codings(self) -> tuple[str, ...]:
        return tuple(self.encoded)

    @property
    def size(self) -> int:
        return len(self.document.body) + sum(len(b) for b in self.encoded.values())

    @cached_property
    def validators(self) -> Validators:
        document = self.document
        lengths = (("identity", len(document.body)),
                   *((coding, len(body)) for coding, body in self.encoded.items()))
        return Validators(self.version, document.etag, document.last_modified, document.immutable,
                          document.media_type, document.links, lengths, document_keys(document.path))


class _Versioned(Protocol):
    @property
    def version(self) -> str: ...


class VersionedLRU(Generic[T]):
    """Least recently used items up to ``capacity`` in ``weigh`` units; a stale version is a miss."""

    def __init__(self, capacity: int, weigh: Callable[[T], int]) -> None:
        self.capacity = capacity
        self.weigh = weigh
        self.used = 0
        self.items: OrderedDict[str, T] = OrderedDict()

    def get(self, key: str, version: str) -> T | None:
        item = self.items.get(key)
        if item is None or item.version != version:
            return None
        self.items.move_to_end(key)
        return item

    def put(self, key: str, item: T) -> None:
        old = self.items.pop(key, None)
        if old is not None:
            self.used -= self.weigh(old)
        self.items[key] = item
        self.used += self.weigh(item)
        # The newest item stays even when it alone is over capacity: it is about to be served.
        while self.used > self.capacity and len(self.items) > 1:
            _, evicted = self.items.popitem(last=False)
            self.used -= self.weigh(evicted)


class DocumentCache(VersionedLRU[Representations]):
    """Rendered documents with their encodings, up to ``capacity`` bytes in all."""

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity, lambda item: item.size)


class ValidatorIndex(VersionedLRU[Validators]):
    """Validators of up to ``capacity`` documents (a few hundred bytes each)."""

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity, lambda item: 1)
