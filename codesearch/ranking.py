"""Ranking: fuse lexical and dense candidate lists, then apply code-aware signals. Pure functions.

- Reciprocal rank fusion (RRF) joins the two lists by rank, so their score scales never matter.
  A chunk whose vector is not computed yet is one dense search has no opinion of: it is scored
  on the lexical list alone, as if dense agreed, never as a chunk dense ranked last.
- A query that is exactly a symbol's name is a lookup: the definitions of that name come first
  (of one cut into pieces for length, the piece with its header).
- What a query quotes leads with the chunks that hold it as it is written: four words or more (a
  pasted error message) or a long option (`--no-refresh`), and a message printed with its values,
  the chunk whose format string made it; a place in code as tools print it (`indexer/walk.py:61`,
  a stack trace's frames) leads with the chunk at that line (what these are: `codesearch.quoted`).
- A file's place is evidence too (`codesearch.priors`): a file whose name or folder the query
  names is lifted, and tests, examples, docs, shims, generated code, stubs, prose, barrels, tests
  written beside the code and variants (`v3/` beside `v4/`, Windows beside other platforms) rank
  below the implementation unless the query asks for them.
- A chunk that *defines* a symbol the query names ranks above chunks that merely use it, a
  definition of a few lines gives way to code that does the work (`brevity_prior`), and a method
  declared without a body, or a header's run of prototypes, gives way to its implementation
  (`declaration_prior`).
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
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from codesearch.lexical import code_tokens, is_comment, query_terms, split_identifier
from codesearch.placeholders import give_way
from codesearch.priors import (
    ASKS_FOR,
    PROPERTY,
    PROSE,
    asked_kinds,
    barrel_factor,
    file_prior,
    inline_test_factor,
    is_barrel,
    is_test_path,
    path_hits,
    path_names,
    prefixes,
    variant_priors,
)
from codesearch.quoted import first_candidates, holds_verbatim, rendered, verbatim_patterns
from codesearch.records import Chunk, SearchResult

RRF_K = 60
DEFINITION_BOOST = 1.6
PARTIAL_DEFINITION_BOOST = 1.25
PATH_MATCH = 1.0
FILE_SUPPORT = 0.5
TINY_PENALTY = 0.7
TINY_LINES = 5
DECLARATION_PENALTY = 0.7
DEPRECATED_PENALTY = 0.7
REPEAT_DECAY = 0.5
COVERAGE_WEIGHT = 0.2

def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], k: int = RRF_K,
                           abstaining: Sequence[Collection[int]] = ()) -> dict[int, float]:
    """score(id) = sum over lists of 1 / (k + rank), ranks from 1.

    `abstaining[n]` holds the items list n cannot rank (dense search, for chunks that have no
    vector yet). Such an item is scored on the lists that can: the mean of their contributions
    times the number of lists, so a missing opinion neither costs nor earns it anything."""
    fused: dict[int, float] = defaultdict(float)
    for ranking in rankings:
        for rank, item in enumerate(ranking, 1):
            fused[item] += 1.0 / (k + rank)
    silent: dict[int, int] = defaultdict(int)  # how many lists abstain on each ranked item
    for absent in abstaining:
        for item in (absent if len(absent) < len(fused) else fused):
            if item in fused and item in absent:
                silent[item] += 1
    for item, count in silent.items():
        if count < len(rankings):
            fused[item] *= len(rankings) / (len(rankings) - count)
    return dict(fused)


def fuse(lexical: Sequence[tuple[int, float]], dense: Sequence[tuple[int, float]],
         unembedded: Collection[int] = ()) -> dict[int, float]:
    """Hybrid mode's base scores, in (0, 1]: the two lists joined by reciprocal rank fusion."""
    fused = reciprocal_rank_fusion([[i for i, _ in lexical], [i for i, _ in dense]], abstaining=[(), unembedded])
    return normalise(list(fused.items()))


def normalise(scored: Sequence[tuple[int, float]]) -> dict[int, float]:
    """Scale scores into (0, 1] by the best one."""
    if not scored:
        return {}
    top = max(score for _, score in scored) or 1.0
    return {item: score / top for item, score in scored}


BM25_K1, BM25_B = 1.2, 0.75  # FTS5's bm25()


def bm25_idf(rows: int, matching: int) -> float:
    """BM25's inverse document frequency as SQLite's FTS5 computes it (never below 1e-6)."""
    return max(math.log((rows - matching + 0.5) / (matching + 0.5)), 1e-6)


def bm25_share(idf: float, frequency: Any, length: Any, average: float) -> Any:
    """One term's share of a chunk's BM25 as FTS5's bm25() computes it, from the term's `idf`,
    its column-weighted `frequency` in the chunk, and the chunk's `length` in tokens against the
    `average`: numbers, or numpy arrays of them (one per chunk)."""
    return idf * frequency * (BM25_K1 + 1) / (frequency + BM25_K1 * (1 - BM25_B + BM25_B * length / average))


def reweight_idf(term_scores: dict[str, dict[int, float]], local_idf: dict[str, float],
                 global_idf: dict[str, float]) -> dict[int, float]:
    """BM25 of one index's chunks on another collection's statistics.

    BM25 is a sum over terms of idf(term) times a term-frequency part; FTS5 gives each term's
    score with the index's own idf, so dividing by it and multiplying by the collection's idf
    scores a chunk as if its index were the whole collection. Searching many repositories at
    once, this is what makes their scores comparable: a term common in one small repository is
    not thereby worthless in the search."""
    total: dict[int, float] = defaultdict(float)
    for term, scores in term_scores.items():
        factor = global_idf[term] / local_idf[term]
        for item, score in scores.items():
            total[item] += score * factor
    return dict(total)


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
            bare, _, parts = _symbol_words(chunk.symbol)
            named.update(parts or (bare,))
    return any(word not in named and word.removesuffix("s") not in named for word in asking)


def brevity_prior(chunk: Chunk) -> float:
    """A definition of a few lines (a one-line helper, an alias) is rarely what a question is
    after, yet BM25's length normalisation favours it: it gives way to code that does the work,
    unless the query names it (`rank` applies it only where `definition_boost` does not). So does
    an extension with nothing in it (`extension FlagInversion: Sendable {}`), which names nothing."""
    lines = chunk.end_line - chunk.start_line + 1
    if lines > TINY_LINES:
        return 1.0
    return TINY_PENALTY if chunk.kind in ("function", "method") or _empty_extension(chunk) else 1.0


def _empty_extension(chunk: Chunk) -> bool:
    """Whether a type's chunk only says that a type conforms to a protocol or trait: Swift's
    `extension Protected: Sendable {}`, Rust's `impl std::error::Error for PathError {}`,
    Haskell's `instance Exception SignalException` (no `where`)."""
    if chunk.kind != "class" or chunk.language not in _EXTENSION_HEAD:
        return False
    if chunk.end_line - chunk.start_line >= TINY_LINES:  # nothing in it: a few lines at most
        return False
    haskell = chunk.language == "haskell"
    if not haskell and not chunk.text.rstrip().endswith("{}"):
        return False
    code = " ".join(line for line in _code_lines(chunk.text, TINY_LINES) if line)
    if haskell:
        return _extends(chunk, code) and re.search(r"\bwhere\b", code) is None
    return code.endswith("{}") and code.count("{") == 1 and _extends(chunk, code)


def delegates(chunks: Mapping[int, Chunk], among: Collection[int] | None = None) -> dict[int, int]:
    """The thin wrappers among candidate chunks (or among the items `among`), each mapped to the
    candidate it hands its work to: a function of a few lines whose code calls a function or
    method in its file of more than a few lines, of its own name, or of its name with `Impl`
    (`_impl`, `Internal`) after it, whatever `_` or `$` surround it: Go's package-level `func
    WatchConfig() { v.WatchConfig() }` for `(v *Viper) WatchConfig`, zustand's `createStore` for
    `createStoreImpl`, an overload that fills in an argument for the one that does the work. Only
    in its file: elsewhere, a method of the same name is another type's (`close` calling
    `self.sock.close()` is not `Connection.close`)."""
    wrappers = [item for item in (chunks if among is None else among)
                if chunks[item].symbol and brevity_prior(chunks[item]) < 1.0]
    if not wrappers:
        return {}
    files = {chunks[item].path for item in wrappers}
    workers: dict[tuple[str, str], list[int]] = defaultdict(list)
    for item, chunk in chunks.items():
        if chunk.path in files and chunk.kind in ("function", "method") and brevity_prior(chunk) == 1.0:
            workers[chunk.path, _bare(chunk.symbol)].append(item)
    found: dict[int, int] = {}
    for item in wrappers:
        wrapper = chunks[item]
        for name in (_bare(wrapper.symbol) + suffix for suffix in _WORKER_SUFFIXES):
            callees = [other for other in workers.get((wrapper.path, name), ())
                       if _calls(wrapper, chunks[other].symbol)]
            if callees:
                found[item] = min(callees)
                break
    return found


def _calls(wrapper: Chunk, symbol: str) -> bool:
    """Whether a wrapper's code calls `symbol` in its file: by the bare name (an overload, a
    function of the module; its own name once more than its head writes it; `vprint(` is no call
    of `print`), or, from a function outside any class, as a method (Go's `v.WatchConfig()`).
    A method calling its name on another object (`super().__init__(`, `monitor?.urlSession(`,
    `formatter<bool>::format(`) calls another type's."""
    name = re.escape(symbol)
    bare = len(re.findall(rf"(?<![\w$.:>?]){name}\s*\(", wrapper.text)) - (symbol == wrapper.symbol)
    return bare > 0 or wrapper.kind == "function" and re.search(rf"[.:>]{name}\s*\(", wrapper.text) is not None


_WORKER_SUFFIXES = ("", "impl", "internal")


# What may stand around a name without making it another: `_sections`, zod's `$ZodError`,
# JavaScript's private `#join`
_AROUND_NAMES = "_$#"


@lru_cache(maxsize=1 << 14)
def _bare(symbol: str) -> str:
    """A symbol without the `_`, `$` or `#` around it and `_` inside it, lower-cased:
    `_create_store` and `createStore` are one name."""
    return symbol.strip(_AROUND_NAMES).replace("_", "").lower()


# Languages whose bodies are written in braces, where a function that ends in `;` has none.
_BRACED = frozenset({"c", "cpp", "csharp", "dart", "go", "java", "javascript", "php", "rust", "tsx", "typescript",
                     "vue", "svelte", "yacc", "lex"})
# Languages where a function without a body is its signature alone, with no `;`: a Kotlin
# interface's or `expect` class's `fun clear()`, a Swift protocol's `func next() -> Element?`, a
# Scala trait's `def size: Int`
_SIGNATURE_ONLY = frozenset({"kotlin", "scala", "swift"})
_SIGNATURE = re.compile(r"(?m)^\s*(?:(?:@[\w.]+(?:\([^)]*\))?|[a-z]+)\s+)*(?:fun|def|func|init|subscript)\b")


def declaration_prior(chunk: Chunk) -> float:
    """A method declared without a body (in an interface, an abstract class, a Rust trait) gives
    way to the code that implements it, even where the query names it: `urlFor` in
    `RouteParserInterface`, with its long doc comment, had led `RouteParser.urlFor`. So does a C
    or C++ header's run of prototypes (`cJSON.h`'s 40 `CJSON_PUBLIC(...)` lines, one chunk of
    top-level code whose words are every function's): the definitions are in the `.c` files."""
    if chunk.kind in ("function", "method"):
        declares = _declares(chunk.text, chunk.language)
    else:
        declares = chunk.kind == "module" and chunk.path.endswith(_HEADERS) and _prototypes(chunk.text)
    return DECLARATION_PENALTY if declares else 1.0


# How code says it is deprecated, in the doc comment or the annotations above its signature:
# Go's `// Deprecated:`, JSDoc's, Javadoc's, KDoc's and PHPDoc's `@deprecated`, Java's and
# Kotlin's `@Deprecated`, Python's `@deprecated(...)` (PEP 702), Rust's `#[deprecated]`, C#'s
# `[Obsolete]`, Swift's `@available(*, deprecated)`
_DEPRECATED = re.compile(r"//\s*Deprecated:|@[Dd]eprecated\b|#\[deprecated\b|\[Obsolete\b"
                         r"|@available\([^)\n]*\bdeprecated\b")
def deprecated_prior(chunk: Chunk, asked: Collection[str] = ()) -> float:
    """A definition its doc comment or annotations mark deprecated gives way as an old API in a
    `deprecated/` folder does, unless the query asks for such code (`asked_kinds`' "aside":
    deprecated, legacy, compat): gorilla/websocket's `Upgrade`, "Deprecated: Use
    websocket.Upgrader instead", had been first for "upgrade HTTP connection to websocket"."""
    if (chunk.kind not in ("function", "method", "class") or "aside" in asked
            or not _marked_deprecated(chunk.text, chunk.language)):
        return 1.0
    return DEPRECATED_PENALTY if _DEPRECATED.search(_above_signature(chunk.text)) else 1.0


# How far into a chunk its mark may be: a doc comment and annotations are at its top, and a
# class's outline runs to thousands of lines that `rank` would otherwise read for every
# candidate of every query (the check had cost 0.4 ms a query read whole)
DEPRECATED_HEAD_CHARS = 1500


def _marked_deprecated(text: str, language: str) -> bool:
    """Whether a chunk's head holds a word `_DEPRECATED` may match (cheap: most chunks hold none;
    only C# writes `Obsolete`)."""
    return (text.find("eprecated", 0, DEPRECATED_HEAD_CHARS) >= 0
            or language == "csharp" and text.find("Obsolete", 0, DEPRECATED_HEAD_CHARS) >= 0)


def _above_signature(text: str) -> str:
    """A definition's text down to its signature's first line (`_code_lines` finds it past
    comments and annotations): its doc comment and annotations, not its body's (a class whose one
    member is deprecated is not)."""
    signature = _code_lines(text, 1)[0]
    end = text.find("\n", text.find(signature)) if signature else -1
    return text[:end] if end >= 0 else text


_HEADERS = (".h", ".hh", ".hpp", ".hxx")
_COMMENTS_AND_DIRECTIVES = re.compile(r"/\*.*?\*/|//[^\n]*|^[ \t]*#[^\n]*(?:\\\n[^\n]*)*", re.S | re.M)
_PROTOTYPE = re.compile(r"[\w)]\s*\([^{}=]*\)[\w\s()]*$")


@lru_cache(maxsize=1 << 12)
def _prototypes(text: str) -> bool:
    """Whether most of a header's top-level statements are function prototypes (three or more):
    `int uv_run(uv_loop_t*, uv_run_mode mode);`, written on one line or several, comments and
    preprocessor lines aside; not a variable set by a call (`int y = g(2);`)."""
    statements = [s.strip() for s in _COMMENTS_AND_DIRECTIVES.sub("", text).split(";")]
    statements = [s for s in statements if s]
    prototypes = sum(1 for s in statements if "=" not in s and "{" not in s and _PROTOTYPE.search(s))
    return prototypes >= 3 and 2 * prototypes >= len(statements)


@lru_cache(maxsize=1 << 12)
def _declares(text: str, language: str) -> bool:
    """Whether a function's text is a signature with no body: ended with `;` (`... ): string;`;
    an expression body, `=> x;`, is a body), or, in Kotlin, Swift and Scala, a signature with no
    `{`, `}` or `=` after its doc comment that starts `fun`, `def`, `func`, `init` or `subscript`
    (not a piece of a long body)."""
    if language in _SIGNATURE_ONLY:
        doc = text.rfind("*/")
        start = doc + 2 if doc >= 0 else 0  # after the doc comment; no copy of a long body made
        if text.find("{", start) >= 0 or text.find("=", start) >= 0 or text.find("}", start) >= 0:
            return False
        return _SIGNATURE.search(text, start) is not None
    if language not in _BRACED:
        return False
    end = text[-300:].rstrip()  # the last lines: not a copy of a long body
    return end.endswith(";") and "=>" not in text and "}" not in end[end.rfind("\n") + 1:]


# A symbol's name, qualified with `.`, `::`, `#` or PHP's `\` (`Ramsey\Uuid\Uuid`, `\Dotenv\Dotenv`), in
# any script (`größe_berechnen`): a letter, `_` or `$` first
_IDENTIFIER = r"(?:[^\W\d]|\$)[\w$]*"
_SYMBOL_QUERY = re.compile(rf"\\?{_IDENTIFIER}(?:(?:\.|::|#|\\){_IDENTIFIER})*")


def names_definition(chunk: Chunk, query: str) -> bool:
    """Whether the whole query is this chunk's symbol (`parse_args`, `Router.ServeHTTP`): a lookup."""
    lookup = lookup_name(query)
    return lookup is not None and _names(chunk, *lookup)


@lru_cache(maxsize=256)
def lookup_name(query: str) -> tuple[str, str, str] | None:
    """A query that could be a symbol's name: the name, written with dots, and its last part;
    None for any other query. Worked out once per query, not once per candidate. Elixir's and
    Erlang's arity after the name (`Plug.Conn.put_status/2`, `listen/3`) is left out."""
    name = _ARITY.sub("", query.strip())
    if not _SYMBOL_QUERY.fullmatch(name):
        return None
    dotted = _dotted(name)
    return name, dotted, dotted.rsplit(".", 1)[-1]


_ARITY = re.compile(r"/\d+$")


def _dotted(name: str) -> str:
    r"""`Sinatra::Base`, `Array#map` and `\Ramsey\Uuid\Uuid` written as `Sinatra.Base`, `Array.map`,
    `Ramsey.Uuid.Uuid`."""
    return name.replace("::", ".").replace("#", ".").replace("\\", ".").lstrip(".")


def _names(chunk: Chunk, name: str, dotted: str, last: str) -> bool:
    """`names_definition` with the query's name worked out (`lookup_name`). A qualified name
    names a definition whose own qualified name ends with it: the query may leave out the
    modules and outer types around it (`JobRecord#latency` names `Sidekiq.JobRecord.latency`,
    `Builder.addAdapter` Moshi's `Moshi.Builder.addAdapter`), and a compound name may be typed in
    lower case."""
    symbol, qualified = chunk.symbol, chunk.qualified_name
    if not symbol or chunk.kind in ("module", "block"):
        return False
    if not (symbol.endswith(last) or qualified.endswith(last)):  # most candidates stop here, cheaply
        # a compound name typed in lower case (`updatetable` for `updateTable`); a word (`session`)
        # names no `Session`
        return (len(symbol) == len(last) and name == last and last.islower() and symbol.lower() == last
                and len(split_identifier(symbol)) > 1)
    if name in (symbol, qualified):
        return True
    written = _dotted(qualified)
    return dotted == written or ("." in dotted and written.endswith("." + dotted))


def _lookups(chunks: Mapping[int, Chunk], lookup: tuple[str, str, str]) -> set[int]:
    """The candidates a lookup names; for a qualified name that names none, those named by its
    end: its head is then a package, crate or module, which no qualified name holds (Go's
    `cli.Command`, Rust's `serde_json::from_str`, Python's `fields.Nested`); where no definition
    has the name, or only extensions of it, the top-level code that assigns it (sidekiq's
    `Worker = Job`; anyhow's `pub type Result<T, E = Error> = ...` beside its `impl`s for
    `Result`)."""
    found = {i for i, chunk in chunks.items() if _names(chunk, *lookup)}
    aliased = {aliased_type(chunks[i]) for i in found} - {""}
    if aliased:  # the type a C typedef names another way is named too, and leads it (`_secondary`)
        found |= {i for i, chunk in chunks.items() if chunk.kind == "class" and chunk.symbol in aliased}
    _, dotted, last = lookup
    if not found and "." in dotted:
        found = {i for i, chunk in chunks.items() if chunk.symbol.endswith(last)
                 and chunk.kind not in ("module", "block") and dotted.endswith("." + _dotted(chunk.qualified_name))}
    if "." not in dotted and last.lower() == last:  # a word, not an identifier (`session`)
        return found
    if all(_is_extension(chunks[i]) for i in found):
        assigns = _assignment(last)  # in top-level code, a class's or module's body, or a text
        found |= {i for i, chunk in chunks.items()  # file's window (a Makefile's `CFLAGS := ...`)
                  if chunk.kind in ("module", "class", "block") and last in chunk.text and assigns.search(chunk.text)}
    if not found:  # defined in a dependency: where the project re-exports it
        exports = _reexport(last)
        found = {i for i, chunk in chunks.items() if chunk.kind == "module" and last in chunk.text
                 and exports.search(chunk.text) and (chunk.language != "python" or is_barrel(chunk.path))}
    return found


# A C type given another name on a line of its own: `typedef struct ngx_http_request_s
# ngx_http_request_t;`, libuv's `typedef struct uv_loop_s uv_loop_t;`
_TYPE_ALIAS = re.compile(r"typedef\s+(?:struct|union|enum)\s+(\w+)\s+(\w+)\s*;")


def aliased_type(chunk: Chunk) -> str:
    """The type a one-line C typedef names another way (`ngx_http_request_s` for `typedef struct
    ngx_http_request_s ngx_http_request_t;`), whose definition is what a lookup of the new name
    wants; "" for any other chunk (`typedef struct lua_State lua_State;` names no other type)."""
    if chunk.kind != "class" or "typedef" not in chunk.text:
        return ""
    match = _TYPE_ALIAS.fullmatch(chunk.text.strip().rsplit("\n", 1)[-1].strip())
    return match.group(1) if match and match.group(2) == chunk.symbol != match.group(1) else ""


def _is_extension(chunk: Chunk) -> bool:
    """Whether a chunk extends a type defined elsewhere (Rust's `impl`, Swift's `extension`)."""
    return chunk.kind == "class" and _extends(chunk, _code_lines(chunk.text, 1)[0])


@lru_cache(maxsize=256)
def _assignment(name: str) -> re.Pattern[str]:
    """A line of top-level code or of a class's body that defines `name` by assignment, as an
    alias or a constant: Ruby's `Worker = Job`, Python's `JSONDecodeError = ValueError`,
    `export const Foo = bar()`, Go's and Rust's `type Foo = Bar`, with type parameters, on one
    line or several (`type Result<T, E = Error> = ...`), a build file's `CFLAGS := ...`; a field
    declared with its modifiers and type (Java's `private static final int PEEKED_NONE = 0;`,
    Kotlin's `private const val SEGMENT_SIZE = 8192`, C#'s `public const string Key = "k";`);
    C's `#define NAME ...`."""
    return re.compile(r"^[ \t]*(?:export\s+)?(?:pub(?:\([\w:]+\))?\s+)?"
                      r"(?:(?:const|let|var|val|type|typealias|static|public|private|protected|internal|final|"
                      r"readonly|override|lateinit)\s+)*"
                      r"(?:[\w.$]+(?:<[^;=\n]*>)?(?:\[\])*\??\s+)?"  # a declared type (`int`, `Map<K, V>`, `byte[]`)
                      rf"{re.escape(name)}(?:<[^;]{{0,400}}?>)?\s*(?::[^=\n]*)?=(?![=>~])"
                      rf"|^[ \t]*#[ \t]*define[ \t]+{re.escape(name)}\b", re.MULTILINE)


@lru_cache(maxsize=256)
def _reexport(name: str) -> re.Pattern[str]:
    """A statement that re-exports `name`, defined elsewhere, as part of a module's interface:
    Rust's `pub use axum_core::extract::{FromRef, FromRequest};` (on one line or several),
    TypeScript's and JavaScript's `export { FromRequest } from "..."` and `export * as Name from`,
    Python's `from .core import Name` (in a package's `__init__.py`: `_lookups` checks the file)."""
    word = rf"\b{re.escape(name)}\b"
    return re.compile(rf"^[ \t]*pub(?:\([\w:]+\))?\s+use\s[^;]*{word}[^;]*;"
                      rf"|^[ \t]*export\s+(?:type\s+)?(?:\{{[^}}]*{word}[^}}]*\}}|\*\s+as\s+{word})"
                      rf"|^from\s+\S+\s+import\s+(?:\([^)]*{word}[^)]*\)|[^\n]*{word})", re.MULTILINE)


def _later_pieces(candidates: Mapping[int, Chunk]) -> set[int]:
    """The candidates that continue another candidate, a definition split for length: the same
    name and kind in the same file, starting on the line after the other ends (C++'s `formatter`
    specialisations are separate definitions of one name in one file, with lines between them)."""
    ends = {(c.path, c.qualified_name, c.kind, c.end_line + 1) for c in candidates.values()}
    return {item for item, c in candidates.items() if (c.path, c.qualified_name, c.kind, c.start_line) in ends}


# The head of a type's extension: Rust's `impl Deserializer`, Swift's `extension ImageRequest`,
# Elixir's `defimpl Jason.Encoder, for: Atom`
_EXTENSION_HEAD = {"rust": re.compile(r"(?:pub(?:\([\w:]+\))?\s+)?(?:unsafe\s+|default\s+)*impl\b"),
                   "swift": re.compile(r"(?:(?:public|internal|private|fileprivate|open)\s+)?extension\b"),
                   "elixir": re.compile(r"defimpl\b"),
                   "haskell": re.compile(r"instance\b")}


# A keyword that makes a type, in one language or another
_TYPE_WORD = re.compile(r"\b(?:class|struct|enum|interface|trait|protocol|object|record|module|type|impl|"
                        r"extension|actor|union|typedef|namespace|defmodule|defprotocol|defimpl|data|newtype|"
                        r"instance)\b")


def _secondary(candidates: Mapping[int, Chunk]) -> set[int]:
    """The types among the candidates that another candidate defines in full: a forward
    declaration of one line, an extension (Rust's `impl`, Swift's `extension`, Elixir's
    `defimpl`), and a later piece of a type's outline (its first lines of code are a member's,
    not the type's own); none where no candidate is the type itself or the code that assigns it
    (a module's `pub type Result<T> = ...`, which `_lookups` adds only beside extensions)."""
    types = {item: c for item, c in candidates.items() if c.kind == "class"}
    heads = {item: _code_lines(c.text, 2) for item, c in types.items()}
    extensions = {item for item, c in types.items() if _extends(c, heads[item][0])}
    # (a forward declaration ends with `;` and has no body: Scala's one-line `trait RenderingMode`
    # is the trait itself)
    declared = {item for item, c in types.items()
                if c.start_line == c.end_line and c.text.rstrip().endswith(";") and "{" not in c.text}
    # the head may be the second line, after C++'s `template <typename T>`; a member's head may
    # hold the name too (a constructor's), but not a keyword that makes a type
    words = {item: _type_keyword(c.symbol, heads[item]) for item, c in types.items()}
    continued = {item for item, word in words.items() if not word}
    secondary = extensions | declared | continued
    # a class's companion (Scala's `object OParser` beside `class OParser`) and an interface
    # merged into a class (TypeScript's `interface ArraySchema` beside `class ArraySchema`)
    primary = {item: words[item] for item in types.keys() - secondary}
    if any(word in _CLASS_WORDS for word in primary.values()):
        secondary |= {item for item, word in primary.items() if word in ("object", "interface")}
    assigned = any(c.kind == "module" for c in candidates.values())
    return secondary if types.keys() - secondary or assigned else set()


_CLASS_WORDS = frozenset({"class", "struct", "trait", "record", "enum"})


def _type_keyword(symbol: str, head: list[str]) -> str:
    """The keyword that makes a type in its head's first line naming it (`class`, `object`), a
    class's where there are several (Kotlin's `data class`); "" where no line names it with one."""
    line = next((line for line in head if symbol in line and _TYPE_WORD.search(line)), "")
    found = _TYPE_WORD.findall(line)
    return next((word for word in found if word in _CLASS_WORDS), found[0] if found else "")


# A block comment's opening and closing marks: C's and its family's, Haskell's, Lua's, Ruby's,
# and Python's docstrings
_BLOCK_COMMENTS = (("/*", "*/"), ("{-", "-}"), ("--[[", "]]"), ("=begin", "=end"), ('"""', '"""'))


# Attributes and annotations at the start of a line: `@MainActor`, `@Deprecated("...")`, Rust's `#[derive(Debug)]`
_ATTRIBUTES = re.compile(r"^(?:(?:@[\w.]+(?:\([^()\n]*\))?|#\[[^\]\n]*\])\s*)+")


def _code_lines(text: str, count: int) -> list[str]:
    """A chunk's first `count` lines of code, past comments, attributes and decorators."""
    first: list[str] = []
    closing = ""  # the mark that ends the block comment under way
    arguments = 0  # parentheses an attribute's arguments left open (`@Deprecated(\n  "...",\n)`)
    for line in text.split("\n"):  # a class's outline runs to hundreds of lines; its head is at the top
        line = line.strip()
        if closing:  # a comment's prose, with or without a `*` before each line (jsoup writes none)
            closing = "" if closing in line else closing
            continue
        if arguments:
            arguments = max(arguments + line.count("(") - line.count(")"), 0)
            continue
        opened = next(((start, end) for start, end in _BLOCK_COMMENTS if line.startswith(start)), None)
        if opened:
            closing = "" if opened[1] in line[len(opened[0]):] else opened[1]
            continue
        if line.startswith(("@", "#[")):  # what follows attributes on their line is code:
            line = _ATTRIBUTES.sub("", line)  # `@MainActor public final class Session {`
            if line.startswith("("):
                arguments, line = max(line.count("(") - line.count(")"), 0), ""
        if line and not line.startswith(("//", "*", "#", "--")):
            first.append(line)
            if len(first) == count:
                break
    return first + [""] * (count - len(first))


def _extends(chunk: Chunk, head: str) -> bool:
    """Whether a type's chunk, whose first line of code is `head`, is an extension of it."""
    pattern = _EXTENSION_HEAD.get(chunk.language)
    return pattern is not None and pattern.match(head) is not None


def _constructors(candidates: Mapping[int, Chunk]) -> dict[int, int]:
    """The candidates that construct a class among the candidates, in its file (Java's, C#'s,
    Kotlin's and C++'s `DefaultParser.DefaultParser` in `class DefaultParser`), each mapped to
    that class."""
    classes: dict[tuple[str, str], int] = {}
    for item, c in sorted(candidates.items(), key=lambda pair: -pair[1].start_line):  # the first piece wins
        if c.kind == "class":
            classes[c.path, c.qualified_name] = item
    return {item: classes[c.path, c.qualified_name[: -len(c.symbol) - 1]] for item, c in candidates.items()
            if c.kind != "class" and _constructs(c) and (c.path, c.qualified_name[: -len(c.symbol) - 1]) in classes}


def _constructs(chunk: Chunk) -> bool:
    """Whether a chunk is a constructor named for its class (`DefaultParser.DefaultParser`)."""
    return chunk.qualified_name.endswith(f"{chunk.symbol}.{chunk.symbol}")


def _file_stem(path: str) -> str:
    """A file's name without its last extension, lower-cased: `src/SqlMapper.Settings.cs` is
    `sqlmapper.settings`."""
    return path.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()


def definition_boost(chunk: Chunk, query: str, common: Collection[str] = (),
                     prefixes: frozenset[str] = frozenset()) -> float:
    """How much a chunk gains for defining a symbol the query names (`common`: as `rank`'s;
    `prefixes`: as `name_prefixes` finds them)."""
    words, tokens, dotted = _query_words(query)
    return _definition_boost(chunk, _naming(words, dotted, common), tokens, dotted, prefixes)


# How many named definitions among the candidates `name_prefixes` needs to tell a prefix, and
# how many of the best candidates it reads (a project's prefix is on most of any hundred of them)
PREFIX_SAMPLE = 20
PREFIX_CANDIDATES = 100


def name_prefixes(chunks: Iterable[Chunk]) -> frozenset[str]:
    """The word more than half the candidates' definitions' names start with, where there are
    PREFIX_SAMPLE of them or more: a C project's namespace (`ngx_` in nginx, `uv_` in libuv),
    which a question leaves out ("parse HTTP request line" names `ngx_http_parse_request_line`).
    The candidates stand for the index: in nginx nearly every definition starts so."""
    firsts: Counter[str] = Counter()
    named = 0
    for chunk in chunks:
        if chunk.symbol and chunk.kind not in ("module", "block"):
            named += 1
            parts = _symbol_words(chunk.symbol)[2]
            if parts:
                firsts[parts[0]] += 1
    return frozenset(part for part, count in firsts.items() if 2 * count > named >= PREFIX_SAMPLE)


def _naming(words: frozenset[str], dotted: tuple[str, ...], common: Collection[str]) -> frozenset[str]:
    """The query's words that can name a definition: not one in most of the index's chunks (the
    project's own name, `atom` in jotai, `gson` in Gson, `clap` in "how zig-clap parses"; BM25
    already gives it no weight, and the one definition it names took the first place for every
    question that says it), unless the query writes it in a qualified name (`fmt::format`)."""
    if not common:
        return words
    qualified = {part for name in dotted for part in name.split(".")}
    return words.difference(w for w in common if w not in qualified)


def _definition_boost(chunk: Chunk, words: frozenset[str], tokens: frozenset[str],
                      dotted: tuple[str, ...] = (), prefixes: frozenset[str] = frozenset()) -> float:
    """`definition_boost` with the query's words worked out once, for `rank`'s loop. `dotted`
    holds the qualified names the query writes (`app.set`, `Sinatra::Base`), lower-cased with dots:
    one names a definition however short its last part (`set` alone says too little). A name's
    words are named without the project's prefix (`prefixes`) and the word a question leaves out
    before them (`_LEFT_OUT`: a predicate's `is`, an accessor's `get`, an interface's `I`)."""
    if not chunk.symbol or chunk.kind in ("module", "block") or _empty_extension(chunk):
        return 1.0
    symbol, telling, parts = _symbol_words(chunk.symbol)
    # a constructor bears its class's name, which a sentence names the class by ("profile classes
    # grouping maps": AutoMapper's one-line `Profile.Profile()` had come first)
    if symbol in words and telling and symbol not in _RELATIONS and (chunk.kind == "class" or not _constructs(chunk)):
        return DEFINITION_BOOST
    if dotted and _writes(chunk.qualified_name.lower(), dotted):
        return DEFINITION_BOOST
    if not parts:
        return 1.0
    if tokens.issuperset(parts):
        return PARTIAL_DEFINITION_BOOST
    if parts[0] in prefixes and len(set(parts[1:])) > 1:
        parts = parts[1:]
        if tokens.issuperset(parts):
            return PARTIAL_DEFINITION_BOOST
    if parts[0] in _LEFT_OUT and len(set(parts[1:])) > 1 and tokens.issuperset(parts[1:]):
        return PARTIAL_DEFINITION_BOOST
    return 1.0


# The word a name starts with that a question leaves out: a predicate's, "leap year" names
# `isLeapYear` and "thread safe" `is_thread_safe`; an accessor's `get`, "elements by class"
# names jsoup's `getElementsByClass`; and an interface's `I`, "pipeline behavior" names MediatR's
# `IPipelineBehavior` (two words or more after it, as after a project's prefix: "empty" names no
# `isEmpty`, "value" no `getValue`, nor "object" json-c's `json_object_object`)
_LEFT_OUT = frozenset({"is", "has", "can", "should", "get", "i"})


# Words that relate two things ("mapping between Kotlin types and SQL types"): they name no
# definition, though code has functions so named (SQL's `between`); BM25 still counts them
_RELATIONS = frozenset("""between within without against through across among during whether
inside outside except beyond toward towards despite versus""".split())


@lru_cache(maxsize=1 << 16)
def _symbol_words(symbol: str) -> tuple[str, bool, tuple[str, ...]]:
    """A symbol lower-cased without the underscores, `$` and a private `#` around it or a Ruby or
    Elixir `!` or `?` after it (a query's `sections` names `_sections`, `union` zod's `_union`,
    `join` JavaScript's `#join`, `route` Sinatra's `route!`), whether it says enough to count
    when a query names it (four letters, or a capital or underscore in it), and its words when it
    has several. A protocol hook (Python's `__call__`, `__init__`, Elixir's `__using__`) is named
    only where the query writes it so: the word "call" in "call a hook before sleeping" names no
    `__call__`."""
    bare = symbol if symbol[:2] == "__" == symbol[-2:] else symbol.strip(_AROUND_NAMES).rstrip("!?")
    telling = len(bare) > 3 or any(c.isupper() or c == "_" for c in bare)
    parts = [p.lower() for p in split_identifier(symbol)]
    return bare.lower(), telling, tuple(parts) if len(parts) > 1 else ()


def _writes(qualified: str, dotted: tuple[str, ...]) -> bool:
    """Whether a lower-cased qualified name of two parts or more is one the query writes, or
    the two differ only by what comes before (`app.set` and `express.app.set` both name
    `app.set`; `Router.ServeHTTP` names `chi.Router.ServeHTTP`)."""
    if "." not in qualified:
        return False  # `set` named by `res.set` would be every `set`
    return any(qualified == name or qualified.endswith("." + name) or name.endswith("." + qualified)
               for name in dotted)


# How code shortens the words a question spells out, in the names it writes (`mapErr`, `parseCfg`,
# `ReqCtx`): a query's word also names a compound name's part so written. One way only: the long
# word a question uses, not the short one (`err` names no `error_handler`), and only for a name
# of several parts (`err` alone is neverthrow's `err()`, which "map the error" does not name).
_ABBREVIATIONS = {long: tuple(short.split(",")) for long, short in (pair.split(":") for pair in """
error:err errors:errs request:req requests:reqs response:res,resp responses:resps configuration:config,cfg,conf
config:cfg,conf message:msg messages:msgs context:ctx argument:arg arguments:args parameter:param
parameters:params string:str strings:strs number:num value:val values:vals initialize:init
initialization:init directory:dir directories:dirs reference:ref references:refs source:src
destination:dst,dest length:len temporary:tmp,temp connection:conn connections:conns callback:cb
callbacks:cbs attribute:attr attributes:attrs document:doc documents:docs environment:env
previous:prev position:pos index:idx count:cnt buffer:buf character:char,ch characters:chars
boolean:bool integer:int pointer:ptr address:addr allocate:alloc allocation:alloc function:func,fn
functions:funcs,fns expression:expr statement:stmt information:info specification:spec
utilities:utils utility:util maximum:max minimum:min database:db library:lib command:cmd
commands:cmds description:desc sequence:seq iterator:iter object:obj objects:objs option:opt
options:opts synchronize:sync synchronous:sync asynchronous:async authentication:auth
authorization:auth identifier:id execute:exec evaluate:eval element:elem elements:elems image:img
package:pkg packages:pkgs variable:var variables:vars transaction:tx,txn receive:recv
password:pwd,passwd current:cur,curr original:orig repository:repo operation:op operations:ops
generate:gen calculate:calc compare:cmp header:hdr headers:hdrs statistics:stats property:prop
properties:props implementation:impl instance:inst system:sys""".split())}


def _with_abbreviations(tokens: frozenset[str]) -> frozenset[str]:
    """A query's tokens and the short forms code writes them in (`_ABBREVIATIONS`)."""
    return tokens.union(*(_ABBREVIATIONS[token] for token in tokens if token in _ABBREVIATIONS))


def agent_nouns(verb: str) -> tuple[str, ...]:
    """The names code makes of a verb for what does it: `parse` -> `parser`, `format` ->
    `formatter`, `log` -> `logger`, `validate` -> `validator`, `select` -> `selector`. A question
    says what is done ("format SQL expressions"), the code names the doer (`SqlFormatter`), and
    Porter's stemmer keeps the two apart (`format`, `formatt`; `pars`, `parser`). Where English
    could double the last letter or not, both are made (a wrong spelling names nothing); `-or`
    only after the endings that take it (`-ate`, `-ute`, `-ct`, `-it`, `-ss`), so a short form
    makes none of its long word (`err`, `error`)."""
    if len(verb) < 3 or not verb.isalpha():
        return ()
    if verb.endswith("e"):
        return (verb + "r", verb[:-1] + "or") if verb.endswith(("ate", "ute")) else (verb + "r",)
    forms = [verb + "er"]
    if verb.endswith(("ct", "it", "ss")):
        forms.append(verb + "or")  # selector, visitor, processor
    if verb[-1] not in "aeiouwxy" and verb[-2] in "aeiou" and verb[-3] not in "aeiou":
        forms.append(verb + verb[-1] + "er")  # logger, formatter, emitter
    return tuple(forms)


_QUALIFIED_IN_QUERY = re.compile(rf"{_IDENTIFIER}(?:(?:\.|::|#|\\){_IDENTIFIER})+")


@lru_cache(maxsize=256)
def _query_words(query: str) -> tuple[frozenset[str], frozenset[str], tuple[str, ...]]:
    """A query's words, code tokens and the qualified names it writes (lower-cased, with dots),
    worked out once per query rather than once per chunk."""
    written = re.findall(r"[^\W\d]\w*", query)
    # each word without the `_` around it, and a protocol hook as written (`__call__`)
    words = frozenset(w.lower().strip("_") for w in written) | {w.lower() for w in written if w[:2] == "__" == w[-2:]}
    dotted = tuple(_dotted(name).lower() for name in _QUALIFIED_IN_QUERY.findall(query))
    tokens = frozenset(code_tokens(query))
    return words, _with_abbreviations(tokens.union(*map(agent_nouns, tokens))), dotted


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
    (`lexical.common_terms`): such a word names no definition (`_naming`). `phrased` holds the
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
    lookups = _lookups(chunks, lookup) if lookup else set()
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
    words, tokens, dotted = _query_words(query)
    words = _naming(words, dotted, common)
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
        weight = _definition_boost(chunk, words, tokens, dotted, namespaces)
        if weight == 1.0:  # only what the query does not name can be too brief, or hold its words
            weight = brevity_prior(chunk) * (1.0 + COVERAGE_WEIGHT * coverage.get(item, 0.0))
        weight *= declaration_prior(chunk)
        if _marked_deprecated(chunk.text, chunk.language):  # most chunks stop here, cheaply
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
    if pinned:  # the code a message was written in, or at the place named: it leads, in its own order
        lead = -min(negated for negated, _ in final) or 1.0
        final = [(negated - 2 * lead if item in pinned else negated, item) for negated, item in final]
    if lookups:  # named exactly: the definitions lead, in their own order, above everything else
        files = {item: file_of(item) if file_of else chunks[item].path for item in lookups}
        final = _lookups_lead(final, {item: chunks[item] for item in lookups},
                              {item: priors[file] for item, file in files.items()}, lookup[2] if lookup else "")
        if file_asked:
            final = _from_the_top(final, {item: chunks[item].start_line for item in lookups}, files)
    final.sort()  # best first, ties by id
    return [SearchResult(chunks[item], -negated) for negated, item in final[:k]]


def _from_the_top(final: list[tuple[float, int]], lines: dict[int, int],
                  file_of: dict[int, str]) -> list[tuple[float, int]]:
    """`final` with the places of the chunks of a file asked for by its name (`lines`: their first
    lines; `file_of`: their files) given to them in line order, file by file, the best file first:
    the file reads from its top, not from its best match."""
    slots = sorted(negated for negated, item in final if item in lines)
    files: dict[str, int] = {}
    for _, item in sorted(final):
        if item in lines:
            files.setdefault(file_of[item], len(files))
    in_order = sorted(lines, key=lambda item: (files[file_of[item]], lines[item]))
    place = dict(zip(in_order, slots, strict=True))
    return [(place.get(item, negated), item) for negated, item in final]


def _lookups_lead(final: list[tuple[float, int]], lookups: dict[int, Chunk], prior_of: dict[int, float],
                  last: str) -> list[tuple[float, int]]:
    """`final` (negated scores, items) with the definitions a lookup names (`lookups`, with their
    files' priors) above everything else, in their own order, and its last part `last`."""
    # a definition in a test, an example or a stub (a mock `class ZodType`) only where no
    # implementation defines the name
    best = max(prior_of.values())
    leading = {item for item, prior in prior_of.items() if prior == best}
    named = {item: lookups[item] for item in leading}
    # a name defined in several files (C#'s partial classes, Ruby's reopened classes) leads
    # in the file named after it: `SqlMapper.cs`, then `SqlMapper.Settings.cs`
    own = {item for item, chunk in named.items() if _file_stem(chunk.path) == last.lower()}
    # a type leads its forward declarations (`typedef struct lua_State lua_State;`), extensions
    # (Rust's `impl Deserializer`, Swift's `extension ImageRequest`) and its outline's later
    # pieces, wherever they are; a definition too long for one chunk leads with its first piece
    secondary, pieces = _secondary(named), _later_pieces(named)
    # a class leads its constructors (`DefaultParser.DefaultParser`), in the best one's place
    built = _constructors({item: chunk for item, chunk in named.items() if item not in secondary})
    # and the other functions and methods named as it is: Go's `func (r *Registry) Encoder()
    # Encoder`, a C++ constructor defined in another file (`Validator::Validator` in
    # `Validators_inl.hpp`)
    if any(named[item].kind == "class" for item in named.keys() - secondary):
        secondary |= {item for item, chunk in named.items() if chunk.kind != "class" and item not in built}
    lead = -min(negated for negated, _ in final) or 1.0
    # scores are at most `lead`: a lookup gains 2 leads, a primary definition 4 more, one in its
    # own file 2 more, and a later piece one less
    final = [(negated - (2 + 4 * (item not in secondary) + 2 * (item in own) - (item in pieces)) * lead
              if item in leading else negated, item) for negated, item in final]
    if built:
        place = dict((item, negated) for negated, item in final)
        for constructor, built_class in built.items():
            place[built_class] = min(place[built_class], place[constructor] - lead * 1e-9)
        final = [(place[item], item) for _, item in final]
    return final
