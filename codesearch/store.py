"""The index on disk: one SQLite database with files, chunks, the BM25 index and the vectors.

SQLite is the source of truth. Writes happen in transactions, so a killed run leaves the last
committed state; readers never block (WAL). Vectors are cached by (model id, content hash), so
unchanged code is never embedded twice, across renames, duplicates and branch switches. The FAISS
index in `vectors.py` is derived from this database.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from codesearch import partitions
from codesearch.errors import IndexMismatch, IndexMissing, damaged, is_damage, is_unwritable, unwritable
from codesearch.lexical import FTS5_TOKENIZER, code_tokens, fts_match_expression, fts_phrase, index_texts
from codesearch.paths import DB_NAME
from codesearch.priors import GENERATED_HEAD_LINES, aside_head
from codesearch.records import Chunk

if TYPE_CHECKING:
    import numpy as np

# 2: words outside ASCII are indexed (`lexical.code_tokens`); format 1 made spaces of them. An
# index of format 1 is read as it is, and its first write transaction upgrades it (`_upgrade`).
FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
KEPT_CHUNKS = 20_000  # chunks kept in memory between queries (`Store.chunks_by_id`), a few MB
KEPT_TERMS = 512  # terms whose chunks `Store.term_holders` keeps, each at most COVERAGE_ROWS ids
COVERAGE_ROWS = 10_000  # a term in more chunks is left out of coverage: reading them costs ~10 ms
# SQLite's page cache while a sync writes (KiB; its default is 2 MB): a first build's index on
# chunks' content hashes outgrows 2 MB early, and each insert then reads pages back in
SYNC_CACHE_KIB = 64 * 1024

# The BM25 table; a catalog's merged lexical index uses the same definition.
# Contentless (content = ''): the terms are indexed, not stored a second time beside the chunks
# (that copy was 40% of an index). Deleting a row takes its exact terms again, which
# `lexical.index_texts` recomputes from the chunk, so a change of tokenizing needs a format bump.
FTS_TABLE = f"""CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    path_terms, symbol_terms, body_terms, content = '', tokenize = "{FTS5_TOKENIZER}"
)"""

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha TEXT NOT NULL,
    language TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    language TEXT NOT NULL,
    symbol TEXT NOT NULL,
    qualified_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    start_line INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    text TEXT NOT NULL,
    content_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_file ON chunks(file_id);
CREATE INDEX IF NOT EXISTS chunks_hash ON chunks(content_hash);
CREATE INDEX IF NOT EXISTS chunks_symbol ON chunks(symbol);
{FTS_TABLE};
CREATE TABLE IF NOT EXISTS embeddings (
    model_id TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (model_id, content_hash)
) WITHOUT ROWID;
{partitions.SCHEMA};
"""

# BM25 column weights: a match in a symbol name or path counts more than one in the body.
BM25_WEIGHTS = (2.0, 4.0, 1.0)
_CHUNK_COLUMNS = "path, language, symbol, qualified_name, kind, start_line, end_line, text, content_hash"


@dataclass(frozen=True, slots=True)
class FileState:
    """What the index remembers of a file, to tell whether it changed."""

    id: int
    size: int
    mtime_ns: int
    sha: str


class Store:
    """The SQLite side of one index directory."""

    def __init__(self, index_dir: Path, connection: sqlite3.Connection) -> None:
        self.index_dir = index_dir
        self._db = connection
        self._corpus: tuple[int, int, float] | None = None
        self._fts_contentless: bool | None = None
        self._has_symbol_index: bool | None = None  # see `definitions`
        self._kept_version: tuple[int, int] | None = None  # see `_kept`
        self._kept_answers: dict[str, Any] = {}
        self._marked: set[int] | None = None  # partitions marked dirty in this write transaction
        self._format: int | None = None  # the format found by `check_format`, until `_upgrade`

    # --- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, index_dir: Path, *, create: bool = False, immutable: bool = False) -> Store:
        """Open an index; with `create`, make the directory and schema if they are missing.

        `immutable` is for a published shard of a catalog, which never changes: it is read with
        no locks and no WAL files, so it can live on a read-only or network filesystem."""
        db_path = index_dir / DB_NAME
        if not db_path.exists():
            if not create:
                raise IndexMissing(f"no index at {index_dir}; run `codesearch index` first")
            index_dir.mkdir(parents=True, exist_ok=True)
            (index_dir / ".gitignore").write_text("*\n")
        target = f"file:{quote(str(db_path))}?immutable=1" if immutable else db_path
        connection = sqlite3.connect(target, timeout=30.0, isolation_level=None, check_same_thread=False, uri=True)
        try:
            return cls._opened(index_dir, connection, create=create, immutable=immutable)
        except BaseException as error:
            connection.close()
            if is_damage(error):
                raise damaged(f"at {index_dir}", error) from error
            if is_unwritable(error):
                raise unwritable(f"at {index_dir}", error) from error
            raise

    @classmethod
    def _opened(cls, index_dir: Path, connection: sqlite3.Connection, *, create: bool, immutable: bool) -> Store:
        """The store over a new connection: its settings, with `create` its schema, and its format checked."""
        if not immutable:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA foreign_keys=ON")
        store = cls(index_dir, connection)
        if create:
            with store.transaction():
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        connection.execute(statement)
                if store.get_meta("format_version") is None:
                    store.set_meta("format_version", str(FORMAT_VERSION))
                    store.set_meta("generation", "0")
        store.check_format()
        return store

    def check_format(self) -> None:
        """Refuse an index written by a format version this codesearch cannot read."""
        found = self.get_meta("format_version")
        if found is None:
            raise IndexMissing(f"{self.index_dir} holds no complete index; run `codesearch index`")
        self._format = int(found)
        if self._format not in READABLE_FORMATS:
            raise IndexMismatch(
                f"the index at {self.index_dir} has format {found}, this codesearch reads formats "
                f"{' and '.join(map(str, READABLE_FORMATS))}; "
                "run `codesearch index --rebuild`"
            )

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    @property
    def connection(self) -> sqlite3.Connection:
        """The database connection, for derived data kept beside the chunks (`partitions`)."""
        return self._db

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction: all of it lands, or none of it. One that cannot be written (a
        full disk, a read-only file) is IndexUnwritable, and the index keeps its last commit."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._marked = set()
            if self._format is not None and self._format < FORMAT_VERSION:
                self._upgrade()
            yield
            self._db.execute("COMMIT")
        except BaseException as error:
            if self._db.in_transaction:  # SQLite rolls some failures back itself (a full disk)
                self._db.execute("ROLLBACK")
            if is_unwritable(error):
                raise unwritable(f"at {self.index_dir}", error) from error
            raise
        finally:
            self._marked = None

    def _upgrade(self) -> None:
        """Bring an index of format 1 to this format, in the write transaction that opens
        (another process may have upgraded it since it was opened). Only chunks with characters
        outside ASCII in their path, name or text have other terms now: each one's BM25 row is
        deleted with its format 1 terms (what the contentless table needs) and added with its
        new ones, and its partition is marked dirty (450 of 28,006 chunks on the 20 development
        repositories). Vectors and everything else stay as they are."""
        if self.get_meta("format_version") == "1":
            wide = " OR ".join(f"length(CAST({c} AS BLOB)) != length({c})" for c in ("path", "qualified_name", "text"))
            rows = self._db.execute(f"SELECT id, path, qualified_name, text FROM chunks WHERE {wide}").fetchall()
            for chunk_id, path, name, text in rows:
                if self._contentless():
                    old = index_texts(_format_1(path), [_format_1(name)], [_format_1(text)])[0]
                    self._db.execute("INSERT INTO chunks_fts(chunks_fts, rowid, path_terms, symbol_terms, body_terms) "
                                     "VALUES ('delete', ?, ?, ?, ?)", (chunk_id, *old))
                else:  # an index made before the table was contentless
                    self._db.execute("DELETE FROM chunks_fts WHERE rowid = ?", (chunk_id,))
                self._db.execute("INSERT INTO chunks_fts(rowid, path_terms, symbol_terms, body_terms) "
                                 "VALUES (?, ?, ?, ?)", (chunk_id, *index_texts(path, [name], [text])[0]))
            partitions.mark_dirty(self._db, [row[0] for row in rows], self._marked)
            self.set_meta("format_version", str(FORMAT_VERSION))
        self._format = FORMAT_VERSION

    @contextmanager
    def large_cache(self, kib: int = SYNC_CACHE_KIB) -> Iterator[None]:
        """A larger page cache for a sync's writes, then the previous size again: a server that
        keeps this connection open does not keep the pages. SQLite frees those past the limit,
        and the C library is asked to hand them back (glibc otherwise keeps freed heap for the
        process: 70 MB after a first build of 340,000 chunks)."""
        previous = self._db.execute("PRAGMA cache_size").fetchone()[0]
        self._db.execute(f"PRAGMA cache_size = -{int(kib)}")
        try:
            yield
        finally:
            self._db.execute(f"PRAGMA cache_size = {int(previous)}")
            _return_freed_memory()

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """A read transaction: every query inside sees one committed state, whatever a writer
        commits meanwhile (WAL). Use one connection per thread."""
        self._db.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            self._db.execute("COMMIT")

    # --- meta ----------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        """One value of the meta table, or None."""
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        except sqlite3.OperationalError:
            return None
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Set one meta value (inside the caller's transaction)."""
        self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def bump_generation(self) -> None:
        """Mark that chunks or vectors changed, so derived files (FAISS) are rebuilt."""
        self.set_meta("generation", str(self.generation + 1))
        self.set_meta("updated_at", str(time.time()))

    @property
    def generation(self) -> int:
        """A counter that grows with every change to chunks or vectors."""
        return int(self.get_meta("generation") or 0)

    # --- files and chunks ----------------------------------------------------------------

    def file_states(self) -> dict[str, FileState]:
        """Every indexed file with what is needed to detect a change. Kept until the database
        changes (`_kept`), since a live index's sync before each query needs it and finds
        nothing changed most times (17,000 files: 90 ms to read); not to be modified."""
        kept = self._kept()
        if "files" not in kept:
            rows = self._db.execute("SELECT path, id, size, mtime_ns, sha FROM files")
            kept["files"] = {path: FileState(fid, size, mtime, sha) for path, fid, size, mtime, sha in rows}
        states: dict[str, FileState] = kept["files"]
        return states

    def file_sha(self, path: str) -> str | None:
        """The content hash the index holds for a file, None if it holds no such file."""
        row = self._db.execute("SELECT sha FROM files WHERE path = ?", (path,)).fetchone()
        return row[0] if row else None

    def checkpoint(self) -> None:
        """Move the write-ahead log into the database file and empty it (its size is then the index's)."""
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def source_bytes(self) -> int:
        """The total size of the indexed files."""
        return int(self._db.execute("SELECT COALESCE(SUM(size), 0) FROM files").fetchone()[0])

    def aside_files(self, paths: Iterable[str]) -> set[str]:
        """Which of these indexed files a tool or another project wrote, as their first chunk says
        when it starts in the file's head (`priors.aside_head`). What was asked once is kept until
        the database changes (`_kept`): a query asks it of all its candidates' files."""
        def read(batch: list[str]) -> Iterator[tuple[str, bool]]:
            marks = ",".join("?" * len(batch))
            heads: dict[str, str] = {}
            for path, text in self._db.execute(
                    "SELECT f.path, c.text FROM files f JOIN chunks c ON c.file_id = f.id "
                    f"WHERE f.path IN ({marks}) AND c.start_line <= ? ORDER BY c.start_line",
                    (*batch, GENERATED_HEAD_LINES)):
                heads.setdefault(path, text)
            return ((path, aside_head(heads.get(path, ""))) for path in batch)

        known: dict[str, bool] = self._kept().setdefault("aside", {})
        return {path for path in _read_into(known, paths, read) if known[path]}

    def definitions(self, symbol: str, limit: int) -> list[int]:
        """The chunks that define `symbol` (its last part: `ServeHTTP` of `Router.ServeHTTP`), at
        most `limit`, in file order; none from an index made before their index existed, which
        a scan of every chunk would answer too slowly (the next `codesearch index` adds it; a
        reader that found none looks again, so a long-lived one sees it once it is there)."""
        if not self._has_symbol_index:
            self._has_symbol_index = self._db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'chunks_symbol'").fetchone() is not None
        if not self._has_symbol_index:
            return []
        return [row[0] for row in self._db.execute(
            "SELECT id FROM chunks WHERE symbol = ? AND kind NOT IN ('module', 'block') ORDER BY id LIMIT ?",
            (symbol, limit))]

    def sample_symbols(self, count: int, rng: random.Random) -> list[str]:
        """Up to `count` distinct symbol names of the index, drawn with `rng` (benchmark queries)."""
        names = [row[0] for row in self._db.execute("SELECT DISTINCT symbol FROM chunks WHERE symbol != ''")]
        return rng.sample(names, min(count, len(names)))

    def touch_file(self, file_id: int, size: int, mtime_ns: int) -> None:
        """Record a new stat for a file whose content did not change."""
        self._db.execute("UPDATE files SET size = ?, mtime_ns = ? WHERE id = ?", (size, mtime_ns, file_id))

    def replace_file(
        self, path: str, size: int, mtime_ns: int, sha: str, language: str, chunks: Sequence[Chunk],
        texts: Sequence[tuple[str, str, str]] | None = None,
    ) -> None:
        """Store a file's new chunks in place of its old ones. `texts` are their FTS5 columns
        (`lexical.index_texts`) when a worker has computed them already."""
        self.remove_file(path)
        cursor = self._db.execute(
            "INSERT INTO files(path, size, mtime_ns, sha, language) VALUES (?, ?, ?, ?, ?)",
            (path, size, mtime_ns, sha, language),
        )
        file_id = int(cursor.lastrowid or 0)  # set by every INSERT
        if texts is None:
            texts = index_texts(path, [c.qualified_name for c in chunks], [c.text for c in chunks])
        added = []
        for c, columns in zip(chunks, texts, strict=True):
            cursor = self._db.execute(
                f"INSERT INTO chunks(file_id, {_CHUNK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (file_id, c.path, c.language, c.symbol, c.qualified_name, c.kind, c.start_line,
                 c.end_line, c.text, c.content_hash),
            )
            added.append(int(cursor.lastrowid or 0))
            self._db.execute(
                "INSERT INTO chunks_fts(rowid, path_terms, symbol_terms, body_terms) VALUES (?, ?, ?, ?)",
                (added[-1], *columns),
            )
        partitions.mark_dirty(self._db, added, self._marked)

    def _contentless(self) -> bool:
        """Whether the FTS5 table stores no copy of its terms (every index made since it became so)."""
        if self._fts_contentless is None:
            row = self._db.execute("SELECT sql FROM sqlite_master WHERE name = 'chunks_fts'").fetchone()
            self._fts_contentless = bool(row) and "content = ''" in row[0]
        return self._fts_contentless

    def make_fts_contentless(self) -> None:
        """Recreate an empty FTS5 table of an older index as contentless (inside a transaction,
        once every file is removed: `index.rebuild`)."""
        if not self._contentless():
            self._db.execute("DROP TABLE chunks_fts")
            self._db.execute(FTS_TABLE)
            self._fts_contentless = True

    def remove_file(self, path: str) -> None:
        """Forget a file and its chunks (their vectors stay cached by content hash)."""
        row = self._db.execute("SELECT id FROM files WHERE path = ?", (path,)).fetchone()
        if row is None:
            return
        rows = self._db.execute("SELECT id, qualified_name, text FROM chunks WHERE file_id = ? ORDER BY id",
                                (row[0],)).fetchall()
        if self._contentless():
            texts = index_texts(path, [r[1] for r in rows], [r[2] for r in rows])
            self._db.executemany(
                "INSERT INTO chunks_fts(chunks_fts, rowid, path_terms, symbol_terms, body_terms) "
                "VALUES ('delete', ?, ?, ?, ?)", [(r[0], *columns) for r, columns in zip(rows, texts, strict=True)])
        else:  # an index made before the table was contentless
            self._db.execute(
                "DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE file_id = ?)", (row[0],)
            )
        partitions.mark_dirty(self._db, [r[0] for r in rows], self._marked)
        self._db.execute("DELETE FROM chunks WHERE file_id = ?", (row[0],))
        self._db.execute("DELETE FROM files WHERE id = ?", (row[0],))

    def chunks_by_id(self, ids: Iterable[int]) -> dict[int, Chunk]:
        """Chunks for the given ids (missing ids are left out). Chunks read once are kept until
        the database changes (`_kept`): a query's candidates are mostly the last query's."""
        def read(batch: list[int]) -> Iterator[tuple[int, Chunk]]:
            marks = ",".join("?" * len(batch))
            for row in self._db.execute(f"SELECT id, {_CHUNK_COLUMNS} FROM chunks WHERE id IN ({marks})", batch):
                yield row[0], Chunk(*row[1:])

        kept: dict[int, Chunk] = self._kept().setdefault("chunks", {})
        return {i: kept[i] for i in _read_into(kept, ids, read) if i in kept}

    def all_chunks(self) -> list[Chunk]:
        """Every chunk, in path and line order."""
        rows = self._db.execute(f"SELECT {_CHUNK_COLUMNS} FROM chunks ORDER BY path, start_line")
        return [Chunk(*row) for row in rows]

    def drop_vectors(self, model_id: str) -> int:
        """Delete every cached vector of a model (inside the caller's transaction); how many."""
        return self._db.execute("DELETE FROM embeddings WHERE model_id = ?", (model_id,)).rowcount

    def chunk_id_at(self, path: str, line: int) -> int | None:
        """The innermost chunk of `path` that contains `line` (found through the file's row: the
        chunks table has no index on paths)."""
        row = self._db.execute(
            "SELECT c.id FROM files f JOIN chunks c ON c.file_id = f.id WHERE f.path = ? "
            "AND c.start_line <= ? AND c.end_line >= ? ORDER BY c.end_line - c.start_line, c.id LIMIT 1",
            (path, line, line),
        ).fetchone()
        return row[0] if row else None

    def paths_named(self, name: str, limit: int) -> list[str]:
        """Indexed paths of files called `name` (`walk.py`: `walk.py`, `indexer/walk.py`), at most
        `limit`, in path order: one scan of the files table."""
        pattern = "%/" + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return [row[0] for row in self._db.execute(
            "SELECT path FROM files WHERE path = ? OR path LIKE ? ESCAPE '\\' ORDER BY path LIMIT ?",
            (name, pattern, limit))]

    # --- lexical -------------------------------------------------------------------------

    def phrase_holders(self, tokens: list[str], limit: int) -> list[int]:
        """The chunks whose code (symbol or body) holds `tokens` one after another, an FTS5 phrase
        (stems, as BM25 matches them): at most `limit`, in id order."""
        if not tokens:
            return []
        return [row[0] for row in self._db.execute(
            "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rowid LIMIT ?",
            (_in_code(" ".join(tokens)), limit))]

    def holders_as_written(self, tokens: list[str], written: str, limit: int, scan: int) -> list[int] | None:
        """The chunks whose text holds `written` (in lower case) as it is, among those whose code
        holds `tokens` as a phrase: at most `limit`, in id order. None where more than `scan`
        chunks hold the tokens: reading their texts would cost more than a query should."""
        match = _in_code(" ".join(tokens))
        if self._db.execute("SELECT COUNT(*) FROM (SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT ?)",
                            (match, scan + 1)).fetchone()[0] > scan:
            return None
        return [row[0] for row in self._db.execute(
            "SELECT id FROM chunks WHERE id IN (SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?) "
            "AND instr(lower(text), ?) > 0 ORDER BY id LIMIT ?", (match, written, limit))]

    def lexical_search(self, terms: list[str], limit: int) -> list[tuple[int, float]]:
        """BM25 of the chunks holding any of `terms`: (chunk id, score), best first (higher is
        better, ties by id). From a large index's partitions when they are up to date, else from
        FTS5: the same scores either way."""
        if not terms:
            return []
        if not self._db.in_transaction:  # one state of the database for the partitions' reads
            with self.snapshot():
                return self.lexical_search(terms, limit)
        found = self._partitions()
        if found is not None:
            return found.top(terms, limit)
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        rows = self._db.execute(
            f"SELECT rowid, bm25(chunks_fts, {weights}) AS s FROM chunks_fts WHERE chunks_fts MATCH ? "
            "ORDER BY s, rowid LIMIT ?",
            (fts_match_expression(terms), limit),
        )
        return [(rowid, -score) for rowid, score in rows]

    def keeps_partitions(self) -> bool:
        """Whether some BM25 partitions were built for this index (`partitions`)."""
        try:
            return self._db.execute("SELECT 1 FROM partitions LIMIT 1").fetchone() is not None
        except sqlite3.OperationalError:  # an index older than partitions, opened read-only
            return False

    def _partitions(self) -> partitions.Partitions | None:
        """The index's BM25 partitions, when it keeps them and they cover every chunk as it is
        now; read once per state of the database."""
        kept = self._kept()
        if "partitions" not in kept:
            kept["partitions"] = None
            if partitions.complete(self):
                found = partitions.Partitions(self._db)
                kept["partitions"] = found if found.rows == self._rows() else None
        result: partitions.Partitions | None = kept["partitions"]
        return result

    def _rows(self) -> int:
        kept = self._kept()
        if "rows" not in kept:
            kept["rows"] = self.chunk_count()
        return int(kept["rows"])

    def term_scores(self, match: str, rowids: list[int]) -> dict[int, float]:
        """BM25 (higher is better) of the given chunks for one MATCH expression, e.g. one term."""
        if not rowids:
            return {}
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        marks = ",".join("?" * len(rowids))
        rows = self._db.execute(
            f"SELECT rowid, bm25(chunks_fts, {weights}) FROM chunks_fts WHERE chunks_fts MATCH ? "
            f"AND rowid IN ({marks})", (match, *rowids))
        return {rowid: -score for rowid, score in rows}

    def document_count(self, match: str) -> int:
        """How many chunks a MATCH expression (one term) finds: the term's document frequency."""
        return int(self._db.execute("SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH ?", (match,)).fetchone()[0])

    def document_frequencies(self, terms: Iterable[str]) -> tuple[int, dict[str, int]]:
        """BM25's N (the chunks) and each term's document frequency. Counted once per term and
        kept until the database changes (`_kept`)."""
        kept = self._kept()
        found = self._partitions()
        known: dict[str, int] = kept.setdefault("frequencies", {})
        _read_into(known, terms, (lambda batch: found.frequencies(batch).items()) if found is not None else
                   (lambda batch: ((t, self.document_count(fts_phrase(t))) for t in batch)))
        return self._rows(), known

    def stem_documents(self, stems: Iterable[str]) -> dict[str, int]:
        """How many chunks hold each of these stems (FTS5's terms, as `partitions.STEMMER` makes
        them), for those the index holds: one look in FTS5's vocabulary, however many stems."""
        wanted = list(dict.fromkeys(stems))
        if not wanted:
            return {}
        self._scratch_tables()
        found: dict[str, int] = {}
        for start in range(0, len(wanted), 500):  # SQLite's limit on parameters is 32,766
            batch = wanted[start : start + 500]
            marks = ",".join("?" * len(batch))
            found.update(self._db.execute(f"SELECT term, doc FROM temp.index_vocab WHERE term IN ({marks})", batch))
        return found

    def chunk_count(self) -> int:
        """The number of chunks (BM25's N)."""
        return int(self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])

    def bm25_terms(self, chunks: list[Chunk], terms: list[str]) -> list[tuple[int, float]]:
        """BM25 of chunks that are not in the index (unsaved buffers), on the index's own scale.

        FTS5 scores only its own rows, so the chunks go into a scratch FTS5 table with the same
        tokenizer, and the score is computed here with FTS5's formula and the index's statistics
        (row count, average row length, each term's document frequency). Returns (position in
        `chunks`, score) for the chunks that match any term."""
        if not chunks or not terms:
            return []
        self._fill_scratch(chunks)
        db = self._db
        db.execute("INSERT INTO temp.scratch_fts(rowid, body_terms) VALUES (?, ?)", (0, " ".join(terms)))
        stems = [row[0] for row in db.execute("SELECT DISTINCT term FROM temp.scratch_vocab WHERE doc = 0")]
        if not stems:
            return []
        marks = ",".join("?" * len(stems))
        weight = dict(zip(("path_terms", "symbol_terms", "body_terms"), BM25_WEIGHTS, strict=True))
        freq: dict[tuple[int, str], float] = {}
        for term, doc, col, count in db.execute(
            f"SELECT term, doc, col, COUNT(*) FROM temp.scratch_vocab WHERE doc > 0 AND term IN ({marks}) "
            "GROUP BY term, doc, col", stems):
            freq[doc, term] = freq.get((doc, term), 0.0) + weight[col] * count
        lengths = dict(db.execute("SELECT doc, COUNT(*) FROM temp.scratch_vocab WHERE doc > 0 GROUP BY doc"))
        rows, average = self._bm25_corpus()
        hits = self.stem_documents(stems)
        from codesearch.fusion import bm25_idf, bm25_share  # here: only unsaved buffers need it

        idf = {term: bm25_idf(rows, hits.get(term, 0)) for term in stems}
        scores: dict[int, float] = {}
        for (doc, term), f in freq.items():
            scores[doc] = scores.get(doc, 0.0) + bm25_share(idf[term], f, lengths.get(doc, 0), average)
        return sorted(((doc - 1, s) for doc, s in scores.items()), key=lambda pair: -pair[1])

    def term_holders(self, ids: Iterable[int], terms: list[str]) -> dict[str, set[int]]:
        """For each of the query's telling `terms` (`telling_terms`), which of these chunk ids
        hold it in their own code, symbol or body, stemmed as BM25 matches it. Each term's
        chunks are read once and kept until the database changes."""
        def read(batch: list[str]) -> Iterator[tuple[str, frozenset[int]]]:
            for term in batch:
                yield term, frozenset(row[0] for row in self._db.execute(
                    "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?", (_in_code(term),)))

        wanted = set(ids)
        kept: dict[str, frozenset[int]] = self._kept().setdefault("term_rows", {})
        return {term: wanted & kept[term] for term in _read_into(kept, self.telling_terms(terms), read, KEPT_TERMS)}

    def unindexed_holders(self, chunks: list[Chunk], terms: list[str]) -> dict[str, set[int]]:
        """`term_holders` for chunks that are not in the index (unsaved buffers), by position."""
        telling = self.telling_terms(terms)
        if not chunks or not telling:
            return {}
        self._fill_scratch(chunks)
        return {term: {row[0] - 1 for row in self._db.execute(
            "SELECT rowid FROM temp.scratch_fts WHERE scratch_fts MATCH ?", (_in_code(term),))} for term in telling}

    def telling_terms(self, terms: list[str]) -> list[str]:
        """The terms that can tell chunks apart by being in them: those in at most half the
        chunks (BM25 gives the rest no weight) and in at most COVERAGE_ROWS, whose chunks are
        cheap to read. A term the index does not hold stays: an unsaved buffer may."""
        if not terms:
            return []
        rows, frequency = self.document_frequencies(terms)
        return [t for t in terms if frequency[t] <= min(rows / 2, COVERAGE_ROWS)]

    def _fill_scratch(self, chunks: list[Chunk]) -> None:
        """Put chunks in the scratch FTS5 table (same tokenizer as the index), rowids from 1."""
        self._scratch_tables()
        self._db.execute("DELETE FROM temp.scratch_fts")
        for n, c in enumerate(chunks, 1):
            self._db.execute(
                "INSERT INTO temp.scratch_fts(rowid, path_terms, symbol_terms, body_terms) VALUES (?, ?, ?, ?)",
                (n, " ".join(code_tokens(c.path)), " ".join(code_tokens(c.qualified_name)),
                 " ".join(code_tokens(c.text))),
            )

    def _scratch_tables(self) -> None:
        self._db.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.scratch_fts USING fts5("
            f"path_terms, symbol_terms, body_terms, tokenize = \"{FTS5_TOKENIZER}\")"
        )
        self._db.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.scratch_vocab USING fts5vocab(temp, scratch_fts, 'instance')"
        )
        self._db.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.index_vocab USING fts5vocab(main, chunks_fts, 'row')"
        )

    def _bm25_corpus(self) -> tuple[int, float]:
        """(rows, average tokens per row) of the index's FTS table, cached per generation."""
        generation = self.generation
        if self._corpus is None or self._corpus[0] != generation:
            rows = self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
            tokens = self._db.execute("SELECT COALESCE(SUM(cnt), 0) FROM temp.index_vocab").fetchone()[0]
            self._corpus = (generation, max(rows, 1), max(tokens / max(rows, 1), 1.0))
        return self._corpus[1], self._corpus[2]

    # --- vectors -------------------------------------------------------------------------

    def missing_vectors(self, model_id: str) -> list[Chunk]:
        """One chunk per content hash that has no vector yet for this model."""
        rows = self._db.execute(
            f"SELECT {_CHUNK_COLUMNS} FROM chunks c WHERE NOT EXISTS ("
            "SELECT 1 FROM embeddings e WHERE e.model_id = ? AND e.content_hash = c.content_hash) "
            "GROUP BY c.content_hash",
            (model_id,),
        )
        return [Chunk(*row) for row in rows]

    def add_vectors(self, model_id: str, hashes: list[str], vectors: np.ndarray) -> None:
        """Cache vectors by content hash (inside the caller's transaction)."""
        import numpy as np

        data = np.ascontiguousarray(vectors, dtype=np.float32)
        self._db.executemany(
            "INSERT OR REPLACE INTO embeddings(model_id, content_hash, vector) VALUES (?, ?, ?)",
            [(model_id, h, data[i].tobytes()) for i, h in enumerate(hashes)],
        )

    def hashes_with_vectors(self, model_id: str, hashes: Iterable[str]) -> set[str]:
        """Which of these content hashes have a vector for the model. What was asked once is
        kept until the database changes (`_kept`): a query asks it of all its candidates."""
        def read(batch: list[str]) -> Iterator[tuple[str, bool]]:
            marks = ",".join("?" * len(batch))
            found = {row[0] for row in self._db.execute(
                f"SELECT content_hash FROM embeddings WHERE model_id = ? AND content_hash IN ({marks})",
                [model_id, *batch])}
            return ((h, h in found) for h in batch)

        known: dict[str, bool] = self._kept().setdefault(("vectors", model_id), {})
        return {h for h in _read_into(known, hashes, read) if known[h]}

    def copy_vectors_from(self, other_dir: Path, model_id: str) -> int:
        """Copy in every vector another index directory (a job's vector pool) has for this
        index's chunks; returns how many were copied."""
        other = other_dir / DB_NAME
        if not other.exists():
            return 0
        self._db.execute("ATTACH DATABASE ? AS other", (f"file:{quote(str(other))}?mode=ro",))
        try:
            with self.transaction():
                cursor = self._db.execute(
                    "INSERT OR IGNORE INTO embeddings(model_id, content_hash, vector) "
                    "SELECT o.model_id, o.content_hash, o.vector FROM other.embeddings o "
                    "WHERE o.model_id = ? AND o.content_hash IN (SELECT content_hash FROM main.chunks)",
                    (model_id,),
                )
                copied = cursor.rowcount
        finally:
            self._db.execute("DETACH DATABASE other")
        return max(copied, 0)

    def vectors_for(self, model_id: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """Cached vectors by content hash (hashes with none are left out)."""
        wanted = list(dict.fromkeys(hashes))
        import numpy as np

        found: dict[str, np.ndarray] = {}
        for start in range(0, len(wanted), 500):
            batch = wanted[start : start + 500]
            marks = ",".join("?" * len(batch))
            for content_hash, blob in self._db.execute(
                f"SELECT content_hash, vector FROM embeddings WHERE model_id = ? AND content_hash IN ({marks})",
                [model_id, *batch],
            ):
                found[content_hash] = np.frombuffer(blob, dtype=np.float32)
        return found

    def chunk_vectors(self, model_id: str) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, float32 matrix) for every chunk that has a vector for this model."""
        import numpy as np

        rows = self._db.execute(
            "SELECT c.id, e.vector FROM chunks c JOIN embeddings e "
            "ON e.model_id = ? AND e.content_hash = c.content_hash ORDER BY c.id",
            (model_id,),
        ).fetchall()
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
        return ids, matrix

    def has_vectors(self, model_id: str) -> bool:
        """Whether the index holds any vector of this model, used or cached."""
        found = self._db.execute("SELECT 1 FROM embeddings WHERE model_id = ? LIMIT 1", (model_id,)).fetchone()
        return found is not None

    def prune_vectors(self, model_id: str) -> int:
        """Drop cached vectors no chunk uses, once they outnumber the used ones (keeps branch
        switches cheap while bounding growth)."""
        used = self._db.execute(
            "SELECT COUNT(DISTINCT content_hash) FROM chunks").fetchone()[0]
        total = self._db.execute(
            "SELECT COUNT(*) FROM embeddings WHERE model_id = ?", (model_id,)).fetchone()[0]
        if total - used <= max(used, 1000):
            return 0
        cursor = self._db.execute(
            "DELETE FROM embeddings WHERE model_id = ? AND content_hash NOT IN "
            "(SELECT content_hash FROM chunks)",
            (model_id,),
        )
        return cursor.rowcount

    # --- counts --------------------------------------------------------------------------

    def counts(self, model_id: str) -> dict[str, int]:
        """Files, chunks, and chunks with a vector for this model. Counting the vectors reads
        every one (milliseconds), so the answer is kept until the database changes (`_kept`)."""
        kept = self._kept()
        if ("counts", model_id) not in kept:
            files = self._db.execute("SELECT COUNT(*) FROM files").fetchone()[0]
            chunks = self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
            with_vectors = self._db.execute(
                "SELECT COUNT(*) FROM chunks c WHERE EXISTS (SELECT 1 FROM embeddings e "
                "WHERE e.model_id = ? AND e.content_hash = c.content_hash)",
                (model_id,),
            ).fetchone()[0]
            kept[("counts", model_id)] = {"files": files, "chunks": chunks, "with_vectors": with_vectors}
        return dict(kept[("counts", model_id)])

    def kept(self, kind: str) -> dict[Any, Any]:
        """A dict for answers of one `kind` worked out from the database (`search.respelled`'s),
        emptied when the database changes, as the store's own reads are (`_kept`)."""
        found: dict[Any, Any] = self._kept().setdefault(kind, {})
        return found

    def _kept(self) -> dict[Any, Any]:
        """Answers read from the database, kept until it changes: a write through this
        connection (`total_changes`) or any other (`PRAGMA data_version`)."""
        version = (self._db.execute("PRAGMA data_version").fetchone()[0], self._db.total_changes)
        if version != self._kept_version:
            self._kept_version, self._kept_answers = version, {}
        return self._kept_answers

    def languages(self) -> dict[str, int]:
        """Chunks per language."""
        rows = self._db.execute("SELECT language, COUNT(*) FROM chunks GROUP BY language ORDER BY 2 DESC")
        return dict(rows.fetchall())


def _read_into(kept: dict[Any, Any], keys: Iterable[Any],
               read: Callable[[list[Any]], Iterable[tuple[Any, Any]]], limit: int = KEPT_CHUNKS) -> list[Any]:
    """Make `kept` hold every one of `keys` the database has, reading those it lacks in batches
    of 500 (SQLite's limit on parameters is near); the keys, in order, without repeats. `kept` is
    emptied first when it would outgrow `limit` entries, so memory stays bounded."""
    wanted = list(dict.fromkeys(keys))
    unknown = [key for key in wanted if key not in kept]
    if len(kept) + len(unknown) > limit:
        kept.clear()
        unknown = wanted
    for start in range(0, len(unknown), 500):
        kept.update(read(unknown[start : start + 500]))
    return wanted


def _return_freed_memory() -> None:
    """Ask glibc to give freed heap memory back to the system (under a millisecond). Elsewhere
    (macOS, musl) there is no such call, and the memory stays for this process to reuse."""
    import ctypes

    with suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def _in_code(term: str) -> str:
    """An FTS5 query for a term in a chunk's own code: its symbol or body, not its path."""
    return "{symbol_terms body_terms} : " + fts_phrase(term)


def _format_1(text: str) -> str:
    """`text` as format 1 tokenized it: every character outside ASCII a separator."""
    return text.encode("ascii", "replace").decode("ascii")
