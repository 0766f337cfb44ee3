"""What a chunk's name and its first lines of code say: a name without what surrounds it
(`_sections` is `sections`), a qualified name written with dots, a symbol's words, the head of a
type past its comments and attributes, and whether that head extends a type defined elsewhere
(Rust's `impl`, Swift's `extension`) or a method constructs its class. Shared by the ranking's
lookups (`codesearch.lookups`), the names a query gives (`codesearch.naming`) and the priors a
chunk's own code earns (`codesearch.code_priors`)."""

from __future__ import annotations

import re
from functools import lru_cache

from codesearch.lexical import split_identifier
from codesearch.records import Chunk

# What may stand around a name without making it another: `_sections`, zod's `$ZodError`,
# JavaScript's private `#join`
_AROUND_NAMES = "_$#"


@lru_cache(maxsize=1 << 14)
def bare(symbol: str) -> str:
    """A symbol without the `_`, `$` or `#` around it and `_` inside it, lower-cased:
    `_create_store` and `createStore` are one name."""
    return symbol.strip(_AROUND_NAMES).replace("_", "").lower()


# A symbol's name, qualified with `.`, `::`, `#` or PHP's `\` (`Ramsey\Uuid\Uuid`, `\Dotenv\Dotenv`), in
# any script (`größe_berechnen`): a letter, `_` or `$` first
IDENTIFIER = r"(?:[^\W\d]|\$)[\w$]*"


def dotted_name(name: str) -> str:
    r"""`Sinatra::Base`, `Array#map` and `\Ramsey\Uuid\Uuid` written as `Sinatra.Base`, `Array.map`,
    `Ramsey.Uuid.Uuid`."""
    return name.replace("::", ".").replace("#", ".").replace("\\", ".").lstrip(".")


# The head of a type's extension: Rust's `impl Deserializer`, Swift's `extension ImageRequest`,
# Elixir's `defimpl Jason.Encoder, for: Atom`
EXTENSION_HEAD = {"rust": re.compile(r"(?:pub(?:\([\w:]+\))?\s+)?(?:unsafe\s+|default\s+)*impl\b"),
                   "swift": re.compile(r"(?:(?:public|internal|private|fileprivate|open)\s+)?extension\b"),
                   "elixir": re.compile(r"defimpl\b"),
                   "haskell": re.compile(r"instance\b")}


# A block comment's opening and closing marks: C's and its family's, Haskell's, Lua's, Ruby's,
# and Python's docstrings
_BLOCK_COMMENTS = (("/*", "*/"), ("{-", "-}"), ("--[[", "]]"), ("=begin", "=end"), ('"""', '"""'))


# Attributes and annotations at the start of a line: `@MainActor`, `@Deprecated("...")`, Rust's `#[derive(Debug)]`
_ATTRIBUTES = re.compile(r"^(?:(?:@[\w.]+(?:\([^()\n]*\))?|#\[[^\]\n]*\])\s*)+")


def code_lines(text: str, count: int) -> list[str]:
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


def extends(chunk: Chunk, head: str) -> bool:
    """Whether a type's chunk, whose first line of code is `head`, is an extension of it."""
    pattern = EXTENSION_HEAD.get(chunk.language)
    return pattern is not None and pattern.match(head) is not None


def constructs(chunk: Chunk) -> bool:
    """Whether a chunk is a constructor named for its class (`DefaultParser.DefaultParser`)."""
    return chunk.qualified_name.endswith(f"{chunk.symbol}.{chunk.symbol}")


@lru_cache(maxsize=1 << 16)
def symbol_words(symbol: str) -> tuple[str, bool, tuple[str, ...]]:
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
