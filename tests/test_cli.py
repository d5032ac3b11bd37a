from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.corpus import generate
from feeds.cli import main
from feeds.config import Settings
from tests.conftest import ROOT


def _args(settings: Settings) -> list[str]:
    return ["--seeds", str(settings.seeds_dir), "--store", str(settings.store_path)]


@pytest.mark.parametrize("command", ["ingest", "build", "serve", "check", "stats"])
def test_cli_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    assert "--config" in capsys.readouterr().out


def test_cli_ingest_prints_one_line_summary(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", *_args(settings)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "ingest: 9 files seen, 9 ingested, 0 unchanged, 0 rejected, 0 removed"
    )


def test_cli_build_then_check(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    output = settings.output_dir
    args = [*_args(settings), "--output", str(output), "--base-url", "https://cdn.example/"]
    assert main(["build", *args]) == 0
    written = sum(1 for p in output.rglob("*") if p.is_file())
    summary = capsys.readouterr().out.splitlines()[-1]
    # Every file of the tree but the manifest, _headers and the immutable markers is counted.
    assert summary.startswith("build: ") and summary.endswith(" written, 0 unchanged, 0 removed")
    assert 50 < int(summary.split()[1]) <= written
    assert b"https://cdn.example/feeds/all.atom" in (output / "feeds" / "all.atom").read_bytes()
    assert main(["check", str(output), *_args(settings)]) == 0


def test_cli_check_reports_a_tampered_export(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    output = settings.output_dir
    assert main(["build", *_args(settings), "--output", str(output)]) == 0
    target = output / "feeds" / "all.rss"
    target.write_bytes(target.read_bytes().replace(b"</channel>", b""))
    assert main(["check", str(output), *_args(settings)]) == 1
    out = capsys.readouterr().out
    assert any(line.startswith("problem: feeds/all.rss: ") and "the manifest" in line
               for line in out.splitlines())
    assert "feeds/all.rss: not well-formed" in out


def test_cli_bad_config_exits_2_with_the_setting_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text("items_per_feed: lots\n")
    assert main(["stats", "--config", str(config)]) == 2
    assert "items_per_feed: expected an integer" in capsys.readouterr().err


def test_cli_runs_as_python_module(settings: Settings) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "feeds", "ingest", "--quiet", *_args(settings)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ingest: 9 files seen")


# The renderers' libraries: a build with nothing new has nothing to render, so loads none.
# A build with nothing new imports none of these: the libraries and feeds' own rendering and
# tree-filling modules (tens of milliseconds of a no-op build's start).
RENDERING_LIBRARIES = ("feedgen", "lxml", "jinja2", "feeds.render.common", "feeds.render.renderer",
                       "feeds.export.builder", "feeds.export.plan")


def test_cli_build_with_nothing_new_loads_no_renderer(settings: Settings) -> None:
    command = [*_args(settings), "--output", str(settings.output_dir), "--quiet"]
    probe = ("import sys; from feeds.cli import main; code = main(['build', *sys.argv[1:]]); "
             f"print(sorted(set({RENDERING_LIBRARIES!r}) & sys.modules.keys())); sys.exit(code)")
    loaded = []
    for _ in range(2):
        result = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True,
                                text=True, check=False, cwd=ROOT)
        assert result.returncode == 0, result.stderr
        loaded.append(result.stdout.strip().splitlines()[-1])
    # The first build renders everything: were the probe blind, the second would pass anyway.
    assert loaded == [repr(sorted(RENDERING_LIBRARIES)), "[]"]


def test_cli_ingest_with_an_empty_feeds_config(settings: Settings, tmp_path: Path) -> None:
    # `FEEDS_CONFIG= feeds ingest`: set but empty means no configuration file.
    env = {**os.environ, "FEEDS_CONFIG": ""}
    result = subprocess.run(
        [sys.executable, "-m", "feeds", "ingest", "--quiet", *_args(settings)],
        capture_output=True, text=True, check=False, env=env, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ingest: 9 files seen")


def test_cli_help_documents_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "exit codes:" in out
    for code in ("0  success", "1  check found problems", "2  bad usage", "3  the store"):
        assert code in out


def _with_rejected_file(settings: Settings) -> None:
    (settings.seeds_dir / "200_0123456789abcdef.txt").write_text(
        "---\ntitle: Broken\nwebUrl: nope\n---\n", encoding="utf-8")


def test_cli_stats_prints_kinds_feeds_dates_and_rejected_files(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    _with_rejected_file(settings)
    assert main(["ingest", "--quiet", *_args(settings)]) == 0
    capsys.readouterr()
    assert main(["stats", "--store", str(settings.store_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["kind", "feeds", "entries", "oldest", "newest"]
    assert lines[1].split() == ["all", "1", "7", "2021-05-21T18:09:00Z", "2024-06-12T16:20:00Z"]
    assert lines[3].split()[:3] == ["topics", "6", "21"]
    assert "topics/cybersecurity 1 2023-03-14T09:00:00Z 2023-03-14T09:00:00Z" in [
        " ".join(line.split()) for line in lines]
    assert lines[-2] == "11 feeds, 7 published of 9 records, 0 scheduled, 1 rejected files"
    assert lines[-1] == ("rejected: 200_0123456789abcdef.txt: webUrl: expected an absolute "
                         "http(s) URL")


def test_cli_on_a_terminal_ends_with_summary_tables(
    settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_rejected_file(settings)
    monkeypatch.setattr("feeds.cli._plain", lambda quiet: quiet)
    assert main(["ingest", *_args(settings)]) == 0
    out = capsys.readouterr().out
    assert "files seen" in out and "ingest: 10 files" not in out
    assert main(["stats", "--store", str(settings.store_path)]) == 0
    out = capsys.readouterr().out
    assert "feeds by kind" in out and "rejected files" in out and "200_0123456789abcdef.txt" in out
    assert main(["ingest", "--quiet", *_args(settings)]) == 0
    assert capsys.readouterr().out.startswith("ingest: 10 files seen")


def test_cli_stats_without_a_store_says_what_to_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stats", "--store", str(tmp_path / "none.sqlite3")]) == 3
    assert "run `feeds ingest` first" in capsys.readouterr().err


def _on_a_terminal(command: list[str]) -> tuple[int, str]:
    """Run ``command`` with a pseudo-terminal as its stdin, stdout and stderr; its exit code and
    what the terminal received, colours and cursor moves removed."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(command, stdin=terminal, stdout=terminal, stderr=terminal, cwd=ROOT,
                               env={**os.environ, "TERM": "xterm", "COLUMNS": "120"})
    os.close(terminal)
    received = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the terminal's other end closed
            break
        if not chunk:
            break
        received += chunk
    os.close(controller)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", received.decode("utf-8", "replace"))
    return process.wait(timeout=60), text


def test_cli_build_on_a_terminal_shows_progress_and_a_summary_table(tmp_path: Path) -> None:
    generate(300, tmp_path / "seeds", seed=3)
    code, shown = _on_a_terminal([
        sys.executable, "-m", "feeds", "build", "--seeds", str(tmp_path / "seeds"),
        "--store", str(tmp_path / "store.sqlite3"), "--output", str(tmp_path / "output")])
    assert code == 0, shown
    # README: a progress bar (count, percentage, rate), then a summary table.
    assert re.search(r"ingest [━╸╺ ]+ *\d+/300 +\d+%", shown), shown[-2000:]
    assert re.search(r"build [━╸╺ ]+ *(\d+)/\1 +100% +[\d,]+/s", shown), shown[-2000:]
    assert re.search(r"┃ files ┃ written ┃ unchanged ┃ removed ┃", shown), shown[-2000:]
    assert "build: " in shown and "files in output" not in shown  # not the plain line
