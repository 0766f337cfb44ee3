"""`codesearch mcp`: code search for coding agents over the Model Context Protocol (stdio).

Built on the official `mcp` SDK's `MCPServer`; the tools are thin: check the arguments, ask the
live indexes (the same `LiveIndex.search` the language server and the warm local server use),
and shape the answer as compact text within a token budget (`budget.fit`). Each repository is
kept current by the file watcher. Lexical results come at once while vectors are being made,
with a note saying so; a bad argument is a tool error, never the end of the server.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from codesearch.errors import CodesearchError
from codesearch.live import LiveFolders, LiveIndex
from codesearch.records import SearchResult
from codesearch.requests import MODES
from codesearch.service.budget import fit

DEFAULT_MAX_TOKENS = 2000
MAX_K = 100

INSTRUCTIONS = """Semantic code search over the repositories this server was started on. Use `search` with a
plain-English description of what the code does ("where are failed uploads retried") or an
exact symbol name; results come best first as `path:start-end symbol (kind, language)` and the
code, trimmed to max_tokens. Use `related` to find code like a definition you already have."""


class Listener:
    """The live indexes' messages go to stderr: stdout carries the protocol."""

    def log(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def warn(self, message: str) -> None:
        print(f"warning: {message}", file=sys.stderr, flush=True)

    def progress(self, task: str, done: int, total: int) -> None:
        pass


def build_server(roots: list[Path], open_index: Callable[[Path], LiveIndex]) -> tuple[MCPServer, LiveFolders]:
    """The MCP server over the repositories at `roots`; `open_index` makes a live index for one
    (not yet started: `LiveFolders` starts it)."""
    folders = LiveFolders(open_index)
    for root in roots:
        folders.add(root)
    server = MCPServer("codesearch", instructions=INSTRUCTIONS)

    @server.tool(description=(
        "Search the code for a natural-language description or a symbol name. Returns the best chunks "
        "(functions, methods, classes) as `path:start-end symbol (kind, language)` followed by the code, best "
        "first, within max_tokens (whole chunks first, then signatures and matching lines). "
        "k: how many results (1-100, default 10). mode: hybrid (default), lexical or dense. "
        "path: only this repository (its folder or name) when several are served. glob: only files matching "
        "it, e.g. 'src/*.py'. lang: only this language, e.g. python. max_tokens: answer size (default 2000)."))
    def search(query: str, k: int = 10, mode: str = "hybrid", path: str | None = None, glob: str | None = None,
               lang: str | None = None, max_tokens: int = DEFAULT_MAX_TOKENS) -> str:
        _check(k=k, mode=mode, max_tokens=max_tokens)
        if not query.strip():
            raise ToolError("query is empty: describe what the code does, or give a symbol's name")
        indexes = _select(folders, path)
        try:
            found = [(live, r) for live in indexes for r in live.search(query, mode=mode, k=k, language=lang,
                                                                        glob=glob)]
        except CodesearchError as error:
            raise ToolError(str(error)) from None
        found.sort(key=lambda pair: -pair[1].score)
        results = [_named(live, r, len(folders.all())) for live, r in found[:k]]
        return fit(results, query, max_tokens, _pending_note(indexes, mode))

    @server.tool(description=(
        "Find code like the definition at a location: path (relative to its repository, or absolute) and a "
        "1-based line inside the function or class. Returns similar chunks, best first, the definition itself "
        "left out, within max_tokens (default 2000). k: how many (1-100, default 10)."))
    def related(path: str, line: int, k: int = 10, max_tokens: int = DEFAULT_MAX_TOKENS) -> str:
        _check(k=k, mode="hybrid", max_tokens=max_tokens)
        if line < 1:
            raise ToolError("line is 1-based: give a line number of at least 1")
        live, relative = _locate(folders, path)
        try:
            results = live.related(relative, line, k=k)
        except CodesearchError as error:
            raise ToolError(str(error)) from None
        return fit([_named(live, r, len(folders.all())) for r in results], "", max_tokens)

    @server.tool(description=(
        "What is indexed: each repository's folder, files, chunks, vectors (with the model), and whether "
        "indexing or embedding is under way."))
    def status() -> dict[str, Any]:
        return {"repositories": [live.status() for live in folders.all()]}

    return server, folders


def _check(*, k: int, mode: str, max_tokens: int) -> None:
    if not 1 <= k <= MAX_K:
        raise ToolError(f"k must be between 1 and {MAX_K}, not {k}")
    if mode not in MODES:
        raise ToolError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if max_tokens < 100:
        raise ToolError(f"max_tokens must be at least 100, not {max_tokens}")


def _select(folders: LiveFolders, path: str | None) -> list[LiveIndex]:
    indexes = folders.all()
    if not path:
        return indexes
    chosen = [live for live in indexes if path in (live.root.name, str(live.root)) or
              Path(path).expanduser().resolve() == live.root]
    if not chosen:
        names = ", ".join(live.root.name for live in indexes)
        raise ToolError(f"no repository {path!r} is served here; the repositories are: {names}")
    return chosen


def _locate(folders: LiveFolders, path: str) -> tuple[LiveIndex, str]:
    candidate = Path(path).expanduser()
    for live in folders.all():
        absolute = candidate if candidate.is_absolute() else live.root / candidate
        try:
            return live, absolute.resolve().relative_to(live.root).as_posix()
        except ValueError:
            continue
    raise ToolError(f"{path} is in none of the served repositories")


def _named(live: LiveIndex, result: SearchResult, repositories: int) -> SearchResult:
    """With several repositories, a result says which one it is from."""
    return replace(result, repo=live.root.name) if repositories > 1 else result


def _pending_note(indexes: list[LiveIndex], mode: str) -> str:
    if mode == "lexical":
        return ""
    waiting = []
    for live in indexes:
        state = live.status()
        if live.encoder_state != "ready":
            waiting.append(f"{live.root.name}: encoder {live.encoder_state}")
        elif state["chunks"] > state["with_vectors"]:
            waiting.append(f"{live.root.name}: {state['chunks'] - state['with_vectors']:,} of {state['chunks']:,} "
                           "chunks still being embedded")
    return f"[lexical results where vectors are missing ({'; '.join(waiting)})]" if waiting else ""
