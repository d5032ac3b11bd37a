from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.errors import RecordError
from feeds.parse import load_front_matter, record_id_from_name, split_front_matter

LIMIT = 1_000_000


def test_parse_reads_mapping_between_dashes() -> None:
    assert load_front_matter(b"---\ntitle: x\n---\nbody\n", "a.txt", LIMIT) == {"title": "x"}


def test_parse_accepts_bom_and_crlf_and_cr_line_ends() -> None:
    assert load_front_matter(b"\xef\xbb\xbf---\r\ntitle: x\r\n---\r\n", "a.txt", LIMIT) == {"title": "x"}
    assert load_front_matter(b"---\rtitle: x\r---\r", "a.txt", LIMIT) == {"title": "x"}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"title: x\n", "first line"),
        (b"---\ntitle: x\n", "no closing"),
        (b"---\n- a\n- b\n---\n", "mapping"),
        (b"---\ntitle: [unclosed\n---\n", "line"),
        (b"---\ntitle: \xff\n---\n", "UTF-8"),
        (b"---\x00\x01\x02", "binary"),
        (b"---\nx: !!python/object/apply:os.system ['true']\n---\n", "tag"),
    ],
)
def test_parse_rejects_with_reason(data: bytes, reason: str) -> None:
    with pytest.raises(RecordError) as caught:
        load_front_matter(data, "bad.txt", LIMIT)
    assert caught.value.path == "bad.txt"
    assert reason in str(caught.value)


def test_parse_rejects_files_over_the_size_limit() -> None:
    with pytest.raises(RecordError, match="over the limit of 10"):
        load_front_matter(b"---\ntitle: x\n---\n", "big.txt", 10)


def test_record_id_from_name_takes_the_hex_key() -> None:
    assert record_id_from_name("000_db6714534f1f249c.txt") == "db6714534f1f249c"
    assert record_id_from_name("db6714534f1f249c.txt") == "db6714534f1f249c"
    assert record_id_from_name("notes.txt") is None


def test_parse_rejects_duplicate_keys() -> None:
    with pytest.raises(RecordError, match="duplicate key 'title'"):
        load_front_matter(b"---\ntitle: a\ntitle: b\n---\n", "dup.txt", LIMIT)


def test_parse_rejects_alias_bombs() -> None:
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for n in range(1, 7):
        prev = chr(ord("a") + n - 1)
        levels.append(f"{chr(ord('a') + n)}: &{chr(ord('a') + n)} [" + ", ".join([f"*{prev}"] * 10) + "]")
    with pytest.raises(RecordError, match="more than 20000 values"):
        load_front_matter(("---\n" + "\n".join(levels) + "\n---\n").encode(), "bomb.txt", LIMIT)


def test_parse_rejects_deep_nesting() -> None:
    with pytest.raises(RecordError, match="front matter"):
        load_front_matter(b"---\nx: " + b"[" * 5000 + b"]" * 5000 + b"\n---\n", "deep.txt", LIMIT)


def _front_matter_by_lines(text: str) -> str:
    """The rule split_front_matter implements, line by line: after a first line ``---``, every
    line up to the next one that is ``---`` or ``...`` once trailing whitespace is stripped."""
    if not text.strip():
        raise RecordError("a.txt", "file", "empty file")
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        raise RecordError("a.txt", "file", "expected the first line to be ---")
    for number, line in enumerate(lines[1:], start=1):
        if line.rstrip() in ("---", "..."):
            return "\n".join(lines[1:number])
    raise RecordError("a.txt", "file", "no closing --- line after the front matter")


def _split_outcome(split: Callable[[str], str], text: str) -> str | tuple[str, str]:
    try:
        return split(text)
    except RecordError as error:
        return ("refused", error.reason[:10])


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["---", "...", "--", "\n", "\n---", "\n...", " ", "\t", "\x0b",
                                 "\x85", "\u2028", "\u3000", "x", "-", ".", "a: b"]), max_size=12))
def test_split_front_matter_finds_the_closing_line_as_lines_would(parts: list[str]) -> None:
    text = "".join(parts)
    assert _split_outcome(lambda t: split_front_matter(t, "a.txt"), text) == _split_outcome(
        _front_matter_by_lines, text)
