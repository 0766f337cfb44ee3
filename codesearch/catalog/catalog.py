"""The catalog: `catalog.json` in a job's output directory says which shard is current for each
repository. It is only ever replaced whole (write a temp file, then rename), so a reader sees
the old catalog or the new one, never half. A shard is a single-repository index directory
(`shards/NAME-COMMIT-RUN/`), so everything that opens an index opens a shard.

    OUTPUT/
      catalog.json        repositories -> current shard, commit, counts; the dense index
      shards/NAME-.../    one index per repository and commit
      dense/GEN/          vectors of every shard in one FAISS index (see `dense.py`)
      lexical/GEN/        every shard's BM25 index in one FTS5 table (see `lexical.py`)
      vectors.sqlite3     every vector the job has made, by (model, content hash)
      cache/              bare clones and scratch trees
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from filelock import FileLock

from codesearch.errors import IndexMismatch, IndexMissing

CATALOG_NAME = "catalog.json"
CATALOG_FORMAT = 1
SHARDS_DIR, DENSE_DIR, LEXICAL_DIR = "shards", "dense", "lexical"


@dataclass(frozen=True)
class ShardEntry:
    """The current shard of one repository."""

    name: str
    shard: str  # relative to the output directory
    commit: str
    url: str = ""
    ref: str | None = None
    files: int = 0
    chunks: int = 0
    vectors: int = 0
    updated_at: float = 0.0


@dataclass(frozen=True)
class MergedEntry:
    """A merged index of the catalog (dense or lexical) and the shards it holds."""

    file: str  # its folder, relative to the output directory
    shards: tuple[str, ...]
    kind: str
    count: int
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalog:
    """One published state of an output directory."""

    directory: Path
    model_id: str = ""
    generation: int = 0
    repos: dict[str, ShardEntry] = field(default_factory=dict)
    retired: tuple[tuple[str, float], ...] = ()  # (path, when it stopped being current)
    dense: MergedEntry | None = None
    lexical: MergedEntry | None = None
    updated_at: float = 0.0

    @classmethod
    def load(cls, directory: Path) -> Catalog:
        """The catalog published in `directory`; IndexMissing when there is none."""
        path = directory / CATALOG_NAME
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise IndexMissing(f"no catalog in {directory}; run `codesearch job run SPEC` with output there") from None
        except (OSError, ValueError) as error:
            raise IndexMismatch(f"cannot read the catalog {path}: {error}") from None
        if raw.get("format") != CATALOG_FORMAT:
            raise IndexMismatch(f"the catalog {path} has format {raw.get('format')}, this codesearch reads "
                                f"{CATALOG_FORMAT}; run the job again with this version")
        dense, lexical = raw.get("dense"), raw.get("lexical")
        return cls(
            directory=directory,
            model_id=raw.get("model_id", ""),
            generation=int(raw.get("generation", 0)),
            repos={name: ShardEntry(**entry) for name, entry in raw.get("repos", {}).items()},
            retired=tuple((str(p), float(t)) for p, t in raw.get("retired", [])),
            dense=MergedEntry(**{**dense, "shards": tuple(dense["shards"])}) if dense else None,
            lexical=MergedEntry(**{**lexical, "shards": tuple(lexical["shards"])}) if lexical else None,
            updated_at=float(raw.get("updated_at", 0.0)),
        )

    def shard_dir(self, entry: ShardEntry) -> Path:
        """Where a repository's shard lives."""
        return self.directory / entry.shard

    def with_repo(self, entry: ShardEntry) -> Catalog:
        """This catalog with `entry` current for its repository (the old shard retired)."""
        old = self.repos.get(entry.name)
        retired = self.retired + ((old.shard, time.time()),) if old and old.shard != entry.shard else self.retired
        return replace(self, repos={**self.repos, entry.name: entry}, retired=retired)

    def with_merged(self, kind: str, entry: MergedEntry | None) -> Catalog:
        """This catalog with a new merged index (`kind` "dense" or "lexical"), the old one retired."""
        old: MergedEntry | None = getattr(self, kind)
        retired = self.retired
        if old and (entry is None or entry.file != old.file):
            retired += ((old.file, time.time()),)
        if kind == "dense":
            return replace(self, retired=retired, dense=entry)
        return replace(self, retired=retired, lexical=entry)

    def to_json(self) -> dict[str, Any]:
        """What `catalog.json` holds."""
        return {
            "format": CATALOG_FORMAT,
            "model_id": self.model_id,
            "generation": self.generation,
            "updated_at": self.updated_at,
            "repos": {name: asdict(entry) for name, entry in sorted(self.repos.items())},
            "retired": [list(pair) for pair in self.retired],
            "dense": {**asdict(self.dense), "shards": list(self.dense.shards)} if self.dense else None,
            "lexical": {**asdict(self.lexical), "shards": list(self.lexical.shards)} if self.lexical else None,
        }


def publish(directory: Path, change: Callable[[Catalog], Catalog]) -> Catalog:
    """Apply `change` to the current catalog and replace the file atomically (one writer at a time)."""
    directory.mkdir(parents=True, exist_ok=True)
    with FileLock(str(directory / (CATALOG_NAME + ".lock"))):
        try:
            current = Catalog.load(directory)
        except IndexMissing:
            current = Catalog(directory)
        new = replace(change(current), generation=current.generation + 1, updated_at=time.time())
        tmp = directory / f".{CATALOG_NAME}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as out:
            json.dump(new.to_json(), out, indent=1)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, directory / CATALOG_NAME)
    return new


def collect_garbage(directory: Path, grace_seconds: float) -> list[str]:
    """Remove shards and dense files that are no longer current: retired ones once `grace_seconds`
    have passed since they were replaced (readers of the previous catalog may still use them),
    and leftovers of interrupted runs that no catalog ever named, once as old. Returns what went."""
    removed: list[str] = []
    now = time.time()

    def change(catalog: Catalog) -> Catalog:
        current = {e.shard for e in catalog.repos.values()}
        current |= {m.file for m in (catalog.dense, catalog.lexical) if m is not None}
        keep: list[tuple[str, float]] = []
        for path, when in catalog.retired:
            if path in current:
                continue
            if now - when >= grace_seconds:
                _remove(directory / path)
                removed.append(path)
            else:
                keep.append((path, when))
        waiting = current | {p for p, _ in keep}
        for orphan in _orphans(directory, waiting):
            if now - _last_written(orphan) >= grace_seconds:
                _remove(orphan)
                removed.append(orphan.relative_to(directory).as_posix())
        return replace(catalog, retired=tuple(keep))

    if (directory / CATALOG_NAME).exists():
        publish(directory, change)
    return removed


def _orphans(directory: Path, referenced: set[str]) -> list[Path]:
    """Shard and dense folders that neither the catalog nor its retired list names."""
    found = []
    folders = [f for name in (SHARDS_DIR, DENSE_DIR, LEXICAL_DIR) for f in _folders(directory / name)]
    for folder in folders:
        if folder.relative_to(directory).as_posix() not in referenced:
            found.append(folder)
    return found


def _folders(path: Path) -> list[Path]:
    return [p for p in path.iterdir() if p.is_dir()] if path.is_dir() else []


def _last_written(folder: Path) -> float:
    """The newest modification time in a folder (a shard being written is young)."""
    times = [folder.stat().st_mtime]
    times += [p.stat().st_mtime for p in folder.iterdir() if p.exists()]
    return max(times)


def _remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
