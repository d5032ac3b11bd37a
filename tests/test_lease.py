"""The ingest lease: one holder at a time, taken over when the holder dies."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from feeds.lease import Lease, lease_path
from tests.live import wait_for


def test_lease_path_is_beside_the_store() -> None:
    assert lease_path(Path("var/store.sqlite3")) == Path("var/store.sqlite3.lead")


def test_lease_one_holder_until_it_releases(tmp_path: Path) -> None:
    first, second = Lease(tmp_path / "x.lead"), Lease(tmp_path / "x.lead")
    assert first.try_take() and first.held
    assert first.try_take()  # taking it again keeps it
    assert not second.try_take() and not second.held
    first.release()
    assert not first.held
    assert second.try_take()
    assert not first.try_take()
    second.release()


def test_lease_taken_over_when_the_holder_is_killed(tmp_path: Path) -> None:
    path = tmp_path / "x.lead"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from feeds.lease import Lease; "
         f"assert Lease(__import__('pathlib').Path({str(path)!r})).try_take(); "
         "print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        follower = Lease(path)
        assert not follower.try_take()
        assert path.read_text() == f"{holder.pid}\n"
        holder.send_signal(signal.SIGKILL)
        wait_for(follower.try_take, timeout=5)
        follower.release()
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
