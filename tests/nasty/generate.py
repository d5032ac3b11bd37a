"""Writes the nasty record corpus beside this file: ``python tests/nasty/generate.py``.

The files are committed; this script says how each was made. Every file holds a distinct
``secured`` value, so tests/test_secrets.py covers the nasty corpus too. Files too large to
commit (a 1 MB title, a 50 MB file, 10,000 topics) are made by the tests in a temporary directory.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPT = "<script>alert(1)</script><img src=x onerror=alert(2)>"


def secured(name: str) -> str:
    """A base64-looking secret unique to one file, long enough for the 12-character check."""
    return hashlib.sha512(name.encode()).hexdigest()[:48] + "Zq+/Wq=="


def record(name: str, **fields: str) -> str:
    """A valid record's front matter (as YAML lines), with ``fields`` replacing or adding lines."""
    lines = {
        "title": f'"A well-behaved title ({name})"',
        "excerpt": '"A short summary."',
        "publishedDateTime": "2023-05-01T10:00:00Z",
        "webUrl": f'"https://nasty.example/{name}"',
        "published": "true",
        "provider": "\n  name: Nasty News\n  domain: nasty.example",
        "topics": "\n  - Nasty",
    }
    lines.update(fields)
    body = "".join(f"{key}:{'' if value.startswith(chr(10)) else ' '}{value}\n"
                   for key, value in lines.items() if value is not None)
    return f"---\n{body}secured: \"{secured(name)}\"\n---\n"


def text_cases() -> dict[str, bytes]:
    """Files that must be published, their text escaped (never live markup)."""
    quoted_script = '"' + SCRIPT.replace('"', '\\"') + '"'
    return {
        "escaped_control_chars": record(
            "escaped_control_chars",
            title='"Bell\\a back\\b tab\\t form\\f \\x01\\x1f \\uFFFE\\uFFFF '
                  'c1 \\x85\\x9f \\uFDD0 end"').encode(),
        "bom_crlf": b"\xef\xbb\xbf" + record("bom_crlf").replace("\n", "\r\n").encode(),
        "cr_only": record("cr_only").replace("\n", "\r").encode(),
        "rtl_combining_emoji": record(
            "rtl_combining_emoji",
            title='"\u0645\u0631\u062d\u0628\u0627 \u202eevil\u202c e\u0301 '
                  '\U0001f469\u200d\U0001f469\u200d\U0001f467 \U0001f1fa\U0001f1e6 \u05e9\u05dc\u05d5\u05dd"',
            topics="\n  - \"\U0001f525 Hot\"\n  - \u0639\u0631\u0628\u064a").encode(),
        "html_everywhere": record(
            "html_everywhere", title=quoted_script, excerpt=quoted_script,
            category=quoted_script, type=quoted_script,
            provider=f"\n  name: {quoted_script}\n  domain: nasty.example",
            topics=f"\n  - {quoted_script}\n  - \"<b>bold</b>\"",
            related=f"\n  - title: {quoted_script}\n    excerpt: {quoted_script}\n"
                    f"    webUrl: \"https://nasty.example/related\"\n"
                    f"    provider:\n      name: {quoted_script}\n      domain: other.example",
        ).encode(),
        "cdata_end": record(
            "cdata_end", title='"Ends ]]> here ]]>"', excerpt='"<![CDATA[ x ]]> y"',
            related='\n  - title: "]]>"\n    webUrl: "https://nasty.example/cdata-related"').encode(),
        "entity_lookalikes": record(
            "entity_lookalikes", title='"AT&amp;T &#0; &#x0; &lt;script&gt; &nbsp; &#128512;"',
            excerpt='"&amp;amp; &bogus; &#xD800;"').encode(),
        "idn_host": record("idn_host", webUrl='"https://b\u00fccher.example/stra\u00dfe"').encode(),
        "symbol_only_topic": record("symbol_only_topic", topics='\n  - "!!!"\n  - "???"').encode(),
        "topics_case_duplicates": record("topics_case_duplicates",
                                         topics="\n  - Nasty\n  - NASTY\n  - nasty").encode(),
        # Published as given, escaped wherever it appears (as browsers percent-encode such URLs).
        "url_quotes_markup": record(
            "url_quotes_markup",
            webUrl="'https://nasty.example/a\"><script>alert(1)</script>'",
            images="\n  - url: 'https://nasty.example/i.png?\"onerror=\"alert(1)'").encode(),
        "no_final_newline": record("no_final_newline").rstrip("\n").encode(),
        # Percent-encoded where published (feeds.validate.percent_encode); tests/test_escapes.py.
        "url_unsafe_characters": record(
            "url_unsafe_characters",
            webUrl="'https://nasty.example/a<b>\"c\"\\d{e}|f^g`h/\u00fcn\u00ef%zz?q=<x>#frag#2'",
            images="\n  - url: 'https://nasty.example/{i}|\u00e9t\u00e9.jpg'\n    width: 640\n"
                   "    height: 360",
            related="\n  - title: Related\n    webUrl: 'https://nasty.example/r?a=\"1\"&b=<2>'").encode(),
        # Names readers would take as HTML in a channel's description; tests/test_escapes.py.
        "topic_provider_markup": record(
            "topic_provider_markup",
            provider="\n  name: '<svg onload=alert(4)>Markup News'\n  domain: markup-news.example",
            topics="\n  - '<script>alert(3)</script>Markup Topic'").encode(),
    }


def rejected_cases() -> dict[str, bytes]:
    """Files that must be rejected, each with its path, field and reason reported."""
    long_url = '"https://nasty.example/' + "a" * 8300 + '"'
    cases: dict[str, str | bytes] = {
        "url_javascript": record("url_javascript", webUrl='"javascript:alert(1)"'),
        "url_data": record("url_data", webUrl='"data:text/html;base64,PHNjcmlwdD4="'),
        "url_relative": record("url_relative", webUrl='"/articles/1"'),
        "url_protocol_relative": record("url_protocol_relative", webUrl='"//evil.example/x"'),
        "url_spaces": record("url_spaces", webUrl='"https://nasty.example/a b"'),
        "url_over_8kb": record("url_over_8kb", webUrl=long_url),
        "url_bad_port": record("url_bad_port", webUrl='"https://nasty.example:99999/"'),
        "image_url_javascript": record(
            "image_url_javascript", images='\n  - url: "javascript:alert(1)"'),
        "related_url_data": record(
            "related_url_data",
            related='\n  - title: "x"\n    webUrl: "data:text/html,<script>alert(1)</script>"'),
        "yaml_billion_laughs": "---\n" + "".join(
            f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" if i else "l0: &l0 [lol]\n"
            for i in range(10)) + "title: x\n---\n",
        "yaml_python_object": record(
            "yaml_python_object", title='!!python/object/apply:os.system ["echo pwned"]'),
        "yaml_python_name": record("yaml_python_name", title="!!python/name:os.system"),
        "yaml_duplicate_keys": record("yaml_duplicate_keys") .replace(
            "published: true\n", "published: true\npublished: false\n"),
        "yaml_deep_nesting": record("yaml_deep_nesting", title="[" * 5000 + "]" * 5000),
        "yaml_unhashable_key": record("yaml_unhashable_key").replace(
            "published: true\n", "published: true\n? [a, b]\n: c\n"),
        "yaml_no_closing_dashes": record("yaml_no_closing_dashes").rsplit("---", 1)[0],
        "yaml_not_a_mapping": "---\n- just\n- a list\n---\n",
        "yaml_no_opening_dashes": record("yaml_no_opening_dashes")[4:],
        "empty": b"",
        "whitespace_only": b" \n\r\n\t\n",
        "binary_png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01" + bytes(range(256)),
        "nul_in_text": record("nul_in_text").replace("A short summary.", "A short\x00summary.")
        .encode(),
        "not_utf8": record("not_utf8", title='"caf\u00e9"').encode("latin-1"),
        "raw_control_chars": record("raw_control_chars", title='"bell \x07 escape \x1b"').encode(),
        "lone_surrogate_escape": record("lone_surrogate_escape", title='"half \\ud800 pair"'),
        "encoded_surrogate_bytes": record("encoded_surrogate_bytes").replace(
            "A short summary.", "half \udc80 pair").encode("utf-8", "surrogatepass"),
        "date_naive": record("date_naive", publishedDateTime="2023-05-01T10:00:00"),
        "date_only": record("date_only", publishedDateTime="2023-05-01"),
        "date_future": record("date_future", publishedDateTime="2999-01-01T00:00:00Z"),
        "date_before_1970": record("date_before_1970", publishedDateTime="1969-12-31T23:59:59Z"),
        "date_year_1": record("date_year_1", publishedDateTime="0001-01-01T00:00:00+05:00"),
        "date_year_9999": record("date_year_9999", publishedDateTime='"9999-12-31T23:00:00-05:00"'),
        "date_garbage": record("date_garbage", publishedDateTime='"yesterday-ish"'),
        "image_negative_size": record("image_negative_size",
                                      images='\n  - url: "https://nasty.example/i.png"\n    width: -1'),
        "image_absurd_size": record(
            "image_absurd_size",
            images='\n  - url: "https://nasty.example/i.png"\n    width: 10\n    height: 99999999999'),
        "topic_empty": record("topic_empty", topics='\n  - ""'),
        "topic_whitespace": record("topic_whitespace", topics='\n  - "  \\t "'),
        "provider_idn_domain": record("provider_idn_domain",
                                      provider="\n  name: B\n  domain: b\u00fccher.example"),
        "provider_domain_markup": record("provider_domain_markup",
                                         provider='\n  name: B\n  domain: "x\\"><script>.example"'),
    }
    wrong_types = {
        "title": "[1, 2]", "excerpt": "{a: b}", "webUrl": "42", "originalUrl": "[x]",
        "ampWebUrl": "true", "cdnAmpWebUrl": "{a: 1}", "category": "[news]", "type": "{a: b}",
        "quality": '"high"', "heat": "1.5", "published": '"yes"', "publishedDateTime": "12345",
        "provider": '"Nasty News"', "topics": '"AI"', "images": '"https://nasty.example/i.png"',
        "related": '"https://nasty.example/r"',
    }
    for field_name, value in wrong_types.items():
        cases[f"type_{field_name}"] = record(f"type_{field_name}", **{field_name: value})
    cases["type_provider_domain"] = record("type_provider_domain",
                                           provider="\n  name: N\n  domain: [a, b]")
    cases["type_images_width"] = record(
        "type_images_width", images='\n  - url: "https://nasty.example/i.png"\n    width: "wide"')
    cases["type_related_title"] = record(
        "type_related_title", related='\n  - title: [x]\n    webUrl: "https://nasty.example/r"')
    return {name: value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
            for name, value in cases.items()}


def duplicate_cases() -> dict[str, bytes]:
    """Two files with one id, two with one URL: the name sorting first wins, the other is reported."""
    same_url = '"https://nasty.example/same-url"'
    return {
        "900_aaaaaaaaaaaaaaaa": record("dup_id_winner").encode(),
        "901_aaaaaaaaaaaaaaaa": record("dup_id_loser").encode(),
        "902_bbbbbbbbbbbbbbbb": record("dup_url_winner", webUrl=same_url).encode(),
        "903_cccccccccccccccc": record("dup_url_loser", webUrl=same_url).encode(),
    }


def main() -> None:
    target = HERE / "records"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    for prefix, cases in (("ok_", text_cases()), ("bad_", rejected_cases()), ("", duplicate_cases())):
        for name, data in cases.items():
            (target / f"{prefix}{name}.txt").write_bytes(data)


if __name__ == "__main__":
    main()
