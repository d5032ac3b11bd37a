"""`feeds check`: a sound export passes; each kind of damage to a copy is reported precisely."""

from __future__ import annotations

import dataclasses
import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from feeds.check import check_export, secret_fragments
from feeds.config import Settings
from feeds.export import MANIFEST
from feeds.render.renderer import etag_of
from tests.conftest import ROOT, build
from tests.helpers import secured_values


@pytest.fixture
def sound(settings: Settings, tmp_path: Path) -> Path:
    """A copy of a fresh export with archive pages (small pages), free to tamper with."""
    output = build(dataclasses.replace(settings, items_per_feed=2, archive_page_size=2))
    copy = tmp_path / "copy"
    shutil.copytree(output.resolve(), copy)
    return copy


def _manifest(export: Path) -> dict[str, Any]:
    files: dict[str, Any] = json.loads((export / MANIFEST).read_text())["files"]
    return files


def test_check_sound_export_has_no_problems(sound: Path, seeds_dir: Path) -> None:
    assert check_export(sound, secret_fragments(seeds_dir), ["db6714534f1f249c"]) == []


def test_check_reports_a_changed_byte(sound: Path) -> None:
    target = sound / "feeds/topics/ai.rss"
    body = bytearray(target.read_bytes())
    at = body.index(b"<title>") + len(b"<title>") + 1  # inside text: still well-formed
    body[at] = ord("X") if body[at] != ord("X") else ord("Y")
    target.write_bytes(bytes(body))
    etag = _manifest(sound)["feeds/topics/ai.rss"]["etag"]
    assert check_export(sound) == [
        f"feeds/topics/ai.rss: content differs from the manifest's hash {etag}",
        "feeds/topics/ai.rss.br: decompresses to bytes other than feeds/topics/ai.rss's",
        "feeds/topics/ai.rss.gz: decompresses to bytes other than feeds/topics/ai.rss's",
    ]


def test_check_reports_a_deleted_file(sound: Path) -> None:
    (sound / "feeds/all/archive/1.json").unlink()
    assert "feeds/all/archive/1.json: listed in the manifest but missing" in check_export(sound)


def test_check_reports_a_broken_internal_link(sound: Path) -> None:
    # Drop the oldest archive page cleanly (files and manifest entry): page 2 still links to it.
    files = json.loads((sound / MANIFEST).read_text())
    # (Archive pages have no precompressed siblings: feeds.hosting.precompressed.)
    for name in ("feeds/all/archive/1.atom", ".immutable/feeds/all/archive/1.atom"):
        (sound / name).unlink()
    del files["files"]["feeds/all/archive/1.atom"]
    (sound / MANIFEST).write_text(json.dumps(files))
    assert check_export(sound) == [
        "feeds/all/archive/2.atom: links to http://feeds.test/feeds/all/archive/1.atom, "
        "which is not in the export",
    ]


def test_check_reports_an_rss_channel_link_to_a_missing_page(sound: Path) -> None:
    files = json.loads((sound / MANIFEST).read_text())
    for name in ("providers/cio-com/index.html", "providers/cio-com/index.html.gz",
                 "providers/cio-com/index.html.br"):
        (sound / name).unlink()
    del files["files"]["providers/cio-com/index.html"]
    (sound / MANIFEST).write_text(json.dumps(files))
    assert ("feeds/providers/cio-com.rss: links to http://feeds.test/providers/cio-com/, "
            "which is not in the export") in check_export(sound)


def test_check_reports_a_secured_fragment_and_an_unpublished_record(
        sound: Path, seeds_dir: Path) -> None:
    target = sound / "index.html"
    secret = secured_values(seeds_dir)[0][:40]
    target.write_bytes(target.read_bytes().replace(b"</body>", f"<p>{secret}</p></body>".encode()))
    problems = check_export(sound, secret_fragments(seeds_dir), ["db6714534f1f249c"])
    assert "index.html: contains part of a record's secured value" in problems
    assert not [p for p in problems if secret[:12] in p], "a problem line repeats the secret"

    feed = sound / "feeds/providers/cio-com.json"
    feed.write_bytes(feed.read_bytes().replace(b"e5f4058c570a59fe", b"db6714534f1f249c"))
    problems = check_export(sound, (), ["db6714534f1f249c"])
    assert "feeds/providers/cio-com.json: contains the unpublished record db6714534f1f249c" in problems


def test_check_reports_bad_siblings_markers_formats_and_stray_files(sound: Path) -> None:
    (sound / "feeds/all.atom.gz").write_bytes(gzip.compress(b"something else", mtime=0))
    (sound / ".immutable/feeds/all/archive/1.rss").unlink()
    (sound / "feeds/stray.txt").write_text("left behind")
    problems = check_export(sound)
    size = (sound / "feeds/all.atom.gz").stat().st_size
    listed = _manifest(sound)["feeds/all.atom"]["encoded"]["gzip"]
    assert f"feeds/all.atom.gz: size {size}, the manifest says {listed}" in problems
    assert "feeds/all.atom.gz: decompresses to bytes other than feeds/all.atom's" in problems
    assert ("feeds/all/archive/1.rss: immutable, but its marker "
            ".immutable/feeds/all/archive/1.rss is missing") in problems
    assert "feeds/stray.txt: in the export but not in the manifest" in problems


def test_check_reports_a_document_that_does_not_parse_and_a_wrong_self_link(sound: Path) -> None:
    files = json.loads((sound / MANIFEST).read_text())
    opml = b"<opml><body>"
    atom = (sound / "feeds/all.atom").read_bytes().replace(
        b'feeds/all.atom" rel="self"', b'feeds/other.atom" rel="self"')
    for path, body in (("feeds.opml", opml), ("feeds/all.atom", atom)):
        (sound / path).write_bytes(body)
        for suffix in (".gz", ".br"):
            (sound / (path + suffix)).unlink(missing_ok=True)
        files["files"][path].update(size=len(body), encoded={},
                                    etag=etag_of(body))
    (sound / MANIFEST).write_text(json.dumps(files))
    problems = check_export(sound)
    assert [p for p in problems if p.startswith("feeds.opml: not well-formed")]
    assert ("feeds/all.atom: self link http://feeds.test/feeds/other.atom, "
            "expected http://feeds.test/feeds/all.atom") in problems


def test_check_command_exits_1_with_problem_lines_and_0_when_sound(
        sound: Path, settings: Settings) -> None:
    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "feeds", "check", str(sound), "--seeds", str(settings.seeds_dir),
             "--store", str(settings.store_path)],
            capture_output=True, text=True, cwd=ROOT, check=False, timeout=60,
        )

    clean = run()
    assert (clean.returncode, clean.stdout) == (0, f"check: {sound}: 0 problem(s)\n")
    (sound / "feeds/all.rss").unlink()
    broken = run()
    assert broken.returncode == 1
    assert "problem: feeds/all.rss: listed in the manifest but missing\n" in broken.stdout
    assert broken.stdout.endswith(f"check: {sound}: {broken.stdout.count('problem: ')} problem(s)\n")
