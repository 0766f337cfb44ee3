"""`codesearch mcp`: code search for coding agents over the Model Context Protocol (stdio).

Built on the official `mcp` SDK's `MCPServer`. The tools are thin: check the arguments, ask a
backend, and lay the answer out as compact text within a token budget (`budget.fit`). Backends:

- `LiveBackend`: the repositories given on the command line, each a live index kept current by
  the file watcher and searched by `LiveIndex.search` (the language server's code). Lexical
  results come at once while vectors are being made, with a first line saying so.
- `CatalogBackend` (`--catalog DIR`) and `ServerBackend` (`--server URL --token T`): an
  organisation's code, through `CatalogSearcher` or the team server (scoped by the token).

A bad argument is a tool error with a message, never the end of the server.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from codesearch import spelling
from codesearch.catalog.shards import CatalogSearcher
from codesearch.errors import CodesearchError
from codesearch.live import LiveFolders, LiveIndex, search_in
from codesearch.records import SearchResult
from codesearch.requests import MODES
from codesearch.service.budget import fit
from codesearch.service.client import ServerClient

DEFAULT_MAX_TOKENS = 2000
MAX_K = 100

INSTRUCTIONS = """Semantic code search over the repositories this server was started on. Use `search` with a
plain-English description of what the code does ("where are failed uploads retried"), an
exact symbol name, an error message as the program printed it, a stack trace's frames or a
compiler's `path:line` (the code that raised it, or at that line, comes first), or a command
line option (`--no-refresh`); results come best first as `path:start-end symbol (kind,
language)` and the code, trimmed to max_tokens. Use `related` to find code like a definition
you already have."""


class Listener:
    """The live indexes' messages go to stderr: stdout carries the protocol."""

    def log(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def warn(self, message: str) -> None:
        print(f"warning: {message}", file=sys.stderr, flush=True)

    def progress(self, task: str, done: int, total: int) -> None:
        pass


class Backend(Protocol):
    """Where the tools' answers come from."""

    def search(self, query: str, *, k: int, mode: str, path: str | None, glob: str | None,
               lang: str | None) -> tuple[list[SearchResult], str]:
        """The results and a note to put first (empty when there is nothing to say)."""
        ...

    def related(self, path: str, line: int, *, k: int) -> list[SearchResult]:
        """Code like the definition at `path`:`line`."""
        ...

    def status(self) -> dict[str, Any]:
        """What is being served."""
        ...


@dataclass
class LiveBackend:
    """Repositories on this machine, each with a live index."""

    folders: LiveFolders

    def search(self, query: str, *, k: int, mode: str, path: str | None, glob: str | None,
               lang: str | None) -> tuple[list[SearchResult], str]:
        indexes = self._select(path)
        found, fixes = search_in(indexes, query, k=k, mode=mode, language=lang, glob=glob)
        notes = [f"[{spelling.note(fixes)}]" if fixes else "", _pending_note(indexes, mode)]
        return [self._named(live, r) for live, r in found], " ".join(filter(None, notes))

    def related(self, path: str, line: int, *, k: int) -> list[SearchResult]:
        candidate = Path(path).expanduser()
        for live in self.folders.all():
            absolute = candidate if candidate.is_absolute() else live.root / candidate
            try:
                relative = absolute.resolve().relative_to(live.root).as_posix()
            except ValueError:
                continue
            return [self._named(live, r) for r in live.related(relative, line, k=k)]
        raise ToolError(f"{path} is in none of the served repositories")

    def status(self) -> dict[str, Any]:
        return {"repositories": [live.status() for live in self.folders.all()]}

    def _select(self, path: str | None) -> list[LiveIndex]:
        indexes = self.folders.all()
        if not path:
            return indexes
        chosen = [live for live in indexes if path in (live.root.name, str(live.root))
                  or Path(path).expanduser().resolve() == live.root]
        if not chosen:
            names = ", ".join(live.root.name for live in indexes)
            raise ToolError(f"no repository {path!r} is served here; the repositories are: {names}")
        return chosen

    def _named(self, live: LiveIndex, result: SearchResult) -> SearchResult:
        """With several repositories, a result says which one it is from."""
        return replace(result, repo=live.root.name) if len(self.folders.all()) > 1 else result


@dataclass
class CatalogBackend:
    """A job's catalog: `path` is a repository name or glob; `related` takes REPO:PATH."""

    searcher: CatalogSearcher

    def search(self, query: str, *, k: int, mode: str, path: str | None, glob: str | None,
               lang: str | None) -> tuple[list[SearchResult], str]:
        results, fixes = self.searcher.search_with_fixes(query, k=k, mode=mode, language=lang, glob=glob,
                                                         repos=[path] if path else None)
        return results, f"[{spelling.note(fixes)}]" if fixes else ""

    def related(self, path: str, line: int, *, k: int) -> list[SearchResult]:
        repo, relative = _split_repo(path)
        return self.searcher.related(repo, relative, line, k=k)

    def status(self) -> dict[str, Any]:
        return {"repositories": self.searcher.repos()}


@dataclass
class ServerBackend:
    """A team server (`codesearch serve`); the token decides which repositories exist."""

    client: ServerClient

    def search(self, query: str, *, k: int, mode: str, path: str | None, glob: str | None,
               lang: str | None) -> tuple[list[SearchResult], str]:
        results, notes = self.client.search_with_notes(query, k=k, mode=mode, language=lang, glob=glob,
                                                       repos=[path] if path else None)
        return results, " ".join(f"[{message}]" for message in notes)

    def related(self, path: str, line: int, *, k: int) -> list[SearchResult]:
        repo, relative = _split_repo(path)
        return self.client.related(repo, relative, line, k=k)

    def status(self) -> dict[str, Any]:
        return {"repositories": self.client.repos()}


def build_server(backend: Backend) -> MCPServer:
    """The MCP server answering from `backend`."""
    server = MCPServer("codesearch", instructions=INSTRUCTIONS, log_level="WARNING")  # stderr is the agent's log

    @server.tool(description=(
        "Search the code for a natural-language description, a symbol name, an error message as printed, "
        "a stack trace or `path:line`, or a command line option. Returns the best chunks "
        "(functions, methods, classes) as `path:start-end symbol (kind, language)` followed by the code, best "
        "first, within max_tokens (whole chunks first, then signatures and matching lines). "
        "k: how many results (1-100, default 10). mode: hybrid (default), lexical or dense. "
        "path: only this repository (its folder or name; a name or glob for an organisation's catalog). "
        "glob: only files matching it, e.g. 'src/*.py'. lang: only this language, e.g. python. "
        "max_tokens: answer size (default 2000)."))
    def search(query: str, k: int = 10, mode: str = "hybrid", path: str | None = None, glob: str | None = None,
               lang: str | None = None, max_tokens: int = DEFAULT_MAX_TOKENS) -> str:
        _check(k=k, mode=mode, max_tokens=max_tokens)
        if not query.strip():
            raise ToolError("query is empty: describe what the code does, or give a symbol's name")
        try:
            results, note = backend.search(query, k=k, mode=mode, path=path, glob=glob, lang=lang)
        except CodesearchError as error:
            raise ToolError(str(error)) from None
        return fit(results, query, max_tokens, note)

    @server.tool(description=(
        "Find code like the definition at a location: path (relative to its repository, or absolute; "
        "REPO:PATH for an organisation's catalog) and a 1-based line inside the function or class. Returns "
        "similar chunks, best first, the definition itself left out, within max_tokens (default 2000). "
        "k: how many (1-100, default 10)."))
    def related(path: str, line: int, k: int = 10, max_tokens: int = DEFAULT_MAX_TOKENS) -> str:
        _check(k=k, mode="hybrid", max_tokens=max_tokens)
        if line < 1:
            raise ToolError("line is 1-based: give a line number of at least 1")
        try:
            results = backend.related(path, line, k=k)
        except CodesearchError as error:
            raise ToolError(str(error)) from None
        return fit(results, "", max_tokens)

    @server.tool(description=(
        "What is indexed: each repository with its files, chunks and vectors (and, for local repositories, "
        "the model and whether indexing or embedding is under way)."))
    def status() -> dict[str, Any]:
        try:
            return backend.status()
        except CodesearchError as error:
            raise ToolError(str(error)) from None

    return server


def _check(*, k: int, mode: str, max_tokens: int) -> None:
    if not 1 <= k <= MAX_K:
        raise ToolError(f"k must be between 1 and {MAX_K}, not {k}")
    if mode not in MODES:
        raise ToolError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if max_tokens < 100:
        raise ToolError(f"max_tokens must be at least 100, not {max_tokens}")


def _split_repo(path: str) -> tuple[str, str]:
    repo, sep, relative = path.partition(":")
    if not sep or not repo or not relative:
        raise ToolError(f"give the location as REPO:PATH (e.g. payments:src/retry.py), not {path!r}")
    return repo, relative


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
