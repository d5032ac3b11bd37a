"""JSON Feed 1.1 documents and items: https://www.jsonfeed.org/version/1.1/."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from feeds.model import Record, utc_timestamp
from feeds.render.common import FeedHead
from feeds.render.content import content_html

__all__ = ["JSON_FEED", "JsonFeed"]

VERSION = "https://jsonfeed.org/version/1.1"


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


class JsonFeed:
    """JSON Feed 1.1; implements ``feeds.render.formats.FeedFormat``."""

    name = "json"
    title = "JSON Feed 1.1"
    media_type = "application/feed+json; charset=utf-8"

    def entries(self, records: Sequence[Record], id_prefix: str) -> list[bytes]:
        """Each record's item object, serialised, in order."""
        return [_item(record, id_prefix) for record in records]

    def document(self, head: FeedHead, entries: list[bytes]) -> bytes:
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
        if head.identity is not None:
            # 512x512 and 64x64, as https://www.jsonfeed.org/version/1.1/ recommends.
            feed["icon"] = head.identity.icon
            feed["favicon"] = head.identity.favicon
            if head.identity.language:
                feed["language"] = head.identity.language
        if head.hubs:
            feed["hubs"] = [{"type": "WebSub", "url": hub} for hub in head.hubs]
        head_bytes = _dumps(feed)
        return head_bytes[:-1] + b',"items":[\n' + b",\n".join(entries) + b"\n]}\n"


JSON_FEED = JsonFeed()


def _item(record: Record, id_prefix: str) -> bytes:
    item: dict[str, Any] = {
        "id": id_prefix + record.id,
        "url": record.web_url,
        "title": record.title,
        "content_html": content_html(record),
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

