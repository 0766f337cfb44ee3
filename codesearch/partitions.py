"""BM25 from our own postings, in partitions of chunk ids, beside FTS5.

FTS5 runs its `bm25()` once for every row a query's terms match, so on a large tree a common
word (`return`, in 170,000 of 340,000 chunks) costs tens of milliseconds in every query that
has it, and even on a repository of 3,000 chunks it is half of a lexical query's time. Here an
index of at least MIN_ROWS chunks also keeps postings: for each partition of
PARTITION_ROWS consecutive chunk ids, its chunks' lengths, and per bucket of stem hashes one
row holding the sorted 64-bit hashes, where each stem's entries start, and per entry the chunk
id and the stem's count in it, weighted by column as FTS5's `bm25()` weighs them. A query adds
each term's BM25 share into one array with numpy, with FTS5's stemmer, formula and statistics:
FTS5's scores.

The partitions are derived data, like the FAISS file. A write marks the partitions of the
chunks it removes or adds as dirty, with a new version (`Store.replace_file`,
`Store.remove_file`), and until they are rebuilt queries use FTS5. `refresh` rebuilds the dirty
and missing ones, worker processes each reading a partition's chunks from the database: a live
index after each of its syncs, `codesearch index` only where partitions exist already. So a
tree costs one more pass over its chunks, in the background, and an edit costs rebuilding one
or two partitions.

numpy is imported where it is used: a query on an index without partitions never loads it.
"""

from __future__ import annotations

import sqlite3
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import nullcontext
from typing import TYPE_CHECKING

from codesearch.lexical import FTS5_TOKENIZER, Tokenizer, code_tokens
from codesearch.paths import DB_NAME

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    import numpy as np

    from codesearch.store import Store

PARTITION_ROWS = 5_000  # chunk ids per partition: what a worker holds at a time
MIN_ROWS = 1_000  # below it FTS5 answers in about a millisecond; at 3,000 chunks partitions
# halve a lexical query (zod: 5.6 -> 2.5 ms p50) for 5% more on disk
BUCKET_BITS = 12  # a partition's stems are split by their hash's top bits into 2 ** BUCKET_BITS rows:
# a rare stem's read is one row of a few dozen stems per partition, not of a few hundred
# A postings row's key is its partition's number << BUCKET_BITS | its bucket: a partition's rows
# are one range of keys, written in order and replaced with one range delete, and a row of ~600
# bytes sits in its table leaf (a WITHOUT ROWID table keyed by both spills rows over 1 KB to
# overflow pages: +30%). A query's term reads its bucket's row in each partition, by key.
LAYOUT_KEY = "partition_layout"  # the meta key recording the layout the partitions were built with
SCHEMA = """
CREATE TABLE IF NOT EXISTS partitions (number INTEGER PRIMARY KEY, ids BLOB NOT NULL, lengths BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS partition_postings (
    key INTEGER PRIMARY KEY,
    hashes BLOB NOT NULL,
    starts BLOB NOT NULL,
    docs BLOB NOT NULL,
    counts BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS partitions_dirty (number INTEGER PRIMARY KEY, version INTEGER NOT NULL)
"""
Built = tuple[int, bytes, bytes, list[tuple[int, bytes, bytes, bytes, bytes]]]  # see `build_partition`
Row = tuple[bytes, bytes, bytes, bytes]  # a postings row: hashes, starts, docs, counts
KEPT_STEMS = 1 << 17  # tokens whose stem a process keeps (~25 MB)
KEPT_ENTRIES = 4_000_000  # postings entries a reader keeps between queries (12 bytes each)
ROWS_READ = 500  # postings rows one statement reads (SQLite's limit on parameters is 32,766)


class Stemmer:
    """FTS5's own Porter stemmer, asked through its tokenizer (`lexical.Tokenizer`), so stems are
    the index's; the stems of the process's tokens are kept."""

    def __init__(self) -> None:
        self._tokenizer = Tokenizer(FTS5_TOKENIZER)
        self._known: dict[str, str] = {}
        self._lock = threading.Lock()

    def stems(self, tokens: Sequence[str]) -> list[str]:
        """Each token's stem; tokens are `code_tokens`' (letters, digits, `_`), one FTS5 token each."""
        with self._lock:
            known = self._known
            unknown = [t for t in dict.fromkeys(tokens) if t not in known]
            if len(known) + len(unknown) > KEPT_STEMS:
                known.clear()
                unknown = list(dict.fromkeys(tokens))
            for start in range(0, len(unknown), 10_000):
                batch = unknown[start : start + 10_000]
                [found] = self._tokenizer.terms([" ".join(batch)])
                known.update((token, found.get(n, token)) for n, token in enumerate(batch))
            return [known[t] for t in tokens]


STEMMER = Stemmer()


def stem_hashes(stems: Sequence[str]) -> np.ndarray:
    """Each stem's 64-bit hash (blake2b). Two of a tree's stems sharing one is a 1 in 10^7 chance."""
    import hashlib

    import numpy as np

    return np.frombuffer(b"".join(hashlib.blake2b(s.encode(), digest_size=8).digest() for s in stems),
                         dtype=np.uint64)


def layout() -> str:
    """How partitions are laid out, recorded beside them: partitions built another way (by an
    earlier version) are never read, and the next refresh builds them again."""
    return f"{PARTITION_ROWS} ids, {BUCKET_BITS}-bit buckets, rows keyed by partition then bucket"


def build_partition(database: str, number: int, size: int) -> Built:
    """Partition `number` (chunk ids from number x size), from its chunks in the database (a
    worker's job): its number, chunk ids and lengths, then per bucket of stems its row: the
    sorted stem hashes, where each one's entries start, and the entries' chunk ids and counts."""
    import numpy as np

    from codesearch.store import BM25_WEIGHTS

    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT id, path, qualified_name, text FROM chunks WHERE id >= ? AND id < ? ORDER BY id",
                          (number * size, (number + 1) * size)).fetchall()
    finally:
        db.close()
    vocabulary: dict[str, int] = {}
    token_ids, sizes = array("q"), array("q")
    path, path_tokens = "", []
    for _, chunk_path, name, text in rows:
        if chunk_path != path:  # a file's chunks are consecutive: tokenize its path once
            path, path_tokens = chunk_path, code_tokens(chunk_path)
        for column in (path_tokens, code_tokens(name), code_tokens(text)):
            for new in set(column).difference(vocabulary):
                vocabulary[new] = len(vocabulary)
            token_ids.extend(map(vocabulary.__getitem__, column))
            sizes.append(len(column))
    stems = STEMMER.stems(list(vocabulary))
    names = sorted(set(stems))
    hashes = stem_hashes(names)
    order = np.argsort(hashes)  # a stem's place in the partition: by hash
    place = np.empty(len(names), dtype=np.int64)
    place[order] = np.arange(len(names))
    number_of = {s: n for n, s in enumerate(names)}
    stem_of = place[np.array([number_of[s] for s in stems], dtype=np.int64)]
    per_column = np.frombuffer(sizes, dtype=np.int64)
    count = max(len(rows), 1)
    # one key per token, (stem, chunk, column), counted by sorting
    keys, counts = np.unique(stem_of[np.frombuffer(token_ids, dtype=np.int64)] * (3 * count)
                             + np.repeat(np.arange(len(per_column)), per_column), return_counts=True)
    pairs = keys // 3  # (stem, chunk), ordered by stem, then by chunk id
    starts = np.flatnonzero(np.r_[True, pairs[1:] != pairs[:-1]]) if len(pairs) else np.zeros(0, np.int64)
    weighted = np.add.reduceat(counts * np.asarray(BM25_WEIGHTS)[keys % 3], starts) if len(pairs) else np.zeros(0)
    pairs = pairs[starts]
    ids = np.array([row[0] for row in rows], dtype=np.uint32)
    hashes = hashes[order]
    bounds = np.searchsorted(pairs // count, np.arange(len(names) + 1))
    docs, counts32 = ids[pairs % count], weighted.astype(np.float32)
    buckets = []
    edges = np.searchsorted(hashes >> np.uint64(64 - BUCKET_BITS), np.arange(2 ** BUCKET_BITS + 1))
    for bucket in range(2 ** BUCKET_BITS):
        first, last = int(edges[bucket]), int(edges[bucket + 1])
        if first < last:
            start, end = int(bounds[first]), int(bounds[last])
            buckets.append((bucket, hashes[first:last].tobytes(),
                            (bounds[first : last + 1] - start).astype(np.uint32).tobytes(),
                            docs[start:end].tobytes(), counts32[start:end].tobytes()))
    return number, ids.tobytes(), per_column.reshape(-1, 3).sum(axis=1).astype(np.float32).tobytes(), buckets


def refresh(store: Store, jobs: int, pool: Callable[[int], ProcessPoolExecutor],
            should_stop: Callable[[], bool] = lambda: False) -> int:
    """Bring the partitions in step with the chunks: build the dirty and missing ones, with
    `pool(n)` processes when there are several; drop them all when the index is below MIN_ROWS.

    It needs no write lock: each partition is built from what the database holds and then
    written in a transaction of its own, clean only if no write marked it since. `should_stop`
    is asked after each one: the live index lets a file's sync go first, and the next refresh
    goes on. Returns how many were built."""
    db = store.connection
    with store.snapshot():
        laid_out = store.get_meta(LAYOUT_KEY) == layout()
        highest, rows = db.execute("SELECT COALESCE(MAX(id), 0), COUNT(*) FROM chunks").fetchone()
        have = {n for n, in db.execute("SELECT number FROM partitions")}
        dirty = dict(db.execute("SELECT number, version FROM partitions_dirty"))
    if not laid_out and (have or rows >= MIN_ROWS):  # laid out by another version, or none yet: start over
        with store.transaction():
            for table in ("partitions", "partition_postings", "partitions_dirty"):
                db.execute(f"DELETE FROM {table}")
            db.execute("DROP TABLE IF EXISTS partition_terms")  # an earlier version's postings
            store.set_meta(LAYOUT_KEY, layout())
        have, dirty = set(), {}
    wanted = set(range(wanted_count(highest, rows)))
    todo = sorted((wanted - have) | dirty.keys() & wanted)
    database = str(store.index_dir / DB_NAME)

    def keep(built: Built) -> bool:
        """Write a partition; False when another writer kept the database past SQLite's wait
        (the next refresh builds it again)."""
        number, ids, lengths, buckets = built
        try:
            with store.transaction():  # one partition at a time: the writer holds one, never all
                db.execute("INSERT OR REPLACE INTO partitions VALUES (?, ?, ?)", (number, ids, lengths))
                drop_postings(db, [number])
                db.executemany("INSERT INTO partition_postings VALUES (?, ?, ?, ?, ?)",
                               [(number << BUCKET_BITS | bucket, *rest) for bucket, *rest in buckets])
                # clean only if no write marked it again while it was built: it read the chunks
                # after `dirty` was read, so it holds every change marked before
                db.execute("DELETE FROM partitions_dirty WHERE number = ? AND version IS ?",
                           (number, dirty.get(number)))
        except sqlite3.OperationalError:
            return False
        return True

    done = 0
    workers = min(jobs, len(todo))
    with pool(workers) if workers > 1 else nullcontext() as executor:  # one is not worth a pool
        sizes = [PARTITION_ROWS] * len(todo)
        built_all = (executor.map(build_partition, [database] * len(todo), todo, sizes) if executor
                     else map(build_partition, [database] * len(todo), todo, sizes))
        for built in built_all:
            if not keep(built):
                break
            done += 1
            if should_stop():
                break
        if done < len(todo):
            if executor:
                executor.shutdown(cancel_futures=True)
            return done
    stale, orphaned = have - wanted, dirty.keys() - wanted
    if stale or orphaned:  # the index shrank below MIN_ROWS, or its highest ids went
        with store.transaction():
            db.executemany("DELETE FROM partitions WHERE number = ?", [(n,) for n in stale])
            drop_postings(db, stale)
            db.executemany("DELETE FROM partitions_dirty WHERE number = ? AND version = ?",
                           [(n, dirty[n]) for n in orphaned])
    return done


def complete(store: Store) -> bool:
    """Whether the partitions cover every chunk as the index is now (all built, none marked
    dirty) and are laid out as this version lays them out: whether queries may use them."""
    db = store.connection
    try:
        built, dirty = db.execute(
            "SELECT (SELECT COUNT(*) FROM partitions), (SELECT COUNT(*) FROM partitions_dirty)").fetchone()
    except sqlite3.OperationalError:  # an index older than partitions, opened read-only
        return False
    if not built or dirty:
        return False
    highest = db.execute("SELECT COALESCE(MAX(id), 0) FROM chunks").fetchone()[0]  # no COUNT(*): queries ask this
    return bool(built == highest // PARTITION_ROWS + 1 and store.get_meta(LAYOUT_KEY) == layout())


def describe(store: Store) -> dict[str, int | bool]:
    """What `codesearch status` says of the partitions, without reading them: how many are built,
    how many an index of this size keeps (none below MIN_ROWS), how many of those built are out
    of date, and whether queries use them (`complete`)."""
    db = store.connection
    try:  # every write marks what it touches, so an index without partitions has marks too
        built, stale = db.execute(
            "SELECT (SELECT COUNT(*) FROM partitions), "
            "(SELECT COUNT(*) FROM partitions_dirty WHERE number IN (SELECT number FROM partitions))").fetchone()
    except sqlite3.OperationalError:  # an index older than partitions, opened read-only
        built, stale = 0, 0
    highest, rows = db.execute("SELECT COALESCE(MAX(id), 0), COUNT(*) FROM chunks").fetchone()
    return {"built": built, "wanted": wanted_count(highest, rows), "out_of_date": stale, "current": complete(store)}


def wanted_count(highest: int, rows: int) -> int:
    """How many partitions an index keeps: one per PARTITION_ROWS ids up to the highest, none
    below MIN_ROWS chunks."""
    return highest // PARTITION_ROWS + 1 if rows >= MIN_ROWS else 0


def drop_postings(db: sqlite3.Connection, numbers: Collection[int]) -> None:
    """Delete the postings rows of these partitions: each partition's rows are one range of keys."""
    db.executemany("DELETE FROM partition_postings WHERE key >= ? AND key < ?",
                   [(number << BUCKET_BITS, number + 1 << BUCKET_BITS) for number in numbers])


def refresh_or_warn(store: Store, jobs: int, pool: Callable[[int], ProcessPoolExecutor],
                    warn: Callable[[str], None], should_stop: Callable[[], bool] = lambda: False) -> None:
    """`refresh`, where a failure (a worker killed, a full disk) is said and left behind: the
    partitions are derived data, and FTS5 answers without them."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        refresh(store, jobs, pool, should_stop)
    except (OSError, sqlite3.Error, BrokenProcessPool) as error:
        warn(f"the BM25 partitions of {store.index_dir} were not brought up to date ({error}); "
             "lexical queries use FTS5 until the next sync")


def mark_dirty(db: sqlite3.Connection, chunk_ids: Collection[int], marked: set[int] | None = None) -> None:
    """Mark the partitions of these chunks as out of date (a write is removing or adding them),
    each with a new version, so a refresh that built one before this write does not clean it.

    `marked` holds the partitions this write transaction has marked already, which need no second
    mark: nothing reads the versions before the commit. Each mark is a one-row statement: one
    that writes rows from a SELECT opens a savepoint, and FTS5 writes the terms it holds in memory
    out to disk at every savepoint. Marking each file's partitions that way was a third of a
    first build's writing."""
    numbers = {i // PARTITION_ROWS for i in chunk_ids}
    if marked is not None:
        numbers -= marked
        marked |= numbers
    if numbers:
        version = db.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM partitions_dirty").fetchone()[0]
        db.executemany("INSERT INTO partitions_dirty(number, version) VALUES (?, ?) "
                       "ON CONFLICT(number) DO UPDATE SET version = excluded.version",
                       [(number, version) for number in sorted(numbers)])


def _entries(rows: Sequence[Row], keys: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each stem hash in `keys`: its entries (chunk ids, counts) in `rows`, one bucket's postings
    rows of several partitions, found with a few numpy calls however many rows there are. The
    hashes of a bucket share their top BUCKET_BITS bits; with a row's number there instead, the
    rows' hashes are one sorted array, searched once for every key in every row."""
    import numpy as np

    low = np.uint64((1 << (64 - BUCKET_BITS)) - 1)
    tags = np.arange(len(rows), dtype=np.uint64) << np.uint64(64 - BUCKET_BITS)
    hashes = np.frombuffer(b"".join(row[0] for row in rows), np.uint64)
    merged = np.repeat(tags, [len(row[0]) >> 3 for row in rows]) | (hashes & low)  # by row, then hash
    wanted = (tags[None, :] | (keys[:, None] & low)).ravel()  # each key in each row, key by key
    at = np.searchsorted(merged, wanted)
    hit = at < len(merged)
    hit[hit] = merged[at[hit]] == wanted[hit]
    found_in, at = np.tile(np.arange(len(rows)), len(keys))[hit], at[hit]  # each hit's row
    starts = np.frombuffer(b"".join(row[1] for row in rows), np.uint32).astype(np.int64)
    first, last = starts[at + found_in], starts[at + found_in + 1]  # a row has one start more than hashes
    offsets = np.cumsum([0] + [len(row[2]) >> 2 for row in rows])[found_in]  # where each row's docs begin
    lengths = last - first
    ends = np.cumsum(lengths)
    positions = np.arange(ends[-1] if len(ends) else 0) + np.repeat(offsets + first - (ends - lengths), lengths)
    docs = np.frombuffer(b"".join(row[2] for row in rows), np.uint32)[positions]
    counts = np.frombuffer(b"".join(row[3] for row in rows), np.float32)[positions]
    cut = np.r_[0, ends][np.r_[0, np.cumsum(hit.reshape(len(keys), len(rows)).sum(axis=1))]]
    return [(docs[cut[n] : cut[n + 1]], counts[cut[n] : cut[n + 1]]) for n in range(len(keys))]


class Partitions:
    """The partitions of one state of an index, ready for queries: every chunk's length is read
    once; a term's entries, one small row per partition, when a query first asks for it."""

    def __init__(self, db: sqlite3.Connection) -> None:
        import numpy as np

        self._db = db
        ids, lengths, self._numbers = [], [], []
        for number, part_ids, part_lengths in db.execute("SELECT number, ids, lengths FROM partitions ORDER BY number"):
            self._numbers.append(number)
            ids.append(np.frombuffer(part_ids, np.uint32))
            lengths.append(np.frombuffer(part_lengths, np.float32))
        all_ids = np.concatenate(ids) if ids else np.zeros(0, np.uint32)
        self.rows = len(all_ids)
        self.length = np.zeros(int(all_ids.max()) + 1 if len(all_ids) else 0, dtype=np.float32)
        self.length[all_ids] = np.concatenate(lengths) if lengths else np.zeros(0, np.float32)
        self.average = float(self.length.sum(dtype=np.float64)) / max(self.rows, 1)
        self._held: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = OrderedDict()  # stems read, by last use
        self._held_entries = 0

    def postings(self, stems: Sequence[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """(chunk ids, BM25 shares) of each stem the index holds: a stem's share of each chunk's
        score depends on nothing else in a query, so it is worked out once, when it is read.
        What was read is kept for later queries, up to KEPT_ENTRIES entries (the stems used least
        recently go first)."""
        import numpy as np

        from codesearch.fusion import bm25_idf, bm25_share

        wanted = [s for s in dict.fromkeys(stems) if s not in self._held]
        keys = stem_hashes(wanted)
        parts: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {s: ([], []) for s in wanted}
        shift = np.uint64(64 - BUCKET_BITS)
        for bucket in sorted({int(key >> shift) for key in keys}):
            mine = [n for n, key in enumerate(keys) if int(key >> shift) == bucket]  # its stems, by place
            for rows in self._rows_of(bucket):
                for n, (docs, counts) in zip(mine, _entries(rows, keys[mine]), strict=True):
                    parts[wanted[n]][0].append(docs)
                    parts[wanted[n]][1].append(counts)
        for stem, (docs_parts, count_parts) in parts.items():
            docs = np.concatenate(docs_parts) if docs_parts else np.zeros(0, np.uint32)
            counts = np.concatenate(count_parts).astype(np.float64) if count_parts else np.zeros(0)
            self._held[stem] = docs, bm25_share(bm25_idf(self.rows, len(docs)), counts, self.length[docs], self.average)
            self._held_entries += len(docs)
        for stem in stems:
            self._held.move_to_end(stem)
        while self._held_entries > KEPT_ENTRIES and len(self._held) > len(set(stems)):
            self._held_entries -= len(self._held.popitem(last=False)[1][0])
        return {s: self._held[s] for s in stems if len(self._held[s][0])}

    def _rows_of(self, bucket: int) -> Iterator[list[Row]]:
        """A bucket's postings row in each partition, read by key, ROWS_READ keys a statement."""
        keys = [number << BUCKET_BITS | bucket for number in self._numbers]
        for start in range(0, len(keys), ROWS_READ):
            batch = keys[start : start + ROWS_READ]
            yield self._db.execute(f"SELECT hashes, starts, docs, counts FROM partition_postings "
                                   f"WHERE key IN ({','.join('?' * len(batch))})", batch).fetchall()

    def frequencies(self, terms: list[str]) -> dict[str, int]:
        """How many chunks hold each term (stemmed as FTS5 stems it)."""
        stems = STEMMER.stems(terms)
        held = self.postings(stems)
        return {t: len(held[s][0]) if s in held else 0 for t, s in zip(terms, stems, strict=True)}

    def top(self, terms: list[str], limit: int) -> list[tuple[int, float]]:
        """FTS5's bm25() of the chunks holding any of the terms, best `limit` first, higher
        better, ties by id: what `Store.lexical_search` gets from FTS5."""
        import numpy as np

        scores = np.zeros(len(self.length))
        stems = STEMMER.stems(terms)
        held = self.postings(stems)
        # per term, not per stem: FTS5 scores `passes OR pass` as two phrases that both match `pass`
        for docs, shares in (held[s] for s in stems if s in held):
            scores[docs] += shares
        found = np.flatnonzero(scores > 0)
        if len(found) > limit:  # the best `limit`, and every chunk tied with the last of them
            cut = scores[found[np.argpartition(-scores[found], limit - 1)[limit - 1]]]
            found = found[scores[found] >= cut]
        found = found[np.lexsort((found, -scores[found]))][:limit]
        return list(zip(found.tolist(), scores[found].tolist(), strict=True))


