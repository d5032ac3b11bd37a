"""A bounded in-memory cache of rendered documents with their encodings."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from feeds.compress import CODINGS, encode
from feeds.render import Document

__all__ = ["DocumentCache", "Representations"]


@dataclass(frozen=True)
class Representations:
    """A document and its content codings, compressed once per version and kept."""

    document: Document
    version: str
    encoded: dict[str, bytes]

    @classmethod
    def of(cls, document: Document, version: str) -> Representations:
        encoded = {}
        for coding in CODINGS:
            body = encode(document.body, coding)
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


class DocumentCache:
    """Least recently used documents, up to ``capacity`` bytes in all."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.used = 0
        self.items: OrderedDict[str, Representations] = OrderedDict()

    def get(self, key: str, version: str) -> Representations | None:
        item = self.items.get(key)
        if item is None or item.version != version:
            return None
        self.items.move_to_end(key)
        return item

    def put(self, key: str, item: Representations) -> None:
        old = self.items.pop(key, None)
        if old is not None:
            self.used -= old.size
        self.items[key] = item
        self.used += item.size
        while self.used > self.capacity and len(self.items) > 1:
            _, evicted = self.items.popitem(last=False)
            self.used -= evicted.size
