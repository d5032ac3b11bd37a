"""JSON Feed 1.1 documents and items: https://www.jsonfeed.org/version/1.1/."""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from typing import Any

from feeds.model import Record, utc_timestamp
from feeds.render.common import FeedHead, related_html

__all__ = ["EXTENSION", "MEDIA_TYPE", "document", "entries"]

EXTENSION = "json"
MEDIA_TYPE = "application/feed+json; charset=utf-8"
VERSION = "https://jsonfeed.org/version/1.1"


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def entries(records: Sequence[Record], id_prefix: str) -> list[bytes]:
    """Each record's item object, serialised, in order."""
    return [_item(record, id_prefix) for record in records]


def _item(record: Record, id_prefix: str) -> bytes:
    # content_html or content_text is required; the excerpt plus the related list says most.
    content = f"<p>{escape(record.excerpt)}</p>" if record.excerpt else ""
    content += related_html(record) or ""
    item: dict[str, Any] = {
        "id": id_prefix + record.id,
        "url": record.web_url,
        "title": record.title,
        "content_html": content or f"<p>{escape(record.title)}</p>",
    }
    if record.excerpt:
        item["summary"] = record.excerpt
    if record.images:
        item["image"] = record.images[0].url
    item["date_published"] = utc_timestamp(record.published_at)
    item["date_modified"] = utc_timestamp(record.published_at)
    item["authors"] = [{"name": record.provider.name, "url": record.provider.url}]
    if record.topics:
        item["tags"] = list(record.topics)
    if record.images:
        item["_media"] = {
            "images": [{"url": i.url, "width": i.width, "height": i.height} for i in record.images],
        }
    if record.amp_url:
        item["_amp"] = {"url": record.amp_url}
    if record.related:
        item["_related"] = {
            "articles": [
                {
                    "title": r.title,
                    "url": r.url,
                    "provider": {"name": r.provider.name, "domain": r.provider.domain}
                    if r.provider else None,
                    "date_published": utc_timestamp(r.published) if r.published else None,
                }
                for r in record.related
            ],
        }
    return _dumps(item)


def document(head: FeedHead, entries: list[bytes]) -> bytes:
    """A complete JSON Feed from its head and pre-serialised items, newest first."""
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": head.title,
        "home_page_url": head.site_url,
        "feed_url": head.self_url,
        "description": head.subtitle,
    }
    # JSON Feed pages backwards through next_url: the next (older) page of items.
    if head.prev_archive_url:
        feed["next_url"] = head.prev_archive_url
    if head.hubs:
        feed["hubs"] = [{"type": "WebSub", "url": hub} for hub in head.hubs]
    head_bytes = _dumps(feed)
    return head_bytes[:-1] + b',"items":[\n' + b",\n".join(entries) + b"\n]}\n"
