"""A local S3 API (moto's server mode) on 127.0.0.1, for tests and benchmarks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.live import free_port, stop

__all__ = ["aws_environment", "moto_server"]


def aws_environment(endpoint: str, home: Path) -> dict[str, str]:
    """The standard AWS variables pointing boto3 at ``endpoint``, reading no file outside ``home``."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(home / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@contextmanager
def moto_server(workdir: Path, timeout: float = 30.0) -> Iterator[str]:
    """Run moto's S3 server until the block ends; yields its endpoint URL."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = open(workdir / "moto.log", "wb")  # noqa: SIM115 - closed in finally
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                httpx.get(url + "/moto-api/", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto did not start: {(workdir / 'moto.log').read_text()}") from None
                time.sleep(0.1)
        yield url
    finally:
        stop(process)
        log.close()
