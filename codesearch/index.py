"""One repository's index: where it lives, what built it, and who may write it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from codesearch.errors import IndexBusy, IndexDamaged, IndexMismatch, IndexMissing, IndexUnwritable
from codesearch.indexer import CHUNKER_VERSION
from codesearch.locks import LockTimeout, hold
from codesearch.paths import DB_NAME, INDEX_DIR_NAME, check_directory, find_root, index_dir_for
from codesearch.store import Store

__all__ = ["INDEX_DIR_NAME", "CodeIndex", "check_directory", "find_root", "index_dir_for", "rebuild"]


@dataclass
class CodeIndex:
    """An open index of one repository."""

    root: Path
    store: Store

    @property
    def index_dir(self) -> Path:
        """The directory holding the database and the FAISS file."""
        return self.store.index_dir

    @property
    def is_shard(self) -> bool:
        """Whether this is a shard of a catalog (written only by its indexing job)."""
        return self.store.get_meta("shard_of") is not None

    @property
    def model_id(self) -> str:
        """The model whose vectors this index holds."""
        return self.store.get_meta("model_id") or ""

    @classmethod
    def open(cls, root: Path, index_dir: Path, *, create: bool = False, model_id: str = "") -> CodeIndex:
        """Open (or with `create`, make) the index of `root`, checking it belongs to this root."""
        if not create and not (index_dir / DB_NAME).exists():
            raise IndexMissing(f"no index for {root}; run `codesearch index {root}`")
        store = Store.open(index_dir, create=create)
        recorded_root = store.get_meta("root")
        if store.get_meta("shard_of") is not None:
            recorded_root = str(root)  # a shard answers wherever it is opened from
        if recorded_root is None:
            with store.transaction():
                _stamp(store, root, model_id)
        elif recorded_root != str(root):
            raise IndexMismatch(
                f"the index at {index_dir} belongs to {recorded_root}, not {root}; "
                "give another --index-dir or run `codesearch index --rebuild`"
            )
        # an index chunked by another version of the chunker stays readable; the next sync
        # chunks every file again (`sync_chunks`)
        return cls(root, store)

    def check_model(self, model_id: str) -> None:
        """Refuse to mix vectors of two models in one index. An index that holds no vector of its
        model yet (indexed with --no-embed, or while that model could not be loaded) takes the
        model asked for: there is nothing to start over."""
        if not self.model_id or model_id == self.model_id:
            return
        if not self.store.has_vectors(self.model_id):
            try:
                with self.store.transaction():
                    self.store.set_meta("model_id", model_id)
            except (sqlite3.OperationalError, IndexUnwritable):
                pass  # read-only, or another process is writing it: searched with the model asked for
                # all the same, and recorded by the next open that asks for it and can write
            return
        raise IndexMismatch(
            f"the index at {self.index_dir} was built with model {self.model_id}, not {model_id}; "
            f"query it without --model, or run `codesearch index --model {model_id} --rebuild`"
        )

    @contextmanager
    def writing(self, wait_seconds: float) -> Iterator[None]:
        """Hold the index's write lock; IndexBusy when another process keeps it past `wait_seconds`."""
        try:
            with hold(self.index_dir / "write.lock", wait_seconds):
                yield
        except LockTimeout as error:
            raise IndexBusy(
                f"the index at {self.index_dir} is busy: another codesearch process is writing it; "
                "wait for it to finish or pass --wait SECONDS"
            ) from error

    def close(self) -> None:
        """Close the database."""
        self.store.close()


def _stamp(store: Store, root: Path, model_id: str) -> None:
    """Record what an index belongs to and what built it (inside the caller's transaction)."""
    store.set_meta("root", str(root))
    store.set_meta("model_id", model_id)
    store.set_meta("chunker_version", str(CHUNKER_VERSION))


def rebuild(root: Path, index_dir: Path, model_id: str) -> None:
    """Start the index over: drop files and chunks, keep cached vectors where the format allows."""
    db = index_dir / DB_NAME
    if not db.exists():
        return
    try:
        store = Store.open(index_dir)
    except (IndexMismatch, IndexDamaged):
        for name in (DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm"):
            (index_dir / name).unlink(missing_ok=True)
        return
    with store.transaction():
        for path in list(store.file_states()):
            store.remove_file(path)
        store.make_fts_contentless()
        _stamp(store, root, model_id)
        store.bump_generation()
    store.close()
