"""The generated VCL: what `python -m feeds.hosting varnish` prints, and that Varnish compiles it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from feeds.errors import ConfigError
from feeds.hosting import main
from feeds.vcl import parse_backend, varnish_vcl
from tests.conftest import require
from tests.varnish import VARNISHD, installed


def test_vcl_backend_is_host_and_port_ipv6_in_brackets() -> None:
    assert parse_backend("127.0.0.1:8000") == ("127.0.0.1", 8000)
    assert parse_backend("[::1]:8080") == ("::1", 8080)
    for bad in ("127.0.0.1", "host:0", "host:http", ':80', 'a"b:80'):
        with pytest.raises(ConfigError, match="--backend: expected HOST:PORT"):
            parse_backend(bad)


def test_vcl_purgers_are_the_allowed_addresses_only() -> None:
    vcl = varnish_vcl("10.0.0.5:8000", ["192.0.2.7", "10.1.0.0/16"])
    acl = vcl.split("acl purgers {")[1].split("}")[0]
    assert acl.split() == ['"192.0.2.7";', '"10.1.0.0"/16;']
    assert '.host = "10.0.0.5";' in vcl and '.port = "8000";' in vcl
    with pytest.raises(ConfigError, match="--allow: expected an IP address"):
        varnish_vcl("h:1", ["everyone"])


def test_vcl_printed_by_the_command_compiles_with_varnish_and_xkey(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require("varnish and varnish-modules", installed(), "the generated VCL is not compiled")
    assert main(["varnish", "--backend", "127.0.0.1:8000", "--allow", "127.0.0.1"]) == 0
    vcl = tmp_path / "feeds.vcl"
    vcl.write_text(capsys.readouterr().out)
    compiled = subprocess.run([VARNISHD, "-C", "-j", "none", "-f", str(vcl), "-n", str(tmp_path / "state")],
                              capture_output=True, text=True, timeout=60)
    assert compiled.returncode == 0, compiled.stderr
    assert "xkey" in compiled.stdout + compiled.stderr
