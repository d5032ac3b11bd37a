"""Is a published document well-formed, and is every bit of markup in it ours? For tests and the soak.

Record text may hold anything; what comes out must parse (lxml, feedparser without bozo, JSON)
and carry no live markup from records: no script but our own, no event-handler attributes, no
link or image that is not http(s) or relative.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import feedparser
from lxml import etree, html

__all__ = ["document_problems", "html_problems"]

# Our pages load only site.js; a record can add none.
_OWN_SCRIPTS = ("site.js",)
_URL_ATTRIBUTES = ("href", "src", "action", "formaction", "poster", "srcset", "xlink:href")
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


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
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        tag = element.tag.lower()
        if tag == "script" and not (page and (element.get("src") or "").endswith(_OWN_SCRIPTS)):
            problems.append(f"{where}: a <script> element")
        if tag in ("iframe", "object", "embed", "base", "form", "meta") and not page:
            problems.append(f"{where}: a <{tag}> element in entry content")
        for name, value in element.attrib.items():
            if name.lower().startswith("on"):
                problems.append(f"{where}: <{tag} {name}=...> event handler")
            if name.lower() in _URL_ATTRIBUTES and _bad_url(value):
                problems.append(f"{where}: <{tag} {name}={value[:40]!r}> is not http(s)")
    return problems


def _feed_problems(path: str, body: bytes) -> list[str]:
    parsed = feedparser.parse(body)
    problems = [f"{path}: feedparser bozo: {parsed.get('bozo_exception')!r}"] if parsed.bozo else []
    root = etree.fromstring(body, _XML_PARSER)
    # Entry content meant as HTML: Atom's type="html" content, RSS description and content:encoded.
    atom = "{http://www.w3.org/2005/Atom}"
    for content in root.iter(f"{atom}content", f"{atom}summary"):
        if content.get("type") == "html":
            problems += html_problems(content.text or "", f"{path} {content.tag}")
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
            problems = []
            for item in feed.get("items", []) if isinstance(feed, dict) else []:
                problems += html_problems(item.get("content_html", ""), f"{path} {item.get('id')}")
                if _bad_url(item.get("url", "")):
                    problems.append(f"{path} {item.get('id')}: url is not http(s)")
            return problems
        if path.endswith(".html") or path.endswith("/") or path == "":
            return html_problems(body, path, page=True)
    except (etree.XMLSyntaxError, ValueError) as exc:
        return [f"{path}: does not parse: {exc}"]
    return []
