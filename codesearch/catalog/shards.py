"""Searching a catalog: every current shard (or those a request and a token allow) as one.

Each shard answers BM25 candidates from its own index and dense candidates from its own exact
FAISS file, or, past `MERGED_THRESHOLD` vectors, from the catalog's merged IVF index. The union
is ranked by the same `ranking.rank` as a single repository, in one fusion, so scores compare
across repositories and a query restricted to one repository ranks exactly as that repository's
own index would. A new catalog is picked up on the next query; connections are pooled per shard,
so concurrent queries do not wait for each other.
"""

from __future__ import annotations

import fnmatch
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codesearch.catalog.catalog import CATALOG_NAME, Catalog, ShardEntry
from codesearch.catalog.dense import MERGED_THRESHOLD, MergedIndex
from codesearch.catalog.lexical import MERGED_SHARDS, MergedLexical
from codesearch.encoding import Encoder, EncoderSettings, load_encoder
from codesearch.errors import IndexMissing, ModelUnavailable, QueryError
from codesearch.fusion import bm25_idf, reweight_idf
from codesearch.index import INDEX_DIR_NAME
from codesearch.lexical import code_tokens, common_terms, fts_match_expression, query_terms
from codesearch.lookups import lookup_name
from codesearch.quoted import MAX_PLACES, quoted_texts
from codesearch.ranking import rank
from codesearch.records import Chunk, SearchResult
from codesearch.requests import check_request
from codesearch.search import (
    CANDIDATES,
    MAX_DEFINITIONS,
    MAX_PHRASE_HOLDERS,
    MAX_PLACE_FILES,
    RELATED_TERMS,
    aside_chunks,
    keep_chunk,
    located,
    phrase_holders,
    respell,
    respelled,
    search_lexical,
    term_coverage,
    unembedded,
    with_best,
    written,
)
from codesearch.store import DB_NAME, Store

if TYPE_CHECKING:
    import numpy as np

    from codesearch.vectors import VectorIndex

ALL = ("*",)
STATISTICS_CACHE_TERMS = 50_000  # per shard
RESPELLINGS_KEPT = 10_000  # queries whose respelling a job's catalog keeps
_ROWS = "\x00rows"


def in_scope(name: str, patterns: Sequence[str]) -> bool:
    """Whether a repository name matches one of the patterns (shell globs: `team-*`, `*`)."""
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


@dataclass(frozen=True)
class _Shard:
    number: int
    entry: ShardEntry
    path: Path


class CatalogSearcher:
    """Queries over a job's output directory, or over one index presented as a catalog of one."""

    def __init__(self, directory: Path, settings: EncoderSettings | None = None, *, encoder: Encoder | None = None):
        self.directory = directory.resolve()
        self._settings = settings or EncoderSettings()
        self._lock = threading.Lock()
        self._loaded: tuple[Any, Catalog] | None = None
        self._idle: dict[Path, list[Store]] = defaultdict(list)
        self._vectors: dict[Path, VectorIndex] = {}
        self._merged: MergedIndex | None = None
        self._statistics: dict[Path, dict[str, int]] = {}
        self._respellings: dict[tuple[str, tuple[Path, ...]], tuple[str, tuple[tuple[str, str], ...]]] = {}
        self._merged_bm25: MergedLexical | None = None
        self._shards_immutable = (self.directory / CATALOG_NAME).exists()  # a job's shards never change
        self._encoder: Encoder | None = encoder
        self._encoder_tried = encoder is not None
        self.warnings: list[str] = []
        self.catalog()  # fail now if there is nothing to serve

    # --- the catalog ---------------------------------------------------------------------

    def catalog(self) -> Catalog:
        """The current catalog, re-read when the file changed since the last query."""
        path = self.directory / CATALOG_NAME
        if not path.exists():
            return self._single_index()
        stat = path.stat()
        key = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        with self._lock:
            if self._loaded is None or self._loaded[0] != key:
                catalog = Catalog.load(self.directory)
                if self._merged and (not catalog.dense or catalog.dense.file != self._merged.entry.file):
                    self._merged = None
                self._loaded = (key, catalog)
            return self._loaded[1]

    def _single_index(self) -> Catalog:
        """An index directory (or a repository with `.codesearch/`) as a catalog of one shard."""
        with self._lock:
            if self._loaded is None:
                index_dir = self.directory if (self.directory / DB_NAME).exists() else self.directory / INDEX_DIR_NAME
                if not (index_dir / DB_NAME).exists():
                    raise IndexMissing(f"{self.directory} holds neither a catalog ({CATALOG_NAME}) nor an index; "
                                       "run `codesearch job run SPEC` or `codesearch index`")
                store = Store.open(index_dir)
                try:
                    model_id = store.get_meta("model_id") or ""
                    name = store.get_meta("shard_of") or Path(store.get_meta("root") or index_dir.parent).name
                    counts = store.counts(model_id)
                    updated = float(store.get_meta("updated_at") or 0.0)
                    entry = ShardEntry(name, str(index_dir), store.get_meta("commit") or "", files=counts["files"],
                                       chunks=counts["chunks"], vectors=counts["with_vectors"], updated_at=updated)
                finally:
                    store.close()
                self._loaded = (None, Catalog(self.directory, model_id, 1, {name: entry}))
            return self._loaded[1]

    def select(self, repos: Sequence[str] | None, scope: Sequence[str] = ALL) -> list[ShardEntry]:
        """The shards a request names (patterns; None: all) within a token's scope."""
        entries = [e for e in self.catalog().repos.values() if in_scope(e.name, scope)]
        if repos:
            entries = [e for e in entries if in_scope(e.name, repos)]
        return sorted(entries, key=lambda e: e.name)

    def repos(self, scope: Sequence[str] = ALL) -> list[dict[str, Any]]:
        """Every repository in scope with its commit, counts and last update."""
        return [{"repo": e.name, "commit": e.commit, "files": e.files, "chunks": e.chunks, "vectors": e.vectors,
                 "updated_at": e.updated_at} for e in self.select(None, scope)]

    # --- queries -------------------------------------------------------------------------

    def search(self, query: str, *, k: int = 10, mode: str = "hybrid", language: str | None = None,
               glob: str | None = None, repos: Sequence[str] | None = None,
               scope: Sequence[str] = ALL) -> list[SearchResult]:
        """The best `k` chunks of the selected repositories, ranked as one collection."""
        return self.search_with_fixes(query, k=k, mode=mode, language=language, glob=glob, repos=repos,
                                      scope=scope)[0]

    def search_with_fixes(self, query: str, *, k: int = 10, mode: str = "hybrid", language: str | None = None,
                          glob: str | None = None, repos: Sequence[str] | None = None,
                          scope: Sequence[str] = ALL) -> tuple[list[SearchResult], tuple[tuple[str, str], ...]]:
        """`search`'s results, and the words of the query it read as others (`respelled`): what a
        door tells the user (`spelling.note`), worked out once for both."""
        check_request(query, mode, k, language)
        shards = self._shards(repos, scope)
        query, fixes = self._respelled(shards, query)
        encoder = self.encoder() if mode != "lexical" else None
        if encoder is None:
            mode = "lexical"
        lookup = lookup_name(query)
        lexical = self._lexical(shards, query, fill=mode == "lexical") if mode != "dense" or lookup else []
        dense = self._dense(shards, encoder.encode_queries([query])[0]) if encoder is not None else []
        defining = self._definitions(shards, lookup[2]) if lookup else []
        phrased = with_best(*self._phrase_holders(shards, query), lexical, dense)
        at = self._gathered(shards, lambda store: located(store, query), MAX_PLACES * MAX_PLACE_FILES)
        return self._rank(shards, query, lexical, dense, mode, k, language, glob, defining=defining,
                          common=self._common(shards, query), phrased=phrased, located=at), fixes

    def respelled(self, query: str, *, repos: Sequence[str] | None = None,
                  scope: Sequence[str] = ALL) -> tuple[str, tuple[tuple[str, str], ...]]:
        """The query as `search` answers it over the same repositories, and the words it read as
        others (`search.respelled`): a word no chunk of any of them holds, one typo from a word
        they hold. What a door tells the user (`spelling.note`)."""
        return self._respelled(self._shards(repos, scope), query)

    def related(self, repo: str, path: str, line: int, *, k: int = 10, repos: Sequence[str] | None = None,
                scope: Sequence[str] = ALL) -> list[SearchResult]:
        """Code like the chunk at `repo`:`path`:`line` (itself left out), from the selected repositories."""
        home = [s for s in self._shards([repo], scope) if s.entry.name == repo]
        if not home:
            raise QueryError(f"no repository named {repo!r}")
        with self._borrow(home[0].path) as store:
            chunk_id = store.chunk_id_at(path, line)
            chunk = store.chunks_by_id([chunk_id]).get(chunk_id) if chunk_id is not None else None
            if chunk is None:
                raise QueryError(f"no indexed code at {repo}:{path}:{line}")
            model_id = self.catalog().model_id
            vector = store.vectors_for(model_id, [chunk.content_hash]).get(chunk.content_hash) if model_id else None
        shards = self._shards(repos, scope)
        if vector is not None:
            dense, lexical, mode, query = self._dense(shards, vector), [], "dense", ""
        else:
            query = " ".join([*code_tokens(chunk.qualified_name), *query_terms(chunk.text)][:RELATED_TERMS])
            dense, lexical, mode = [], self._lexical(shards, query), "lexical"
        me = home[0].entry.name

        def other(shard: _Shard, c: Chunk) -> bool:
            return not (shard.entry.name == me and c.path == chunk.path and c.start_line == chunk.start_line)

        return self._rank(shards, query, lexical, dense, mode, k, None, None, other)

    def encoder(self) -> Encoder | None:
        """The catalog's encoder, loaded on first use; None (with a warning kept) when it cannot be."""
        model_id = self.catalog().model_id
        with self._lock:
            if not self._encoder_tried:
                self._encoder_tried = True
                if model_id:
                    try:
                        self._encoder = load_encoder(model_id, self._settings)
                    except ModelUnavailable as error:
                        self.warnings.append(f"model unavailable, answering from the lexical index: {error}")
            return self._encoder

    def close(self) -> None:
        """Close every pooled connection."""
        with self._lock:
            for stores in self._idle.values():
                for store in stores:
                    store.close()
            self._idle.clear()

    # --- the parts -----------------------------------------------------------------------

    def _shards(self, repos: Sequence[str] | None, scope: Sequence[str]) -> list[_Shard]:
        catalog = self.catalog()
        return [_Shard(n, e, catalog.shard_dir(e)) for n, e in enumerate(self.select(repos, scope))]

    @contextmanager
    def _borrow(self, path: Path) -> Iterator[Store]:
        with self._lock:
            idle = self._idle[path]
            store = idle.pop() if idle else None
        if store is None:
            store = Store.open(path, immutable=self._shards_immutable)
        try:
            yield store
        finally:
            with self._lock:
                self._idle[path].append(store)

    def _lexical(self, shards: list[_Shard], query: str, *, fill: bool = False) -> list[tuple[int, float]]:
        """BM25 candidates of the shards. One shard answers as its own index would (`fill` as
        `search.search_lexical` takes it, in lexical mode). Several are
        scored on the statistics of all of them together (`fusion.reweight_idf`), so that scores
        compare across shards: each term's best chunks in each shard, a chunk's score summed over
        the terms whose lists it is in. Past `MERGED_SHARDS` shards, the merged index answers."""
        merged = self._merged_lexical(shards)
        if merged is not None:
            terms = query_terms(query)
            if not terms:
                return []
            numbers = {s.entry.shard: s.number for s in shards}
            share = len(merged.entry.shards) / max(len(numbers), 1)
            rows = merged.search(fts_match_expression(terms), int(CANDIDATES * min(share, 8)))
            found = [(numbers[shard] << 32 | chunk_id, score) for shard, chunk_id, score in rows if shard in numbers]
            return found[:CANDIDATES]
        terms = query_terms(query)
        if not terms or not shards:
            return []
        if len(shards) == 1:
            with self._borrow(shards[0].path) as store:
                return [(shards[0].number << 32 | i, s) for i, s in search_lexical(store, query, fill=fill)]
        stats = {shard.path: self._term_statistics(shard.path, terms) for shard in shards}
        total = sum(n for n, _ in stats.values())
        global_idf = {t: bm25_idf(total, sum(df[t] for _, df in stats.values())) for t in terms}
        found = []
        for shard in shards:
            n, df = stats[shard.path]
            present = [t for t in terms if df[t]]
            if not present:
                continue
            with self._borrow(shard.path) as store:
                scores = {t: dict(store.lexical_search([t], CANDIDATES)) for t in present}
            rescored = reweight_idf(scores, {t: bm25_idf(n, df[t]) for t in present}, global_idf)
            found += [(shard.number << 32 | i, score) for i, score in rescored.items()]
        found.sort(key=lambda pair: -pair[1])
        return found[:CANDIDATES]

    def _respelled(self, shards: list[_Shard], query: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        """`search.respelled` over the shards together: a word is typed wrong only where no shard
        holds it, and is read as the neighbour the most chunks of all of them hold. One shard
        answers as its own index does; past MERGED_SHARDS shards the query is taken as typed (a
        query does not ask every shard for its vocabulary). A job's shards never change, so what
        was worked out for a query is kept."""
        if len(shards) == 1:
            with self._borrow(shards[0].path) as store:
                return respelled(store, query)
        if not shards or len(shards) > MERGED_SHARDS:
            return query, ()
        key = (query, tuple(shard.path for shard in shards))
        with self._lock:
            if key in self._respellings:
                return self._respellings[key]

        def summed(ask: Callable[[Store, list[str]], dict[str, int]]) -> Callable[[list[str]], dict[str, int]]:
            def over_shards(words: list[str]) -> dict[str, int]:
                total: Counter[str] = Counter()
                for shard in shards:
                    with self._borrow(shard.path) as store:
                        total.update(ask(store, words))
                return dict(total)
            return over_shards

        found = respell(query, lambda: [text.lower() for text in quoted_texts(query)],
                        lambda terms: self._frequencies(shards, terms)[1],
                        summed(Store.stem_documents), summed(written))
        if self._shards_immutable:
            with self._lock:
                if len(self._respellings) >= RESPELLINGS_KEPT:
                    self._respellings.clear()
                self._respellings[key] = found
        return found

    def _definitions(self, shards: list[_Shard], symbol: str) -> list[int]:
        """A lookup's definitions in the shards, as `search.definitions` finds them in one index:
        none when there are more than MAX_DEFINITIONS in all."""
        return self._gathered(shards, lambda store: store.definitions(symbol, MAX_DEFINITIONS + 1), MAX_DEFINITIONS)

    def _phrase_holders(self, shards: list[_Shard], query: str) -> tuple[list[int], bool]:
        """The chunks that may hold what the query asks for as written, as `search.phrase_holders`
        finds them in one index, and whether they are all of them: not where a shard has too
        many, nor more than MAX_PHRASE_HOLDERS in all (then none), nor past MERGED_SHARDS shards."""
        if len(shards) > MERGED_SHARDS:
            return [], False
        found: list[int] = []
        complete = True
        for shard in shards:
            with self._borrow(shard.path) as store:
                holders, every = phrase_holders(store, query)
            found += [shard.number << 32 | i for i in holders]
            complete = complete and every
        return (found, complete) if len(found) <= MAX_PHRASE_HOLDERS else ([], False)

    def _gathered(self, shards: list[_Shard], find: Callable[[Store], list[int]], most: int) -> list[int]:
        """What `find` finds in each shard, as the catalog's ids; none when more than `most` in all.
        Past MERGED_SHARDS shards, none (a query a shard), and BM25's candidates decide as before."""
        if len(shards) > MERGED_SHARDS:
            return []
        found: list[int] = []
        for shard in shards:
            with self._borrow(shard.path) as store:
                found += [shard.number << 32 | i for i in find(store)]
            if len(found) > most:
                return []
        return found

    def _common(self, shards: list[_Shard], query: str) -> frozenset[str]:
        """The query's terms in more than half of the shards' chunks together, as
        `search.common_words` finds them in one index. Past MERGED_SHARDS shards, none: the
        merged index answers, and a query does not ask every shard for its counts."""
        if not shards or len(shards) > MERGED_SHARDS:
            return frozenset()
        terms = query_terms(query)
        return common_terms(terms, *self._frequencies(shards, terms))

    def _frequencies(self, shards: list[_Shard], terms: list[str]) -> tuple[int, dict[str, int]]:
        """(chunks, {term: chunks containing it}) of the shards together (`_term_statistics`)."""
        stats = [self._term_statistics(shard.path, terms) for shard in shards]
        return sum(n for n, _ in stats), {t: sum(df[t] for _, df in stats) for t in terms}

    def _term_statistics(self, path: Path, terms: list[str]) -> tuple[int, dict[str, int]]:
        """(chunks, {term: chunks containing it}) of one shard; shards never change, so cached."""
        with self._lock:
            cache = self._statistics.setdefault(path, {})
            known = {t: cache[t] for t in terms if t in cache}
            rows = cache.get(_ROWS)
        missing = [t for t in terms if t not in known]
        if missing or rows is None:
            with self._borrow(path) as store:
                rows, counted = store.document_frequencies(missing)
            fresh = {t: counted[t] for t in missing}
            known.update(fresh)
            with self._lock:
                if len(cache) > STATISTICS_CACHE_TERMS:
                    cache.clear()
                cache.update(fresh)
                cache[_ROWS] = rows
        return max(rows, 1), known

    def _dense(self, shards: list[_Shard], vector: np.ndarray) -> list[tuple[int, float]]:
        found: list[tuple[int, float]] = []
        rest = shards
        merged = self._merged_index() if sum(s.entry.vectors for s in shards) >= MERGED_THRESHOLD else None
        if merged is not None:
            covered = set(merged.entry.shards)
            numbers = {s.entry.shard: s.number for s in shards if s.entry.shard in covered}
            wanted = CANDIDATES * max(1, round(merged.entry.count / max(1, sum(s.entry.vectors for s in shards))))
            for shard_path, chunk_id, score in merged.search(vector, min(wanted, 4 * CANDIDATES * 8)):
                if shard_path in numbers:
                    found.append((numbers[shard_path] << 32 | chunk_id, score))
            rest = [s for s in shards if s.entry.shard not in covered]
        for shard in rest:
            found += [(shard.number << 32 | i, s) for i, s in self._shard_vectors(shard).search(vector, CANDIDATES)]
        found.sort(key=lambda pair: -pair[1])
        return found[:CANDIDATES]

    def _shard_vectors(self, shard: _Shard) -> VectorIndex:
        from codesearch.vectors import VectorIndex

        with self._lock:
            cached = self._vectors.get(shard.path)
        if cached is None:
            with self._borrow(shard.path) as store:
                cached = VectorIndex.load(store, self.catalog().model_id)
            with self._lock:
                self._vectors[shard.path] = cached
        return cached

    def _merged_lexical(self, shards: list[_Shard]) -> MergedLexical | None:
        """The catalog's merged BM25 index, when it holds every shard asked for and they are most
        of it (a few shards are faster, and exact, on their own)."""
        entry = self.catalog().lexical
        if entry is None or len(shards) < MERGED_SHARDS or len(shards) * 2 < len(entry.shards):
            return None
        if not {s.entry.shard for s in shards} <= set(entry.shards):
            return None
        with self._lock:
            if self._merged_bm25 is None or self._merged_bm25.entry.file != entry.file:
                self._merged_bm25 = MergedLexical(self.directory, entry)
            return self._merged_bm25

    def _merged_index(self) -> MergedIndex | None:
        catalog = self.catalog()
        if catalog.dense is None:
            return None
        with self._lock:
            if self._merged is None or self._merged.entry.file != catalog.dense.file:
                self._merged = MergedIndex(self.directory, catalog.dense)
            return self._merged

    def _rank(self, shards: list[_Shard], query: str, lexical: list[tuple[int, float]],
              dense: list[tuple[int, float]], mode: str, k: int, language: str | None, glob: str | None,
              accept: Any = None, defining: Sequence[int] = (), common: frozenset[str] = frozenset(),
              phrased: Sequence[int] = (), located: Sequence[int] = ()) -> list[SearchResult]:
        wanted: dict[int, list[int]] = defaultdict(list)
        for gid in [*(gid for gid, _ in lexical), *(gid for gid, _ in dense), *defining, *phrased, *located]:
            wanted[gid >> 32].append(gid & 0xFFFFFFFF)
        chunks: dict[int, Chunk] = {}
        pending: set[int] = set()
        coverage: dict[int, float] = {}
        made: set[int] = set()
        model_id = self.catalog().model_id
        for number, ids in wanted.items():
            shard = shards[number]
            with self._borrow(shard.path) as store:
                found = {chunk_id: chunk for chunk_id, chunk in store.chunks_by_id(ids).items()
                         if keep_chunk(chunk, language, glob) and (accept is None or accept(shard, chunk))}
                if mode == "hybrid":
                    pending.update(number << 32 | i for i in unembedded(store, model_id, found))
                    coverage.update((number << 32 | i, c) for i, c in term_coverage(store, query, found).items())
                made.update(number << 32 | i for i in aside_chunks(store, found))
            chunks.update((number << 32 | chunk_id, chunk) for chunk_id, chunk in found.items())
        results = rank(query, chunks, lexical, dense, mode=mode, k=k, unembedded=pending, coverage=coverage,
                       common=common, phrased=phrased, located=located, aside=made,
                       file_of=lambda gid: f"{gid >> 32}/{chunks[gid].path}")
        owner = {id(chunks[gid]): shards[gid >> 32].entry for gid in chunks}
        return [replace(r, repo=owner[id(r.chunk)].name, commit=owner[id(r.chunk)].commit) for r in results]
