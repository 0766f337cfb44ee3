"""One BM25 index over every shard of a catalog, for lexical search over many repositories.

Searching a few shards, each answers from its own FTS5 table and the scores are put on common
statistics (`fusion.reweight_idf`): a handful of small queries per shard. With hundreds of
shards those queries add up, so past `MERGED_SHARDS` shards the job also writes every shard's
BM25 rows into one FTS5 table (the same definition as a shard's), where one query scores the
whole collection on its own statistics. Row ids are (shard number << 32 | chunk id), the shard
number indexing the shard list recorded with it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from codesearch.catalog.catalog import LEXICAL_DIR, Catalog, MergedEntry
from codesearch.lexical import index_texts
from codesearch.store import BM25_WEIGHTS, DB_NAME, FORMAT_VERSION, FTS_TABLE

MERGED_SHARDS = 64


def build_lexical(catalog: Catalog, run_id: str, *, log: Callable[[str], None] = lambda m: None,
                  threshold: int = MERGED_SHARDS) -> MergedEntry | None:
    """Build the merged BM25 index of `catalog` when it has at least `threshold` shards (else None)."""
    entries = sorted(catalog.repos.values(), key=lambda e: e.shard)
    if len(entries) < threshold:
        return None
    if (catalog.lexical and set(catalog.lexical.shards) == {e.shard for e in entries}
            and catalog.lexical.params.get("format") == FORMAT_VERSION):  # its rows are this format's tokens
        return catalog.lexical
    log(f"building the catalog's lexical index over {len(entries):,} shards")
    folder = catalog.directory / LEXICAL_DIR / f"{catalog.generation}-{run_id}"
    folder.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(folder / DB_NAME, isolation_level=None, uri=True)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute(FTS_TABLE)
        db.execute("BEGIN")
        for number, entry in enumerate(entries):
            shard_db = quote(str(catalog.shard_dir(entry) / DB_NAME))
            db.execute("ATTACH DATABASE ? AS shard", (f"file:{shard_db}?mode=ro",))
            # the shards' FTS5 tables store no terms (contentless): they are made again from the chunks
            rows = db.execute("SELECT id, path, qualified_name, text FROM shard.chunks ORDER BY id").fetchall()
            db.executemany("INSERT INTO chunks_fts(rowid, path_terms, symbol_terms, body_terms) VALUES (?, ?, ?, ?)",
                           [(number << 32 | chunk_id, *index_texts(path, [symbol], [text])[0])
                            for chunk_id, path, symbol, text in rows])
            db.execute("COMMIT")
            db.execute("DETACH DATABASE shard")
            db.execute("BEGIN")
        db.execute("COMMIT")
        db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('optimize')")
        rows = db.execute("SELECT COUNT(*) FROM chunks_fts").fetchone()[0]
    finally:
        db.close()
    shards = tuple(e.shard for e in entries)
    return MergedEntry(folder.relative_to(catalog.directory).as_posix(), shards, "fts5", rows,
                       {"format": FORMAT_VERSION})


class MergedLexical:
    """A merged BM25 index, read-only, one connection per thread."""

    def __init__(self, directory: Path, entry: MergedEntry) -> None:
        self.entry = entry
        self._path = directory / entry.file / DB_NAME
        self._local = threading.local()

    def search(self, match: str, limit: int) -> list[tuple[str, int, float]]:
        """Best rows for an FTS5 MATCH expression as (shard, chunk id, BM25), higher is better."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite3.connect(f"file:{quote(str(self._path))}?mode=ro", uri=True,
                                                  check_same_thread=False)
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        rows = db.execute(f"SELECT rowid, bm25(chunks_fts, {weights}) AS s FROM chunks_fts WHERE chunks_fts MATCH ? "
                          "ORDER BY s LIMIT ?", (match, limit))
        return [(self.entry.shards[rowid >> 32], rowid & 0xFFFFFFFF, -score) for rowid, score in rows]
