"""Answering a query: lexical and dense candidates, filters, then `ranking.rank`."""

from __future__ import annotations

import fnmatch

from codesearch.encoding import Encoder
from codesearch.errors import QueryError
from codesearch.lexical import fts_match_expression, query_terms
from codesearch.ranking import rank
from codesearch.records import Chunk, SearchResult
from codesearch.store import Store

MODES = ("hybrid", "dense", "lexical")
CANDIDATES = 300


def search_lexical(store: Store, query: str, limit: int = CANDIDATES) -> list[tuple[int, float]]:
    """BM25 candidates (chunk id, score), best first."""
    terms = query_terms(query)
    return store.lexical_search(fts_match_expression(terms), limit) if terms else []


def search_dense(
    store: Store, encoder: Encoder, query: str, limit: int = CANDIDATES
) -> list[tuple[int, float]]:
    """Nearest chunks by cosine similarity (chunk id, score), best first."""
    from codesearch.vectors import VectorIndex

    vectors = VectorIndex.load(store, encoder.model_id)
    if vectors.count == 0:
        return []
    return vectors.search(encoder.encode_queries([query])[0], limit)


def search(
    store: Store,
    query: str,
    *,
    mode: str = "hybrid",
    k: int = 10,
    encoder: Encoder | None = None,
    language: str | None = None,
    glob: str | None = None,
) -> list[SearchResult]:
    """The top `k` chunks for a query. Without an encoder, dense and hybrid fall back to lexical."""
    if not query.strip():
        raise QueryError("the query is empty; say what the code does, e.g. `codesearch query \"parse config\"`")
    if mode not in MODES:
        raise QueryError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    if k < 1:
        raise QueryError("--top must be at least 1")
    if encoder is None:
        mode = "lexical"
    lexical = search_lexical(store, query) if mode != "dense" else []
    dense = search_dense(store, encoder, query) if encoder is not None and mode != "lexical" else []
    chunks = store.chunks_by_id([i for i, _ in lexical] + [i for i, _ in dense])
    chunks = {i: c for i, c in chunks.items() if _keep(c, language, glob)}
    return rank(query, chunks, lexical, dense, mode=mode, k=k)


def _keep(chunk: Chunk, language: str | None, glob: str | None) -> bool:
    if language and chunk.language != language.lower():
        return False
    return not glob or fnmatch.fnmatch(chunk.path, glob) or fnmatch.fnmatch(chunk.path.rsplit("/", 1)[-1], glob)
