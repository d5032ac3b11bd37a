"""Record files: YAML front matter between two ``---`` lines, read into a mapping."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Hashable, Mapping
from datetime import datetime
from functools import cache
from types import ModuleType
from typing import Any

import yaml

from feeds.errors import RecordError

yaml_rs: ModuleType | None
try:
    import yaml_rs
except ImportError:  # the fast path is optional: PyYAML alone gives the same results
    yaml_rs = None

__all__ = [
    "RECORD_ID",
    "YAML_LOADER",
    "identifying_url",
    "load_front_matter",
    "record_id_from_name",
    "record_id_from_url",
]

_BASE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# A record has a few hundred nodes; aliases can make a small file expand into billions.
MAX_NODES = 20_000


class _StrictLoader(_BASE_LOADER):  # type: ignore[valid-type,misc]
    """PyYAML's safe loader (C-accelerated when available) that refuses duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                continue  # the base class refuses it, naming the line
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {str(key)[:40]!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]

YAML_LOADER: type[yaml.SafeLoader] = _StrictLoader


def _count_nodes(value: Any, budget: int) -> bool:
    """True when ``value`` has at most ``budget`` nodes, counting shared ones each time."""
    stack = [value]
    while stack:
        budget -= 1
        if budget < 0:
            return False
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True

_STABLE_NAME = re.compile(r"^(?:\d+_)?([0-9a-f]{16})\.txt$")
# Every record id: 16 hex digits from a file name, or ``u`` and 15 from a URL (record_id_from_url).
RECORD_ID = re.compile(r"^(?:[0-9a-f]{16}|u[0-9a-f]{15})$")


def record_id_from_name(name: str) -> str | None:
    """The stable hex key in a file name such as ``000_db6714534f1f249c.txt``, if any."""
    match = _STABLE_NAME.match(name)
    return match.group(1) if match else None


def identifying_url(mapping: Mapping[str, Any], path: str) -> str:
    """The URL a record's id derives from when its file name holds none: its original URL,
    else its web URL."""
    urls = (mapping.get("originalUrl"), mapping.get("webUrl"))
    source = next((url for url in urls if isinstance(url, str) and url.strip()), None)
    if source is None:
        raise RecordError(path, "webUrl", "required; expected an absolute http(s) URL")
    return source.strip()


def record_id_from_url(url: str) -> str:
    """The id of a record whose file name holds none: ``u`` and 15 hex digits of the SHA-256 of
    its ``identifying_url``, the next most stable thing.

    The ``u`` keeps these ids apart from the 16-digit ids of file names. Entry ids are public
    (readers deduplicate by them), so this rule, the one ingest has always used, must not
    change: records already published keep their ids.
    """
    return "u" + hashlib.sha256(url.encode()).hexdigest()[:15]


def decode(data: bytes, path: str) -> str:
    """Decode UTF-8 (with or without a byte-order mark) and normalise line ends."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RecordError(path, "file", f"not valid UTF-8 (byte {exc.start})") from None
    if "\r" not in text:  # most files: no copy of the text
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


# The line closing the front matter: ``---`` or ``...``, then only whitespace (lines end only
# at a newline once ``decode`` has normalised them, as ``str.split("\n")`` would cut them).
_CLOSING = re.compile(r"\n(?:---|\.\.\.)[^\S\n]*+(?=\n|\Z)")


def split_front_matter(text: str, path: str) -> str:
    """The YAML between the opening ``---`` line and the next ``---`` line."""
    if not text or text.isspace():
        raise RecordError(path, "file", "empty file; expected YAML front matter between --- lines")
    first_end = text.find("\n")
    if (text if first_end < 0 else text[:first_end]).rstrip() != "---":
        raise RecordError(path, "file", "expected the first line to be ---")
    # Found in C from the end of the first line, rather than a string made of every line.
    closing = _CLOSING.search(text, first_end) if first_end >= 0 else None
    if closing is None:
        raise RecordError(path, "file", "no closing --- line after the front matter")
    return text[first_end + 1:closing.start()]


# The fast path (yaml_rs, a YAML 1.2 parser in Rust, about six times faster) takes only text
# whose meaning is the same under PyYAML's YAML 1.1: block mappings and sequences with simple
# keys, quoted strings with \" and \\ escapes only, and plain scalars that are decimal integers,
# UTC timestamps or text starting with a letter (or digits then a letter, then a space).
# No anchors, aliases, tags, flow collections, block scalars, comments, tabs or deep
# indentation: anything else goes to PyYAML, the reference, which also words every error.
# One pass over the text decides it (``_plain_yaml``); quantifiers are possessive (``*+``) where
# giving characters back could not make a match, so a line that fails fails at once.
_KEY = r"[A-Za-z][A-Za-z0-9_]*+"
# Outside PyYAML's printable set, or line breaks only in YAML 1.1 (NEL, LS, PS), or a BOM:
# every class below that takes any character leaves these out, so no text holding one
# matches (letters and the other characters matched are none of these).
_UNUSUAL = r"\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff"
# yaml_rs reads a quoted scalar that is a date or a time ("2023-10-16", '12:30:00') as one;
# PyYAML, as a string: no quoted scalar may start like one.
_NOT_DATE = r"(?![0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{2}:[0-9]{2}:[0-9]{2})"
# Written as "unrolled loops" (a character class, then rare exceptions) so they run in C.
_REST = rf"[^:#\n{_UNUSUAL}]*+(?:(?::(?=[^ \n])|(?<! )#)[^:#\n{_UNUSUAL}]*+)*+"
_VALUE = (
    rf'(?:"{_NOT_DATE}[^"\\\n{_UNUSUAL}]*+(?:\\["\\][^"\\\n{_UNUSUAL}]*+)*+"'
    rf"|'{_NOT_DATE}[^'\n{_UNUSUAL}]*+(?:''[^'\n{_UNUSUAL}]*+)*+'"
    r"|-?(?:0|[1-9][0-9]{0,17}+)"
    r"|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"
    rf"|[^\W\d_]{_REST}"
    rf"|[0-9]++[^\W\d_][^ \n:#{_UNUSUAL}]*+ (?=[^ \n]){_REST})"
)
_LINE = rf"(?: {{0,40}}+(?:- ++)?{_KEY}:(?: ++{_VALUE})?| {{0,40}}+- ++{_VALUE})? *+"


@cache
def _plain_yaml() -> re.Pattern[str]:
    """Lines each ending in a newline: the pattern, compiled on first use (compiling it is a
    fifth of a build with nothing to ingest, which parses no record).

    The text is matched with a newline added: asking for the last line without one made a
    failed try at it with one first, which gave back a long quoted line a character at a time.
    """
    return re.compile(rf"(?:{_LINE}\n)*+")


def _plain(source: str) -> bool:
    """Whether yaml_rs may read ``source``: the whole text in the subset described above."""
    return _plain_yaml().fullmatch(source + "\n") is not None


# PyYAML's implicit types by a scalar's first character, each followed by those for any
# character (key None), as its resolver tries them; feeds registers none of its own.
_RESOLVERS = yaml.resolver.Resolver.yaml_implicit_resolvers
_ANY_FIRST: tuple[re.Pattern[str], ...] = tuple(regexp for _, regexp in _RESOLVERS.get(None, ()))
_IMPLICIT: dict[str, tuple[re.Pattern[str], ...]] = {
    first: tuple(regexp for _, regexp in resolvers) + _ANY_FIRST
    for first, resolvers in _RESOLVERS.items() if first is not None
}


# What yaml_rs gives for a scalar that is not text, and that PyYAML reads alike (the gate lets
# through no other form of them): compared by exact type, the walk's common case.
_SAME_SCALARS = frozenset((int, bool, float, type(None), datetime))


def _same_in_pyyaml(value: Any, budget: int) -> bool:
    """Within the node budget, and no string PyYAML could have read as another type.

    Any other type (a date or time without the other, only from a quoted string or a form the
    gate does not let through) is left to PyYAML.
    """
    stack = [value]
    while stack:
        budget -= 1
        if budget < 0:
            return False
        item = stack.pop()
        kind = type(item)
        if kind is str:
            # A quoted "yes" is a string in both; a plain one is a bool in PyYAML. Either way
            # PyYAML decides.
            for regexp in _IMPLICIT.get(item[:1], _ANY_FIRST):
                if regexp.match(item):
                    return False
        elif kind is dict:
            stack += item
            stack += item.values()
        elif kind is list:
            stack += item
        elif kind not in _SAME_SCALARS:
            return False
    return True


def _load_fast(source: str) -> dict[str, Any] | None:
    """The front matter read by yaml_rs, or None when PyYAML must read it."""
    if yaml_rs is None or not _plain(source):
        return None
    try:
        loaded = yaml_rs.loads(source)
    except Exception:  # duplicate keys and every other error: PyYAML words the message
        return None
    if not isinstance(loaded, dict) or not _same_in_pyyaml(loaded, MAX_NODES):
        return None
    return loaded


def _reader_problem(exc: yaml.YAMLError) -> str:
    """What a reader error is about: PyYAML refuses control characters outside escapes."""
    if isinstance(exc, yaml.reader.ReaderError):
        # The pure-Python reader gives the character, the C one its code point.
        code = ord(exc.character) if isinstance(exc.character, str) else exc.character
        return (f"character U+{code:04X} is not allowed in YAML; write it as an escape in "
                f"double quotes, or remove it")
    return "invalid YAML"


def load_front_matter(data: bytes, path: str, max_bytes: int, *, fast: bool = True) -> dict[str, Any]:
    """Parse a record file's bytes into the mapping of its front matter.

    ``fast=False`` always uses PyYAML, the reference the fast path is tested against.
    """
    if len(data) > max_bytes:
        raise RecordError(
            path, "file", f"{len(data)} bytes is over the limit of {max_bytes} (max_record_bytes)"
        )
    if b"\x00" in data:
        raise RecordError(path, "file", "binary content (NUL bytes); expected a UTF-8 text file")
    source = split_front_matter(decode(data, path), path)
    accelerated = _load_fast(source) if fast else None
    if accelerated is not None:
        return accelerated
    try:
        loaded = yaml.load(source, Loader=YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or _reader_problem(exc)
        raise RecordError(path, "front matter", f"{problem}{where}") from None
    except RecursionError:
        raise RecordError(path, "front matter", "nested too deeply") from None
    except (ValueError, TypeError, IndexError, KeyError, AttributeError, OverflowError):
        # PyYAML's constructors fail this way on an explicit tag its value does not fit (!!int --).
        raise RecordError(path, "front matter", "a value does not fit its YAML tag (such as !!int)"
                          ) from None
    if not isinstance(loaded, dict):
        raise RecordError(path, "front matter", "expected a mapping of fields")
    if not _count_nodes(loaded, MAX_NODES):
        raise RecordError(path, "front matter", f"more than {MAX_NODES} values (YAML aliases "
                                                f"expanding?); a record needs a few hundred")
    return loaded
