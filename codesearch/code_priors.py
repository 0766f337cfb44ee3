"""What a chunk's own code says of its worth to a question, whatever the question names: a
definition of a few lines gives way to code that does the work (`brevity_prior`), and a thin
wrapper to the function it hands its work to (`delegates`); a method declared without a body,
or a header's run of prototypes, to its implementation (`declaration_prior`); and code marked
deprecated to the API that replaces it (`deprecated_prior`)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Mapping
from functools import lru_cache

from codesearch.records import Chunk
from codesearch.symbols import EXTENSION_HEAD, bare, code_lines, extends

TINY_PENALTY = 0.7
TINY_LINES = 5
DECLARATION_PENALTY = 0.7
DEPRECATED_PENALTY = 0.7


def brevity_prior(chunk: Chunk) -> float:
    """A definition of a few lines (a one-line helper, an alias) is rarely what a question is
    after, yet BM25's length normalisation favours it: it gives way to code that does the work,
    unless the query names it (`rank` applies it only where `definition_boost` does not). So does
    an extension with nothing in it (`extension FlagInversion: Sendable {}`), which names nothing."""
    lines = chunk.end_line - chunk.start_line + 1
    if lines > TINY_LINES:
        return 1.0
    return TINY_PENALTY if chunk.kind in ("function", "method") or empty_extension(chunk) else 1.0


def empty_extension(chunk: Chunk) -> bool:
    """Whether a type's chunk only says that a type conforms to a protocol or trait: Swift's
    `extension Protected: Sendable {}`, Rust's `impl std::error::Error for PathError {}`,
    Haskell's `instance Exception SignalException` (no `where`)."""
    if chunk.kind != "class" or chunk.language not in EXTENSION_HEAD:
        return False
    if chunk.end_line - chunk.start_line >= TINY_LINES:  # nothing in it: a few lines at most
        return False
    haskell = chunk.language == "haskell"
    if not haskell and not chunk.text.rstrip().endswith("{}"):
        return False
    code = " ".join(line for line in code_lines(chunk.text, TINY_LINES) if line)
    if haskell:
        return extends(chunk, code) and re.search(r"\bwhere\b", code) is None
    return code.endswith("{}") and code.count("{") == 1 and extends(chunk, code)


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
            workers[chunk.path, bare(chunk.symbol)].append(item)
    found: dict[int, int] = {}
    for item in wrappers:
        wrapper = chunks[item]
        for name in (bare(wrapper.symbol) + suffix for suffix in _WORKER_SUFFIXES):
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


# Languages whose bodies are written in braces, where a function that ends in `;` has none.
_BRACED = frozenset({"c", "cpp", "csharp", "dart", "go", "java", "javascript", "php", "rust", "tsx", "typescript",
                     "vue", "svelte", "yacc", "lex"})


# Languages where a function without a body is its signature alone, with no `;`: a Kotlin
# interface's or `expect` class's `fun clear()`, a Swift protocol's `func next() -> Element?`, a
# Scala trait's `def size: Int`
_SIGNATURE_ONLY = frozenset({"kotlin", "scala", "swift"})
_SIGNATURE = re.compile(r"(?m)^\s*(?:(?:@[\w.]+(?:\([^)]*\))?|[a-z]+)\s+)*(?:fun|def|func|init|subscript)\b")


def declares(chunk: Chunk) -> bool:
    """Whether a function's or method's chunk is a signature with no body (`_declares`)."""
    return chunk.kind in ("function", "method") and _declares(chunk.text, chunk.language)


def declaration_prior(chunk: Chunk) -> float:
    """A method declared without a body (in an interface, an abstract class, a Rust trait) gives
    way to the code that implements it, even where the query names it: `urlFor` in
    `RouteParserInterface`, with its long doc comment, had led `RouteParser.urlFor`. So does a C
    or C++ header's run of prototypes (`cJSON.h`'s 40 `CJSON_PUBLIC(...)` lines, one chunk of
    top-level code whose words are every function's): the definitions are in the `.c` files."""
    declared = declares(chunk) or (chunk.kind == "module" and chunk.path.endswith(HEADERS)
                                   and _prototypes(chunk.text))
    return DECLARATION_PENALTY if declared else 1.0


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
            or not marked_deprecated(chunk.text, chunk.language)):
        return 1.0
    return DEPRECATED_PENALTY if _DEPRECATED.search(_above_signature(chunk.text)) else 1.0


# How far into a chunk its mark may be: a doc comment and annotations are at its top, and a
# class's outline runs to thousands of lines that `rank` would otherwise read for every
# candidate of every query (the check had cost 0.4 ms a query read whole)
DEPRECATED_HEAD_CHARS = 1500


def marked_deprecated(text: str, language: str) -> bool:
    """Whether a chunk's head holds a word `_DEPRECATED` may match (cheap: most chunks hold none;
    only C# writes `Obsolete`)."""
    return (text.find("eprecated", 0, DEPRECATED_HEAD_CHARS) >= 0
            or language == "csharp" and text.find("Obsolete", 0, DEPRECATED_HEAD_CHARS) >= 0)


def _above_signature(text: str) -> str:
    """A definition's text down to its signature's first line (`code_lines` finds it past
    comments and annotations): its doc comment and annotations, not its body's (a class whose one
    member is deprecated is not)."""
    signature = code_lines(text, 1)[0]
    end = text.find("\n", text.find(signature)) if signature else -1
    return text[:end] if end >= 0 else text


# A C or C++ header's extensions
HEADERS = (".h", ".hh", ".hpp", ".hxx")
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


# Python's signatures without a body: a typing overload (`@overload`, `@t.overload`: click's
# four `command` variants above the one that does the work), and a body of `...` alone (a
# Protocol's method, an abstract one), after the signature's colon or on a line of its own
_OVERLOAD = re.compile(r"^[ \t]*@(?:[\w.]+\.)?overload\b", re.MULTILINE)
_ELLIPSIS_BODY = re.compile(r"(?::|\n)[ \t]*\.\.\.[ \t]*(?:#[^\n]*)?\s*\Z")


@lru_cache(maxsize=1 << 12)
def _declares(text: str, language: str) -> bool:
    """Whether a function's text is a signature with no body: ended with `;` (`... ): string;`;
    an expression body, `=> x;`, is a body), or, in Kotlin, Swift and Scala, a signature with no
    `{`, `}` or `=` after its doc comment that starts `fun`, `def`, `func`, `init` or `subscript`
    (not a piece of a long body); in Python, a typing overload or a body of `...` alone."""
    if language in _SIGNATURE_ONLY:
        doc = text.rfind("*/")
        start = doc + 2 if doc >= 0 else 0  # after the doc comment; no copy of a long body made
        if text.find("{", start) >= 0 or text.find("=", start) >= 0 or text.find("}", start) >= 0:
            return False
        return _SIGNATURE.search(text, start) is not None
    if language == "python":
        return _OVERLOAD.search(text) is not None or _ELLIPSIS_BODY.search(text[-300:]) is not None
    if language not in _BRACED:
        return False
    end = text[-300:].rstrip()  # the last lines: not a copy of a long body
    return end.endswith(";") and "=>" not in text and "}" not in end[end.rfind("\n") + 1:]
