"""Watch a repository for changes and report them in debounced batches.

watchdog (inotify, FSEvents, ReadDirectoryChangesW) reports every write, rename and delete. A
save in an editor is often several events (temp file, rename, chmod), and a `git checkout` is
thousands, so events are gathered until the tree has been quiet for `quiet` seconds (or
`max_delay` has passed since the first one) and handed over as one batch of relative paths.
What the batch means is the caller's business: the live index syncs the whole tree against the
index, which covers directory renames and `.gitignore` edits without special cases.

`caught_up()` answers "has every change made before now been reported?" the way watchman does:
it creates a cookie file (in `.git/` when there is one, else at the root) and waits for the
watcher to report it. The OS reports a watch's events in order, so once the cookie's event has
arrived, so has every event before it; `last_change` then says when the last change was seen.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from codesearch.indexer.walk import IGNORE_FILES, built_in_rules, ignored_by
from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirModifiedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

QUIET_SECONDS = 0.3
MAX_DELAY_SECONDS = 2.0
# Git's own files change on every command; only these of them affect what is indexed.
_GIT_FILES_THAT_MATTER = (".git/info/exclude",)
COOKIE_PREFIX = ".codesearch-cookie-"  # also in the walk's built-in excludes
# Changes only. Opening and reading are not asked of the OS at all: the sync's own walk opens
# every folder, and on a tree of 2,400 folders their events, parsed and dropped by watchdog's
# thread, made each sync twice as slow.
_CHANGES = [DirCreatedEvent, DirDeletedEvent, DirModifiedEvent, DirMovedEvent, FileClosedEvent, FileCreatedEvent,
            FileDeletedEvent, FileModifiedEvent, FileMovedEvent]


class ChangeWatcher:
    """Calls `on_changes(paths)` from its own thread with each debounced batch of changed paths."""

    def __init__(
        self,
        root: Path,
        on_changes: Callable[[set[str]], None],
        *,
        index_dir: Path | None = None,
        extra_excludes: tuple[str, ...] = (),
        quiet: float = QUIET_SECONDS,
        max_delay: float = MAX_DELAY_SECONDS,
    ) -> None:
        self.root = root
        self._on_changes = on_changes
        self._index_dir = str(index_dir) if index_dir else None
        # Only rules that never change while running: paths under ignored folders such as
        # node_modules/ make no sync at all, unless an ignore file brings them back (`!build/`;
        # `walk.ignored_by` reads the rules down to those paths only). Everything else makes one;
        # the sync applies the rest.
        self._extra_excludes = tuple(extra_excludes)
        self._built_in = built_in_rules(self._extra_excludes)
        # folders the rules were read down to and found ignored: the thousands of paths an
        # `npm install` writes under `node_modules/` are each one set lookup per folder, not a
        # read of the rules (until an ignore file changes)
        self._ignored_folders: set[str] = set()
        self._quiet = quiet
        self._max_delay = max_delay
        self._pending: set[str] = set()
        self._first_at = 0.0
        self._last_at = 0.0
        self._cookies = itertools.count()
        self._cookie_seen: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._observer = Observer()
        self._thread = threading.Thread(target=self._deliver, name="codesearch-debounce", daemon=True)

    def start(self) -> None:
        """Start watching (recursively) and delivering batches."""
        handler = _Handler(self._record)
        self._observer.schedule(handler, str(self.root), recursive=True, event_filter=_CHANGES)
        self._observer.start()
        self._thread.start()

    def stop(self) -> None:
        """Stop watching; a batch being delivered finishes first."""
        self._stopped.set()
        self._wake.set()
        self._observer.stop()
        self._observer.join(timeout=5)
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    @property
    def last_change(self) -> float:
        """When a change that can matter to the index was last seen (time.monotonic; 0 if none)."""
        return self._last_at

    def running(self) -> bool:
        """Whether the OS watcher is up (it stops on errors, or when its root goes away)."""
        return self._observer.is_alive() and not self._stopped.is_set()

    def caught_up(self, timeout: float) -> bool:
        """Whether every change made before this call has been seen (within `timeout` seconds):
        False if the cookie could not be written or its event did not come in time."""
        git = os.path.join(self.root, ".git")
        folder = git if os.path.isdir(git) else str(self.root)
        name = f"{COOKIE_PREFIX}{os.getpid()}-{next(self._cookies)}"
        seen = threading.Event()
        with self._lock:
            self._cookie_seen[name] = seen
        path = os.path.join(folder, name)
        try:
            with open(path, "x"):
                pass
            return seen.wait(timeout)
        except OSError:  # the cookie could not be written (a read-only tree, a full disk)
            return False
        finally:
            with self._lock:
                self._cookie_seen.pop(name, None)
            with contextlib.suppress(OSError):
                os.unlink(path)

    def relevant(self, abs_path: str) -> str | None:
        """The path relative to the root if a change there can matter to the index, else None."""
        if self._index_dir and (abs_path == self._index_dir or abs_path.startswith(self._index_dir + os.sep)):
            return None
        try:
            rel = Path(abs_path).relative_to(self.root).as_posix()
        except ValueError:
            return None
        if rel in (".", ""):
            return None
        if rel == ".git" or rel.startswith(".git/"):
            if rel == ".git/info/exclude":
                self._ignored_folders.clear()
            return rel if rel in _GIT_FILES_THAT_MATTER else None
        name = rel.rsplit("/", 1)[-1]
        if name in IGNORE_FILES:
            self._ignored_folders.clear()
            return rel
        folders = rel.split("/")[:-1]
        if self._ignored_folders and any("/".join(folders[:depth]) in self._ignored_folders
                                         for depth in range(1, len(folders) + 1)):
            return None
        if self._built_in.decides(rel):  # (the built-in rules alone would leave out a folder `!build/` brings back)
            by = ignored_by(self.root, rel, self._extra_excludes)
            if by is not None:
                if by != rel:
                    self._ignored_folders.add(by)
                return None
        return rel

    def _record(self, abs_paths: list[str]) -> None:
        cookies = [p for p in abs_paths if os.path.basename(p).startswith(COOKIE_PREFIX)]
        if cookies:
            with self._lock:
                for path in cookies:
                    seen = self._cookie_seen.get(os.path.basename(path))
                    if seen is not None:
                        seen.set()
            abs_paths = [p for p in abs_paths if p not in cookies]
        rels = [r for r in (self.relevant(p) for p in abs_paths) if r]
        if not rels:
            return
        now = time.monotonic()
        with self._lock:
            if not self._pending:
                self._first_at = now
            self._pending.update(rels)
            self._last_at = now
        self._wake.set()

    def _deliver(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait()
            self._wake.clear()
            while not self._stopped.is_set():
                with self._lock:
                    if not self._pending:
                        break
                    now = time.monotonic()
                    due = min(self._last_at + self._quiet, self._first_at + self._max_delay)
                    if now >= due:
                        batch, self._pending = self._pending, set()
                    else:
                        batch = set()
                if batch:
                    self._on_changes(batch)
                else:
                    time.sleep(max(0.01, due - now))


class _Handler(FileSystemEventHandler):
    def __init__(self, record: Callable[[list[str]], None]) -> None:
        self._record = record

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        paths = [os.fsdecode(event.src_path)]
        if getattr(event, "dest_path", ""):
            paths.append(os.fsdecode(event.dest_path))
        self._record(paths)
