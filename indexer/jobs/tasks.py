"""The two kinds of work a job hands to Ray, and the step that completes a shard.

- `prepare_repo` (a CPU task, on any node): resolve the ref, skip an unchanged commit,
  materialise the tree, walk and chunk it into a new shard, and return its distinct chunks.
- `EncodeActor`: loads the encoder once (one GPU each where the cluster has them) and turns
  batches of chunk texts into vectors.
- `finish_shard` (on the driver's node, the only one that touches the vector pool, so that SQLite
  never shares a database between hosts): copy the shard's vectors in from the pool and write
  its FAISS file.

Everything here takes and returns plain values, so a task can be retried on another node.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from codesearch.indexer.jobs.git import anchored_folders, ensure_commit, materialise, resolve_ref
from codesearch.indexer.jobs.spec import RepoSpec
from codesearch.indexer.sync import sync_chunks

from codesearch.catalog.catalog import SHARDS_DIR
from codesearch.encoding import EncoderSettings, load_encoder
from codesearch.errors import CodesearchError
from codesearch.index import CodeIndex
from codesearch.records import embedding_text
from codesearch.store import Store

POOL_DIR = "vectors"
CACHE_DIR = "cache"


@dataclass
class Prepared:
    """What the chunking stage did for one repository."""

    name: str
    commit: str = ""
    shard: str = ""  # relative to the output directory
    files: int = 0
    chunks: int = 0
    missing: list[tuple[str, str]] = field(default_factory=list)  # (content hash, text to embed)
    skipped: bool = False
    error: str = ""
    seconds: float = 0.0


def shard_name(repo: str, commit: str, run_id: str) -> str:
    """A shard's folder name: readable, unique per run."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", repo)[:80]
    return f"{slug}-{commit[:12]}-{run_id}"


def prepare_repo(repo: RepoSpec, output: str, model_id: str, current_commit: str | None,
                 max_file_bytes: int, run_id: str) -> Prepared:
    """Chunk one repository at its ref's commit into a new shard (see the module docstring)."""
    started = time.monotonic()
    result = Prepared(repo.name)
    out = Path(output)
    try:
        result.commit = resolve_ref(repo.url, repo.ref)
        if result.commit == current_commit:
            result.skipped = True
            return result
        cache = out / CACHE_DIR
        clone = ensure_commit(cache, repo.url, repo.ref, result.commit)
        (cache / "trees").mkdir(parents=True, exist_ok=True)
        tree = Path(tempfile.mkdtemp(prefix=shard_name(repo.name, result.commit, run_id) + ".", dir=cache / "trees"))
        try:
            materialise(clone, result.commit, tree, anchored_folders(repo.include))
            result.shard = f"{SHARDS_DIR}/{shard_name(repo.name, result.commit, run_id)}"
            _chunk_into_shard(repo, result, tree, out, model_id, max_file_bytes)
        finally:
            shutil.rmtree(tree, ignore_errors=True)
    except CodesearchError as error:
        result.error = str(error)
    result.seconds = time.monotonic() - started
    return result


def _chunk_into_shard(repo: RepoSpec, result: Prepared, tree: Path, out: Path, model_id: str,
                      max_file_bytes: int) -> None:
    shard_dir = out / result.shard
    shutil.rmtree(shard_dir, ignore_errors=True)  # a retried task starts its shard over
    index = CodeIndex.open(tree, shard_dir, create=True, model_id=model_id)
    store = index.store
    try:
        with index.writing(60.0):
            summary = sync_chunks(store, tree, max_file_bytes=max_file_bytes, excludes=repo.exclude,
                                  includes=repo.include)
            with store.transaction():
                store.set_meta("root", f"{repo.url}@{result.commit}")
                store.set_meta("shard_of", repo.name)
                store.set_meta("commit", result.commit)
                store.set_meta("url", repo.url)
        result.files = summary.files
        result.chunks = store.counts(model_id)["chunks"]
        result.missing = [(c.content_hash, embedding_text(c)) for c in store.missing_vectors(model_id)]
    finally:
        index.close()


class EncodeActor:
    """Holds one encoder for the life of the actor; Ray restarts it if its process dies."""

    def __init__(self, model: str, settings: EncoderSettings) -> None:
        self._encoder = load_encoder(model, settings)

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""
        return self._encoder.encode_documents(texts)


def finish_shard(output: str, shard: str, model_id: str, embed: bool = True) -> int:
    """Copy the shard's vectors in from the pool and write its FAISS file; the vector count.
    Without `embed` (a lexical-only job) the shard keeps whatever vectors the pool had."""
    from codesearch.vectors import VectorIndex

    out = Path(output)
    store = Store.open(out / shard)
    try:
        store.copy_vectors_from(out / POOL_DIR, model_id)
        counts = store.counts(model_id)
        if embed and counts["with_vectors"] < counts["chunks"]:
            raise CodesearchError(f"{counts['chunks'] - counts['with_vectors']} chunks of {shard} have no vector")
        with store.transaction():
            store.bump_generation()
        if counts["with_vectors"]:
            VectorIndex.load(store, model_id, save=True)
        return counts["with_vectors"]
    finally:
        store.close()
