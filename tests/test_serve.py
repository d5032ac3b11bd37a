"""The document endpoint as a client sees it: validators, codings, and the request headers it consults."""

from __future__ import annotations

import dataclasses
import gzip

import brotli
from starlette.testclient import TestClient

from feeds.app import create_app
from feeds.config import Settings
from feeds.export import read_manifest
from feeds.negotiation import BROWSER_XML
from feeds.serve import document_path, request_headers
from tests.conftest import build

FEED = "/feeds/topics/ai.atom"
ATOM = "application/atom+xml; charset=utf-8"


def test_serve_request_headers_joins_repeated_lines_and_skips_the_rest() -> None:
    scope = {"headers": [(b"host", b"example"), (b"if-none-match", b'"a"'),
                         (b"accept-encoding", b"gzip"), (b"if-none-match", b'"b"')]}
    assert request_headers(scope) == {"if-none-match": '"a", "b"', "accept-encoding": "gzip"}


def test_serve_document_path_maps_directories_to_their_index() -> None:
    assert document_path({"path": "/"}) == "index.html"
    assert document_path({"path": "/topics/ai/"}) == "topics/ai/index.html"
    assert document_path({"path": "/feeds/all.atom"}) == "feeds/all.atom"


def test_serve_304_carries_the_validators_but_no_content_fields(client: TestClient) -> None:
    full = client.get(FEED, headers={"Accept-Encoding": "gzip"})
    again = client.get(FEED, headers={"Accept-Encoding": "gzip", "If-None-Match": full.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    for name in ("etag", "last-modified", "cache-control", "vary"):
        assert again.headers[name] == full.headers[name], name
    assert not {"content-length", "content-type", "content-encoding"} & again.headers.keys()


def test_serve_each_coding_has_its_own_etag_length_and_type(client: TestClient) -> None:
    answers = {coding: client.get(FEED, headers={"Accept-Encoding": coding})
               for coding in ("identity", "gzip", "br")}
    assert len({a.headers["etag"] for a in answers.values()}) == 3
    assert len({a.content for a in answers.values()}) == 1
    for coding, answer in answers.items():
        assert answer.headers.get("content-encoding", "identity") == coding
        assert int(answer.headers["content-length"]) == answer.num_bytes_downloaded
        assert answer.headers["content-type"] == ATOM
        # Each representation's ETag validates it, and only it (RFC 9110 section 8.8.3).
        for other, other_answer in answers.items():
            revalidated = client.get(FEED, headers={"Accept-Encoding": coding,
                                                    "If-None-Match": other_answer.headers["etag"]})
            assert revalidated.status_code == (304 if other == coding else 200), (coding, other)


def test_serve_same_answer_every_time_and_alike_across_documents(client: TestClient) -> None:
    first = client.get(FEED, headers={"Accept-Encoding": "gzip"})
    second = client.get(FEED, headers={"Accept-Encoding": "gzip"})
    assert first.headers.multi_items() == second.headers.multi_items()
    other = client.get("/feeds/topics/cybersecurity.atom", headers={"Accept-Encoding": "gzip"})
    for name in ("cache-control", "vary", "content-type", "access-control-allow-origin"):
        assert other.headers[name] == first.headers[name], name
    assert other.headers["etag"] != first.headers["etag"]


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


def test_serve_compresses_archive_pages_the_export_leaves_without_siblings(settings: Settings) -> None:
    archived = dataclasses.replace(settings, items_per_feed=2, archive_page_size=2)
    output = build(archived)
    archive = "feeds/all/archive/1.atom"
    assert read_manifest(output)[archive]["encoded"] == {}  # not compressed at build time
    exported = (output / archive).read_bytes()
    decompress = {"gzip": gzip.decompress, "br": brotli.decompress}
    with TestClient(create_app(archived, ingest_on_start=False)) as client:
        for coding, decode in decompress.items():
            with client.stream("GET", "/" + archive, headers={"Accept-Encoding": coding}) as sent:
                assert sent.headers["content-encoding"] == coding
                body = b"".join(sent.iter_raw())
            assert len(body) < len(exported) and decode(body) == exported
