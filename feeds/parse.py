"""Record files: YAML front matter between two ``---`` lines, read into a mapping."""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any

import yaml

from feeds.errors import RecordError

__all__ = ["YAML_LOADER", "load_front_matter", "record_id_from_name"]

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


def record_id_from_name(name: str) -> str | None:
    """The stable hex key in a file name such as ``000_db6714534f1f249c.txt``, if any."""
    match = _STABLE_NAME.match(name)
    return match.group(1) if match else None


def decode(data: bytes, path: str) -> str:
    """Decode UTF-8 (with or without a byte-order mark) and normalise line ends."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RecordError(path, "file", f"not valid UTF-8 (byte {exc.start})") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_front_matter(text: str, path: str) -> str:
    """The YAML between the opening ``---`` line and the next ``---`` line."""
    if not text.strip():
        raise RecordError(path, "file", "empty file; expected YAML front matter between --- lines")
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        raise RecordError(path, "file", "expected the first line to be ---")
    for number, line in enumerate(lines[1:], start=1):
        if line.rstrip() in ("---", "..."):
            return "\n".join(lines[1:number])
    raise RecordError(path, "file", "no closing --- line after the front matter")


def _reader_problem(exc: yaml.YAMLError) -> str:
    """What a reader error is about: PyYAML refuses control characters outside escapes."""
    if isinstance(exc, yaml.reader.ReaderError):
        # The pure-Python reader gives the character, the C one its code point.
        code = ord(exc.character) if isinstance(exc.character, str) else exc.character
        return (f"character U+{code:04X} is not allowed in YAML; write it as an escape in "
                f"double quotes, or remove it")
    return "invalid YAML"


def load_front_matter(data: bytes, path: str, max_bytes: int) -> dict[str, Any]:
    """Parse a record file's bytes into the mapping of its front matter."""
    if len(data) > max_bytes:
        raise RecordError(
            path, "file", f"{len(data)} bytes is over the limit of {max_bytes} (max_record_bytes)"
        )
    if b"\x00" in data:
        raise RecordError(path, "file", "binary content (NUL bytes); expected a UTF-8 text file")
    source = split_front_matter(decode(data, path), path)
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
