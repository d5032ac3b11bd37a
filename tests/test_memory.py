"""Allocator tuning for the server process."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_memory_freed_document_sized_blocks_go_back_to_the_os() -> None:
    # In a child process: the setting is process-wide.
    script = textwrap.dedent("""
        import re
        from pathlib import Path
        from feeds.memory import return_freed_blocks

        def rss_kb():
            return int(re.search(r"VmRSS:\\s+(\\d+)", Path("/proc/self/status").read_text())[1])

        assert return_freed_blocks()
        blocks, kept = [], []
        for i in range(1000):  # ~100 MB of document-sized blocks
            blocks.append(bytes(100_000) + bytes([i % 256]))
            kept.append(bytearray(2000))  # long-lived objects between them, as in a server
        before = rss_kb()
        del blocks
        print(before - rss_kb())
    """)
    released = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              check=True).stdout
    # kB: nearly all of the ~100 MB (glibc's default keeps about 95 % of it in the heap).
    assert int(released) > 80_000
