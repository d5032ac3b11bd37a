"""A real Varnish (Debian's varnish and varnish-modules) on 127.0.0.1, for tests and benchmarks."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.live import stop

__all__ = ["VARNISHD", "installed", "varnish"]

VARNISHD = shutil.which("varnishd") or "/usr/sbin/varnishd"
# Debian's varnish-modules: the xkey vmod the generated VCL imports.
XKEY = "/usr/lib/x86_64-linux-gnu/varnish/vmods/libvmod_xkey.so"


def installed() -> bool:
    """True when varnishd and the xkey vmod are both here."""
    return os.access(VARNISHD, os.X_OK) and os.path.exists(XKEY)


def _accepting(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def varnish(vcl: str, workdir: Path, port: int, timeout: float = 30.0) -> Iterator[str]:
    """Run varnishd with ``vcl`` on 127.0.0.1:``port`` until the block ends; yields its URL.

    ``-j none`` runs it as the current user (no jail), with its working directory in ``workdir``
    and no management port, so tests running at once never share anything.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "feeds.vcl").write_text(vcl, encoding="utf-8")
    log = open(workdir / "varnishd.log", "wb")  # noqa: SIM115 - closed in finally
    process = subprocess.Popen(
        [VARNISHD, "-F", "-j", "none", "-a", f"127.0.0.1:{port}", "-T", "none",
         "-f", str(workdir / "feeds.vcl"), "-n", str(workdir / "state"), "-s", "malloc,64m"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + timeout
        while not _accepting(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"varnishd did not start: {(workdir / 'varnishd.log').read_text()}")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process, 15)
        log.close()
