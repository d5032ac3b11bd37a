"""Is a published document well-formed, and is every bit of markup in it ours? For tests and the soak.

Record text may hold anything; what comes out must parse (lxml, feedparser without bozo, JSON)
and carry no live markup from records: no script but our own, no event-handler attributes, no
embedding, form or document-changing element (iframe, object, embed, form, base; meta outside
a page's head), no style attribute but the pages' own image aspect ratio, and no link or image,
in any attribute or JSON Feed field, that is not http(s) or relative.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import feedparser
from lxml import etree, html

__all__ = ["document_problems", "html_problems"]

# Our pages load only site.js; a record can add none.
_OWN_SCRIPTS = ("site.js",)
# The one form our pages hold: a feed page's filters (_feeds.html, narrow), in its own section.
_OWN_FORM_SECTION = "narrow"
_URL_ATTRIBUTES = ("href", "src", "action", "formaction", "poster", "srcset", "xlink:href")
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
_FOREIGN = ("iframe", "object", "embed", "base", "form", "frame", "frameset", "applet")
# The one style attribute our pages write: an image's box sized from the record (_entry.html).
_OWN_STYLE = re.compile(r"aspect-ratio: \d+ / \d+")
# Every JSON Feed 1.1 field holding a URL, at any depth (https://www.jsonfeed.org/version/1.1/),
# and the _media extension's image url.
_JSON_URL_FIELDS = ("home_page_url", "feed_url", "next_url", "icon", "favicon", "url", "external_url",
                    "image", "banner_image", "avatar")


def _bad_url(value: str) -> bool:
    scheme = urlsplit(value.strip()).scheme.lower()
    return scheme not in ("", "http", "https")


def html_problems(markup: str | bytes, where: str, *, page: bool = False) -> list[str]:
    """Live markup in an HTML page (``page``) or an entry's HTML content, as readable problems."""
    if not markup.strip():
        return []
    tree = html.document_fromstring(markup) if page else html.fragment_fromstring(
        markup, create_parent="div")
    problems = []
    head = tree.find("head") if page else None
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        tag = element.tag.lower()
        if tag == "script" and not (page and (element.get("src") or "").endswith(_OWN_SCRIPTS)):
            problems.append(f"{where}: a <script> element")
        own_form = (page and tag == "form" and element.getparent() is not None
                    and element.getparent().get("class") == _OWN_FORM_SECTION)
        if tag in _FOREIGN and not own_form:
            problems.append(f"{where}: a <{tag}> element")
        if tag == "meta" and (head is None or element.getparent() is not head):
            problems.append(f"{where}: a <meta> element outside the page's head")
        for name, value in element.attrib.items():
            if name.lower().startswith("on"):
                problems.append(f"{where}: <{tag} {name}=...> event handler")
            if name.lower() in _URL_ATTRIBUTES and _bad_url(value):
                problems.append(f"{where}: <{tag} {name}={value[:40]!r}> is not http(s)")
            if name.lower() == "style" and not (page and tag == "img" and _OWN_STYLE.fullmatch(value)):
                problems.append(f"{where}: <{tag} style={value[:40]!r}>")
    return problems


def _json_url_problems(value: Any, where: str) -> list[str]:
    """Every URL-bearing JSON Feed field, at any depth, that is not http(s) or relative."""
    problems = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in _JSON_URL_FIELDS and isinstance(item, str) and _bad_url(item):
                problems.append(f"{where} {key}: {item[:40]!r} is not http(s)")
            problems += _json_url_problems(item, f"{where} {key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            problems += _json_url_problems(item, f"{where}[{index}]")
    return problems


def _feed_problems(path: str, body: bytes) -> list[str]:
    parsed = feedparser.parse(body)
    problems = [f"{path}: feedparser bozo: {parsed.get('bozo_exception')!r}"] if parsed.bozo else []
    root = etree.fromstring(body, _XML_PARSER)
    # Entry content meant as HTML: Atom's type="html" content, RSS description and content:encoded.
    atom = "{http://www.w3.org/2005/Atom}"
    for content in root.iter(f"{atom}content", f"{atom}summary", f"{atom}title", f"{atom}subtitle"):
        if content.get("type") == "html":
            problems += html_problems(content.text or "", f"{path} {content.tag}")
        elif content.get("type") == "xhtml":
            # RFC 4287 section 3.1.1.3: the markup itself, inside one xhtml div.
            markup = b"".join(etree.tostring(child) for child in content)
            problems += html_problems(markup, f"{path} {content.tag}")
    for tag in ("description", "{http://purl.org/rss/1.0/modules/content/}encoded"):
        for item in root.iter("item"):
            for content in item.iter(tag):
                problems += html_problems(content.text or "", f"{path} item {tag}")
    for element in root.iter():
        for name in ("href", "url"):
            value = element.get(name)
            if value is not None and _bad_url(value) and not value.endswith(".xsl"):
                problems.append(f"{path}: {element.tag} {name}={value[:40]!r} is not http(s)")
    return problems


def document_problems(path: str, body: bytes) -> list[str]:
    """Everything wrong with one exported or served document, judged by its file extension."""
    try:
        if path.endswith((".atom", ".rss")):
            return _feed_problems(path, body)
        if path.endswith((".opml", ".xsl", ".svg")):
            etree.fromstring(body, _XML_PARSER)
            return []
        if path.endswith(".json"):
            feed = json.loads(body)
            problems = _json_url_problems(feed, path)
            for item in feed.get("items", []) if isinstance(feed, dict) else []:
                problems += html_problems(item.get("content_html", ""), f"{path} {item.get('id')}")
            return problems
        if path.endswith(".html") or path.endswith("/") or path == "":
            return html_problems(body, path, page=True)
    except (etree.XMLSyntaxError, ValueError) as exc:
        return [f"{path}: does not parse: {exc}"]
    return []
