"""The fast YAML path gives exactly PyYAML's results, or steps aside for PyYAML."""

from __future__ import annotations

import re
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds import parse
from feeds.errors import RecordError
from feeds.parse import _load_fast, load_front_matter
from tests.conftest import require


@pytest.fixture(autouse=True, scope="module")
def _fast_path() -> None:
    # feeds.parse falls back to PyYAML without yaml_rs (a dependency): slower, and otherwise
    # unnoticed, so CI (FEEDS_REQUIRE_TOOLS=1) fails here instead.
    require("yaml_rs (the yaml-rs package)", parse.yaml_rs is not None,
            "the fast YAML path is off and NOT tested")

# Scalars where YAML 1.1 (PyYAML) and 1.2 (yaml_rs) disagree, or that look like syntax.
TRICKY = [
    "yes", "No", "on", "OFF", "y", "n", "true", "False", "null", "Null", "~", "", "0", "-0", "017",
    "0o17", "0x1F", "0b101", "1_000", "1e3", "1.5", ".inf", "-.inf", ".nan", "+12", "12:30:00",
    "190:20:30", "2023-10-16", "2023-10-16T14:48:00Z", "2023-02-30T14:48:00Z",
    "2001-12-14 21:59:43.10 -5", "<<", "=", "5G Governance", "1e3 x", "AI & ML", "a: b", "a #b",
    "a#b", "x:y", "- x", "[a]", "{a: 1}", "&anchor x", "*alias", "!tag x", "!!str 1", "|", ">",
    "'quoted'", '"double"', "it's", "\\", "\\n", "tab\there", "caf\u00e9", "\u2028", "\x85",
    "\ufeff", "\U0001f600", "#comment", "%YAML", "@at", "`tick", "? key", "Pok\u00e9mon Go",
]

# What records hold: words, numbers, UTC timestamps (so the fast path is taken often).
benign = st.one_of(
    st.from_regex(r"[A-Za-z\u00e9][A-Za-z0-9 ,.'&()/?!-]{0,20}", fullmatch=True),
    st.integers(-(10**6), 10**6).map(str),
    st.datetimes().map(lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ")),
)
scalars = st.one_of(
    benign,
    benign,
    benign,
    st.sampled_from(TRICKY),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
    st.integers(-(10**20), 10**20).map(str),
    st.from_regex(r"[A-Za-z0-9 .:#'\"&*!-]{1,15}", fullmatch=True),
)
identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True)
keys = st.one_of(identifiers, identifiers, identifiers,
                 st.sampled_from(["title", "on", "yes", "null", "a", "<<", "1", "x y"]))


def _quote(text: str, style: str) -> str:
    if style == "double":
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if style == "single":
        return "'" + text.replace("'", "''") + "'"
    return text


@st.composite
def documents(draw: st.DrawFn, scalars: st.SearchStrategy[str] = scalars,
              keys: st.SearchStrategy[str] = keys) -> str:
    """Record-shaped front matter: scalars, nested mappings and sequences, in every quoting style."""
    lines: list[str] = []
    # Unique keys: duplicates are refused, which the explicit cases below cover.
    for key in draw(st.lists(keys, min_size=1, max_size=6, unique=True)):
        shape = draw(st.sampled_from(["scalar", "list", "map", "list-of-maps", "empty"]))
        style = draw(st.sampled_from(["plain", "double", "single"]))
        if shape == "scalar":
            lines.append(f"{key}: {_quote(draw(scalars), style)}")
        elif shape == "empty":
            lines.append(f"{key}:")
        elif shape == "list":
            lines.append(f"{key}:")
            indent = draw(st.sampled_from(["", "  "]))
            lines += [f"{indent}- {_quote(draw(scalars), style)}" for _ in range(draw(st.integers(1, 3)))]
        elif shape == "map":
            lines.append(f"{key}:")
            lines += [f"  {name}: {_quote(draw(scalars), style)}"
                      for name in draw(st.lists(keys, min_size=1, max_size=3, unique=True))]
        else:
            lines.append(f"{key}:")
            for _ in range(draw(st.integers(1, 2))):
                first, *others = draw(st.lists(keys, min_size=1, max_size=3, unique=True))
                lines.append(f"  - {first}: {_quote(draw(scalars), style)}")
                lines += [f"    {name}: {_quote(draw(scalars), style)}" for name in others]
        if draw(st.booleans()):
            lines.append("")
    return "\n".join(lines)


def _outcome(text: str, fast: bool) -> Any:
    data = f"---\n{text}\n---\n".encode()
    try:
        return load_front_matter(data, "r.txt", 1_000_000, fast=fast)
    except RecordError as error:
        return ("refused", error.field, error.reason)
    except ValueError as error:  # PyYAML's timestamp constructor on impossible dates
        return ("ValueError", str(error))


def _assert_same(text: str) -> None:
    reference = _outcome(text, fast=False)
    fast = _outcome(text, fast=True)
    assert fast == reference, text
    # Equal values of different types (1 == True) would hide a difference: compare types too.
    assert repr(fast) == repr(reference), text


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_fast_path_equals_pyyaml_on_generated_documents(text: str) -> None:
    _assert_same(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(scalars=benign, keys=identifiers))
def test_fast_path_equals_pyyaml_on_record_like_documents(text: str) -> None:
    _assert_same(text)


@settings(max_examples=400, deadline=None)
@given(st.text(st.sampled_from(list(":- \n\"'#&*!|>[]{},?%@`~\t\\yesno0123456789aZ.\u00e9\x85")),
               max_size=60))
def test_fast_path_equals_pyyaml_on_hostile_text(text: str) -> None:
    _assert_same(text)


@pytest.mark.parametrize("text", [
    "a: 1\na: 2",  # duplicate keys
    "title: x\nprovider:\n  name: a\n  name: b",
    "a: &x [1, 2]\nb: *x",  # anchors and aliases
    "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: &d [*c, *c]\ne: &e [*d, *d]\nf: &f [*e, *e]\n"
    "g: &g [*f, *f]\nh: &h [*g, *g]\ni: &i [*h, *h]\nj: &j [*i, *i]\nk: &k [*j, *j]\nl: [*k, *k]\n"
    "m: [*k, *k]\nn: [*k, *k]\no: [*k, *k]",  # an alias bomb
    "a: !!python/object:os.system x",
    "a:\n" + "".join(" " * n + "- \n" for n in range(1, 120)),  # deep nesting
    "a: " + "[" * 2000 + "]" * 2000,
    "on: yes\noff: no",
    "published: 2023-02-30T14:48:00Z",
    "n: 0o17\nm: 017\nf: 1e3",
])
def test_fast_path_keeps_every_refusal_and_reading(text: str) -> None:
    _assert_same(text)


def test_fast_path_takes_realistic_records(tmp_path: Path) -> None:
    """The accelerator must actually run on the corpus' records, not decline them all."""
    from benchmarks.corpus import generate

    generate(60, tmp_path, seed=3)
    files = sorted(tmp_path.glob("*.txt"))
    taken = 0
    for path in files:
        data = path.read_bytes()
        text = data.decode().split("---\n")[1]
        taken += _load_fast(text) is not None
        assert load_front_matter(data, path.name, 1_000_000) == load_front_matter(
            data, path.name, 1_000_000, fast=False)
    assert taken == len(files)


# What the fast path refused before its one pass took the check into its character classes:
# outside PyYAML's printable set, YAML 1.1's extra line breaks, a byte-order mark.
_FORMERLY_UNUSUAL = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd"
                               "\U00010000-\U0010ffff]")


def test_the_one_pass_leaves_out_every_unusual_character() -> None:
    every = "".join(map(chr, range(sys.maxunicode + 1)))
    unusual = "".join(_FORMERLY_UNUSUAL.findall(every))
    for cls, syntax in ((r'[^"\\\n{}]', '"\\\n'), (r"[^'\n{}]", "'\n"), (r"[^:#\n{}]", ":#\n"),
                        (r"[^ \n:#{}]", " \n:#")):
        # What the class leaves out of all of Unicode: the unusual characters and its syntax.
        assert set(re.sub(cls.format(parse._UNUSUAL), "", every)) == set(unusual + syntax), cls
    assert not re.findall(r"[^\W\d_]", unusual)  # and no letter is unusual


@pytest.mark.parametrize("char", ["\x00", "\t", "\x1f", "\x7f", "\x85", "\x9f", "\u2028", "\u2029",
                                  "\ud800", "\ufeff", "\ufffe", "\uffff"])
@pytest.mark.parametrize("line", ['a: "x{}y"', "a: 'x{}y'", "a: x{}y", "a: 5G{} x", "a:\n  - x{}y",
                                  "a: 5G x{}y", "a: x{}"])
def test_fast_path_hands_unusual_characters_to_pyyaml(line: str, char: str) -> None:
    assert _load_fast(line.format(char)) is None
    assert _load_fast(line.format("\u00e9")) is not None  # the same line, usual


@pytest.mark.parametrize("value", ['"2023-10-16"', "'2023-10-16'", '"12:30:00"', "'12:30:00 x'",
                                   '"2023-10-16T14:48:00Z"', "'2023-10-16T14:48:00Z'",
                                   '"2023-10-16 12:30:00"'])
def test_fast_path_hands_quoted_dates_to_pyyaml(value: str) -> None:
    # yaml_rs reads a quoted date or time as one; PyYAML, as the string it is.
    for text in (f"a: {value}", f"a:\n  - {value}", f"a:\n  - b: 1\n    c: {value}"):
        assert _load_fast(text) is None
        _assert_same(text)


@pytest.mark.parametrize("text", ['a: x "2023-10-16T14:48:00Z"', "a: \"it's 12:30:00\"",
                                  'a: "x\\"2023-10-16"', "a: 'x ''12:30:00'''", "a: '2023 10 16'"])
def test_fast_path_takes_a_date_inside_a_scalar(text: str) -> None:
    # Only a scalar's first characters make yaml_rs read a date: one further in is text.
    assert _load_fast(text) is not None
    _assert_same(text)


def test_fast_path_decides_a_long_last_line_at_once() -> None:
    # The last line used to be tried first as a line with a newline after it: failing, the
    # match gave a long quoted value back one character at a time.
    quoted = 'a: b\nsecured: "' + "x" * 200_000 + '"'
    assert _load_fast(quoted) == {"a": "b", "secured": "x" * 200_000}
    assert _load_fast(quoted + "\n") == _load_fast(quoted)
    assert _load_fast(quoted[:-1]) is None  # unclosed: PyYAML words the error
    _assert_same(quoted[:-1])


def test_the_walk_after_yaml_rs_hands_other_readings_to_pyyaml() -> None:
    moment = datetime(2023, 10, 16, 14, 48, tzinfo=UTC)
    assert parse._same_in_pyyaml({"a": [moment, 1, 1.5, True, None, "text"]}, 10)
    for other in (date(2023, 10, 16), time(12, 30), "yes", "0x1F", "~", b"x", {1}):
        assert not parse._same_in_pyyaml({"a": ["text", {"b": other}]}, 10), other
    assert not parse._same_in_pyyaml({"a": list(range(9))}, 10)  # over the node budget
