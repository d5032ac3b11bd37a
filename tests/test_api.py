from __future__ import annotations

import json

import pytest
import yaml

from feeds.api import authorize, to_record_file
from feeds.errors import RecordError


def test_api_authorize_needs_a_bearer_token() -> None:
    assert authorize(None, "s3cret") == 401
    assert authorize("Basic czNjcmV0", "s3cret") == 401
    assert authorize("Bearer ", "s3cret") == 401


def test_api_authorize_refuses_a_wrong_token() -> None:
    assert authorize("Bearer nope", "s3cret") == 403


def test_api_authorize_accepts_the_token() -> None:
    assert authorize("Bearer s3cret", "s3cret") is None
    assert authorize("bearer s3cret", "s3cret") is None


def test_api_front_matter_body_is_kept_as_is() -> None:
    body = b"---\ntitle: x\n---\n"
    assert to_record_file(body, "text/yaml") is body


def test_api_json_body_becomes_front_matter() -> None:
    body = json.dumps({"id": "00000000000000aa", "title": "T", "published": True}).encode()
    text = to_record_file(body, "application/json; charset=utf-8").decode()
    assert text.startswith("---\n") and text.endswith("---\n")
    assert yaml.safe_load(text.split("---\n")[1]) == {"title": "T", "published": True}


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]"])
def test_api_bad_json_names_the_body(body: bytes) -> None:
    with pytest.raises(RecordError) as caught:
        to_record_file(body, "application/json")
    assert caught.value.field == "body"
