"""Answering a query: lexical and dense candidates, filters, then `ranking.rank`."""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from codesearch import spelling
from codesearch.encoding import Encoder
from codesearch.lexical import STOPWORDS, code_tokens, common_terms, query_terms, weighty_terms
from codesearch.lookups import aliased_type, lookup_name
from codesearch.overlay import EMPTY, Overlay
from codesearch.partitions import STEMMER
from codesearch.quoted import first_candidates, places, quoted_texts, verbatim
from codesearch.ranking import rank
from codesearch.records import Chunk, SearchResult
from codesearch.requests import canonical_language, check_request
from codesearch.store import Store

if TYPE_CHECKING:
    import numpy as np

    from codesearch.vectors import VectorIndex

CANDIDATES = 300
MAX_DEFINITIONS = 50  # a symbol query's definitions added to the candidates
MAX_PHRASE_HOLDERS = 50  # chunks holding a pasted message added to the candidates
MAX_SCANNED = 5_000  # chunks whose text is read for an option written in them (~10 ms at most)
MAX_PLACE_FILES = 5  # files a place written with a file's name alone (`Foo.java:42`) may be
MAX_NAMED_FILES = 200  # files of one name read to find those that share a place's folders
SPELLINGS_READ = 20  # chunks holding a stem read to tell its spellings apart (`spelling.nearest`)
RELATED_TERMS = 24
FEW_CANDIDATES = 10  # fewer than a page of results from a query's rare terms


def search_lexical(store: Store, query: str, limit: int = CANDIDATES, *, fill: bool = False) -> list[tuple[int, float]]:
    """BM25 candidates (chunk id, score), best first. `fill`: where the query's rare terms find
    less than a page, its common terms bring more (lexical mode; in hybrid mode the vectors fill
    the page, and fusion would count the common terms' near-zero scores by their ranks)."""
    terms = query_terms(query)
    if not terms:
        return []
    rows, frequency = store.document_frequencies(terms)
    weighty = weighty_terms(terms, rows, frequency)
    found = store.lexical_search(weighty, limit)
    if fill and len(found) < FEW_CANDIDATES and len(weighty) < len(terms):
        # the rare terms alone leave the answer short ("field computed by a method on the schema":
        # `computed` is in 2 chunks, `field` and `schema` in most): the common terms, whose BM25
        # weight is next to nothing, bring candidates for the path and name signals to order
        found = store.lexical_search(terms, limit)
    return found


def search_dense(
    store: Store, encoder: Encoder, query: str, limit: int = CANDIDATES
) -> list[tuple[int, float]]:
    """Nearest chunks by cosine similarity (chunk id, score), best first."""
    return _nearest(store, encoder.model_id, encoder.encode_queries([query])[0], limit)


def _nearest(
    store: Store, model_id: str, vector: np.ndarray, limit: int, vectors: VectorIndex | None = None
) -> list[tuple[int, float]]:
    vectors = vectors or _vector_index(store, model_id)
    return vectors.search(vector, limit) if vectors.count else []


def _vector_index(store: Store, model_id: str) -> VectorIndex:
    from codesearch.vectors import VectorIndex

    return VectorIndex.load(store, model_id)


def search(store: Store, query: str, **kw: Any) -> list[SearchResult]:
    """The top `k` chunks for a query (`search_with_fixes`' results)."""
    return search_with_fixes(store, query, **kw)[0]


def search_with_fixes(
    store: Store,
    query: str,
    *,
    mode: str = "hybrid",
    k: int = 10,
    encoder: Encoder | None = None,
    language: str | None = None,
    glob: str | None = None,
    vectors: VectorIndex | None = None,
    overlay: Overlay = EMPTY,
) -> tuple[list[SearchResult], tuple[tuple[str, str], ...]]:
    """The top `k` chunks for a query, and the (word, replacement) pairs of the words it read as
    others (`respelled`): what a door tells the user. Without an encoder, dense and hybrid fall
    back to lexical.

    `vectors` is a FAISS index already loaded for this state of the store (the live index keeps
    one); `overlay` holds unsaved buffers, searched in place of their files' indexed chunks."""
    check_request(query, mode, k, language)
    if encoder is None:
        mode = "lexical"
    query, fixes = respelled(store, query, overlay)
    query_vector = encoder.encode_queries([query])[0] if encoder is not None and mode != "lexical" else None
    # a symbol's name is looked up in every mode: its definitions are candidates however BM25
    # ranks them (a name in most chunks, as C#'s partial classes are, leaves BM25 nothing to go on),
    # and so are what it quotes (a pasted message, a long option: the chunks holding it, however
    # common its words are) and the places it names (`walk.py:61`: the chunk at that line)
    lookup = lookup_name(query)
    lexical = search_lexical(store, query, CANDIDATES, fill=mode == "lexical") if mode != "dense" or lookup else []
    dense = []
    if encoder is not None and query_vector is not None:
        vectors = vectors or _vector_index(store, encoder.model_id)
        dense = _nearest(store, encoder.model_id, query_vector, CANDIDATES, vectors)
    defining = definitions(store, lookup[2]) if lookup else []
    phrased = with_best(*phrase_holders(store, query), lexical, dense)
    at = located(store, query)
    chunks = store.chunks_by_id([i for i, _ in lexical] + [i for i, _ in dense] + defining + phrased + at)
    # the type a C typedef names another way is a definition too (`ngx_http_request_t`: `struct
    # ngx_http_request_s`), read only where a definition is such a typedef
    aliased = {aliased_type(chunks[i]) for i in defining if i in chunks} - {""}
    if aliased:
        chunks.update(store.chunks_by_id([i for name in aliased for i in definitions(store, name)]))

    def keep(chunk: Chunk) -> bool:
        return keep_chunk(chunk, language, glob)

    if language or glob or overlay.files:
        chunks = {i: c for i, c in chunks.items() if keep(c) and not overlay.hides(c.path)}
    if overlay.files:
        lexical, dense = overlay.add_candidates(store, query, chunks, lexical, dense, query_vector, keep,
                                                lexical_wanted=mode != "dense")
        phrased += [i for i in chunks if i < 0]  # unsaved buffers: in no FTS5 table, `rank` reads them
    pending: set[int] = set()
    coverage: dict[int, float] = {}
    if encoder is not None and mode == "hybrid":
        pending = unembedded(store, encoder.model_id, chunks, overlay, vectors)
        coverage = term_coverage(store, query, chunks)
    results = rank(query, chunks, lexical, dense, mode=mode, k=k, unembedded=pending, coverage=coverage,
                   common=common_words(store, query), phrased=phrased, located=at,
                   aside=aside_chunks(store, chunks))
    return results, fixes


def respelled(store: Store, query: str, overlay: Overlay = EMPTY) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The query with each word that no chunk holds, and no unsaved buffer, replaced by the word
    one typo away that the most chunks hold (`spelling`), and each word the code writes less than
    its other regional spelling by that spelling (`tokenizer` as `tokeniser`); and the (word,
    replacement) pairs. The query as it is when it has no such word. Kept until the index changes
    (a query without unsaved buffers)."""
    kept = store.kept("respelled") if not overlay.files else {}
    if query not in kept:
        kept[query] = _respelled(store, query, overlay)
    found: tuple[str, tuple[tuple[str, str], ...]] = kept[query]
    return found


def _respelled(store: Store, query: str, overlay: Overlay) -> tuple[str, tuple[tuple[str, str], ...]]:
    def held() -> list[str]:  # read only for a query with a word no chunk holds
        return [text.lower() for text in quoted_texts(query)] + [file.text.lower() for file in overlay.files.values()]

    return respell(query, held, lambda terms: store.document_frequencies(terms)[1], store.stem_documents,
                   lambda spellings: written(store, spellings))


def respell(query: str, held: Callable[[], list[str]], frequencies: Callable[[list[str]], dict[str, int]],
            stem_documents: Callable[[list[str]], dict[str, int]],
            spelled: Callable[[list[str]], dict[str, int]]) -> tuple[str, tuple[tuple[str, str], ...]]:
    """`respelled` on any collection of code: one index, or a catalog's shards together.
    `frequencies(terms)`: how many chunks hold each query term; `stem_documents(stems)`: how many
    hold each stem (`Store.stem_documents`); `spelled(spellings)`: how often chunks holding one
    stem write each spelling (`written`); `held()`: lower-cased texts whose words are meant as
    written (what the query quotes, unsaved buffers)."""
    terms = query_terms(query)
    regional = {term: spelling.variants(term) for term in terms}
    frequency = frequencies(list(dict.fromkeys(terms + [v for others in regional.values() for v in others])))
    typos = spelling.typos(terms, frequency, spelling.english_words([t for t in terms if not frequency.get(t)]))
    # a term's other regional spelling that some chunk holds (most terms have none, or one no
    # chunk holds: `errour`)
    spelt = {term: [v for v in others if frequency.get(v)] for term, others in regional.items() if term not in typos}
    spelt = {term: others for term, others in spelt.items() if others}
    if not typos and not spelt:
        return query, ()
    texts = held()
    fixes: list[tuple[str, str]] = []

    def meant(word: str) -> bool:  # a longer word's fix took it (`parseconifg`'s `conifg`), or
        return word in query_terms(query) and not any(word in text for text in texts)  # it is quoted

    for word, others in spelt.items():
        if not meant(word):
            continue
        # the spelling the code writes more, in any of its forms, each counted where its own stem
        # leads BM25 (jsoup writes `tokenizer` in a few comments, `tokeniser` in its classes' names)
        mine = sum(spelled(spelling.family(word)).values())
        counts = {other: sum(spelled(spelling.family(other)).values()) for other in others}
        theirs = max(others, key=lambda other: counts[other])
        if counts[theirs] > mine:
            query = spelling.respell(query, word, theirs)
            fixes.append((word, theirs))
    for word in typos:  # after the regional spellings: `TokenizerState` is no typo of `TokeniserState`
        if not meant(word):
            continue
        candidates = spelling.edits(word)
        stems = STEMMER.stems(candidates)
        common = spelling.english_words(candidates, spelling.COMMON)
        fix = spelling.nearest(candidates, stems, stem_documents(stems), spelled, common)
        if fix is not None:
            query = spelling.respell(query, word, fix)
            fixes.append((word, fix))
    return query, tuple(fixes)


def written(store: Store, spellings: list[str]) -> dict[str, int]:
    """How often some of the chunks holding one stem write each of its spellings as a word or a
    part of an identifier (`code_tokens`)."""
    ids = [i for i, _ in store.lexical_search(spellings[:1], SPELLINGS_READ)]
    tokens = Counter(t for chunk in store.chunks_by_id(ids).values() for t in code_tokens(chunk.text))
    return {s: tokens[s] for s in spellings}


def common_words(store: Store, query: str) -> frozenset[str]:
    """The query's terms in more than half of the index's chunks (`lexical.common_terms`)."""
    terms = query_terms(query)
    return common_terms(terms, *store.document_frequencies(terms))


def aside_chunks(store: Store, chunks: Mapping[int, Chunk]) -> set[int]:
    """The candidates whose file a tool or another project wrote, as its head says (`Store.aside_files`)."""
    made = store.aside_files(chunk.path for chunk in chunks.values())
    return {i for i, chunk in chunks.items() if chunk.path in made}


def definitions(store: Store, symbol: str) -> list[int]:
    """The chunks defining `symbol`, when there are at most MAX_DEFINITIONS: a name defined in
    more places (`__init__`, `get`) names no one definition, and BM25 ranks its candidates."""
    found = store.definitions(symbol, MAX_DEFINITIONS + 1)
    return found if len(found) <= MAX_DEFINITIONS else []


def phrase_holders(store: Store, query: str) -> tuple[list[int], bool]:
    """The chunks that may hold what the query asks for as written (`quoted.verbatim`: a pasted
    error message, a long option), and whether they are all of them. They are found by the three
    of its words around its rarest one, in their order (an FTS5 phrase: the whole text's common
    words, `the`, `to`, cost as much to read as the rest of the query; `rank` reads the chunks for
    the whole text), or by all its words where more than MAX_PHRASE_HOLDERS hold those three.
    Where more hold all of them, none (words written in more places, `must not be null`, tell no
    one place), and not all: BM25's best candidates are read for them instead (`with_best`)."""
    found: list[int] = []
    complete = True
    for text in verbatim(query):
        tokens = few = code_tokens(text)
        telling = [n for n, token in enumerate(tokens) if token not in STOPWORDS and len(token) > 1]
        if telling:  # their counts are BM25's, read already
            frequency = store.document_frequencies(tokens[n] for n in telling)[1]
            rarest = min(telling, key=lambda n: frequency[tokens[n]])
            few = tokens[max(0, rarest - 1):rarest + 2]
        holders = store.phrase_holders(few, MAX_PHRASE_HOLDERS + 1)
        if len(holders) > MAX_PHRASE_HOLDERS and len(few) < len(tokens):  # the whole text, then
            holders = store.phrase_holders(tokens, MAX_PHRASE_HOLDERS + 1)
        if len(holders) > MAX_PHRASE_HOLDERS and text.startswith("--"):
            # an option's dashes are no token: `--port` is `port` to FTS5, in most of a server's
            # code; the texts that hold `port` are read for `--port` itself
            holders = store.holders_as_written(tokens, text.lower(), MAX_PHRASE_HOLDERS + 1, MAX_SCANNED) or holders
        if len(holders) > MAX_PHRASE_HOLDERS:
            complete = False
        else:
            found += holders
    return list(dict.fromkeys(found)), complete


def with_best(holders: list[int], complete: bool, lexical: list[tuple[int, float]],
              dense: list[tuple[int, float]]) -> list[int]:
    """`phrase_holders`' chunks, and where they are not all, `quoted.first_candidates` for `rank`
    to read."""
    if complete:
        return holders
    return list(dict.fromkeys([*holders, *first_candidates(lexical, dense)]))


def located(store: Store, query: str) -> list[int]:
    """The chunks at the places a query names (`quoted.places`: `indexer/walk.py:61`, a stack
    trace's frames), each path found among the index's files (`_indexed_files`: an absolute path
    from another machine, `/home/ci/repo/src/app.py`, is `src/app.py` here)."""
    found: list[int] = []
    for path, line in places(query):
        for file in _indexed_files(store, path):
            chunk_id = store.chunk_id_at(file, line)
            if chunk_id is not None and chunk_id not in found:
                found.append(chunk_id)
    return found


def _indexed_files(store: Store, path: str) -> list[str]:
    """The indexed files `path` may be: the longest of its suffixes that is an indexed path, else
    the files of its name that share the most of its folders (at most MAX_PLACE_FILES)."""
    parts = [part for part in path.replace("\\", "/").split("/") if part not in ("", ".", "..")]
    if parts and parts[0].endswith(":"):  # a Windows drive
        parts = parts[1:]
    for start in range(len(parts)):  # one look-up by the files table's index each
        if store.file_sha("/".join(parts[start:])) is not None:
            return ["/".join(parts[start:])]
    if not parts:
        return []
    named = {file: _common_tail(file.split("/"), parts) for file in store.paths_named(parts[-1], MAX_NAMED_FILES)}
    most = max(named.values(), default=0)
    return [file for file, shared in named.items() if shared == most][:MAX_PLACE_FILES]


def _common_tail(a: list[str], b: list[str]) -> int:
    """How many trailing parts two paths share (`src/app/views.py`, `srv/app/views.py`: 2)."""
    count = 0
    for x, y in zip(reversed(a), reversed(b), strict=False):
        if x != y:
            break
        count += 1
    return count


def term_coverage(store: Store, query: str, chunks: dict[int, Chunk]) -> dict[int, float]:
    """For each candidate, the share of the query's telling terms its own code holds (symbol or
    body, stemmed as BM25 matches them), counting only terms some candidate holds: a term no
    candidate has tells none of them apart. Unsaved buffers' chunks (negative ids) are counted
    the same way, in a scratch table."""
    terms = query_terms(query)
    holders = store.term_holders([i for i in chunks if i >= 0], terms)
    buffered = [i for i in chunks if i < 0]
    if buffered:
        for term, positions in store.unindexed_holders([chunks[i] for i in buffered], terms).items():
            holders.setdefault(term, set()).update(buffered[n] for n in positions)
    held = [ids for ids in holders.values() if ids]
    if not held:
        return {}
    return {i: sum(i in ids for ids in held) / len(held) for i in chunks}


def unembedded(store: Store, model_id: str, chunks: dict[int, Chunk], overlay: Overlay = EMPTY,
               vectors: VectorIndex | None = None) -> set[int]:
    """The candidates that have no vector of `model_id` yet (overlay chunks have negative ids).
    With the FAISS index the dense candidates came from, those it holds no vector for: its id
    map says so without a database read (2 ms of a hybrid query's 10 on a 3,000-chunk index),
    and a vector the store has but that index does not (written since it was loaded) is one
    dense search could not rank either."""
    if vectors is not None:
        held = vectors.ids()
        pending = {i for i in chunks if i >= 0 and i not in held}
    else:
        indexed = {i: c for i, c in chunks.items() if i >= 0}
        have = store.hashes_with_vectors(model_id, {c.content_hash for c in indexed.values()})
        pending = {i for i, c in indexed.items() if c.content_hash not in have}
    return pending | {i for i, c in chunks.items() if i < 0 and overlay.vector(c) is None}


def related(
    store: Store,
    chunk: Chunk,
    *,
    k: int = 10,
    model_id: str | None = None,
    vector: np.ndarray | None = None,
    vectors: VectorIndex | None = None,
    overlay: Overlay = EMPTY,
) -> list[SearchResult]:
    """Code like `chunk`, itself left out: nearest vectors when `vector` is given, else BM25 on
    the chunk's most telling words (its name's parts first)."""
    def same(other: Chunk) -> bool:
        return other.path == chunk.path and other.start_line == chunk.start_line

    if vector is not None and model_id:
        scored = _nearest(store, model_id, vector, CANDIDATES, vectors)
        mode, query = "dense", ""
    else:
        query = " ".join([*code_tokens(chunk.qualified_name), *query_terms(chunk.text)][:RELATED_TERMS])
        scored, mode = search_lexical(store, query), "lexical"
    chunks = {i: c for i, c in store.chunks_by_id(i for i, _ in scored).items()
              if not overlay.hides(c.path) and not same(c)}
    empty: list[tuple[int, float]] = []
    lexical, dense = (scored, empty) if mode == "lexical" else (empty, scored)
    if overlay.files:
        lexical, dense = overlay.add_candidates(store, query, chunks, lexical, dense, vector,
                                                lambda c: not same(c), lexical_wanted=mode == "lexical")
    return rank(query, chunks, lexical, dense, mode=mode, k=k, aside=aside_chunks(store, chunks))


def keep_chunk(chunk: Chunk, language: str | None, glob: str | None) -> bool:
    """Whether a chunk passes the `--lang` and `--glob` filters."""
    if language and chunk.language != canonical_language(language):
        return False
    return not glob or fnmatch.fnmatch(chunk.path, glob) or fnmatch.fnmatch(chunk.path.rsplit("/", 1)[-1], glob)
