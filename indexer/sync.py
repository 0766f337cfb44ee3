"""Incremental sync: bring the index in line with the files on disk, then fill in vectors.

Phase 1 (chunks) re-reads only files whose size or mtime changed, re-chunks only those whose
bytes changed, and commits everything in one transaction: a killed run leaves the previous
state. Phase 2 (vectors) embeds only content hashes with no vector for the model, committing
batch by batch: a killed run keeps what it embedded and the next run resumes.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from codesearch.indexer.walk import FileEntry, WalkReport, looks_binary, looks_minified, walk_files

from codesearch.encoding import Encoder
from codesearch.records import embedding_text
from codesearch.store import FileState, Store

# Progress callback: (stage, done, total).
Progress = Callable[[str, int, int], None]
EMBED_BATCH = 64
# A file modified this close to the scan may change again within the same mtime tick: store no
# mtime for it, so the next run compares its hash.
_RACY_NS = 2_000_000_000


def _no_progress(stage: str, done: int, total: int) -> None:
    pass


@dataclass
class SyncSummary:
    """What one sync did, for the summary line."""

    files: int = 0
    changed: int = 0
    removed: int = 0
    chunks: int = 0
    new_vectors: int = 0
    missing_vectors: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    embed_seconds: float = 0.0


def sync_chunks(
    store: Store,
    root: Path,
    *,
    max_file_bytes: int,
    excludes: tuple[str, ...] = (),
    includes: tuple[str, ...] = (),
    progress: Progress = _no_progress,
    commit_every: int | None = None,
) -> SyncSummary:
    """Phase 1: walk, re-chunk what changed, drop what vanished; one transaction.

    `commit_every` (files) is for the first build of an empty index: committing as it goes lets
    readers search the files indexed so far instead of nothing until the end."""
    started = time.monotonic()
    summary = SyncSummary()
    report = WalkReport()
    entries = list(walk_files(root, max_file_bytes=max_file_bytes, extra_excludes=excludes,
                                  includes=includes, report=report))
    known = store.file_states()
    racy_after = time.time_ns() - _RACY_NS
    seen: set[str] = set()
    step = commit_every or max(len(entries), 1)
    for first in range(0, max(len(entries), 1), step):
        changed_before = summary.changed
        with store.transaction():
            for done, entry in enumerate(entries[first : first + step], first + 1):
                if done % 50 == 0 or done == len(entries):
                    progress("reading files", done, len(entries))
                outcome = _sync_file(store, entry, known.get(entry.rel_path), racy_after, report)
                if outcome != "skipped":
                    seen.add(entry.rel_path)
                if outcome == "changed":
                    summary.changed += 1
            if first + step >= len(entries):
                for path in set(known) - seen:
                    store.remove_file(path)
                    summary.removed += 1
            if summary.changed > changed_before or summary.removed:
                store.bump_generation()
    summary.files = len(seen)
    summary.skipped = report.skipped
    summary.seconds = time.monotonic() - started
    return summary


def _sync_file(
    store: Store, entry: FileEntry, state: FileState | None, racy_after: int, report: WalkReport
) -> str:
    """Bring one file's chunks up to date: "same", "changed", or "skipped" (not indexable)."""
    if state and state.size == entry.size and state.mtime_ns == entry.mtime_ns:
        return "same"
    try:
        data = entry.abs_path.read_bytes()
    except OSError:
        report.skip("unreadable")
        return "skipped"
    if looks_binary(data):
        report.skip("binary")
        return "skipped"
    sha = hashlib.blake2b(data, digest_size=16).hexdigest()
    mtime = 0 if entry.mtime_ns > racy_after else entry.mtime_ns
    if state and state.sha == sha:
        store.touch_file(state.id, entry.size, mtime)
        return "same"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        report.skip("invalid UTF-8 (decoded with replacement)")
    if looks_minified(text):
        report.skip("minified")
        return "skipped"
    from codesearch.indexer.chunker import chunk_source  # tree-sitter: only once a file has changed
    from codesearch.indexer.languages import language_for

    language = language_for(entry.rel_path, text[:8192])
    store.replace_file(entry.rel_path, entry.size, mtime, sha, language, chunk_source(text, entry.rel_path, language))
    return "changed"


def embed_missing(
    store: Store,
    encoder: Encoder,
    *,
    time_budget: float | None = None,
    progress: Progress = _no_progress,
    batch_size: int = EMBED_BATCH,
    should_stop: Callable[[], bool] = lambda: False,
) -> tuple[int, int]:
    """Phase 2: embed chunks whose content hash has no vector; returns (embedded, still missing).

    With `time_budget` (seconds) it stops after the batch that crosses it, leaving the rest for
    a later run: used by queries, which must never wait long for vectors. `should_stop` is asked
    before each batch: the live index uses it to let a file sync go first.
    """
    pending = store.missing_vectors(encoder.model_id)
    pending.sort(key=lambda c: len(c.text))
    started = time.monotonic()
    done = 0
    progress("embedding", 0, len(pending))
    for start in range(0, len(pending), batch_size):
        if time_budget is not None and time.monotonic() - started > time_budget or should_stop():
            break
        batch = pending[start : start + batch_size]
        vectors = encoder.encode_documents([embedding_text(c) for c in batch])
        with store.transaction():
            store.add_vectors(encoder.model_id, [c.content_hash for c in batch], vectors)
            store.bump_generation()
        done += len(batch)
        progress("embedding", done, len(pending))
    if done:
        with store.transaction():
            store.prune_vectors(encoder.model_id)
    return done, len(pending) - done
