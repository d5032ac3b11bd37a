"""An entry's content as subscribers see it: one HTML fragment, the same in every format.

Most readers (NetNewsWire, Feedly, Miniflux, FreshRSS, newsboat) show an entry's content and
fall back to its summary only when there is none, and many take the content's first image as
the entry's thumbnail. So the content carries everything: the lead image (sized, so the layout
does not jump), the excerpt, the provider linking to the article, the topics, the related
articles. Built with markupsafe: every record value is escaped as it is put in.
"""

from __future__ import annotations

from functools import lru_cache

from markupsafe import Markup

from feeds.model import Image, Record

__all__ = ["content_html", "image_type"]

# Media types by file extension, for an image whose bytes feeds never fetches. A fixed table
# rather than ``mimetypes``, whose answers depend on the machine's /etc/mime.types.
_IMAGE_TYPES = {
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif",
    "webp": "image/webp", "avif": "image/avif", "svg": "image/svg+xml",
}


def image_type(url: str) -> str | None:
    """The media type an image URL's path names by its extension, or None when it names none."""
    path = url.split("#", 1)[0].split("?", 1)[0]
    name = path.rsplit("/", 1)[-1]
    return _IMAGE_TYPES.get(name.rsplit(".", 1)[-1].lower()) if "." in name else None


def _image(image: Image, alt: str) -> Markup:
    size = Markup("")
    if image.width:
        size += Markup(' width="{}"').format(image.width)
    if image.height:
        size += Markup(' height="{}"').format(image.height)
    return Markup('<p><img src="{}" alt="{}"{}></p>').format(image.url, alt, size)


# Formats render a batch of records one after the other (feeds.render.fragments renders a
# chunk of 200 per format), so each record's content is built once for all three: it was a
# third of rendering an entry. Records are frozen values: equal records, equal content.
@lru_cache(maxsize=512)
def content_html(record: Record) -> str:
    """The entry's content: lead image, excerpt, "via Provider", topics, related articles."""
    parts: list[Markup] = []
    if record.images:
        # The article's title describes its lead image better than nothing: records carry no alt.
        parts.append(_image(record.images[0], record.title))
    if record.excerpt:
        parts.append(Markup("<p>{}</p>").format(record.excerpt))
    parts.append(Markup('<p>via <a href="{}">{}</a></p>').format(record.web_url, record.provider.name))
    if record.topics:
        parts.append(Markup("<p>Topics: {}</p>").format(Markup(", ").join(record.topics)))
    if record.related:
        items = [
            Markup('<li><a href="{}">{}</a>{}</li>').format(
                related.url, related.title,
                Markup(" ({})").format(related.provider.name) if related.provider else "")
            for related in record.related
        ]
        parts.append(Markup("<p>Related articles:</p><ul>{}</ul>").format(Markup("").join(items)))
    return str(Markup("").join(parts))
