"""The values that flow through feeds: records as validated and normalised by ingest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["Image", "Provider", "Record", "Related", "utc_timestamp"]


@dataclass(frozen=True)
class Provider:
    name: str
    domain: str

    @property
    def url(self) -> str:
        return f"https://{self.domain}/"


@dataclass(frozen=True)
class Image:
    url: str
    width: int | None
    height: int | None


@dataclass(frozen=True)
class Related:
    title: str
    url: str
    excerpt: str | None
    published: datetime | None
    provider: Provider | None
    amp_url: str | None


@dataclass(frozen=True)
class Record:
    """One published or unpublished article; ``secured`` is deliberately not a field."""

    id: str
    title: str
    excerpt: str | None
    published_at: datetime
    web_url: str
    original_url: str | None
    amp_url: str | None
    cdn_amp_url: str | None
    category: str | None
    type: str | None
    quality: int | None
    heat: int | None
    published: bool
    provider: Provider
    topics: tuple[str, ...]
    images: tuple[Image, ...]
    related: tuple[Related, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping, the store's representation."""
        return {
            "id": self.id,
            "title": self.title,
            "excerpt": self.excerpt,
            "published_at": utc_timestamp(self.published_at),
            "web_url": self.web_url,
            "original_url": self.original_url,
            "amp_url": self.amp_url,
            "cdn_amp_url": self.cdn_amp_url,
            "category": self.category,
            "type": self.type,
            "quality": self.quality,
            "heat": self.heat,
            "published": self.published,
            "provider": [self.provider.name, self.provider.domain],
            "topics": list(self.topics),
            "images": [[i.url, i.width, i.height] for i in self.images],
            "related": [
                [
                    r.title,
                    r.url,
                    r.excerpt,
                    utc_timestamp(r.published) if r.published else None,
                    [r.provider.name, r.provider.domain] if r.provider else None,
                    r.amp_url,
                ]
                for r in self.related
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Record:
        return cls(
            id=data["id"],
            title=data["title"],
            excerpt=data["excerpt"],
            published_at=_parse_iso(data["published_at"]),
            web_url=data["web_url"],
            original_url=data["original_url"],
            amp_url=data["amp_url"],
            cdn_amp_url=data["cdn_amp_url"],
            category=data["category"],
            type=data["type"],
            quality=data["quality"],
            heat=data["heat"],
            published=data["published"],
            provider=Provider(*data["provider"]),
            topics=tuple(data["topics"]),
            images=tuple(Image(*i) for i in data["images"]),
            related=tuple(
                Related(
                    title=r[0],
                    url=r[1],
                    excerpt=r[2],
                    published=_parse_iso(r[3]) if r[3] else None,
                    provider=Provider(*r[4]) if r[4] else None,
                    amp_url=r[5],
                )
                for r in data["related"]
            ),
        )


def _parse_iso(text: str) -> datetime:
    # Only utc_timestamp's output comes here; fromisoformat reads it (Z included) ten times faster
    # than strptime.
    return datetime.fromisoformat(text)


def utc_timestamp(moment: datetime) -> str:
    """``2024-05-01T08:00:00Z``: an RFC 3339 date-time in UTC, to the second
    (https://www.rfc-editor.org/rfc/rfc3339#section-5.6); every such date feeds writes."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
