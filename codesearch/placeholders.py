"""Chunks that stand in a file's place without showing its code, and give that place to code.

Two kinds, both found by words that are the file's rather than their own:
- a class's outline that shows one member's head and nothing more (Ruby's `module Middleware`
  around `module Auth`, reopened in every file of a folder): its span is its members', so their
  words find it (`bare_outline`);
- a file's block of imports (`using MediatR.Pipeline;`, `import (...)`, `#include`), with the
  license comment above it, or a head that says nothing (`# frozen_string_literal: true`)
  (`import_block`): the namespaces it names, or its path, are the file's topic, and a short
  block ranks high on them.

Each gives its place in the results to the best-placed code of its file the search found (an
outline, to code inside its span), so the file keeps its place and the user sees what it does.
Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from codesearch.code_priors import HEADERS, declares
from codesearch.lexical import is_comment
from codesearch.records import Chunk


def bare_outline(chunk: Chunk) -> bool:
    """Whether a chunk is a class's outline that holds one member's head and nothing more, no doc
    comment or field: Ruby's `module Middleware` around `module Auth`, reopened in every file
    under it, a Rust `impl` or a Swift `extension` of one method. Its span is its members', so
    their words find it, and all it shows is two lines of headers."""
    if chunk.kind != "class":
        return False
    lines = chunk.text.splitlines()
    return len(lines) < chunk.end_line - chunk.start_line + 1 and sum(1 for line in lines if line.strip()) <= 3


# A line that brings in other code or names the file's own namespace, in the languages indexed:
# `import`, `from x import`, `using`, `package`, `namespace`, Rust's `use` and `mod x;`,
# `#include`, Ruby's `require`, PHP's `<?php declare(strict_types=1);`, Kotlin's `@file:`,
# Haskell's `module X (..) where`, Lua's `local x = require "x"`, JavaScript's `require(...)`,
# Zig's `@import(...)`, a barrel's `export * from`, Bash's `source`, Dart's `export 'src/x.dart'`,
# `part` and `library`
_IMPORT = re.compile(
    r"\s*(?:@testable\s+)?(?:import\b|from\s+[\w.]+\s+import\b|using\b|package\b|namespace\b|"
    r"(?:pub(?:\([\w:]+\))?\s+)?(?:use\b|mod\s+\w+\s*;)|extern\s+crate\b|#\s*(?:include|import)\b|"
    r"require(?:_relative|_once)?\b|include(?:_once)?\b|@file:|module\s+[\w.]+(?:\s*\(|\s+where\b|\s*$)|"
    r"(?:local\s+)?[\w.]+\s*=\s*require\b|(?:const|let|var)\s+[\w{}, $:]+\s*=\s*(?:require\(|@import\()|"
    r"export\s+(?:\*|\{|type\s+\{).*\bfrom\b|<\?php\b|declare\s*\(\s*strict_types|source\b|"
    r"export\s+['\"]|part\s+(?:of\b|['\"])|library\b[\w.\s]*;)"
)
# What heads a file, or stands between its imports, without saying what it does: a `#!` line,
# Rust's attributes (`#[doc(no_inline)]`), an include guard (`#ifndef X_H`, `#define X_H`,
# `#endif`, `#pragma once`), magic comments (Ruby's `# frozen_string_literal: true`, Python's
# `# -*- coding: utf-8 -*-`), TypeScript's `// @ts-check`, a linter's switch (`/* eslint-disable */`),
# a directive prologue (`'use strict'`, `"use client"`), a license tag (`SPDX-License-Identifier`)
_NEUTRAL = re.compile(
    r"""#!|#\[|#\s*(?:ifndef|ifdef|if|endif|else|pragma\s+once)\b|#\s*define\s+\w+\s*$|"""
    r"""#\s*(?:frozen_string_literal|encoding|coding|warn_indent|shareable_constant_value)\s*:|#.*-\*-.*-\*-|"""
    r"""//\s*@ts-(?:check|nocheck)\b|/[/*]\s*(?:eslint|jshint|prettier|biome|istanbul)\b|"""
    r"""['"]use (?:strict|client|server)['"];?\s*$|(?://|#|/\*|--)\s*SPDX-License-Identifier:""")
_IMPORTS_PER_OTHER = 4  # an import block may hold one line of other code for each four of imports


def import_block(chunk: Chunk) -> bool:
    """Whether a module chunk is a file's imports: its lines, past comments (the license above
    them) and blank ones, are imports and the namespace line, four in five at least (a type
    alias or a cache declared under them, `let cache = createNullObject()`, is not what the file
    does); brackets that an import opened (`import (`, `use crate::{`) count as it does until
    they close. Or a head with nothing else, no comment in words either: a Ruby file's
    `# frozen_string_literal: true` above its class, which its path's words alone find."""
    if chunk.kind != "module":
        return False
    depth = imports = others = prose = 0
    for line in chunk.text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        opened = sum(map(stripped.count, "({[")) - sum(map(stripped.count, ")}]"))
        if depth > 0:
            depth += opened
            imports += 1
        elif _NEUTRAL.match(stripped):
            continue
        elif is_comment(stripped, chunk.language):
            prose += 1
        elif _IMPORT.match(line):
            imports, depth = imports + 1, opened
        else:
            others += 1
            if others * _IMPORTS_PER_OTHER > imports:  # imports come first: past them, code
                return False
    return imports > 0 or prose == others == 0


def give_way(final: list[tuple[float, int]], chunks: Mapping[int, Chunk], file_of: Mapping[int, str],
             shown: int, keep: Collection[int]) -> list[tuple[float, int]]:
    """`final` (negated scores, items, best first) with each bare outline and import block among
    the first `shown` (not one in `keep`: a lookup's definitions, what the query quotes) left out,
    and its place given to the best-placed candidate of its file that is neither, inside the
    outline's span, where that was placed below it. One with no such candidate stays: it is all
    the search has of that code."""
    standing = {n for n, (_, item) in enumerate(final[:shown])
                if item not in keep and (bare_outline(chunks[item]) or import_block(chunks[item]))}
    if not standing:
        return final
    entries: list[tuple[float, int] | None] = list(final)
    moved: dict[int, int] = {}  # code that took a stand-in's place: where it is now
    for n in sorted(standing):
        negated, item = final[n]
        stand_in, file = chunks[item], file_of[item]
        for m, (_, other) in enumerate(final):
            code = chunks[other]
            if m in standing or file_of[other] != file \
                    or (stand_in.kind != "module" and not _within(code, stand_in)) \
                    or bare_outline(code) or import_block(code):
                continue
            now = moved.get(other, m)
            if now > n:  # the stand-in's place, and none of its own
                entries[n], entries[now] = (negated, other), None
                moved[other] = n
            else:  # it ranks higher already
                entries[n] = None
            break
    return [entry for entry in entries if entry is not None]


def _within(inner: Chunk, outer: Chunk) -> bool:
    """Whether `inner`'s lines lie inside `outer`'s, and it is not `outer`'s span itself."""
    return (outer.start_line <= inner.start_line and inner.end_line <= outer.end_line
            and (inner.start_line, inner.end_line) != (outer.start_line, outer.end_line))


# The source files that define what a C or C++ header declares (`json_visit.h` and `json_visit.c`,
# `format.h` and `format.cc`; Objective-C's `.m` too)
_SOURCE = re.compile(r"\.(?:c|cc|cpp|cxx|c\+\+|m|mm)$")


def declarations_give_way(final: list[tuple[float, int]], chunks: Mapping[int, Chunk], shown: int,
                          keep: Collection[int]) -> list[tuple[float, int]]:
    """`final` (negated scores, items, best first) with each header chunk among the first `shown`
    that declares rather than defines (its top-level code: prototypes with their doc comments,
    macros, typedefs; a function's prototype, `code_priors.declares`), not one in `keep`, placed
    after the best-placed candidate below it that a source file of the same name defines, which
    takes its place: C documents a function where it declares it (`json_visit.h`'s long comment
    on `json_c_visit`), so its words find the header, and the code is in `json_visit.c`. The
    places keep their scores; the header and what stood between them move one down."""
    items = [item for _, item in final]
    moved: set[int] = set()  # headers placed after their code, once each
    for n in range(min(shown, len(items))):
        header = chunks[items[n]]
        if items[n] in keep or items[n] in moved or not header.path.endswith(HEADERS) or not (
                header.kind == "module" or header.kind in ("function", "method") and declares(header)):
            continue
        stem = _stem(header.path)
        for m in range(n + 1, len(items)):
            code = chunks[items[m]]
            if code.kind != "module" and _SOURCE.search(code.path) and _stem(code.path) == stem:
                moved.add(items[n])
                items.insert(n, items.pop(m))
                break
    return [(negated, item) for (negated, _), item in zip(final, items, strict=True)] if moved else final


def _stem(path: str) -> str:
    return path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
