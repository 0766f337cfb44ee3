"""Training pairs mined from a repository's own index, no labels needed (`codesearch tune`).

Four kinds, each a (query, code) pair where the query is what a person might type and the code
is what the encoder sees for the chunk that answers it:

- `doc`: a doc comment or docstring <-> its function with the comment removed;
- `name`: a symbol's name split into words (`parseConfig` -> "parse config") <-> its body;
- `test`: a test's name in words <-> the function it calls whose name it shares;
- `commit`: a commit's subject <-> the functions it changed (where git history exists and the
  file has not changed since, so the lines still match).

A pair that gives the answer away is dropped and counted: the comment still in the code, or a
body with nothing in it but its own signature.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from codesearch.lexical import comment_markers, is_comment, split_identifier
from codesearch.priors import is_test_path
from codesearch.records import Chunk, embedding_text

KINDS = ("doc", "name", "test", "commit")
DEFINITIONS = ("function", "method")
MIN_QUERY_WORDS = 3
MAX_QUERY_CHARS = 300
MAX_COMMITS = 500
_DOCSTRING = re.compile(r'^[ \t]*[rRuUbB]?("""|\'\'\')(.*?)\1[ \t]*\n?', re.S | re.M)
_ELIXIR_DOC = re.compile(r'^[ \t]*@doc\s+(?:~[sS])?(?:"""(.*?)"""|"((?:[^"\\]|\\.)*)")[ \t]*\n?', re.S | re.M)
_PY_HEADER = re.compile(r"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]", re.M)
_TAG_LINE = re.compile(r"^\s*[@:]\w+")  # @param, @return, :param x: ... describe arguments, not purpose
_COMMIT_NOISE = re.compile(r"\(#\d+\)|\[[^\]]*\]|^\w+(\([^)]*\))?!?:\s*|\b[A-Z]+-\d+\b")
_WORD = re.compile(r"[^\W\d_]{2,}")  # a word of a query, in any script


@dataclass(frozen=True)
class Pair:
    """One training example: `query` should find `code` (what the encoder sees of `path`)."""

    kind: str
    query: str
    code: str
    path: str


@dataclass
class Mined:
    """The pairs, and how many of each kind were found and dropped for leaking the answer."""

    pairs: list[Pair] = field(default_factory=list)
    found: Counter[str] = field(default_factory=Counter)
    leaked: Counter[str] = field(default_factory=Counter)

    def add(self, kind: str, query: str, chunk: Chunk, code: str) -> None:
        self.found[kind] += 1
        if _leaks(query, code, chunk):
            self.leaked[kind] += 1
            return
        self.pairs.append(Pair(kind, query, embedding_text(replace(chunk, text=code)), chunk.path))

    def summary(self) -> str:
        """`doc 120 (3 dropped), name 340 (12 dropped), ...`"""
        return ", ".join(f"{kind} {self.found[kind] - self.leaked[kind]:,}"
                         + (f" ({self.leaked[kind]:,} dropped)" if self.leaked[kind] else "") for kind in KINDS)


def mine(chunks: Iterable[Chunk], root: Path | None = None) -> Mined:
    """Every pair the chunks (and, under `root`, git's history) give."""
    chunks = list(chunks)
    mined = Mined()
    definitions = [c for c in chunks if c.kind in DEFINITIONS and c.symbol]
    by_name: dict[str, list[Chunk]] = {}
    for chunk in definitions:
        if not is_test_path(chunk.path) and not _is_test_name(chunk.symbol):
            by_name.setdefault(chunk.symbol, []).append(chunk)
    for chunk in definitions:
        doc, code = split_doc(chunk)
        if doc:
            mined.add("doc", doc, chunk, code)
        words = name_words(chunk.symbol)
        if _is_test_name(chunk.symbol) or is_test_path(chunk.path):
            callee = _called(chunk, words, by_name)
            if callee is not None and len(words) >= MIN_QUERY_WORDS - 1:
                mined.add("test", " ".join(words), callee, split_doc(callee)[1])
        elif len(words) >= 2:
            mined.add("name", " ".join(words), chunk, code)
    if root is not None:
        for subject, path, lines in commit_changes(root):
            for chunk in _chunks_at(chunks, path, lines)[:3]:
                mined.add("commit", subject, chunk, split_doc(chunk)[1])
    return mined


def split_doc(chunk: Chunk) -> tuple[str, str]:
    """A definition's doc comment or docstring as plain words, and its code without it."""
    text = chunk.text
    if chunk.language == "python":
        match = _DOCSTRING.search(text, _signature_end(text))
        if match and not text[_signature_end(text):match.start()].strip():
            return _clean(match.group(2)), text[:match.start()] + text[match.end():]
    if chunk.language == "elixir":
        match = _ELIXIR_DOC.search(text)
        if match:
            return _clean(match.group(1) or match.group(2)), text[:match.start()] + text[match.end():]
    markers = comment_markers(chunk.language)  # leading comment lines: the doc comment
    lines = text.split("\n")
    taken = 0
    for line in lines:
        if not is_comment(line.strip(), chunk.language):
            break
        taken += 1
    if not taken or taken == len(lines):
        return "", text
    comment = "\n".join(_strip_markers(line.strip(), markers) for line in lines[:taken])
    return _clean(comment), "\n".join(lines[taken:])


def name_words(symbol: str) -> list[str]:
    """`parseConfigFile` -> [parse, config, file]; a class prefix (`Router.ServeHTTP`) is dropped."""
    name = re.split(r"\.|::|#", symbol)[-1]
    words = [w.lower() for w in split_identifier(name) if not w.isdigit()]
    return [w for w in words if w != "test"] if _is_test_name(name) else words


def commit_changes(root: Path, limit: int = MAX_COMMITS) -> Iterator[tuple[str, str, list[int]]]:
    """(subject, path, changed lines) of recent commits, for files no later commit touched, so
    the lines are those of the files as they are now. Nothing where there is no git history."""
    try:
        log = subprocess.run(["git", "-C", str(root), "log", "--no-merges", f"-n{limit}", "--format=%x00%s",
                              "--unified=0", "--no-color", "--no-ext-diff", "--diff-filter=AM", "-p"],
                             capture_output=True, text=True, errors="replace", timeout=120, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return
    seen: set[str] = set()
    for entry in log.split("\x00")[1:]:
        subject, _, diff = entry.partition("\n")
        subject = _clean(_COMMIT_NOISE.sub(" ", subject))
        changed: dict[str, list[int]] = {}
        path = ""
        for line in diff.split("\n"):
            if line.startswith("+++ "):
                path = line[6:] if line.startswith("+++ b/") else ""
            elif line.startswith("@@") and path:
                start, _, count = line.split(" ")[2][1:].partition(",")
                changed.setdefault(path, []).extend(range(int(start), int(start) + int(count or 1)))
        for path, lines in changed.items():
            if path not in seen:  # the newest commit of a file: its lines are the file's lines now
                seen.add(path)
                if lines and len(_WORD.findall(subject)) >= MIN_QUERY_WORDS:
                    yield subject, path, lines


def _chunks_at(chunks: list[Chunk], path: str, lines: list[int]) -> list[Chunk]:
    """The definitions of `path` that the changed lines fall in, most changed lines first."""
    changed = set(lines)
    hits = [(sum(chunk.start_line <= line <= chunk.end_line for line in changed), order, chunk)
            for order, chunk in enumerate(chunks) if chunk.path == path and chunk.kind in DEFINITIONS]
    return [chunk for count, _, chunk in sorted(hits, key=lambda hit: (-hit[0], hit[1])) if count]


def _called(test: Chunk, words: list[str], by_name: dict[str, list[Chunk]]) -> Chunk | None:
    """The function a test calls whose name shares the most words with the test's name."""
    best, best_overlap = None, 0
    for name in sorted(set(re.findall(r"[A-Za-z_]\w{3,}", test.text))):  # sorted: ties go the same way every run
        if name in by_name and name != test.symbol:
            overlap = len(set(name_words(name)) & set(words))
            if overlap > best_overlap:
                best, best_overlap = by_name[name][0], overlap
    return best


def _leaks(query: str, code: str, chunk: Chunk) -> bool:
    """Whether the pair gives the answer away: the query still written in the code, or a body
    with nothing but its signature (the name alone would match it)."""
    flat = " ".join(code.split()).lower()
    if len(query) >= 20 and " ".join(query.split()).lower() in flat:
        return True
    body = [line for line in code.split("\n")[1:] if line.strip() and line.strip() not in "{}()[]end;"]
    return len(body) < 2


def _signature_end(text: str) -> int:
    """Where a Python definition's header ends (after the `:` that closes it, decorators before it)."""
    header = _PY_HEADER.search(text)
    if header is None:
        return 0
    depth = 0
    for index in range(header.end(), len(text)):
        char = text[index]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == ":" and depth == 0:
            return index + 1
    return 0


def _strip_markers(line: str, markers: tuple[str, ...]) -> str:
    for marker in sorted(("///", "//!", "/**", "*/", "--", "|", *markers), key=len, reverse=True):
        line = line.removeprefix(marker).removesuffix("*/") if line.startswith(marker) else line
    return line.strip(" *-/#|!")


def _clean(text: str) -> str:
    """Doc text as a query: its purpose (argument tags dropped), whitespace collapsed, capped."""
    lines = [line for line in text.strip().split("\n") if not _TAG_LINE.match(line)]
    words = " ".join(" ".join(lines).split())
    if len(_WORD.findall(words)) < MIN_QUERY_WORDS or re.search(r"copyright|licen[cs]e", words, re.I):
        return ""
    return words[:MAX_QUERY_CHARS]


def _is_test_name(symbol: str) -> bool:
    name = re.split(r"\.|::|#", symbol)[-1]
    return name.lower().startswith("test") or name.endswith(("Test", "_test", "Spec"))
