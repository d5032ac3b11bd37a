from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from feeds.cli import main
from feeds.config import Settings


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
    assert "build: 35 files" in capsys.readouterr().out
    assert b"https://cdn.example/feeds/all.atom" in (output / "feeds" / "all.atom").read_bytes()
    assert main(["check", str(output), *_args(settings)]) == 0


def test_cli_check_reports_a_tampered_export(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    output = settings.output_dir
    assert main(["build", *_args(settings), "--output", str(output)]) == 0
    target = output / "feeds" / "all.rss"
    target.write_bytes(target.read_bytes().replace(b"</channel>", b""))
    assert main(["check", str(output), *_args(settings)]) == 1
    out = capsys.readouterr().out
    assert "feeds/all.rss: bytes differ from the manifest" in out
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
