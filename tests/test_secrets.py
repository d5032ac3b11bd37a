"""No 12-character run of any ``secured`` value leaves the record files: not in an exported file,
an HTTP response (errors included), the publishing API's answers, the command's output or the logs.

Over a generated corpus of about a thousand records, the sample seeds and the nasty corpus.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from benchmarks.corpus import generate
from feeds.app import create_app
from feeds.cli import main
from feeds.config import Settings
from tests.conftest import SEEDS

NASTY = Path(__file__).resolve().parent / "nasty" / "records"
RUN = 12
TOKEN = "secrets-test-token-000"
_SECURED = re.compile(rb'(?:^|[\r\n])secured:[ \t]*"([^"\r\n]*)"')


@dataclass(frozen=True)
class Secrets:
    chunks: frozenset[bytes]
    runs: re.Pattern[bytes]  # maximal runs of the characters secrets are made of, RUN or longer

    def leaks(self, body: bytes) -> list[bytes]:
        """The secret chunks found in ``body``."""
        found = []
        for match in self.runs.finditer(body):
            run = match.group()
            found += [run[i:i + RUN] for i in range(len(run) - RUN + 1) if run[i:i + RUN] in self.chunks]
        return found


def _secrets(seeds: Path) -> Secrets:
    values = [value for path in seeds.iterdir() for value in _SECURED.findall(path.read_bytes())]
    assert len(values) > 1000
    chunks = frozenset(v[i:i + RUN] for v in values for i in range(len(v) - RUN + 1))
    alphabet = sorted(set(b"".join(values)))
    runs = re.compile(b"[" + b"".join(re.escape(bytes([c])) for c in alphabet) + b"]{%d,}" % RUN)
    return Secrets(chunks, runs)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Secrets]:
    root = tmp_path_factory.mktemp("secrets")
    seeds = root / "seeds"
    generate(1000, seeds, seed=11)
    for source in (*SEEDS.glob("*.txt"), *NASTY.iterdir()):
        shutil.copy(source, seeds / source.name)
    settings = Settings(seeds_dir=seeds, store_path=root / "store.sqlite3", output_dir=root / "output",
                        base_url="http://feeds.test/", watch=False, api_token=TOKEN)
    return settings, _secrets(seeds)


def _assert_clean(secrets: Secrets, items: Iterable[tuple[str, bytes]]) -> int:
    checked = 0
    for where, body in items:
        assert secrets.leaks(body) == [], where
        checked += 1
    return checked


def test_secrets_check_finds_a_planted_secret(corpus: tuple[Settings, Secrets]) -> None:
    _, secrets = corpus
    planted = next(iter(secrets.chunks))
    assert secrets.leaks(b"<p>" + planted + b"</p>") == [planted]


def test_secrets_never_in_the_export_or_the_command_output(
        corpus: tuple[Settings, Secrets], capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    settings, secrets = corpus
    caplog.set_level(logging.DEBUG)
    config = settings.store_path.parent / "feeds.yaml"
    config.write_text(f"seeds_dir: {settings.seeds_dir}\nstore_path: {settings.store_path}\n"
                      f"output_dir: {settings.output_dir}\nbase_url: {settings.base_url}\n", "utf-8")
    assert main(["build", "--config", str(config)]) == 0
    assert main(["stats", "--quiet", "--config", str(config)]) == 0
    out = capsys.readouterr()
    assert "rejected: " in out.err and "rejected: " in out.out  # the nasty files were reported
    files = [p for p in settings.output_dir.rglob("*") if p.is_file()]
    assert len(files) > 400
    _assert_clean(secrets, ((str(p), p.read_bytes()) for p in files))
    _assert_clean(secrets, [("stdout", out.out.encode()), ("stderr", out.err.encode()),
                            ("logs", caplog.text.encode())])
    wal = Path(str(settings.store_path) + "-wal")
    store = settings.store_path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    _assert_clean(secrets, [("store", store)])


def _secret_looking(n: int) -> str:
    return base64.b64encode(os.urandom(n)).decode()


def test_secrets_never_in_any_response_or_the_access_log(
        corpus: tuple[Settings, Secrets], caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    settings, secrets = corpus
    # Identity bodies only: the bytes to search; brotli at its best quality would dominate the run.
    monkeypatch.setattr("feeds.cache.encode", lambda body, coding, **_: None)
    caplog.set_level(logging.INFO)
    served = replace(settings, store_path=settings.store_path.with_name("served.sqlite3"))
    with TestClient(create_app(served)) as client:
        paths = ["/" + p for p in client.app.state.publisher.renderer.document_paths()]  # type: ignore[attr-defined]
        assert len(paths) > 400
        responses = [(path, client.get(path)) for path in paths]
        assert all(r.status_code == 200 for _, r in responses)
        # Errors: paths and queries that look like secrets, a bad token, bad and good records.
        junk = [_secret_looking(48) for _ in range(5)]
        errors = [client.get(f"/feeds/{j}.atom") for j in junk]
        errors += [client.get(f"/feeds/all.atom?limit={j}") for j in junk]
        errors += [client.get(f"/topics/{j.replace('/', '_')}/") for j in junk]
        errors.append(client.post("/api/records", content=b"x", headers={"Authorization": "Bearer no"}))
        auth = {"Authorization": f"Bearer {TOKEN}"}
        nasty_record = (NASTY / "bad_type_title.txt").read_bytes()
        errors.append(client.post("/api/records", content=nasty_record, headers=auth))
        good_record = (NASTY / "ok_html_everywhere.txt").read_bytes().replace(
            b"nasty.example/html_everywhere", b"nasty.example/posted")
        errors.append(client.post("/api/records", content=good_record, headers=auth))
        assert [e.status_code for e in errors[-3:]] == [403, 400, 201]
        errors.append(client.get("/healthz"))
    assert {e.status_code for e in errors} >= {400, 404}
    checked = _assert_clean(secrets, (
        (str(response.request.url), response.content + str(response.headers).encode())
        for response in [r for _, r in responses] + errors))
    assert checked == len(paths) + len(errors)
    assert '"status":404' in caplog.text and '"status":201' in caplog.text  # the access log ran
    _assert_clean(secrets, [("logs", caplog.text.encode())])
