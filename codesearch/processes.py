"""Whether another process still runs: the local server's client waiting for an old server to
end, and an indexing pool's workers watching the indexer that started them. Standard library
only (`codesearch query` imports it before anything else)."""

from __future__ import annotations

import os


def process_alive(pid: int) -> bool:
    """Whether `pid` runs. A zombie (dead, not yet reaped by its parent) does not; where there is
    no /proc (macOS), a process that takes signal 0 is taken to run."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: it exists
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rsplit(")", 1)[-1].split()[:1] != ["Z"]
    except OSError:
        return True
