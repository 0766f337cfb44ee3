"""Incremental sync: bring the index in line with the files on disk, then fill in vectors.

Phase 1 (chunks) re-reads only files whose size or mtime changed, re-chunks only those whose
bytes changed, and commits everything in one transaction: a killed run leaves the previous
state. Phase 2 (vectors) embeds only content hashes with no vector for the model, committing
batch by batch: a killed run keeps what it embedded and the next run resumes.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from codesearch.indexer import CHUNKER_VERSION
from codesearch.indexer.walk import FileEntry, WalkReport, looks_binary, looks_minified, walk_files

from codesearch.encoding import Encoder
from codesearch.lexical import index_texts
from codesearch.processes import process_alive
from codesearch.records import Chunk, embedding_text
from codesearch.store import FileState, Store

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

# Progress callback: (stage, done, total).
Progress = Callable[[str, int, int], None]
EMBED_BATCH = 64
# Fewer changed files than this are parsed in this process: a pool takes ~0.5 s to start.
PARALLEL_MIN_FILES = 200
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
    warned: Counter[str] = field(default_factory=Counter)  # files indexed, with what was wrong
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
    jobs: int = 1,
) -> SyncSummary:
    """Phase 1: walk, re-chunk what changed, drop what vanished; one transaction.

    With `jobs` > 1 and enough changed files, worker processes read, chunk and tokenize while
    this process alone writes SQLite, in the walk's order: the index is the same, row for row, as
    a one-process run's. `commit_every` (files) is for the first build of an empty index:
    committing as it goes lets readers search the files indexed so far instead of nothing."""
    started = time.monotonic()
    summary = SyncSummary()
    report = WalkReport()
    entries = list(walk_files(root, max_file_bytes=max_file_bytes, extra_excludes=excludes,
                                  includes=includes, report=report))
    known = store.file_states()
    # An index chunked by another version of the chunker: every file is chunked again, as if
    # new (vectors stay cached by content hash, so only chunks that came out differently embed)
    rechunk = store.get_meta("chunker_version") != str(CHUNKER_VERSION)
    racy_after = time.time_ns() - _RACY_NS
    seen: set[str] = set()
    step = commit_every or max(len(entries), 1)
    parsed = _parse_changed(entries, {} if rechunk else known, racy_after, jobs)
    with store.large_cache():  # pages of the chunks' indexes, read back on every insert past 2 MB
        for first in range(0, max(len(entries), 1), step):
            changed_before = summary.changed
            with store.transaction():
                for done, entry in enumerate(entries[first : first + step], first + 1):
                    if done % 50 == 0 or done == len(entries):
                        progress("reading files", done, len(entries))
                    outcome = _apply(store, known.get(entry.rel_path), next(parsed), entry, report)
                    if outcome != "skipped":
                        seen.add(entry.rel_path)
                    if outcome == "changed":
                        summary.changed += 1
                if first + step >= len(entries):
                    for path in set(known) - seen:
                        store.remove_file(path)
                        summary.removed += 1
                    if rechunk:
                        store.set_meta("chunker_version", str(CHUNKER_VERSION))
                if summary.changed > changed_before or summary.removed:
                    store.bump_generation()
    summary.files = len(seen)
    summary.skipped, summary.warned = report.skipped, report.warned
    summary.seconds = time.monotonic() - started
    return summary


@dataclass
class ParsedFile:
    """What reading one file gave: `changed` (new chunks and their FTS5 texts), `same` (bytes
    unchanged: only the stat is new) or `skipped` (with the reason)."""

    outcome: str
    mtime_ns: int = 0
    sha: str = ""
    language: str = ""
    chunks: list[Chunk] = field(default_factory=list)
    texts: list[tuple[str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # for the walk report: why it was skipped, or
    # what was wrong with a file indexed all the same (invalid UTF-8)


def content_sha(data: bytes) -> str:
    """The hash a file's bytes are recorded under (`files.sha`)."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def parse_file(entry: FileEntry, known_sha: str | None, racy_after: int) -> ParsedFile:
    """Read, hash, chunk and tokenize one file; pure apart from reading it (runs in workers)."""
    try:
        with open(entry.path, "rb") as file:
            data = file.read()
    except OSError:
        return ParsedFile("skipped", notes=["unreadable"])
    if looks_binary(data):
        return ParsedFile("skipped", notes=["binary"])
    sha = content_sha(data)
    mtime = 0 if entry.mtime_ns > racy_after else entry.mtime_ns
    if known_sha == sha:
        return ParsedFile("same", mtime, sha)
    notes = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        notes.append("invalid UTF-8 (decoded with replacement)")
    from codesearch.indexer.chunker import chunk_source, readable  # tree-sitter: only once a file has changed

    found = readable(text, entry.rel_path)  # a notebook's cells, not its JSON and outputs
    if found is None:
        return ParsedFile("skipped", notes=["notebook it cannot read"])
    language, source = found
    if looks_minified(source):
        return ParsedFile("skipped", notes=["minified"])
    chunks = chunk_source(source, entry.rel_path, language)
    texts = index_texts(entry.rel_path, [c.qualified_name for c in chunks], [c.text for c in chunks])
    return ParsedFile("changed", mtime, sha, language, chunks, texts, notes)


def _parse_changed(entries: list[FileEntry], known: dict[str, FileState], racy_after: int,
                   jobs: int) -> Iterator[ParsedFile | None]:
    """Each entry's ParsedFile in the walk's order; None where the stat says nothing changed.
    Many changed files and `jobs` > 1: a process pool does the parsing."""
    def unchanged(entry: FileEntry) -> bool:
        state = known.get(entry.rel_path)
        return state is not None and state.size == entry.size and state.mtime_ns == entry.mtime_ns

    def sha_of(entry: FileEntry) -> str | None:
        state = known.get(entry.rel_path)
        return state.sha if state else None

    todo = [entry for entry in entries if not unchanged(entry)]
    if jobs <= 1 or len(todo) < PARALLEL_MIN_FILES:
        for entry in entries:
            yield None if unchanged(entry) else parse_file(entry, sha_of(entry), racy_after)
        return
    with worker_pool(jobs) as pool:
        results = pool.map(parse_file, todo, [sha_of(e) for e in todo], [racy_after] * len(todo),
                           chunksize=max(1, min(64, len(todo) // (jobs * 8))))
        for entry in entries:
            yield None if unchanged(entry) else next(results)


def worker_pool(jobs: int) -> ProcessPoolExecutor:
    """A pool of `jobs` indexing processes. Forkserver: workers never inherit this process's
    threads (watcher, servers) mid-lock; it imports the chunker once, and the workers forked from
    it share those pages. Each worker ends when this process does (`end_with`)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload(["codesearch.indexer.sync", "codesearch.indexer.chunker"])
    return ProcessPoolExecutor(jobs, mp_context=context, initializer=end_with, initargs=(os.getpid(),))


def end_with(pid: int, every: float = 1.0) -> None:
    """In a pool's worker: exit when process `pid` (the indexer) is gone. A worker forked by the
    forkserver is not the indexer's child, and it holds the pipe that keeps the forkserver alive,
    so without this a `codesearch index` killed with SIGKILL left both running for good."""
    def watch() -> None:
        while process_alive(pid):
            time.sleep(every)
        os._exit(1)

    import threading

    threading.Thread(target=watch, name="end-with-indexer", daemon=True).start()


def _apply(store: Store, state: FileState | None, parsed: ParsedFile | None, entry: FileEntry,
           report: WalkReport) -> str:
    """Write one file's outcome: "same", "changed", or "skipped" (not indexable)."""
    if parsed is None:
        return "same"
    for note in parsed.notes:
        (report.skip if parsed.outcome == "skipped" else report.warn)(note)
    if parsed.outcome == "same" and state is not None:
        store.touch_file(state.id, entry.size, parsed.mtime_ns)
    elif parsed.outcome == "changed":
        store.replace_file(entry.rel_path, entry.size, parsed.mtime_ns, parsed.sha, parsed.language,
                           parsed.chunks, parsed.texts)
    return parsed.outcome


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
