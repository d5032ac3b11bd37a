"""What Atom and RSS share: one feedgen set-up, with a hook for the head and one for each entry.

Like Django's ``SyndicationFeed`` (``add_root_elements`` / ``add_item_elements``), a subclass says
only what its format writes; making the generator, batching entries and assembling a document
from pre-rendered entries happen here, once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from importlib import import_module
from typing import ClassVar

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator

from feeds.model import Record
from feeds.render.common import FeedHead, assemble, cut_elements
from feeds.render.feedgen_ext import FeedsEntryExtension, FeedsExtension, add_media_and_links

__all__ = ["FeedgenFormat"]

# The head of the generator that renders a batch of entries: only the entries are kept.
_PLACEHOLDER = FeedHead("urn:x", "x", "x", "http://x/", "http://x/", datetime(1970, 1, 1, tzinfo=UTC))


@cache
def _extension_classes(name: str) -> tuple[type, type | None]:
    """A feedgen extension's feed and entry classes, as ``FeedGenerator.load_extension`` finds
    them, looked up once: ``load_extension`` tries to import a ``<name>_entry`` module every
    time, which for media and dc does not exist, and that failed import cost a build more than
    the document heads it sets up."""
    module = import_module(f"feedgen.ext.{name}")
    try:
        entry_module = import_module(f"feedgen.ext.{name}_entry")
    except ImportError:
        entry_module = module
    title = name[0].upper() + name[1:]
    return getattr(module, title + "Extension"), getattr(entry_module, title + "EntryExtension", None)


class FeedgenFormat(ABC):
    """An XML feed format written by feedgen; implements ``feeds.render.formats.FeedFormat``."""

    name: ClassVar[str]
    title: ClassVar[str]
    media_type: ClassVar[str]
    # True for Atom: feedgen extensions are loaded for one of its two outputs.
    atom: ClassVar[bool]
    # feedgen's extensions besides ours, in the order their namespaces are declared.
    extensions: ClassVar[tuple[str, ...]]
    # The element each entry is written as, and the end tag entries are spliced in before.
    entry_tag: ClassVar[bytes]
    closing: ClassVar[bytes]

    @abstractmethod
    def add_head(self, fg: FeedGenerator, head: FeedHead) -> None:
        """Write the document-level elements of ``head``."""

    @abstractmethod
    def add_entry(self, fe: FeedEntry, record: Record, id_prefix: str) -> None:
        """Write one record's entry, but for what both formats write alike (``entries``)."""

    @abstractmethod
    def serialise(self, fg: FeedGenerator, declaration: bool) -> bytes:
        """The generator's document as UTF-8, with or without the XML declaration."""

    def generator(self, head: FeedHead) -> FeedGenerator:
        fg = FeedGenerator()
        for extension in self.extensions:
            fg.register_extension(extension, *_extension_classes(extension),
                                  atom=self.atom, rss=not self.atom)
        fg.register_extension("feeds", FeedsExtension, FeedsEntryExtension,
                              atom=self.atom, rss=not self.atom)
        fg.feeds.head = head
        if head.identity is not None and head.identity.language:
            fg.language(head.identity.language)  # RSS <language>, Atom xml:lang
        self.add_head(fg, head)
        fg.generator("feeds")
        return fg

    def entries(self, records: Sequence[Record], id_prefix: str) -> list[bytes]:
        """Each record's entry as it appears inside a document, in order.

        One feedgen feed holds the whole batch: an entry's bytes do not depend on its siblings,
        and building a generator per entry would cost more than the entry.
        """
        fg = self.generator(_PLACEHOLDER)
        for record in records:
            fe = fg.add_entry(order="append")
            self.add_entry(fe, record, id_prefix)
            # Alike in both: categories, and the Media RSS, AMP and related-article extensions.
            for topic in record.topics:
                fe.category(term=topic)
            add_media_and_links(fe, record)
        return cut_elements(self.serialise(fg, declaration=False), self.entry_tag)

    def document(self, head: FeedHead, entries: list[bytes]) -> bytes:
        """A complete document from its head and pre-rendered entries, newest first."""
        xml = self.serialise(self.generator(head), declaration=True)
        return assemble(xml, self.closing, entries, head.stylesheets)
