"""Split source files into function-level chunks with tree-sitter.

Policy:
- every function and method is a chunk (methods are qualified by their class: `Class.method`);
- every class is a chunk of its header, fields and member signatures (an outline), while its
  members are chunks of their own;
- the code left over at the top level (imports, constants, scripts) is grouped into `module`
  chunks, so that every non-blank line of a file is in some chunk but its license;
- a definition longer than `MAX_CHUNK_LINES` is split at statement boundaries, never mid-line;
- files without a grammar are cut into windows of `WINDOW_LINES` lines (`block` chunks).

Leading comments, doc comments, decorators and attributes belong to the definition below them;
the license in the comment at a file's head belongs to no chunk (`_license_rows`).
`chunk_source` is pure; `chunk_text` finds a file's language (a notebook's cells, `readable`) and
calls it, and `chunk_file` reads a file for it.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from codesearch.indexer.languages import BY_NAME, TEXT, LanguageSpec, language_for, parser_for
from codesearch.indexer.names import (
    DEFAULT_EXPORT,
    definition_name,
    destructures,
    name_parts,
    receiver_type,
)
from codesearch.indexer.notebooks import is_notebook, notebook_source
from tree_sitter import Node

from codesearch.lexical import is_comment
from codesearch.priors import aside_head
from codesearch.records import Chunk

MAX_CHUNK_LINES = 150
MODULE_CHUNK_LINES = 60
WINDOW_LINES = 50
_MAX_DEPTH = 48  # definitions nested deeper than this stay inside their parent's chunk
_MAX_WRAPPING = 6  # `_holds` looks no deeper than this through calls and their arguments


@dataclass
class _Definition:
    kind: str  # function | method | class
    symbol: str
    qualified_name: str
    start: int  # 0-based rows, inclusive; `start` includes leading comments and decorators
    end: int
    head: int  # the row where the definition itself starts (its signature)
    body: Node  # its node, or the body beside it where a grammar parts the two (Dart's `function_body`)
    members: list[_Definition] = field(default_factory=list)


def chunk_file(path: Path, rel_path: str) -> list[Chunk]:
    """Read one file (UTF-8, invalid bytes replaced) and chunk it."""
    return chunk_text(path.read_bytes().decode("utf-8", errors="replace"), rel_path)


def chunk_text(text: str, path: str) -> list[Chunk]:
    """A file's chunks from its text, in the language `readable` finds (none for a notebook it
    cannot read)."""
    found = readable(text, path)
    return chunk_source(found[1], path, found[0]) if found else []


def readable(text: str, path: str) -> tuple[str, str] | None:
    """A file's language and the source its chunks are cut from: its text, or a notebook's cells
    on the lines that hold them (`notebooks.notebook_source`; None for one it cannot read). A
    notebook in a language without a grammar here is cut into windows, as text is."""
    if not is_notebook(path):
        return language_for(path, text[:8192]), text
    found = notebook_source(text)
    if found is None:
        return None
    language, source = found
    return (language if language in BY_NAME else TEXT), source


def chunk_source(text: str, path: str, language: str) -> list[Chunk]:
    """Chunk one file's text; pure. `path` is only recorded on the chunks."""
    lines = [line.rstrip("\r") for line in text.split("\n")]
    spec = BY_NAME.get(language)
    if spec is None or language == TEXT:
        return _windows(lines, path, language)
    parsed = text
    for pattern, replacement in spec.rewrites:
        parsed = pattern.sub(replacement, parsed)
    parser = parser_for(language)
    tree = parser.parse(parsed.encode("utf-8", errors="surrogatepass"))
    definitions = _collect(tree.root_node, spec, lines, [], in_class=False, depth=0)
    if tree.root_node.has_error:
        # keep one syntax error from flattening the rest of the file: parsed a declaration at a
        # time, the sections are taken if they find more definitions. They lose what encloses
        # them (C++ namespaces at the margin), so where both find as many, the whole file's stand
        roots = [parser.parse(section.encode("utf-8", errors="surrogatepass")).root_node
                 for section in _sections(parsed)]
        by_section = [d for root in roots for d in _collect(root, spec, lines, [], in_class=False, depth=0)]
        if spec.merge_adjacent and len(roots) > 1:
            by_section = _merge_clauses(by_section)
        if _count(by_section) > _count(definitions):
            definitions = by_section
    for definition in definitions:
        if definition.symbol == DEFAULT_EXPORT and definition.body.type == "export_statement":
            _rename(definition, DEFAULT_EXPORT, _module_name(path))
    returned = _RETURNED_TABLE.search(text) if language == "lua" else None
    if returned:  # Lua's `local M = {} ... return M`: `M.open` is the module's `open`
        for definition in definitions:
            _rename(definition, returned.group(1), _module_name(path, package="init"))
    out: list[Chunk] = []
    licensed = _license_rows(lines, language)
    covered = [row in licensed for row in range(len(lines))]
    for definition in definitions:
        while definition.start < definition.head and (definition.start in licensed
                                                       or not lines[definition.start].strip()):
            definition.start += 1  # a license right above the first definition is not its doc comment
        _emit(definition, lines, path, language, covered, out)
    out.extend(_module_chunks(lines, covered, path, language))
    out.sort(key=lambda c: (c.start_line, c.end_line))
    return out


# A paragraph of the comment at a file's head that is its license, not what the file does: a
# copyright line, a licence's terms or the URL of its text, its warranty disclaimer, an SPDX tag
_LICENSE = re.compile(r"copyright|licen[cs]|warrant|redistribut|permission is hereby granted|all rights reserved",
                      re.IGNORECASE)
# How a block comment opens, and closes, where it is not the language's line comment
_BLOCK_COMMENTS = (("/*", "*/"), ("{-", "-}"), ("--[[", "]]"))
# What a comment line holds besides its words: markers, and the rules some heads are drawn with
_COMMENT_MARKS = re.compile(r"^(?:/\*+|\*+/?|//+|#+|--+(?:\[\[)?|\{-|;+)|(?:\*+/|-\}|\]\])$")


def _license_rows(lines: list[str], language: str) -> set[int]:
    """The rows of the license paragraphs in the comments that head a file (past a `#!` line and
    blank ones, up to its first code): libuv's MIT notice in every file, the Apache header of a
    Java project, GPL's terms. Their words (`event`, `connection`, `express`, `specific`,
    `software`) are in every file and say nothing about any of them, and BM25 and the encoder
    would read them as the file's. A paragraph that says what the file does stays (`// Formatting
    library for C++` above fmt's copyright line), and so does every comment below the first code."""
    rows: list[int] = []  # the head's comment rows
    closing = ""
    for row, line in enumerate(lines):
        stripped = line.strip()
        if closing:
            rows.append(row)
            closing = "" if closing in stripped else closing
        elif not stripped or (row == 0 and stripped.startswith("#!")):
            continue
        elif opener := next((pair for pair in _BLOCK_COMMENTS if stripped.startswith(pair[0])), None):
            rows.append(row)
            closing = "" if opener[1] in stripped[len(opener[0]):] else opener[1]
        elif is_comment(stripped, language):
            rows.append(row)
        else:
            break
    licensed: set[int] = set()
    found = False  # a license paragraph: without one, the rules and empty lines stay too
    paragraph: list[int] = []
    for row in [*rows, -1]:  # a paragraph ends at a row without words, or where the comments do
        words = row >= 0 and _COMMENT_MARKS.sub("", lines[row].strip()).strip()
        if words and (not paragraph or row == paragraph[-1] + 1):
            paragraph.append(row)
            continue
        said = "\n".join(lines[r] for r in paragraph)
        if _LICENSE.search(said) and not aside_head(said):  # "generated, do not edit" or "vendored
            licensed.update(paragraph)  # into" tells the file's kind (`priors.aside_head` reads the first chunk)
            found = True
        paragraph = [row] if words else []
        if row >= 0 and not words:
            licensed.add(row)  # a rule or an empty comment line: nothing to keep either way
    return licensed if found else set()


# Where a top-level declaration starts: a line at the margin, after blank lines that follow a
# line at the margin too (the end of the declaration before, `}`, or an import). Inside a body
# the line before the blank ones is indented, so comments and `#if`s at the margin there are
# not taken for the start of a declaration.
_SECTION_START = re.compile(r"^[^\s#][^\n]*\n(?:[ \t\r]*\n)+(?=[A-Za-z_@$/])", re.M)


# The table a Lua module returns at its end under a name that says nothing (`M`, `H`): its
# functions are named for the module (`lua/trouble/view/window.lua`'s `M.open` is `window.open`)
_RETURNED_TABLE = re.compile(r"^return[ \t]+([A-Za-z_]\w?)[ \t]*\n?\s*\Z", re.M)


def _module_name(path: str, package: str = "index") -> str:
    """The name a file's default export is imported by: its file's name without its extension
    (`src/logic/validateField.ts`: `validateField`), its folder's for a `package` file (a
    JavaScript folder's `index`, a Lua package's `init`)."""
    parts = PurePosixPath(path).parts
    stem = PurePosixPath(path).stem.split(".")[0]
    return parts[-2] if stem == package and len(parts) > 1 else stem


def _rename(definition: _Definition, old: str, new: str) -> None:
    """A definition named `old`, and the qualified names of its members under it, named `new`."""
    if definition.symbol == old:
        definition.symbol = new
    if definition.qualified_name == old or definition.qualified_name.startswith(old + "."):
        definition.qualified_name = new + definition.qualified_name[len(old):]
    for member in definition.members:
        _rename(member, old, new)


def _count(definitions: list[_Definition]) -> int:
    """How many definitions, members included."""
    return sum(1 + _count(d.members) for d in definitions)


def _sections(text: str) -> list[str]:
    """A file cut where top-level declarations start, each piece padded with the newlines before
    it so that its rows are the file's. Parsed apart, an error stays in its own section: a
    construct the grammar does not know (Kotlin 2's guards in `when`) can otherwise leave the
    whole file's classes unparsed."""
    cuts = [0, *(match.end() for match in _SECTION_START.finditer(text)), len(text)]
    return ["\n" * text.count("\n", 0, start) + text[start:end]
            for start, end in itertools.pairwise(cuts) if end > start]


# --- finding definitions -------------------------------------------------------------------

def _collect(
    node: Node, spec: LanguageSpec, lines: list[str], scope: list[str], *, in_class: bool, depth: int
) -> list[_Definition]:
    found: list[_Definition] = []
    if depth > _MAX_DEPTH:
        return found
    for child in node.named_children:
        kind = _definition_kind(child, spec) if child.type in spec.defining_types else None
        if kind == "class":
            name = definition_name(child, spec, "class")
            inner = [*scope, name] if name else scope
            definition = _definition(child, spec, lines, "class", name, inner)
            members = _collect(child, spec, lines, inner, in_class=True, depth=depth + 1)
            definition.members = [m for m in members if (m.start, m.end) != (definition.start, definition.end)]
            found.append(definition)
        elif kind == "function":
            name = definition_name(child, spec, "function")
            # (an extension function inside a class, Exposed's `fun Column<T>.withDefinition` in
            # `Table`, is called in that class's code only: it stays the class's)
            owner = "" if in_class and spec.receiver_before_name else receiver_type(child, spec)
            qualified = [owner, name] if owner else [*scope, name]
            method = in_class or bool(owner) or (spec.name == "lua" and bool(re.search(r"[.:]", name)))
            definition = _definition(child, spec, lines, "method" if method else "function", name, qualified)
            if definition.end - definition.start + 1 > MAX_CHUNK_LINES:
                # a function too long for one chunk is cut at the functions it defines, as a class
                # is at its methods: a factory's closures are its API (react-hook-form's 2,000-line
                # `createFormControl` defines `register`, `reset`, `setError`)
                members = _collect(definition.body, spec, lines, qualified, in_class=False, depth=depth + 1)
                definition.members = [m for m in members if (m.start, m.end) != (definition.start, definition.end)
                                      and not _local_type(m)]
            found.append(definition)
        elif child.type in spec.scopes:
            name = definition_name(child, spec, "scope")
            inner = [*scope, name] if name else scope
            members = _collect(child, spec, lines, inner, in_class=False, depth=depth + 1)
            if not members and name and _documented_value(child, spec):
                members = [_definition(child, spec, lines, "function", name, inner)]
            found.extend(members)
        elif child.named_child_count and child.type not in spec.bodies:
            # (most nodes are leaves: names, literals, operators; a body beside its signature is
            # the definition's, its local functions found as members only where it is cut)
            found.extend(_collect(child, spec, lines, scope, in_class=in_class, depth=depth + 1))
    return _merge_clauses(found) if spec.merge_adjacent else found


# C's and C++'s types written where they are used
_TYPE_SPECIFIERS = frozenset({"enum_specifier", "struct_specifier", "union_specifier"})


def _local_type(definition: _Definition) -> bool:
    """Whether a definition found in a function's body is a C type without a name, a local
    variable's (nginx's parsers' `enum { sw_start = 0, ... } state;`): no definition of its own,
    though it would be named for its first member."""
    return definition.body.type in _TYPE_SPECIFIERS and definition.body.child_by_field_name("name") is None


def _definition_kind(node: Node, spec: LanguageSpec) -> str | None:
    if spec.call_kinds and node.type == "call":
        target = node.child_by_field_name("target")
        word = target.text.decode("utf-8", "replace") if target is not None and target.text else ""
        return spec.call_kinds.get(word)
    if destructures(node, spec):
        return None  # `const { setState } = create(() => 0)` takes values apart; it defines no one thing
    # a class rule before a function rule: Zig's `fn Router(comptime H: type) type { return
    # struct { ... }; }` is a function by its node and a generic type by what it returns
    for kind, rules in (("class", spec.classes), ("function", spec.functions)):
        if node.type in rules:
            needed = rules[node.type]
            if needed is None or _holds(node, needed, spec.wrappers):
                return kind
    return None


# A constant's name (`NOTHING`, `ACTION_MARKER`): a value, though a call makes it
_CONSTANT_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


def _documented_value(node: Node, spec: LanguageSpec) -> bool:
    """Whether a declarator is a top-level declaration's only one, its value one of
    `spec.documented_values` (not a `_VALUE_MAKERS` call, nor named as a constant), and a doc
    block stands above its statement."""
    value = node.child_by_field_name("value")
    name = node.child_by_field_name("name")
    if (value is None or value.type not in spec.documented_values or name is None or destructures(node, spec)
            or _makes_value(value) or _CONSTANT_NAME.fullmatch((name.text or b"").decode("utf-8", "replace"))):
        return False
    statement = node.parent
    if statement is None or statement.named_child_count != 1:
        return False
    outer = statement
    while outer.parent is not None and outer.parent.type in spec.outer:
        outer = outer.parent
    doc = outer.prev_named_sibling
    return (outer.parent is not None and outer.parent.parent is None  # the file's own statement
            and doc is not None and _is_doc_block(doc) and doc.end_point.row >= outer.start_point.row - 2)


# Calls whose value is no function: CommonJS's import (`require('debug')('express:view')`, a
# module's head under its `/** Module dependencies. */`), objects (`Object.freeze({...})`,
# express's `Object.create(http.IncomingMessage.prototype)`, `JSON.parse(...)`) and sentinels
# (`Symbol.for(...)`)
_VALUE_MAKERS = frozenset({b"require", b"Object", b"Symbol", b"JSON"})


def _makes_value(call: Node) -> bool:
    """Whether a call is one of `_VALUE_MAKERS`', reached through the calls and members it is
    made of (`require('debug')('express:view')`, `Object.freeze(...)`)."""
    callee: Node | None = call
    while callee is not None and callee.type in ("call_expression", "member_expression"):
        callee = callee.child_by_field_name("function" if callee.type == "call_expression" else "object")
    return callee is not None and callee.text in _VALUE_MAKERS


def _holds(node: Node, types: frozenset[str], wrappers: frozenset[str], depth: int = 0) -> bool:
    """Whether a child or grandchild of `node` is of one of `types`, or a node below it that only
    `wrappers` (calls, their arguments) lie between."""
    for child in node.named_children:
        if child.type in types:
            return True
        looked_into = depth == 0 or child.type in wrappers
        if looked_into and depth < _MAX_WRAPPING and _holds(child, types, wrappers, depth + 1):
            return True
    return False


def _definition(
    node: Node, spec: LanguageSpec, lines: list[str], kind: str, name: str, qualified: list[str]
) -> _Definition:
    outer = node
    while outer.parent is not None and outer.parent.type in spec.outer:
        outer = outer.parent
    start = outer.start_point.row
    sibling = outer.prev_named_sibling
    if sibling is None and outer.parent is not None and outer.parent.start_point.row == start:
        sibling = outer.parent.prev_named_sibling  # Haskell's first declaration: its comment is outside
    gap = 2 if sibling is not None and _is_doc_block(sibling) else 1  # a `/** */` may stand a blank line above
    while sibling is not None and _is_leading(sibling, spec) and sibling.end_point.row >= start - gap:
        gap = 1
        row = sibling.start_point.row
        if lines[row][: sibling.start_point.column].strip():
            break  # a trailing comment of the previous line's code
        start = row
        sibling = sibling.prev_named_sibling
    carried = _swallowed_comments(sibling, start) if sibling is not None else []
    if carried and not lines[carried[0].start_point.row][: carried[0].start_point.column].strip():
        start = carried[0].start_point.row  # this definition's doc comment, inside the one before
    last = _last_part(node, spec)
    end = last.end_point.row
    if last.end_point.column == 0 and end > last.start_point.row:
        end -= 1  # the node ends with a newline
    following = (last if last is not node else outer).next_named_sibling
    swallowed = _swallowed_comments(last, following.start_point.row) if following is not None else []
    if swallowed and swallowed[0].prev_sibling is not None:
        end = max(swallowed[0].prev_sibling.end_point.row, node.start_point.row)
    parts = name_parts if spec.qualified_names else lambda whole: [whole]
    symbol = parts(name)[-1] if name else ""
    qualified_name = ".".join(p for part in qualified for p in parts(part))
    return _Definition(kind, symbol, qualified_name, start, end, _signature_row(node), last)


def _last_part(node: Node, spec: LanguageSpec) -> Node:
    """Where a definition ends: its own node, or the last of `spec.bodies` that follow it or the
    `spec.outer` nodes around it (Dart's `method_signature` is followed by its `function_body`,
    a constructor's signature by its `initializers`)."""
    last = node
    current = node
    while True:
        following = current.next_named_sibling
        while following is not None and following.type in spec.bodies:
            last = following
            following = following.next_named_sibling
        if current.parent is None or current.parent.type not in spec.outer:
            return last
        current = current.parent


# What a definition's node may hold before its signature: Java's and Kotlin's annotations, C#'s
# and PHP's attribute lists, Swift's attributes
_ANNOTATIONS = frozenset({"annotation", "marker_annotation", "attribute_list", "attribute"})


def _signature_row(node: Node) -> int:
    """The row a definition's signature starts on, past the annotations its node holds (in
    `modifiers` or before them): a class's outline shows `public String toString()`, not
    `@Override`."""
    for child in node.children:
        parts = child.children if child.type == "modifiers" else [child]
        for part in parts:
            if part.type not in _ANNOTATIONS and "comment" not in part.type:
                return part.start_point.row
    return node.start_point.row


def _swallowed_comments(node: Node, next_row: int) -> list[Node]:
    """The comments that close `node` and run up to `next_row`, where the next definition starts:
    its doc comment, which some grammars end the body before with (Scala's indented blocks).
    Found along the node's last children, at the level where they are comments."""
    if node.end_point.row < next_row - 1:  # most definitions end before a blank line: nothing to walk
        return []
    body = node
    while body.children:
        last = body.children[-1]
        if "comment" in last.type:
            comments: list[Node] = []
            for child in reversed(body.children):
                if "comment" not in child.type:
                    break
                comments.insert(0, child)
            return comments if comments[-1].end_point.row >= next_row - 1 else []
        body = last
    return []


def _is_doc_block(node: Node) -> bool:
    """A documentation block (`/** ... */`: JSDoc, Javadoc, KDoc, PHPDoc, Doxygen), which says
    whose doc it is by its form, so a blank line may part it from its definition (express writes
    every method's JSDoc a blank line above it), and Haskell's `-- |` (parsec writes a blank line
    under each). Other comments must touch their definition."""
    if node.type == "haddock":
        return True
    text = node.text or b""
    return "comment" in node.type and text.startswith(b"/**") and not text.startswith(b"/**/")


# Comments that grammars name otherwise: Haskell's `-- |` doc comments, SQL's `/* ... */`
_OTHER_COMMENTS = frozenset({"haddock", "marginalia"})


def _is_leading(node: Node, spec: LanguageSpec) -> bool:
    if "comment" in node.type or node.type in _OTHER_COMMENTS:
        return True
    # Rust's `#[derive(...)]` always; Elixir's unary operators only as `@doc`, `@spec`
    return node.type in spec.leading and (node.text or b"").startswith((b"@", b"#["))


def _merge_clauses(found: list[_Definition]) -> list[_Definition]:
    merged: list[_Definition] = []
    for definition in found:
        last = merged[-1] if merged else None
        if (last is not None and last.kind == definition.kind != "class"
                and last.symbol == definition.symbol and definition.start <= last.end + 2):
            last.end = max(last.end, definition.end)
        else:
            merged.append(definition)
    return merged


# --- emitting chunks -----------------------------------------------------------------------

def _emit(
    definition: _Definition, lines: list[str], path: str, language: str, covered: list[bool], out: list[Chunk]
) -> None:
    member_rows: set[int] = set()
    for member in definition.members:
        member_rows.update(range(member.start, member.end + 1))
    heads = {m.head for m in definition.members}
    rows = [r for r in range(definition.start, definition.end + 1) if r not in member_rows or r in heads]
    if len(rows) <= MAX_CHUNK_LINES:
        pieces = [rows]
    elif definition.kind == "class" and member_rows:  # a class's outline: cut where a piece is full
        pieces = _cut(rows, set())
    else:  # code, a function's own between its functions too: cut where a statement starts
        pieces = _cut(rows, _statement_rows(definition.body, lines, depth=0))
    for rows in pieces:
        out.append(_chunk(lines, rows, path, language, definition.symbol, definition.qualified_name,
                          definition.kind))
    for row in range(definition.start, definition.end + 1):
        if row not in member_rows:
            covered[row] = True
    for member in definition.members:
        _emit(member, lines, path, language, covered, out)


def _cut(rows: list[int], starts: set[int]) -> list[list[int]]:
    """A long definition's `rows` in pieces of at most MAX_CHUNK_LINES, each cut before the last
    row in `starts` that fits (a statement's first row), or where it is full if none does."""
    pieces: list[list[int]] = []
    while len(rows) > MAX_CHUNK_LINES:
        fitting = [n for n in range(1, MAX_CHUNK_LINES + 1) if rows[n] in starts]
        cut = fitting[-1] if fitting else MAX_CHUNK_LINES
        pieces.append(rows[:cut])
        rows = rows[cut:]
    return [*pieces, rows]


def _statement_rows(node: Node, lines: list[str], depth: int) -> set[int]:
    """The rows where a statement starts, through nested blocks of more than 20 lines: an arrow
    function returning an arrow function (`const m = (<T>(next) => (key, fn) => { ... }) as M`)
    holds its statements 5 levels down."""
    rows: set[int] = set()
    if depth > 8:
        return rows
    for child in node.named_children:
        row, column = child.start_point.row, child.start_point.column
        if row < len(lines) and not lines[row][:column].strip():
            rows.add(row)
        if child.end_point.row - row > 20:
            rows |= _statement_rows(child, lines, depth + 1)
    return rows


def _module_chunks(lines: list[str], covered: list[bool], path: str, language: str) -> list[Chunk]:
    rows = [r for r, line in enumerate(lines) if not covered[r] and line.strip()]
    return [
        _chunk(lines, rows[i : i + MODULE_CHUNK_LINES], path, language, "", "", "module")
        for i in range(0, len(rows), MODULE_CHUNK_LINES)
    ]


def _windows(lines: list[str], path: str, language: str) -> list[Chunk]:
    chunks = []
    for first in range(0, len(lines), WINDOW_LINES):
        rows = [r for r in range(first, min(first + WINDOW_LINES, len(lines))) if lines[r].strip()]
        if rows:
            chunks.append(_chunk(lines, list(range(rows[0], rows[-1] + 1)), path, language, "", "", "block"))
    return chunks


def _chunk(
    lines: list[str], rows: list[int], path: str, language: str, symbol: str, qualified: str, kind: str
) -> Chunk:
    return Chunk.build(
        path=path, language=language, symbol=symbol, qualified_name=qualified, kind=kind,
        start_line=rows[0] + 1, end_line=rows[-1] + 1, text="\n".join(lines[r] for r in rows),
    )
