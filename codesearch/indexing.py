"""The index-update workflow shared by `codesearch index`, `codesearch query` and the benchmark:
open or create the index, sync chunks, load the encoder (or fall back to lexical), embed, and
refresh the FAISS file."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from codesearch.encoding import DEFAULT_MODEL, MODEL_ENV, Encoder, EncoderSettings, load_encoder, model_id_for
from codesearch.errors import IndexMismatch, ModelUnavailable
from codesearch.index import CodeIndex, index_dir_for, rebuild
from codesearch.requests import DEFAULT_MAX_FILE_BYTES
from codesearch.store import DB_NAME

if TYPE_CHECKING:  # the sync, its walk and pathspec load when an update runs, not for `--no-refresh`
    from codesearch.indexer.sync import Progress, SyncSummary

Warn = Callable[[str], None]


@dataclass
class IndexOptions:
    """Everything a user can set about one repository's index."""

    root: Path
    index_dir: Path
    model: str | None = None  # None: the index's own model, else the default
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    excludes: tuple[str, ...] = ()
    wait_seconds: float = 10.0
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)  # processes that parse changed files
    settings: EncoderSettings = field(default_factory=EncoderSettings)
    _encoders: dict[str, Encoder | None] = field(default_factory=dict, repr=False)

    @classmethod
    def create(
        cls, root: Path, *, index_dir: str | None = None, model: str | None = None, **kw: object
    ) -> IndexOptions:
        """Options with the index directory and model resolved from flags and environment."""
        return cls(root, index_dir_for(root, index_dir), model or os.environ.get(MODEL_ENV) or None, **kw)  # type: ignore[arg-type]

    def exists(self) -> bool:
        """Whether an index has been created for this root."""
        return (self.index_dir / DB_NAME).exists()

    def model_id(self, index: CodeIndex | None = None) -> str:
        """The model to use: the one asked for, else the index's, else the default."""
        if self.model:
            return model_id_for(self.model)
        if index is not None and index.model_id:
            return index.model_id
        return model_id_for(DEFAULT_MODEL)

    def encoder(self, model_id: str, warn: Warn) -> Encoder | None:
        """The encoder, loaded once; None (after one warning) when it cannot be loaded."""
        if model_id not in self._encoders:
            try:
                self._encoders[model_id] = load_encoder(model_id, self.settings)
            except ModelUnavailable as error:
                warn(f"model unavailable, using the lexical index only: {error}")
                self._encoders[model_id] = None
        return self._encoders[model_id]


def open_index(options: IndexOptions, *, create: bool = False, rebuild_first: bool = False) -> CodeIndex:
    """Open the index (creating it when asked); checks the model against the index's."""
    if rebuild_first:
        rebuild(options.root, options.index_dir, options.model_id())
    index = CodeIndex.open(options.root, options.index_dir, create=create, model_id=options.model_id())
    index.check_model(options.model_id(index))
    return index


def update_index(
    index: CodeIndex,
    options: IndexOptions,
    *,
    embed: bool = True,
    embed_budget: float | None = None,
    progress: Progress | None = None,
    warn: Warn = lambda message: None,
) -> SyncSummary:
    """Sync chunks with the disk, then embed what has no vector (within `embed_budget` seconds).

    The caller holds the write lock (`index.writing`)."""
    if index.is_shard:
        raise IndexMismatch(f"the index at {index.index_dir} is a shard of a catalog, written only by its "
                            "indexing job (`codesearch job run`); query it with --no-refresh")
    kwargs = {"progress": progress} if progress else {}
    from codesearch import partitions
    from codesearch.indexer.sync import embed_missing, sync_chunks, worker_pool

    summary = sync_chunks(index.store, options.root, max_file_bytes=options.max_file_bytes,
                          excludes=options.excludes, jobs=options.jobs, **kwargs)
    if index.store.keeps_partitions():  # kept in step; a live index (the server, the editor) makes them
        partitions.refresh_or_warn(index.store, options.jobs, worker_pool, warn)
    model_id = options.model_id(index)
    counts = index.store.counts(model_id)
    summary.chunks = counts["chunks"]
    summary.missing_vectors = counts["chunks"] - counts["with_vectors"]
    if embed and summary.missing_vectors:
        encoder = options.encoder(model_id, warn)
        if encoder is not None:
            started = time.monotonic()
            summary.new_vectors, _ = embed_missing(index.store, encoder, time_budget=embed_budget, **kwargs)
            summary.embed_seconds = time.monotonic() - started
            counts = index.store.counts(model_id)
            summary.missing_vectors = counts["chunks"] - counts["with_vectors"]
    if embed and counts["with_vectors"]:  # lexical work never loads numpy and FAISS; a stale file is rebuilt on use
        from codesearch.vectors import VectorIndex

        VectorIndex.load(index.store, model_id, save=True)
    return summary
