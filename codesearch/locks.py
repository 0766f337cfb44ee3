"""Holding a file lock across processes: the index's write lock and the local server's lock.

`fcntl.flock` on POSIX (the kernel drops it when its holder dies, so a killed process never
leaves a lock behind), the `filelock` package elsewhere. Not `filelock` everywhere: importing
it costs about 40 ms (logging and friends), which every query would pay.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

POLL_SECONDS = 0.05


class LockTimeout(Exception):
    """The lock was still held by another holder when the wait ran out."""


@contextmanager
def hold(path: Path, wait_seconds: float) -> Iterator[None]:
    """Hold the lock on `path` (created if missing), waiting up to `wait_seconds` for it."""
    try:
        import fcntl
    except ImportError:  # Windows
        from filelock import FileLock, Timeout

        lock = FileLock(str(path))
        try:
            lock.acquire(timeout=wait_seconds)
        except Timeout:
            raise LockTimeout(str(path)) from None
        try:
            yield
        finally:
            lock.release()
        return
    with open(path, "a+") as handle:
        if not take(handle.fileno(), wait_seconds):
            raise LockTimeout(str(path))
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def take(descriptor: int, wait_seconds: float) -> bool:
    """Take an exclusive flock on an open file, polling up to `wait_seconds`; False if it stayed taken."""
    import fcntl

    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL_SECONDS)
