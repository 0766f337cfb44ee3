"""A query that is exactly a symbol's name is a lookup (`parse_args`, `Router.ServeHTTP`,
`JobRecord#latency`): which candidates it names (`named_by_lookup`: the definitions, else the
code that assigns the name, else where the project re-exports it), and the order they lead in
(`lookups_lead`: a type before its forward declarations, extensions and later pieces, a class
before its constructors, the file named after it first; `from_the_top`: a file asked for by its
name reads from its top)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from codesearch.lexical import split_identifier
from codesearch.priors import is_barrel
from codesearch.records import Chunk
from codesearch.symbols import IDENTIFIER, code_lines, constructs, dotted_name, extends

_SYMBOL_QUERY = re.compile(rf"\\?{IDENTIFIER}(?:(?:\.|::|#|\\){IDENTIFIER})*")


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
    dotted = dotted_name(name)
    return name, dotted, dotted.rsplit(".", 1)[-1]


_ARITY = re.compile(r"/\d+$")


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
    written = dotted_name(qualified)
    return dotted == written or ("." in dotted and written.endswith("." + dotted))


def named_by_lookup(chunks: Mapping[int, Chunk], lookup: tuple[str, str, str]) -> set[int]:
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
                 and chunk.kind not in ("module", "block") and dotted.endswith("." + dotted_name(chunk.qualified_name))}
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
    return chunk.kind == "class" and extends(chunk, code_lines(chunk.text, 1)[0])


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
    Python's `from .core import Name` (in a package's `__init__.py`: `named_by_lookup` checks the file)."""
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


# A keyword that makes a type, in one language or another
_TYPE_WORD = re.compile(r"\b(?:class|struct|enum|interface|trait|protocol|object|record|module|type|impl|"
                        r"extension|actor|union|typedef|namespace|defmodule|defprotocol|defimpl|data|newtype|"
                        r"instance)\b")


def _secondary(candidates: Mapping[int, Chunk]) -> set[int]:
    """The types among the candidates that another candidate defines in full: a forward
    declaration of one line, an extension (Rust's `impl`, Swift's `extension`, Elixir's
    `defimpl`), and a later piece of a type's outline (its first lines of code are a member's,
    not the type's own); none where no candidate is the type itself or the code that assigns it
    (a module's `pub type Result<T> = ...`, which `named_by_lookup` adds only beside extensions)."""
    types = {item: c for item, c in candidates.items() if c.kind == "class"}
    heads = {item: code_lines(c.text, 2) for item, c in types.items()}
    extensions = {item for item, c in types.items() if extends(c, heads[item][0])}
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


def _constructors(candidates: Mapping[int, Chunk]) -> dict[int, int]:
    """The candidates that construct a class among the candidates, in its file (Java's, C#'s,
    Kotlin's and C++'s `DefaultParser.DefaultParser` in `class DefaultParser`), each mapped to
    that class."""
    classes: dict[tuple[str, str], int] = {}
    for item, c in sorted(candidates.items(), key=lambda pair: -pair[1].start_line):  # the first piece wins
        if c.kind == "class":
            classes[c.path, c.qualified_name] = item
    return {item: classes[c.path, c.qualified_name[: -len(c.symbol) - 1]] for item, c in candidates.items()
            if c.kind != "class" and constructs(c) and (c.path, c.qualified_name[: -len(c.symbol) - 1]) in classes}


def _file_stem(path: str) -> str:
    """A file's name without its last extension, lower-cased: `src/SqlMapper.Settings.cs` is
    `sqlmapper.settings`."""
    return path.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()


def from_the_top(final: list[tuple[float, int]], lines: dict[int, int],
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


def lookups_lead(final: list[tuple[float, int]], lookups: dict[int, Chunk], prior_of: dict[int, float],
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
