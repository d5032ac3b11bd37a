"""The feed formats feeds writes, in one registry that settings, server, export and docs read.

Each format is a name (as ``formats:`` in the settings spells it, and the extension of its
documents: ``feeds/all.atom``), a title, a media type and two hooks, in the spirit of Django's
``SyndicationFeed``: ``entries`` renders a batch of records, ``document`` puts a head and
pre-rendered entries together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Protocol

from feeds.model import Record
from feeds.render.atom import ATOM
from feeds.render.common import FeedHead
from feeds.render.jsonfeed import JSON_FEED
from feeds.render.rss import RSS

__all__ = ["FORMATS", "NAMES", "FeedFormat"]


class FeedFormat(Protocol):
    """One feed format: what it is called, served and saved as, and how it renders."""

    @property
    def name(self) -> str:
        """``atom``: its name in settings and the extension of its documents (one name, so the
        two cannot drift apart; ``feeds.catalog`` makes paths from it)."""

    @property
    def title(self) -> str:
        """What the format is, for people: ``Atom 1.0``."""

    @property
    def media_type(self) -> str:
        """Its registered media type, with the charset parameter where the type takes one."""

    def entries(self, records: Sequence[Record], id_prefix: str) -> list[bytes]:
        """Each record's entry, in order; an entry's bytes do not depend on its siblings."""

    def document(self, head: FeedHead, entries: list[bytes]) -> bytes:
        """A complete document: ``head`` and the pre-rendered ``entries``, newest first."""


FORMATS: Mapping[str, FeedFormat] = MappingProxyType({f.name: f for f in (ATOM, RSS, JSON_FEED)})
# In the registry's order, which is the default order of ``formats`` in the settings.
NAMES: tuple[str, ...] = tuple(FORMATS)
