"""The feed formats feeds writes, in one registry that settings, server, export and docs read.

Each format is a name (as ``formats:`` in the settings spells it, and the extension of its
documents: ``feeds/all.atom``), a title, a media type and two hooks, in the spirit of Django's
``SyndicationFeed``: ``entries`` renders a batch of records, ``document`` puts a head and
pre-rendered entries together.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from importlib import import_module
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: settings read this registry, renderers load at first use
    from feeds.model import Record
    from feeds.render.common import FeedHead

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


# Each format's name → the module and attribute of its implementation, in the default order of
# ``formats`` in the settings. A module is imported when its format is first looked up, so a
# command that renders nothing (a build with nothing new) never loads feedgen, lxml or Jinja2.
_IMPLEMENTATIONS = {
    "atom": ("feeds.render.atom", "ATOM"),
    "rss": ("feeds.render.rss", "RSS"),
    "json": ("feeds.render.jsonfeed", "JSON_FEED"),
}


class _Registry(Mapping[str, FeedFormat]):
    """The formats by name, read-only; each implementation imported on first use."""

    def __getitem__(self, name: str) -> FeedFormat:
        module, attribute = _IMPLEMENTATIONS[name]
        found: FeedFormat = getattr(import_module(module), attribute)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(_IMPLEMENTATIONS)

    def __len__(self) -> int:
        return len(_IMPLEMENTATIONS)


FORMATS: Mapping[str, FeedFormat] = _Registry()
NAMES: tuple[str, ...] = tuple(_IMPLEMENTATIONS)
