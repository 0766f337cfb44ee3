"""A repository's index kept current while an editor or `codesearch watch` runs.

One writer thread owns every change to the index: the first sync, syncs after the watcher (or
a save) reports changes, and filling in vectors a few chunks at a time, so a sync never waits
long behind the encoder. Readers use their own SQLite connection inside a read transaction, so
a query sees one committed state and never waits for the writer: lexical results as soon as
chunks exist, dense ones as vectors arrive. Unsaved buffers live in an `Overlay` beside the index.

`LiveFolders` holds one `LiveIndex` per workspace folder and fans queries out over them.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from codesearch import partitions
from codesearch.encoding import Encoder
from codesearch.errors import IndexBusy, PathError, QueryError
from codesearch.index import CodeIndex, rebuild
from codesearch.indexer.chunker import chunk_text
from codesearch.indexer.sync import SyncSummary, content_sha, embed_missing, sync_chunks, worker_pool
from codesearch.indexer.walk import looks_minified
from codesearch.indexer.watch import ChangeWatcher
from codesearch.indexing import IndexOptions, open_index
from codesearch.overlay import EMPTY, Overlay, OverlayFile
from codesearch.paths import is_utf8
from codesearch.records import Chunk, SearchResult, embedding_text
from codesearch.render import summary_line
from codesearch.search import related, search_with_fixes
from codesearch.store import Store
from codesearch.vectors import VectorIndex

# Chunks embedded between two chances for a pending sync to go first.
LIVE_EMBED_BATCH = 16
# Files per commit while building an empty index, so early queries find the first files.
FIRST_BUILD_COMMIT_FILES = 200
# At most this many files saved at once go ahead of the first sync (a checkout just waits for it).
SAVES_AHEAD_OF_FIRST_SYNC = 16
BUSY_RETRY_SECONDS = 2.0
# How long a query waits for the watcher to report its cookie (it has then seen every change).
COOKIE_SECONDS = 1.0
# A full sync at least this often while idle: a change whose event the OS dropped (its queue
# overflowed) is not missed for longer.
RESYNC_SECONDS = 60.0
INDEXING, EMBEDDING = "indexing", "embedding"


class Listener(Protocol):
    """Where a live index reports; called from its threads."""

    def log(self, message: str) -> None:
        """One line about something done (one per sync)."""

    def warn(self, message: str) -> None:
        """Something the user should see: a model that will not load, an index that is busy."""

    def progress(self, task: str, done: int, total: int) -> None:
        """Progress of `task` (INDEXING or EMBEDDING); `done == total` ends it."""


class LiveIndex:
    """One repository's index, kept in step with the disk and the open buffers."""

    def __init__(self, options: IndexOptions, listener: Listener, *, watch: bool = True, embed: bool = True) -> None:
        self.options = options
        self.root = options.root
        self._listener = listener
        self._embed = embed
        self._index: CodeIndex = open_index(options, create=True)
        self.model_id = options.model_id(self._index)
        self._reader = Store.open(options.index_dir)
        self._read_lock = threading.Lock()
        self._vectors: tuple[int, VectorIndex] | None = None
        self._overlay = EMPTY
        self._overlay_lock = threading.Lock()
        self._encoder: Encoder | None = None
        self.encoder_state = "loading" if embed else "off (lexical mode)"
        self.state = "starting"
        self.last_sync: SyncSummary | None = None
        self._fill: list[int] = [0, 0]  # [embedded, total] of the fill under way
        self._sync_wanted = threading.Event()
        self._rebuild_wanted = threading.Event()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.ready = threading.Event()  # set once the first sync has committed
        self._synced = threading.Condition()
        self._synced_from = 0.0  # when the last completed sync began (time.monotonic)
        self._trust_watcher = watch  # until it once fails to report a cookie
        self.encoder_loaded = threading.Event()  # set once the encoder is loaded, or could not be
        if not embed:
            self.encoder_loaded.set()
        self._writer = threading.Thread(target=self._run, name=f"codesearch-writer:{self.root.name}", daemon=True)
        self._watcher = ChangeWatcher(self.root, self._changed, index_dir=options.index_dir,
                                      extra_excludes=options.excludes) if watch else None

    # --- life cycle ----------------------------------------------------------------------

    def start(self) -> LiveIndex:
        """Start watching and the writer (the first sync runs in the background)."""
        if self._watcher:
            self._watcher.start()  # before the first sync, so nothing changed during it is missed
        self._writer.start()
        return self

    def close(self) -> None:
        """Stop watching, let the writer finish what it is committing, close the database."""
        if self._watcher:
            self._watcher.stop()
        self._stop.set()
        self._wake.set()
        if self._writer.is_alive():
            self._writer.join()
        with self._read_lock:
            self._reader.close()
        self._index.close()

    @property
    def embeds(self) -> bool:
        """Whether this index fills in vectors (it was opened with `embed=True`)."""
        return self._embed

    def alive(self) -> bool:
        """Whether the writer is still running (it stops on close or on an unexpected error)."""
        return self._writer.is_alive()

    def request_sync(self) -> None:
        """Bring the index in line with the disk soon (after a save or a reported change)."""
        self._sync_wanted.set()
        self._wake.set()

    def sync_now(self, timeout: float) -> bool:
        """Bring the index in line with the disk before returning, as a fresh `codesearch query`
        would; waits at most `timeout` seconds (the writer may be embedding a batch). False if the
        sync did not finish in time: the caller then reads the last committed state.

        Nothing to do when the watcher has caught up and seen no change since the last sync
        began: on a large tree that saves a walk and a stat per file (17,000 files: 300 ms)."""
        asked = time.monotonic()
        if self._watcher_saw_no_change(timeout):
            return True
        self.request_sync()
        with self._synced:
            return self._synced.wait_for(lambda: self._synced_from >= asked or not self.alive(), timeout)

    def _watcher_saw_no_change(self, timeout: float) -> bool:
        """Whether the index already holds what is on disk, by the watcher's account: it runs, it
        has reported every change made before this call (`ChangeWatcher.caught_up`), and the last
        change it saw came before the last completed sync began."""
        watcher = self._watcher
        if watcher is None or not self._trust_watcher or not self.ready.is_set() or not self.alive() \
                or not watcher.running() or self._sync_wanted.is_set() or self._rebuild_wanted.is_set():
            return False
        synced_from = self._synced_from
        if not watcher.caught_up(min(timeout, COOKIE_SECONDS)):
            self._trust_watcher = False
            self._listener.log(f"the watcher of {self.root} did not report its cookie in time; every query "
                               "syncs with the disk from now on")
            return False
        return watcher.last_change < synced_from and not self._sync_wanted.is_set()

    def request_rebuild(self) -> None:
        """Drop the chunks and index everything again (cached vectors are kept)."""
        self._rebuild_wanted.set()
        self._wake.set()

    def saved(self, paths: Collection[str]) -> None:
        """Files were saved (relative paths): searchable at once, even while the first sync is
        still reading the rest of the tree. Until that sync is done they are served from the
        overlay, like unsaved buffers; the sync that follows indexes them and drops the overlay."""
        if not self.ready.is_set() and len(paths) <= SAVES_AHEAD_OF_FIRST_SYNC:
            for path in filter(is_utf8, paths):  # a name that is not UTF-8 is never indexed (`walk`)
                file = self.root / path
                small = file.is_file() and file.stat().st_size <= self.options.max_file_bytes
                text = _disk_text(file) if small else None
                if text is not None and not looks_minified(text):
                    self.edit(path, text)
        self.request_sync()

    def _changed(self, paths: set[str]) -> None:
        self.saved(paths)

    # --- the writer ----------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._sync(first=True)
            if self._embed and not self._stop.is_set():
                self._load_encoder()
            settle_heap()
            self._refresh_partitions()  # after the encoder loads: they never hold dense search back
            while not self._stop.is_set():
                if self._rebuild_wanted.is_set():
                    self._rebuild_wanted.clear()
                    rebuild(self.root, self.options.index_dir, self.model_id)
                    self._sync(first=True)
                    self._refresh_partitions()
                elif self._sync_wanted.is_set():
                    self._sync_wanted.clear()
                    self._sync()
                elif not self._fill_vectors():
                    if not self._wake.wait(RESYNC_SECONDS) and self._watcher is not None:
                        self._sync_wanted.set()  # idle for a while: catch what the watcher may have missed
                    self._wake.clear()
        except Exception as error:  # the editor must hear of it; the index keeps its last commit
            self.state = f"stopped: {error}"
            self._listener.warn(f"codesearch stopped updating the index of {self.root}: {error}")
        finally:
            self.ready.set()
            self.encoder_loaded.set()

    def _sync(self, first: bool = False) -> None:
        def progress(stage: str, done: int, total: int) -> None:
            if first:
                self._listener.progress(INDEXING, done, total)

        began = time.monotonic()
        self.state = INDEXING if first else "syncing"
        if first:
            self._listener.progress(INDEXING, 0, 1)
        try:
            with self._index.writing(self.options.wait_seconds):
                empty = not self._index.store.file_states()
                summary = sync_chunks(self._index.store, self.root, max_file_bytes=self.options.max_file_bytes,
                                      excludes=self.options.excludes, progress=progress,
                                      commit_every=FIRST_BUILD_COMMIT_FILES if empty else None,
                                      jobs=self.options.jobs)
        except IndexBusy as error:
            self._listener.warn(f"{error}; retrying")
            self._stop.wait(BUSY_RETRY_SECONDS)
            self._sync_wanted.set()
            return
        finally:
            if first:
                self._listener.progress(INDEXING, 1, 1)
        counts = self._index.store.counts(self.model_id)
        summary.chunks = counts["chunks"]
        summary.missing_vectors = counts["chunks"] - counts["with_vectors"] if self._embed else 0
        self.last_sync = summary
        self.state = "idle"
        self.ready.set()
        with self._synced:
            self._synced_from = began
            self._synced.notify_all()
        if first or summary.changed or summary.removed:
            self._listener.log(f"synced {self.root}: {summary_line(summary)}")
        self._settle_overlays(first)
        if not first:  # after a first sync, `_run` refreshes them once the encoder is loaded
            self._refresh_partitions()

    def _refresh_partitions(self) -> None:
        """The index's BM25 partitions, outside the write lock; a sync the watcher asks for goes first."""
        partitions.refresh_or_warn(self._index.store, self.options.jobs, worker_pool, self._listener.warn,
                                   self._sync_wanted.is_set)

    def _load_encoder(self) -> None:
        self._encoder = self.options.encoder(self.model_id, self._listener.warn)
        self.encoder_state = "ready" if self._encoder else "unavailable (lexical search only)"
        self.encoder_loaded.set()
        if self._encoder:
            with self._overlay_lock:
                files = list(self._overlay.files.values())
            for file in files:
                self.edit(file.path, file.text)

    def _fill_vectors(self) -> bool:
        """Embed one run of missing vectors; False when there was nothing to do."""
        encoder = self._encoder
        if encoder is None or self._stop.is_set():
            return False
        start_done = self._fill[0]

        def progress(stage: str, done: int, pending: int) -> None:
            self._fill = [start_done + done, start_done + pending]
            if done < pending:
                self._listener.progress(EMBEDDING, *self._fill)

        def should_stop() -> bool:
            return self._stop.is_set() or self._sync_wanted.is_set() or self._rebuild_wanted.is_set()

        self.state = EMBEDDING
        try:
            with self._index.writing(self.options.wait_seconds):
                done, left = embed_missing(self._index.store, encoder, progress=progress,
                                           batch_size=LIVE_EMBED_BATCH, should_stop=should_stop)
                if done and not left:
                    VectorIndex.load(self._index.store, self.model_id, save=True)
        except IndexBusy:
            self._stop.wait(BUSY_RETRY_SECONDS)
            return True
        self.state = "idle"
        if left == 0:
            if self._fill[1]:
                self._listener.progress(EMBEDDING, self._fill[1], self._fill[1])
                self._listener.log(f"embedded {self._fill[1]:,} chunks of {self.root}")
            self._fill = [0, 0]
        return done > 0

    # --- unsaved buffers -----------------------------------------------------------------

    def edit(self, path: str, text: str) -> None:
        """Make the buffer `text` of `path` (relative) what searches see of that file.

        A buffer equal to the file on disk needs no overlay once the first sync is done: the index
        has it (or soon will). Before then the overlay is how a saved file gets ahead of the queue."""
        if self.ready.is_set() and _disk_text(self.root / path) == text:
            self.close_buffer(path)
            return
        chunks = tuple(chunk_text(text, path))
        vectors: dict[str, np.ndarray] = {}
        if self._encoder is not None:
            with self._read_lock:
                vectors.update(self._reader.vectors_for(self.model_id, (c.content_hash for c in chunks)))
            new = [c for c in chunks if c.content_hash not in vectors]
            if new:
                encoded = self._encoder.encode_documents([embedding_text(c) for c in new])
                vectors.update({c.content_hash: encoded[n] for n, c in enumerate(new)})
        with self._overlay_lock:
            self._overlay = Overlay({**self._overlay.files, path: OverlayFile(path, text, chunks, vectors)})

    def close_buffer(self, path: str) -> None:
        """Forget the buffer of `path`: searches see the indexed file again."""
        with self._overlay_lock:
            if path in self._overlay.files:
                self._overlay = Overlay({p: f for p, f in self._overlay.files.items() if p != path})

    def _settle_overlays(self, first: bool) -> None:
        """Drop overlays the index has caught up with: the buffer was saved and the index holds
        that very content. After the first sync, disk alone is not enough (a file saved during it
        may not be in it yet: the sync it asked for comes next); after any later sync it is (an
        ignored file, which the index never holds, leaves the overlay too)."""
        for path, file in list(self._overlay.files.items()):
            if _disk_text(self.root / path) != file.text:
                continue
            if first:
                try:
                    if self._index.store.file_sha(path) != content_sha((self.root / path).read_bytes()):
                        continue
                except OSError:
                    continue
            self.close_buffer(path)

    # --- queries -------------------------------------------------------------------------

    def search(self, query: str, **kw: Any) -> list[SearchResult]:
        """Best chunks for a query from the last committed state plus unsaved buffers."""
        return self.search_with_fixes(query, **kw)[0]

    def search_with_fixes(self, query: str, *, mode: str = "hybrid", k: int = 10, language: str | None = None,
                          glob: str | None = None) -> tuple[list[SearchResult], tuple[tuple[str, str], ...]]:
        """`search`'s results, and the words of the query it read as others (`search.respelled`),
        worked out once: with unsaved buffers no answer is kept for a second asking."""
        encoder = self._encoder if mode != "lexical" else None
        with self._read_lock, self._reader.snapshot():
            return search_with_fixes(self._reader, query, mode=mode, k=k, encoder=encoder, language=language,
                                     glob=glob, vectors=self._vector_index() if encoder else None,
                                     overlay=self._overlay)

    def related(self, path: str, line: int, *, k: int = 10) -> list[SearchResult]:
        """Code similar to the chunk at `path` (relative), `line` (1-based), itself left out."""
        overlay = self._overlay
        with self._read_lock, self._reader.snapshot():
            chunk = overlay.find(path, line) if overlay.hides(path) else self._indexed_chunk(path, line)
            if chunk is None:
                raise QueryError(f"no indexed code at {path}:{line}")
            vector = overlay.vector(chunk) if overlay.hides(path) else None
            if vector is None and self._encoder is not None:
                vector = self._reader.vectors_for(self.model_id, [chunk.content_hash]).get(chunk.content_hash)
            return related(self._reader, chunk, k=k, model_id=self.model_id, vector=vector,
                           vectors=self._vector_index() if vector is not None else None, overlay=overlay)

    def _indexed_chunk(self, path: str, line: int) -> Chunk | None:
        chunk_id = self._reader.chunk_id_at(path, line)
        return self._reader.chunks_by_id([chunk_id]).get(chunk_id) if chunk_id is not None else None

    def _vector_index(self) -> VectorIndex:
        """The FAISS index for the snapshot being read (the caller holds the read lock)."""
        generation = self._reader.generation
        if self._vectors is None or self._vectors[0] != generation:
            self._vectors = (generation, VectorIndex.load(self._reader, self.model_id))
        return self._vectors[1]

    def status(self) -> dict[str, Any]:
        """What this index holds and what it is doing."""
        with self._read_lock, self._reader.snapshot():
            counts = self._reader.counts(self.model_id)
        return {
            "root": str(self.root),
            "index_dir": str(self.options.index_dir),
            "model": self.model_id,
            "encoder": self.encoder_state,
            "state": self.state,
            **counts,
            "unsaved_buffers": sorted(self._overlay.files),
        }


_settled = threading.Lock()


def search_in(indexes: Iterable[LiveIndex], query: str, *, k: int = 10,
              **kw: Any) -> tuple[list[tuple[LiveIndex, SearchResult]], tuple[tuple[str, str], ...]]:
    """Each index's best `k` for a query, merged by score, each with its index; and the words that
    any of them read as others (`LiveIndex.search_with_fixes`), each (word, replacement) once: what
    a door serving several folders tells the user."""
    found: list[tuple[LiveIndex, SearchResult]] = []
    fixes: list[tuple[str, str]] = []
    for live in indexes:
        results, fixed = live.search_with_fixes(query, k=k, **kw)
        found += [(live, r) for r in results]
        fixes += fixed
    found.sort(key=lambda pair: -pair[1].score)
    return found[:k], tuple(dict.fromkeys(fixes))


def settle_heap() -> None:
    """Once per process, when its first live index has synced and loaded its encoder: move every
    object alive then (the modules, torch's among them, and the model) out of the garbage
    collector's sight (`gc.freeze`). A long-running server's full collections then walk only what
    its queries made since, not 216,000 objects of torch and transformers: 200 ms of some query's
    time every hundred or so queries on this machine. Frozen objects are still freed when their
    last reference goes; only reference cycles among them wait for the process to end."""
    if _settled.acquire(blocking=False):  # never released: the first caller freezes, once
        gc.collect()
        gc.freeze()


def _disk_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


@dataclass(frozen=True)
class Hit:
    """A search result and the folder it came from."""

    root: Path
    result: SearchResult


class LiveFolders:
    """The live indexes of a (multi-root) workspace."""

    def __init__(self, make: Callable[[Path], LiveIndex]) -> None:
        self._make = make
        self._folders: dict[Path, LiveIndex] = {}
        self._lock = threading.Lock()

    def add(self, root: Path) -> LiveIndex:
        """Start keeping `root`'s index (once)."""
        with self._lock:
            if root not in self._folders:
                self._folders[root] = self._make(root).start()
            return self._folders[root]

    def remove(self, root: Path) -> None:
        """Stop keeping `root`'s index."""
        with self._lock:
            live = self._folders.pop(root, None)
        if live:
            live.close()

    def all(self) -> list[LiveIndex]:
        """Every folder's index."""
        with self._lock:
            return list(self._folders.values())

    def locate(self, path: Path) -> tuple[LiveIndex, str]:
        """The folder holding an absolute path and the path relative to it; PathError outside."""
        resolved = path.resolve()
        for live in sorted(self.all(), key=lambda f: -len(f.root.parts)):
            if resolved.is_relative_to(live.root):
                return live, resolved.relative_to(live.root).as_posix()
        raise PathError(f"{path} is outside the workspace folders")

    def search(self, query: str, *, k: int = 10, **kw: Any) -> list[Hit]:
        """Each folder's best `k`, merged by score."""
        return self.search_with_fixes(query, k=k, **kw)[0]

    def search_with_fixes(self, query: str, *, k: int = 10, **kw: Any) -> tuple[list[Hit], tuple[tuple[str, str], ...]]:
        """`search`'s hits, and the words any folder read as others (`search_in`)."""
        found, fixes = search_in(self.all(), query, k=k, **kw)
        return [Hit(live.root, r) for live, r in found], fixes

    def close(self) -> None:
        """Close every folder's index."""
        for root in [live.root for live in self.all()]:
            self.remove(root)
