"""Ranking: fuse lexical and dense candidate lists, then apply code-aware signals. Pure functions.

- Reciprocal rank fusion (RRF) joins the two lists by rank, so their score scales never matter
  (`codesearch.fusion`).
  A chunk whose vector is not computed yet is one dense search has no opinion of: it is scored
  on the lexical list alone, as if dense agreed, never as a chunk dense ranked last.
- A query that is exactly a symbol's name is a lookup: the definitions of that name come first
  (of one cut into pieces for length, the piece with its header; `codesearch.lookups`).
- What a query quotes leads with the chunks that hold it as it is written: four words or more (a
  pasted error message) or a long option (`--no-refresh`), and a message printed with its values,
  the chunk whose format string made it; a place in code as tools print it (`indexer/walk.py:61`,
  a stack trace's frames) leads with the chunk at that line (what these are: `codesearch.quoted`).
- A file's place is evidence too (`codesearch.priors`): a file whose name or folder the query
  names is lifted, and tests, examples, docs, shims, generated code, stubs, prose, barrels, tests
  written beside the code and variants (`v3/` beside `v4/`, Windows beside other platforms) rank
  below the implementation unless the query asks for them.
- A chunk that *defines* a symbol the query names ranks above chunks that merely use it
  (`codesearch.naming`), a definition of a few lines gives way to code that does the work, and a
  method declared without a body, or a header's run of prototypes, gives way to its
  implementation (`codesearch.code_priors`).
- A class's outline that shows one member's head and nothing more (Ruby's `module` around
  `module`), or a file's block of imports, gives its place to the file's best code
  (`codesearch.placeholders`).
- In hybrid mode, a chunk whose own code holds more of the query's words gains (`coverage`):
  rank fusion keeps where BM25 ranked a chunk but not how much of the query it matched, and a
  chunk only dense search found has no lexical evidence at all. Lexical mode needs no such
  signal (BM25 is that evidence); a definition the query names has its own boost instead.
- Files where several chunks match gain (the answer is often "this file"), and each further
  chunk of one file counts half as much as the one before, so ten results cover more files.

Each signal's worth on the development benchmark (NDCG@10 with and without it) is in docs/retrieval-log.md.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

from codesearch.code_priors import (
    brevity_prior,
    declaration_prior,
    delegates,
    deprecated_prior,
    marked_deprecated,
)
from codesearch.fusion import fuse, normalise
from codesearch.lexical import is_comment, query_terms
from codesearch.lookups import from_the_top, lookup_name, lookups_lead, named_by_lookup
from codesearch.naming import PREFIX_CANDIDATES, definition_weight, name_prefixes, naming_words, query_words
from codesearch.placeholders import declarations_give_way, give_way
from codesearch.priors import (
    ASKS_FOR,
    PROPERTY,
    PROSE,
    asked_kinds,
    barrel_factor,
    file_prior,
    inline_test_factor,
    is_test_path,
    path_hits,
    path_names,
    prefixes,
    variant_priors,
)
from codesearch.quoted import first_candidates, holds_verbatim, rendered, verbatim_patterns
from codesearch.records import Chunk, SearchResult
from codesearch.symbols import symbol_words

PATH_MATCH = 1.0
FILE_SUPPORT = 0.5
REPEAT_DECAY = 0.5
COVERAGE_WEIGHT = 0.2


def asks_for_tests(terms: Collection[str], candidates: Iterable[Chunk]) -> bool:
    """Whether a query's words ask for tests (`spec`, `fixtures`, `mock`), once a word that is a
    name or part of a name in the candidates' code outside tests is left out: kotlinpoet's
    `TypeAliasSpec`, lazy.nvim's `Spec`, pytest's `fixture` are what the query is about there."""
    asking = ASKS_FOR["test"].intersection(terms)
    if not asking:
        return False
    named: set[str] = set()
    for chunk in candidates:
        if chunk.symbol and not is_test_path(chunk.path):
            bare, _, parts = symbol_words(chunk.symbol)
            named.update(parts or (bare,))
    return any(word not in named and word.removesuffix("s") not in named for word in asking)


def _uncommented(chunk: Chunk) -> str:
    """A chunk's text without its lines that are comments (`lexical.is_comment`)."""
    return "\n".join(line for line in chunk.text.split("\n") if not is_comment(line.strip(), chunk.language))


def rank(
    query: str,
    chunks: dict[int, Chunk],
    lexical: Sequence[tuple[int, float]],
    dense: Sequence[tuple[int, float]],
    *,
    mode: str,
    k: int,
    file_of: Callable[[int], str] | None = None,
    unembedded: Collection[int] = (),
    coverage: Mapping[int, float] | None = None,
    common: Collection[str] = (),
    phrased: Collection[int] = (),
    located: Collection[int] = (),
    aside: Collection[int] = (),
) -> list[SearchResult]:
    """Final ranking of candidate chunks for a query; `chunks` maps every candidate id.

    `file_of(id)` names the file a candidate belongs to for the file signals (default: its
    path; a catalog search prefixes the repository, so two repositories' `src/main.go` differ).
    `unembedded` holds candidates without a vector: dense search abstains on them. `coverage`
    (hybrid) is the share of the query's words each candidate's code holds (`search.term_coverage`).
    `common` holds the query's terms that are in more than half of the index's chunks
    (`lexical.common_terms`): such a word names no definition (`naming_words`). `phrased` holds the
    candidates that may hold what the query quotes (`search.phrase_holders`, `search.with_best`):
    those that hold it as it is written lead, as a lookup's definitions do, and so do `located`, the
    chunks at the places the query names (`walk.py:61`, a stack frame: `search.located`).
    `aside` holds the candidates whose file's head says a tool or another project wrote it
    (`search.aside_chunks`): they rank as the generated or vendored code that a path names."""
    lexical = [(i, s) for i, s in lexical if i in chunks]
    dense = [(i, s) for i, s in dense if i in chunks]
    coverage = coverage or {}
    if mode == "lexical":
        base = normalise(lexical)
    elif mode == "dense":
        base = {i: max(s, 0.0) for i, s in dense}
    else:
        base = fuse(lexical, dense, unembedded)
    lookup = lookup_name(query)
    lookups = named_by_lookup(chunks, lookup) if lookup else set()
    file_asked = False
    if not lookups and " " not in query.strip():  # a file's name or the end of its path
        wanted = query.strip().removeprefix("./")  # (`rbenv-version`, `package.json`, `sidekiq/api.rb`)
        lookups = {i for i, chunk in chunks.items() if chunk.path == wanted or chunk.path.endswith("/" + wanted)}
        file_asked = bool(lookups)
    patterns = verbatim_patterns(query)  # a pasted message or line, an option: as they are written
    # held as written by code, outside its comments: a message is printed from a string (a page
    # of documentation that says it, as a heading says "mutually exclusive option groups", ranks
    # as prose does, and a comment that says "refetch on window focus" as the rest of its code)
    quoted = {i for i in phrased if i in chunks and chunks[i].language != PROSE
              and holds_verbatim(_uncommented(chunks[i]), patterns)} if patterns else set()
    quoted |= rendered(query, chunks, first_candidates(lexical, dense))  # printed with its values
    pinned = quoted | {i for i in located if i in chunks}  # what the query quotes or points at
    base.update({i: base.get(i, 0.0) for i in lookups | pinned})
    terms = query_terms(query)
    words, tokens, dotted = query_words(query)
    words = naming_words(words, dotted, common)
    asked, by_prefix = asked_kinds(tuple(terms)), prefixes(tuple(terms))
    if "test" in asked and not asks_for_tests(terms, chunks.values()):
        asked = tuple(kind for kind in asked if kind != "test")
    top = max(base.values(), default=0.0) or 1.0
    namespaces = name_prefixes(chunks[item] for item in itertools.islice(base, PREFIX_CANDIDATES))
    priors: dict[str, float] = {}
    named: dict[str, float] = {}
    scored: list[tuple[int, str, float]] = []  # (item, its file, score before the file signals)
    by_file: dict[str, list[float]] = defaultdict(list)
    for item, score in base.items():  # the hot loop: a query has hundreds of candidates
        chunk = chunks[item]
        path = chunk.path
        file = file_of(item) if file_of else path
        prior = priors.get(file)
        if prior is None:
            prior = priors[file] = file_prior(path, chunk.language, asked, item in aside)
            named[file] = PATH_MATCH * top * (path_hits(path_names(path), by_prefix) / len(terms) if terms else 0.0)
        # a definition the query names keeps its place
        weight = definition_weight(chunk, words, tokens, dotted, namespaces)
        if weight == 1.0:  # only what the query does not name can be too brief, or hold its words
            weight = brevity_prior(chunk) * (1.0 + COVERAGE_WEIGHT * coverage.get(item, 0.0))
        weight *= declaration_prior(chunk)
        if marked_deprecated(chunk.text, chunk.language):  # most chunks stop here, cheaply
            weight *= deprecated_prior(chunk, asked)
        score = (score * weight + named[file]) * prior * barrel_factor(path, chunk.kind, asked)
        name = chunk.qualified_name
        # a test beside the code it tests: cheap checks first, at no call's cost for the many names
        # that cannot be one
        if "test." in name or "tests." in name or "test_" in name or name[:1] == '"' or name.startswith(PROPERTY):
            score *= inline_test_factor(path, name, asked, chunk.language)
        scored.append((item, file, score))
        by_file[file].append(score)
    demoted = variant_priors(by_file, terms)
    if demoted:  # found once every candidate's file is known
        for file, factor in demoted.items():
            priors[file] *= factor
            by_file[file] = [score * factor for score in by_file[file]]
        scored = [(item, file, score * demoted.get(file, 1.0)) for item, file, score in scored]
    file_bonus = {file: FILE_SUPPORT * sum(sorted(s, reverse=True)[1:4]) if len(s) > 1 else 0.0
                  for file, s in by_file.items()}
    # sorted as tuples, best first by their negated scores (no key function to call per entry);
    # equal totals keep the candidates' order
    totals = sorted((-(score + file_bonus[file]), n, item, file) for n, (item, file, score) in enumerate(scored))
    seen: dict[str, int] = defaultdict(int)
    final: list[tuple[float, int]] = []  # (negated final score, item)
    for negated, _, item, file in totals:
        final.append((negated * REPEAT_DECAY ** seen[file], item))
        seen[file] += 1
    final.sort()
    handed = delegates(chunks, [item for _, item in final[:k]])
    if handed:  # a thin wrapper's place goes to the code it hands its work to, and the worker's to it
        place = {item: n for n, (_, item) in enumerate(final)}
        for wrapper, worker in handed.items():
            if worker not in place:  # in `chunks` but no candidate (read for a lookup, a quote)
                continue
            a, b = place[wrapper], place[worker]
            if a < b:
                final[a], final[b] = (final[a][0], worker), (final[b][0], wrapper)
                place[wrapper], place[worker] = b, a
    # a class's outline that shows one member's head and nothing more, or a file's imports, gives
    # its place to its file's best code (not where the query names it: a lookup of
    # `Grape::Middleware` wants it)
    final = give_way(final, chunks, {item: file for item, file, _ in scored}, 2 * k, lookups | pinned)
    # a C or C++ header's declarations give their place to the source file of its name that defines them
    final = declarations_give_way(final, chunks, 2 * k, lookups | pinned)
    if pinned:  # the code a message was written in, or at the place named: it leads, in its own order
        lead = -min(negated for negated, _ in final) or 1.0
        final = [(negated - 2 * lead if item in pinned else negated, item) for negated, item in final]
    if lookups:  # named exactly: the definitions lead, in their own order, above everything else
        files = {item: file_of(item) if file_of else chunks[item].path for item in lookups}
        final = lookups_lead(final, {item: chunks[item] for item in lookups},
                              {item: priors[file] for item, file in files.items()}, lookup[2] if lookup else "")
        if file_asked:
            final = from_the_top(final, {item: chunks[item].start_line for item in lookups}, files)
    final.sort()  # best first, ties by id
    return [SearchResult(chunks[item], -negated) for negated, item in final[:k]]
