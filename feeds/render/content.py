"""An entry's content as subscribers see it: one HTML fragment, the same in every format.

Most readers (NetNewsWire, Feedly, Miniflux, FreshRSS, newsboat) show an entry's content and
fall back to its summary only when there is none, and many take the content's first image as
the entry's thumbnail. So the content carries everything: the lead image (sized, so the layout
does not jump), the excerpt, the provider linking to the article, the topics, the related
articles. Built with markupsafe: every record value is escaped as it is put in.
"""

from __future__ import annotations

from functools import lru_cache

from markupsafe import escape

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


def _text(value: object) -> str:
    """``value`` as HTML text: markupsafe's escaping, as a plain ``str`` to concatenate."""
    return str(escape(value))


def _image(image: Image, alt: str) -> str:
    size = ""
    if image.width:
        size += f' width="{image.width}"'
    if image.height:
        size += f' height="{image.height}"'
    return f'<p><img src="{_text(image.url)}" alt="{_text(alt)}"{size}></p>'


# Formats render a batch of records one after the other (feeds.render.fragments renders a
# chunk of 200 per format), so each record's content is built once for all three, not once per
# format. Records are frozen values: equal records, equal content.
@lru_cache(maxsize=512)
def content_html(record: Record) -> str:
    """The entry's content: lead image, excerpt, "via Provider", topics, related articles.

    Plain strings with each record value escaped as it is put in: Markup.format's formatter
    machinery cost a build more than the rest of the entry's content.
    """
    parts: list[str] = []
    if record.images:
        # The article's title describes its lead image better than nothing: records carry no alt.
        parts.append(_image(record.images[0], record.title))
    if record.excerpt:
        parts.append(f"<p>{_text(record.excerpt)}</p>")
    parts.append(f'<p>via <a href="{_text(record.web_url)}">{_text(record.provider.name)}</a></p>')
    if record.topics:
        parts.append(f"<p>Topics: {', '.join(map(_text, record.topics))}</p>")
    if record.related:
        items = "".join(
            f'<li><a href="{_text(related.url)}">{_text(related.title)}</a>'
            + (f" ({_text(related.provider.name)})" if related.provider else "") + "</li>"
            for related in record.related)
        parts.append(f"<p>Related articles:</p><ul>{items}</ul>")
    return "".join(parts)
