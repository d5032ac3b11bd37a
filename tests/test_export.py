"""The static export: atomic switch, incremental rebuilds, removal, lock, siblings, host headers."""

from __future__ import annotations

import dataclasses
import errno
import gzip
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import brotli
import pytest

from benchmarks.corpus import generate
from feeds.check import check_export
from feeds.compress import MIN_SIZE
from feeds.config import Settings
from feeds.errors import ExportError
from feeds.export import MANIFEST, build_lock, builds_dir, export, read_manifest
from feeds.export.builder import TreeBuilder
from feeds.hosting import HEADERS_FILE, IMMUTABLE_MARKERS, nginx_conf
from feeds.ingest import ingest
from feeds.store import open_store
from tests.conftest import ROOT, require
from tests.helpers import build, documents
from tests.kills import spread

CYBERSECURITY_ONLY_RECORD = "5be20d8f93c1a647"  # the sample seeds' one Cybersecurity record


def _snapshot(output: Path) -> dict[str, tuple[int, int]]:
    """Every file of the export that ``output`` points at: path → (inode, mtime in ns)."""
    tree = output.resolve()
    found = {}
    for directory, _, names in os.walk(tree):
        for name in names:
            stat = os.stat(os.path.join(directory, name))
            found[os.path.relpath(os.path.join(directory, name), tree)] = (stat.st_ino, stat.st_mtime_ns)
    return found


def _set_field(path: Path, field: str, value: str) -> None:
    text = path.read_text(encoding="utf-8")
    edited, count = re.subn(rf"^{field}:.*$", f"{field}: {value}", text, count=1, flags=re.MULTILINE)
    assert count == 1, (path, field)
    path.write_text(edited, encoding="utf-8")


def test_export_leaves_out_a_scheduled_record_until_a_build_after_its_date(
        settings: Settings) -> None:
    record = next(settings.seeds_dir.glob(f"*_{CYBERSECURITY_ONLY_RECORD}.txt"))
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    _set_field(record, "publishedDateTime", due.strftime("%Y-%m-%dT%H:%M:%SZ"))
    build(settings)
    output = settings.output_dir
    assert not list(output.glob("feeds/topics/cybersecurity*"))
    assert b"cybersecurity" not in (output / "feeds.opml").read_bytes()
    assert check_export(output, unpublished_ids=[CYBERSECURITY_ONLY_RECORD]) == []

    store = open_store(settings.store_path)
    try:  # a build run after the record's date
        ingest(store, settings.seeds_dir, settings.max_record_bytes, now=due)
        export(store, settings)
    finally:
        store.close()
    assert CYBERSECURITY_ONLY_RECORD.encode() in (output / "feeds/topics/cybersecurity.atom").read_bytes()
    assert CYBERSECURITY_ONLY_RECORD.encode() in (output / "feeds/all.atom").read_bytes()


@pytest.fixture
def archived(settings: Settings) -> Settings:
    """Small pages, so the sample seeds make archive pages, full (immutable) and not."""
    return dataclasses.replace(settings, items_per_feed=2, archive_page_size=2)


def test_export_second_build_with_nothing_changed_keeps_the_tree(settings: Settings) -> None:
    first = build(settings)
    tree = settings.output_dir.resolve()
    before = _snapshot(settings.output_dir)
    again = build(settings)
    assert settings.output_dir.resolve() == tree
    assert _snapshot(settings.output_dir) == before
    assert (again.written, again.removed) == (0, 0)
    assert again.unchanged == again.total == first.total == first.written
    assert [p.name for p in builds_dir(settings.output_dir).iterdir() if p.name.startswith("build-")] \
        == [tree.name]


def test_export_incremental_edit_rewrites_only_that_records_documents(tmp_path: Path) -> None:
    seeds = tmp_path / "corpus"
    generate(2000, seeds, seed=7)
    settings = Settings(seeds_dir=seeds, store_path=tmp_path / "store.sqlite3",
                        output_dir=tmp_path / "output", base_url="https://cdn.example.org/")
    build(settings)
    before = _snapshot(settings.output_dir)
    edited = sorted(seeds.glob("*.txt"))[1234]
    _set_field(edited, "title", '"An edited title for the incremental test"')
    record_id = edited.stem.split("_")[1]
    store = open_store(settings.store_path)
    feeds = {row[0] for row in store.db.execute(
        "SELECT feed FROM memberships WHERE record_id=?", (record_id,))}
    store.close()
    assert {"all"} < feeds

    report = build(settings)

    after = _snapshot(settings.output_dir)
    changed = {path for path in after if before.get(path) != after[path]}
    prefixes = tuple(f"feeds/{feed}{tail}" for feed in feeds for tail in (".", "/archive/"))

    def allowed(path: str) -> bool:
        document = re.sub(r"\.(gz|br)$", "", path.removeprefix(f"{IMMUTABLE_MARKERS}/"))
        return document in (MANIFEST, HEADERS_FILE, "index.html", "feeds.opml") \
            or document.startswith(prefixes) \
            or document in {f"{feed}/index.html" for feed in feeds}  # the feeds' own pages

    assert sorted(p for p in changed if not allowed(p)) == []
    holding = [p for p in changed if p.endswith(".atom")
               and b"An edited title" in (settings.output_dir / p).read_bytes()]
    assert holding, "the document holding the record was not rewritten"
    assert set(after) == set(before)
    assert report.written == len({p for p in changed if p not in (MANIFEST, HEADERS_FILE)
                                  and not p.startswith(IMMUTABLE_MARKERS)})
    assert report.written < 100 < report.unchanged
    assert check_export(settings.output_dir) == []


def test_export_removes_a_feed_whose_last_record_is_unpublished(settings: Settings) -> None:
    build(settings)
    assert (settings.output_dir / "feeds/topics/cybersecurity.atom").is_file()
    record = next(settings.seeds_dir.glob(f"*_{CYBERSECURITY_ONLY_RECORD}.txt"))
    _set_field(record, "published", "false")

    report = build(settings)

    output = settings.output_dir
    assert not list(output.glob("feeds/topics/cybersecurity*"))
    assert b"cybersecurity" not in (output / "index.html").read_bytes()
    assert b"cybersecurity" not in (output / "feeds.opml").read_bytes()
    assert not [p for p in json.loads((output / MANIFEST).read_text())["files"] if "cybersecurity" in p]
    assert report.removed >= 3
    assert check_export(output, unpublished_ids=[CYBERSECURITY_ONLY_RECORD]) == []


def test_export_writes_smaller_precompressed_siblings_listed_in_the_manifest(output: Path) -> None:
    files = json.loads((output / MANIFEST).read_text())["files"]
    body = (output / "feeds/all.atom").read_bytes()
    assert gzip.decompress((output / "feeds/all.atom.gz").read_bytes()) == body
    assert brotli.decompress((output / "feeds/all.atom.br").read_bytes()) == body
    assert files["feeds/all.atom"]["encoded"] == {
        "br": (output / "feeds/all.atom.br").stat().st_size,
        "gzip": (output / "feeds/all.atom.gz").stat().st_size,
    }
    for path, entry in files.items():
        for coding, suffix in (("gzip", ".gz"), ("br", ".br")):
            sibling = output / (path + suffix)
            assert sibling.exists() == (coding in entry["encoded"])
            if sibling.exists():
                assert sibling.stat().st_size < entry["size"]


def test_export_precompresses_current_documents_and_archive_pages_only_when_asked(
        archived: Settings) -> None:
    build(archived)
    files = read_manifest(archived.output_dir)
    archives = [p for p in files if "/archive/" in p]
    assert archives and all(files[p]["size"] >= MIN_SIZE for p in archives)
    assert all(files[p]["encoded"] == {} for p in archives)
    assert not [p for p in _snapshot(archived.output_dir) if "/archive/" in p and p.endswith((".gz", ".br"))]
    assert files["feeds/all.atom"]["encoded"].keys() == {"gzip", "br"}
    # The old behaviour, named: a settings change, so the next build adds the archives' siblings.
    build(dataclasses.replace(archived, precompress_archives=True))
    files = read_manifest(archived.output_dir)
    assert all(files[p]["encoded"].keys() == {"gzip", "br"} for p in archives)
    assert check_export(archived.output_dir) == []


def test_export_headers_file_gives_each_document_its_type_and_caching(archived: Settings) -> None:
    build(archived)
    output = archived.output_dir
    rules = {}
    for block in (output / HEADERS_FILE).read_text().split("\n\n")[1:]:
        lines = block.strip().splitlines()
        if lines:
            rules[lines[0]] = dict(line.strip().split(": ", 1) for line in lines[1:])
    assert rules["/feeds/all/archive/1.atom"] == {
        "Content-Type": "application/atom+xml; charset=utf-8",
        "Cache-Control": "public, max-age=31536000, immutable",
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": "ETag, Link",
        "Vary": "Accept-Encoding",
        "Surrogate-Key": "feed:all feeds",
        "Cache-Tag": "feed:all,feeds",
    }
    assert rules["/topics/ai/index.html"]["Surrogate-Key"] == "feed:topics/ai feeds"
    assert rules["/feeds.opml"]["Cache-Tag"] == "site,feeds"
    # The newest archive page is not full yet (7 entries: 2 current, pages of 2): not immutable.
    assert rules["/feeds/all/archive/3.json"]["Cache-Control"] == \
        "public, max-age=300, stale-while-revalidate=60"
    assert rules["/"]["Content-Type"] == "text/html; charset=utf-8"
    assert rules["/feeds.opml"]["Content-Type"] == "text/x-opml; charset=utf-8"
    files = json.loads((output / MANIFEST).read_text())["files"]
    assert len(rules) == len(files) + 1  # and /index.html
    assert (output / IMMUTABLE_MARKERS / "feeds/all/archive/1.rss").is_file()
    assert not (output / IMMUTABLE_MARKERS / "feeds/all/archive/3.rss").exists()


def test_export_nginx_snippet_in_docs_is_generated_from_the_defaults() -> None:
    assert (ROOT / "docs" / "nginx.conf").read_text() == nginx_conf(Settings())


def test_export_base_url_sets_self_links_feed_ids_opml_and_index(settings: Settings) -> None:
    base = "https://cdn.example.org/news/"
    build(dataclasses.replace(settings, base_url=base))
    output = settings.output_dir
    atom = (output / "feeds/topics/ai.atom").read_text()
    assert f'<id>{base}feeds/topics/ai.atom</id>' in atom
    assert f'href="{base}feeds/topics/ai.atom" rel="self"' in atom \
        or f'rel="self" href="{base}feeds/topics/ai.atom"' in atom
    assert f'href="{base}feeds/all.rss"' in (output / "feeds/all.rss").read_text()
    assert json.loads((output / "feeds/all.json").read_bytes())["feed_url"] == f"{base}feeds/all.json"
    assert f'xmlUrl="{base}feeds/topics/ai.atom"' in (output / "feeds.opml").read_text()
    assert f'href="{base}feeds/all.atom"' in (output / "index.html").read_text()
    assert "http://feeds.test/" not in "".join(
        p.read_text() for p in output.rglob("*") if p.suffix in (".atom", ".rss", ".json", ".opml"))
    assert check_export(output) == []


def test_export_second_concurrent_build_is_refused_with_a_clear_message(settings: Settings) -> None:
    build(settings)
    tree = settings.output_dir.resolve()
    with build_lock(settings.output_dir):
        with pytest.raises(ExportError, match="another build is running"):
            build(dataclasses.replace(settings, base_url="http://other.test/"))
        result = subprocess.run(
            [sys.executable, "-m", "feeds", "build", "--seeds", str(settings.seeds_dir),
             "--store", str(settings.store_path), "--output", str(settings.output_dir), "-q"],
            capture_output=True, text=True, cwd=ROOT, check=False, timeout=60,
        )
    assert result.returncode == 3
    assert f"another build is running (pid {os.getpid()})" in result.stderr
    assert settings.output_dir.resolve() == tree


def test_export_disk_full_raises_export_error_and_keeps_the_previous_export(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    build(settings)
    tree = settings.output_dir.resolve()
    calls = []

    def full(self: TreeBuilder, path: str, body: bytes) -> None:
        calls.append(path)
        if len(calls) > 5:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.tree / path))
        (self.tree / path).parent.mkdir(parents=True, exist_ok=True)
        (self.tree / path).write_bytes(body)

    monkeypatch.setattr(TreeBuilder, "_put", full)
    with pytest.raises(ExportError, match=r"No space left on device.*previous export .* is unchanged"):
        build(dataclasses.replace(settings, base_url="http://other.test/"))
    assert settings.output_dir.resolve() == tree
    assert check_export(settings.output_dir) == []
    assert [p.name for p in builds_dir(settings.output_dir).iterdir() if p.name.startswith("build-")] \
        == [tree.name]


@contextmanager
def _read_only(directory: Path) -> Iterator[None]:
    """``directory`` unwritable for this process, by the kernel's own check (EACCES or EROFS).

    As a user: mode 0555. As root, whom modes do not stop: a read-only bind mount of the
    directory onto itself (mount(8) needs CAP_SYS_ADMIN, which CI's root has).
    """
    if os.geteuid() != 0:
        directory.chmod(0o555)
        try:
            yield
        finally:
            directory.chmod(0o755)
        return
    mount = shutil.which("mount")
    bound = mount is not None and subprocess.run(
        [mount, "--bind", str(directory), str(directory)], capture_output=True, check=False
    ).returncode == 0
    require("a read-only bind mount (mount --bind as root)", bound,
            "the read-only export case is NOT tested")
    try:
        remount = subprocess.run([mount, "-o", "remount,ro,bind", str(directory)],  # type: ignore[list-item]
                                 capture_output=True, text=True, check=False)
        assert remount.returncode == 0, remount.stderr
        with pytest.raises(OSError) as caught:
            (directory / "probe").touch()
        assert caught.value.errno == errno.EROFS
        yield
    finally:
        subprocess.run(["umount", str(directory)], capture_output=True, check=True)


def test_export_read_only_output_raises_export_error_and_keeps_the_previous_export(
        settings: Settings) -> None:
    build(settings)
    tree = settings.output_dir.resolve()
    with _read_only(builds_dir(settings.output_dir)), \
            pytest.raises(ExportError, match=r"cannot write the export .*previous export"):
        build(dataclasses.replace(settings, base_url="http://other.test/"))
    assert settings.output_dir.resolve() == tree
    assert check_export(settings.output_dir) == []


def _feeds_build(settings: Settings, base_url: str) -> subprocess.Popen[bytes]:
    """`feeds build` in a child process; its errors go to build.log beside the store."""
    with open(settings.store_path.parent / "build.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "feeds", "build", "-q", "--seeds", str(settings.seeds_dir),
             "--store", str(settings.store_path), "--output", str(settings.output_dir),
             "--base-url", base_url],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log,
        )


def _tree_stats(output: Path) -> tuple[Path, dict[str, tuple[int, int, int]]]:
    """The tree ``output`` points at, and each file's (inode, size, mtime in ns).

    Any write to a file, through any of its hard links, changes its mtime: a tree whose stats
    equal those of a tree checked already holds the bytes that were checked.
    """
    tree = output.resolve()
    found = {}
    for directory, _, names in os.walk(tree):
        for name in names:
            stat = os.stat(os.path.join(directory, name))
            found[os.path.relpath(os.path.join(directory, name), tree)] = \
                (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    return tree, found


MID_BUILD_KILLS = 10


def test_export_kill_9_at_random_moments_always_leaves_a_complete_export(tmp_path: Path) -> None:
    seeds = tmp_path / "corpus"
    # Big enough that a full rewrite outlasts start-up several times over (kills land in it).
    generate(800, seeds, seed=11)
    settings = Settings(seeds_dir=seeds, store_path=tmp_path / "store.sqlite3",
                        output_dir=tmp_path / "output", base_url="http://build-0.test/")
    build(settings)
    started = time.monotonic()
    # A new base URL changes every document, so every build rewrites the whole tree.
    assert _feeds_build(settings, "http://build-1.test/").wait(timeout=120) == 0, \
        (tmp_path / "build.log").read_text()
    duration = time.monotonic() - started
    # A build with nothing to do (the same base URL): start-up, the scan and the manifest check.
    # A kill before about this much time has passed tests nothing about the export, so it does
    # not count (calibrated as tests/test_faults.py does for ingests).
    started = time.monotonic()
    assert _feeds_build(settings, "http://build-1.test/").wait(timeout=120) == 0
    idle = time.monotonic() - started
    completed = {"http://build-0.test/", "http://build-1.test/"}
    rng = random.Random(2024)
    checked = settings.output_dir.resolve()
    kills = {"early": 0, "mid-build": 0}
    # More rounds only while too few kills have landed mid-build (a loaded machine shifts timings).
    for attempt in range(2, 60):
        if kills["mid-build"] >= MID_BUILD_KILLS:
            break
        base_url = f"http://build-{attempt}.test/"
        process = _feeds_build(settings, base_url)
        # Two kills in three aim at the build's work, spread over it; the rest anywhere up to
        # its end (start-up, and the switch at the end).
        delay = spread(attempt, idle * 1.5, max(idle * 1.6, duration * 0.95)) if attempt % 3 \
            else rng.uniform(0.05, duration)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        code = process.wait(timeout=60)
        if code == 0:
            completed.add(base_url)
        else:
            assert code == -signal.SIGKILL, (tmp_path / "build.log").read_text()
            kills["mid-build" if delay > idle * 1.2 else "early"] += 1
        current = settings.output_dir.resolve()
        manifest = json.loads((current / MANIFEST).read_text())
        # The previous export, or this build's when the kill came after its switch.
        assert manifest["base_url"] in completed | {base_url}
        completed.add(manifest["base_url"])
        if current != checked:  # an unchanged tree was checked already
            assert check_export(settings.output_dir) == [], f"after kill at attempt {attempt}"
            checked = current
    print(f"kill -9 during builds: {kills}; idle build {idle:.2f} s, full {duration:.2f} s")
    assert kills["mid-build"] >= MID_BUILD_KILLS, (kills, idle, duration)
    final = _feeds_build(settings, "http://final.test/")
    assert final.wait(timeout=120) == 0
    assert json.loads((settings.output_dir / MANIFEST).read_text())["base_url"] == "http://final.test/"
    assert check_export(settings.output_dir) == []
    leftovers = [p.name for p in builds_dir(settings.output_dir).iterdir() if p.name.startswith("build-")]
    assert len(leftovers) <= 2  # the current tree and the one before it


def test_export_incremental_builds_equal_a_fresh_build_after_inserts_edits_and_removals(
        archived: Settings, tmp_path: Path) -> None:
    build(archived)
    seeds = archived.seeds_dir
    # An older record shifts every archive page after it; an edit and an unpublish change others.
    inserted = seeds / "010_0123456789abcdef.txt"
    shutil.copy(next(seeds.glob("001_*.txt")), inserted)
    _set_field(inserted, "publishedDateTime", "2022-01-01T08:00:00Z")
    _set_field(inserted, "webUrl", '"https://example.com/an-older-article"')
    _set_field(next(seeds.glob("006_*.txt")), "title", '"A new title"')
    _set_field(next(seeds.glob("002_*.txt")), "published", "false")
    build(archived)
    (seeds / next(seeds.glob("003_*.txt")).name).unlink()
    build(archived)

    fresh = dataclasses.replace(archived, store_path=tmp_path / "fresh.sqlite3",
                                output_dir=tmp_path / "fresh")
    build(fresh)
    assert documents(archived.output_dir, markers=True) == documents(fresh.output_dir, markers=True)
    assert check_export(archived.output_dir) == []


def test_export_hugo_like_settings_write_rss_only_without_archives_or_siblings(
        archived: Settings) -> None:
    settings = dataclasses.replace(archived, formats=("rss",), archives=False, precompress=False)
    build(settings)
    files = set(_snapshot(settings.output_dir))
    feeds = {f for f in files if f.startswith("feeds/")}
    assert feeds and all(f.endswith(".rss") for f in feeds), sorted(feeds)
    assert not [f for f in files if f.endswith((".gz", ".br")) or "/archive/" in f]
    # Turning precompression on is a settings change: the next build adds the siblings.
    build(dataclasses.replace(settings, precompress=True))
    assert [f for f in _snapshot(settings.output_dir) if f.endswith(".gz")]


def _tree_files_and_folders(output: Path) -> tuple[dict[str, bytes], set[str]]:
    """Every file of the export (manifest included) with its bytes, and every folder."""
    tree = output.resolve()
    files, folders = {}, set()
    for directory, subdirectories, names in os.walk(tree):
        folders.update(os.path.relpath(os.path.join(directory, d), tree) for d in subdirectories)
        for name in names:
            path = os.path.join(directory, name)
            files[os.path.relpath(path, tree)] = Path(path).read_bytes()
    return files, folders


def _fresh_export(settings: Settings, tmp_path: Path, name: str) -> Path:
    fresh = dataclasses.replace(settings, store_path=tmp_path / f"{name}.sqlite3",
                                output_dir=tmp_path / name)
    build(fresh)
    return fresh.output_dir


def test_export_recycled_trees_equal_a_fresh_export_file_for_file_after_edits_and_reverts(
        archived: Settings, tmp_path: Path) -> None:
    seeds = archived.seeds_dir
    edited = next(seeds.glob("006_*.txt"))
    original = edited.read_text(encoding="utf-8")
    build(archived)
    first = archived.output_dir.resolve()
    first_inode = first.stat().st_ino
    _set_field(edited, "title", '"A new title"')
    _set_field(next(seeds.glob(f"*_{CYBERSECURITY_ONLY_RECORD}.txt")), "published", "false")
    build(archived)
    # The third build recycles the first tree: the edit is reverted (the first tree's bytes
    # again), one more record goes, and the Cybersecurity feed's folders must go with it.
    edited.write_text(original, encoding="utf-8")
    next(seeds.glob("003_*.txt")).unlink()
    build(archived)
    assert archived.output_dir.resolve().stat().st_ino == first_inode
    assert not first.exists()
    assert _tree_files_and_folders(archived.output_dir) == \
        _tree_files_and_folders(_fresh_export(archived, tmp_path, "fresh-3"))
    # The fourth recycles the second tree, which still holds the edit and the unpublished feed.
    _set_field(next(seeds.glob("001_*.txt")), "title", '"Another title"')
    build(archived)
    assert _tree_files_and_folders(archived.output_dir) == \
        _tree_files_and_folders(_fresh_export(archived, tmp_path, "fresh-4"))
    assert check_export(archived.output_dir, unpublished_ids=[CYBERSECURITY_ONLY_RECORD]) == []
    assert len([p for p in builds_dir(archived.output_dir).iterdir()
                if p.name.startswith("build-")]) == 2


def test_export_recycled_build_keeps_the_inode_and_mtime_of_every_unchanged_file(
        archived: Settings) -> None:
    seeds = archived.seeds_dir
    build(archived)
    _set_field(next(seeds.glob("006_*.txt")), "title", '"A new title"')
    build(archived)
    before = _snapshot(archived.output_dir)
    current = archived.output_dir.resolve()
    contents = _tree_files_and_folders(current)
    old_files = json.loads((archived.output_dir / MANIFEST).read_text())["files"]
    _set_field(next(seeds.glob("001_*.txt")), "title", '"Another title"')

    report = build(archived)

    # The tree just replaced is intact: the recycled one shared inodes with it.
    assert _tree_files_and_folders(current) == contents
    assert _snapshot(current) == before
    after = _snapshot(archived.output_dir)
    new_files = json.loads((archived.output_dir / MANIFEST).read_text())["files"]
    rewritten = {path for path, entry in new_files.items() if old_files[path]["etag"] != entry["etag"]}
    assert rewritten and set(new_files) == set(old_files)
    changed = {p for p in after if before.get(p) != after[p]} - {MANIFEST}
    assert {re.sub(r"\.(gz|br)$", "", p) for p in changed} == rewritten
    assert report.written == len(changed)
    assert set(after) == set(before)


def test_export_tree_left_without_manifest_by_a_killed_build_is_deleted_not_trusted(
        archived: Settings, tmp_path: Path) -> None:
    seeds = archived.seeds_dir
    build(archived)
    _set_field(next(seeds.glob("006_*.txt")), "title", '"A new title"')
    build(archived)
    root = builds_dir(archived.output_dir)
    # A build killed after deleting the recyclable tree's manifest, before renaming it, and
    # one killed later, after renaming it and writing a file the manifest would not list.
    recyclable = root / os.readlink(root / "previous")
    (recyclable / MANIFEST).unlink()
    damaged = recyclable / "feeds/all.atom"
    damaged.unlink()  # a hard link shared with the current tree: never write through it
    damaged.write_bytes(b"half-written")
    killed = root / "build-1-1"
    shutil.copytree(recyclable, killed)
    (killed / "feeds/stray.atom").write_bytes(b"left over")
    _set_field(next(seeds.glob("001_*.txt")), "title", '"Another title"')

    build(archived)

    assert not recyclable.exists() and not killed.exists()
    assert _tree_files_and_folders(archived.output_dir) == \
        _tree_files_and_folders(_fresh_export(archived, tmp_path, "fresh"))
    assert check_export(archived.output_dir) == []


def test_export_kill_9_while_recycling_a_tree_always_leaves_a_complete_export(
        tmp_path: Path) -> None:
    seeds = tmp_path / "corpus"
    generate(1500, seeds, seed=13)
    base_url = "http://recycled.test/"
    settings = Settings(seeds_dir=seeds, store_path=tmp_path / "store.sqlite3",
                        output_dir=tmp_path / "output", base_url=base_url)
    edited = sorted(seeds.glob("*.txt"))[700:760]
    build(settings)
    # A build with nothing to do, then one recycling a tree, uninterrupted: kills are aimed
    # between the two, and only those landing after an idle build's time count.
    started = time.monotonic()
    assert _feeds_build(settings, base_url).wait(timeout=120) == 0
    idle = time.monotonic() - started
    _set_field(edited[-1], "title", '"Edited title before the kills"')
    started = time.monotonic()
    assert _feeds_build(settings, base_url).wait(timeout=120) == 0, \
        (tmp_path / "build.log").read_text()
    work = time.monotonic() - started
    assert check_export(settings.output_dir) == []
    checked = _tree_stats(settings.output_dir)
    kills = {"early": 0, "mid-build": 0}
    for attempt in range(40):
        if kills["mid-build"] >= 8:
            break
        # Each build has something to do: one more title edited, so the tree is recycled.
        _set_field(edited[attempt % len(edited)], "title", f'"Edited title {attempt}"')
        process = _feeds_build(settings, base_url)
        delay = spread(attempt, idle, max(idle * 1.3, work * 0.95))
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        code = process.wait(timeout=60)
        assert code in (0, -signal.SIGKILL), (tmp_path / "build.log").read_text()
        if code == -signal.SIGKILL:
            kills["mid-build" if delay > idle * 1.1 else "early"] += 1
        # The full check only when the current tree is another, or a file of it was written
        # (recycled trees share inodes with it): else it holds the bytes checked already.
        if _tree_stats(settings.output_dir) != checked:
            assert check_export(settings.output_dir) == [], f"after kill at attempt {attempt}"
            checked = _tree_stats(settings.output_dir)
    print(f"kill -9 while recycling: {kills}; idle build {idle:.2f} s, recycling {work:.2f} s")
    assert kills["mid-build"] >= 5, (kills, idle, work)
    assert _feeds_build(settings, base_url).wait(timeout=120) == 0
    assert _feeds_build(settings, base_url).wait(timeout=120) == 0  # a no-op: nothing changed
    assert _tree_files_and_folders(settings.output_dir) == \
        _tree_files_and_folders(_fresh_export(settings, tmp_path, "fresh"))
