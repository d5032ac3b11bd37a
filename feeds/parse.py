"""Record files: YAML front matter between two ``---`` lines, read into a mapping."""

from __future__ import annotations

import re
from typing import Any

import yaml

from feeds.errors import RecordError

__all__ = ["YAML_LOADER", "load_front_matter", "record_id_from_name"]

# PyYAML's C-accelerated safe loader is several times faster; the pure one is the fallback.
YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

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
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise RecordError(path, "front matter", f"{problem}{where}") from None
    except RecursionError:
        raise RecordError(path, "front matter", "nested too deeply") from None
    if not isinstance(loaded, dict):
        raise RecordError(path, "front matter", "expected a mapping of fields")
    return loaded
