"""The document endpoint: request headers it consults, and header lines prepared once."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from starlette.testclient import TestClient

from feeds.cache import Validators
from feeds.config import Settings
from feeds.negotiation import BROWSER_XML
from feeds.serve import HeaderLines, document_path, request_headers

FEED = "/feeds/topics/ai.atom"
ATOM = "application/atom+xml; charset=utf-8"


def _validators() -> Validators:
    return Validators(version="v1", etag='"abc"', last_modified=datetime(2026, 1, 2, tzinfo=UTC),
                      immutable=False, media_type=ATOM, links=(("hub", "https://hub.example/"),),
                      lengths=(("identity", 1000), ("gzip", 300), ("br", 250)))


def test_serve_request_headers_joins_repeated_lines_and_skips_the_rest() -> None:
    scope = {"headers": [(b"host", b"example"), (b"if-none-match", b'"a"'),
                         (b"accept-encoding", b"gzip"), (b"if-none-match", b'"b"')]}
    assert request_headers(scope) == {"if-none-match": '"a", "b"', "accept-encoding": "gzip"}


def test_serve_document_path_maps_directories_to_their_index() -> None:
    assert document_path({"path": "/"}) == "index.html"
    assert document_path({"path": "/topics/ai/"}) == "topics/ai/index.html"
    assert document_path({"path": "/feeds/all.atom"}) == "feeds/all.atom"


def test_serve_headers_for_a_304_carry_validators_but_no_content_fields(settings: Settings) -> None:
    sent = dict(HeaderLines(settings).of(_validators(), "gzip", None))
    assert sent[b"etag"] == b'"abc-gzip"'
    assert sent[b"last-modified"] == b"Fri, 02 Jan 2026 00:00:00 GMT"
    assert sent[b"link"] == b'<https://hub.example/>; rel="hub"'
    assert not {b"content-length", b"content-type", b"content-encoding"} & sent.keys()


def test_serve_headers_for_a_200_give_the_codings_length_and_type(settings: Settings) -> None:
    validators = _validators()
    gzip = dict(HeaderLines(settings).of(validators, "gzip", ATOM))
    assert (gzip[b"content-encoding"], gzip[b"content-length"]) == (b"gzip", b"300")
    identity = dict(HeaderLines(settings).of(validators, "identity", BROWSER_XML))
    assert b"content-encoding" not in identity
    assert (identity[b"content-length"], identity[b"content-type"]) == (b"1000", BROWSER_XML.encode())


def test_serve_headers_for_are_encoded_once_per_coding_and_media_type(settings: Settings) -> None:
    validators, lines = _validators(), HeaderLines(settings)
    first = lines.of(validators, "br", ATOM)
    assert lines.of(validators, "br", ATOM) is first
    assert lines.of(validators, "br", BROWSER_XML) is not first
    assert lines.of(validators, "br", None) is not first


def test_serve_header_lines_share_what_documents_have_in_common(settings: Settings) -> None:
    lines = HeaderLines(settings)
    one = dict(enumerate(lines.of(_validators(), "gzip", ATOM)))
    other = dict(enumerate(lines.of(dataclasses.replace(_validators(), etag='"def"'), "gzip", ATOM)))
    shared = [i for i in one if one[i] is other[i]]
    assert {one[i][0] for i in shared} >= {b"cache-control", b"vary", b"content-type"}
    assert one[0] == (b"etag", b'"abc-gzip"') and other[0] == (b"etag", b'"def-gzip"')


def test_serve_304_when_if_none_match_comes_on_two_lines(client: TestClient) -> None:
    etag = client.get(FEED).headers["etag"]
    response = client.get(FEED, headers=[("If-None-Match", '"other"'), ("If-None-Match", etag)])
    assert response.status_code == 304


def test_serve_browser_and_reader_get_their_own_content_type_for_one_version(
        client: TestClient) -> None:
    for _ in range(2):
        browser = client.get(FEED, headers={"Accept": "text/html,*/*;q=0.8"})
        reader = client.get(FEED, headers={"Accept": "application/atom+xml"})
        assert browser.headers["content-type"] == BROWSER_XML
        assert reader.headers["content-type"] == ATOM
        assert browser.headers["etag"] == reader.headers["etag"]
