"""`codesearch lsp`: the language server. Handlers translate LSP to `codesearch.live` and back.

- `workspace/symbol`: the query is natural language (or an identifier); answers are chunks.
- `workspace/executeCommand`: `codesearch.search`, `codesearch.related`, `codesearch.reindex`,
  `codesearch.status`.
- Document sync feeds unsaved buffers to the overlay; saves and watched-file events sync.
- Indexing and embedding run on each folder's writer thread; queries run on worker threads.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import from_fs_path, to_fs_path

from codesearch import spelling
from codesearch.encoding import EncoderSettings
from codesearch.errors import CodesearchError
from codesearch.indexing import IndexOptions
from codesearch.live import EMBEDDING, INDEXING, Hit, LiveFolders, LiveIndex
from codesearch.records import Chunk
from codesearch.requests import MODES

logger = logging.getLogger("codesearch.lsp")
EDIT_DEBOUNCE_SECONDS = 0.15
SYMBOL_RESULTS = 50
SEARCH, RELATED, REINDEX, STATUS = "codesearch.search", "codesearch.related", "codesearch.reindex", "codesearch.status"

SYMBOL_KINDS = {
    "function": types.SymbolKind.Function,
    "method": types.SymbolKind.Method,
    "class": types.SymbolKind.Class,
    "module": types.SymbolKind.Module,
    "block": types.SymbolKind.Namespace,
}


@dataclass(frozen=True)
class ServerOptions:
    """`initializationOptions`: {"model", "indexDir", "mode", "exclude": [...]}; all optional."""

    model: str | None = None
    index_dir: str | None = None
    mode: str = "hybrid"
    exclude: tuple[str, ...] = ()
    device: str | None = None
    dtype: str = "auto"
    server: str | None = None  # a team server (`codesearch serve`) searched beside the workspace
    token: str | None = None

    @classmethod
    def parse(cls, raw: Any) -> tuple[ServerOptions, list[str]]:
        """The options and a list of problems; a bad value is reported and its default kept."""
        if raw is None:
            return cls(), []
        if not isinstance(raw, dict):
            return cls(), [f"initializationOptions must be an object, got {type(raw).__name__}; using defaults"]
        problems: list[str] = []
        values: dict[str, Any] = {}
        known = {"model": "model", "indexDir": "index_dir", "mode": "mode", "exclude": "exclude",
                 "device": "device", "dtype": "dtype", "server": "server", "token": "token"}
        for key, value in raw.items():
            name = known.get(key)
            if name is None:
                problems.append(f"unknown initialization option {key!r} ignored (known: {', '.join(known)})")
            elif name == "exclude":
                if isinstance(value, list) and all(isinstance(v, str) for v in value):
                    values[name] = tuple(value)
                else:
                    problems.append("initialization option 'exclude' must be a list of gitignore patterns")
            elif name == "mode" and value not in MODES:
                problems.append(f"initialization option 'mode' must be one of {', '.join(MODES)}, not {value!r}")
            elif not isinstance(value, str) or not value:
                problems.append(f"initialization option {key!r} must be a non-empty string")
            elif name == "server" and not value.startswith(("http://", "https://")):
                problems.append(f"initialization option 'server' must be an http(s) URL, not {value!r}")
            else:
                values[name] = value
        return cls(**values), problems


class _Protocol(LanguageServerProtocol):
    """pygls' protocol, answering requests whose params do not parse.

    pygls 2.1 raises JsonRpcInvalidParams from its reader when a request's params fail to
    deserialize, and never answers: the client would wait forever. Here the request gets an
    InvalidParams error response instead."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if "id" in data and "method" in data:
                message = f"invalid params for {data['method']}: {error.__cause__ or error}"
                self._send_response(data["id"], None, JsonRpcInvalidParams(message).to_response_error())
                return _ANSWERED
            raise

    def handle_message(self, message: Any) -> None:
        if message is not _ANSWERED:
            super().handle_message(message)


_ANSWERED = object()


class CodesearchServer(LanguageServer):
    """The server's state: options, the folders' live indexes, pending buffer edits."""

    def __init__(self) -> None:
        super().__init__("codesearch", version("codesearch"), protocol_cls=_Protocol, max_workers=4)
        self.options = ServerOptions()
        self.problems: list[str] = []
        self.folders = LiveFolders(self._open_folder)
        self._pending_edits: dict[str, asyncio.TimerHandle] = {}
        # One thread applies buffer edits, in the order they came, so an older text never wins.
        self._edits = ThreadPoolExecutor(max_workers=1, thread_name_prefix="codesearch-edits")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._multi_root = False
        self._server_warned = False

    # --- folders -------------------------------------------------------------------------

    def _open_folder(self, root: Path) -> LiveIndex:
        index_dir = None
        if self.options.index_dir:
            base = Path(self.options.index_dir).expanduser()
            tag = hashlib.blake2b(str(root).encode(), digest_size=4).hexdigest()
            index_dir = str(base / f"{root.name}-{tag}" if self._multi_root else base)
        options = IndexOptions.create(root, index_dir=index_dir, model=self.options.model,
                                      excludes=self.options.exclude,
                                      settings=EncoderSettings(self.options.device, self.options.dtype))
        return LiveIndex(options, _EditorListener(self, root), embed=self.options.mode != "lexical")

    def search(self, query: str, *, k: int, **kw: Any) -> list[Hit]:
        """The workspace's own live results, merged by score with the team server's when one is
        configured (its results for files that exist in a workspace folder; a server that cannot
        be reached is reported once and the workspace still answers)."""
        return self.search_with_notes(query, k=k, **kw)[0]

    def search_with_notes(self, query: str, *, k: int, **kw: Any) -> tuple[list[Hit], list[str]]:
        """`search`'s hits, and what the user is told beside them: the words read as others, here
        or by the team server (each note once)."""
        hits, fixes = self.folders.search_with_fixes(query, k=k, **kw)
        notes = [spelling.note(fixes)] if fixes else []
        if not self.options.server:
            return hits, notes
        from codesearch.service.client import ServerClient

        try:
            remote, told = ServerClient.create(self.options.server, self.options.token).search_with_notes(
                query, k=k, **kw)
        except CodesearchError as error:
            if not self._server_warned:
                self._server_warned = True
                self.show(types.MessageType.Warning, f"codesearch: team server: {error}")
            return hits, notes
        local = {(h.root, h.result.chunk.path, h.result.chunk.start_line) for h in hits}
        for result in remote:
            for live in self.folders.all():
                key = (live.root, result.chunk.path, result.chunk.start_line)
                if (live.root / result.chunk.path).is_file() and key not in local:
                    hits.append(Hit(live.root, result))
                    local.add(key)
                    break
        return sorted(hits, key=lambda h: -h.result.score)[:k], list(dict.fromkeys(notes + told))

    def open_folders(self, roots: list[Path]) -> None:
        """Start a live index for each folder (called on a worker thread)."""
        self._multi_root = len(roots) > 1
        for root in roots:
            try:
                self.folders.add(root)
            except CodesearchError as error:
                self.show(types.MessageType.Error, f"codesearch cannot index {root}: {error}")

    def locate(self, uri: str) -> tuple[LiveIndex, str]:
        """The folder index and relative path of a document URI; InvalidParams outside them."""
        path = to_fs_path(uri) if uri.startswith("file:") else None
        if path is None:
            raise JsonRpcInvalidParams(f"not a file URI: {uri!r}")
        try:
            return self.folders.locate(Path(path))
        except CodesearchError as error:
            raise JsonRpcInvalidParams(str(error)) from None

    def folder_of(self, uri: str) -> tuple[LiveIndex, str] | None:
        """Like `locate`, but None for a document outside the workspace (notifications ignore it)."""
        try:
            return self.locate(uri)
        except JsonRpcException:
            return None

    # --- talking to the editor from any thread -------------------------------------------

    def soon(self, callback: Callable[..., Any], *args: Any) -> None:
        """Run `callback` on the event loop (the writer threads report through here)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(callback, *args)

    def show(self, kind: types.MessageType, message: str) -> None:
        """window/showMessage, from any thread."""
        self.soon(self.window_show_message, types.ShowMessageParams(type=kind, message=message))

    def schedule_edit(self, uri: str) -> None:
        """Re-chunk a changed buffer shortly (typing bursts make one update)."""
        if self._loop is None:
            return
        if (pending := self._pending_edits.pop(uri, None)) is not None:
            pending.cancel()
        self._pending_edits[uri] = self._loop.call_later(EDIT_DEBOUNCE_SECONDS, self._apply_edit, uri)

    def _apply_edit(self, uri: str) -> None:
        self._pending_edits.pop(uri, None)
        if (found := self.folder_of(uri)) is None:
            return  # a file outside the workspace: nothing of ours
        live, rel = found
        text = self.workspace.get_text_document(uri).source
        self._edits.submit(_log_errors(live.edit), rel, text)


def _log_errors(function: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any) -> Any:
        try:
            return function(*args)
        except Exception:
            logger.exception("codesearch: %s failed", getattr(function, "__name__", "task"))
            return None

    return run


class _EditorListener:
    """Reports a folder's indexing to the editor: log messages, warnings, work-done progress."""

    def __init__(self, server: CodesearchServer, root: Path) -> None:
        self._server = server
        self._root = root
        self._tokens: dict[str, str] = {}
        self._percent: dict[str, int] = {}

    def log(self, message: str) -> None:
        self._server.soon(self._server.window_log_message,
                          types.LogMessageParams(type=types.MessageType.Info, message=message))

    def warn(self, message: str) -> None:
        self._server.show(types.MessageType.Warning, f"codesearch: {message}")

    def progress(self, task: str, done: int, total: int) -> None:
        percent = int(100 * done / total) if total else 100
        self._server.soon(self._progress, task, percent, f"{done:,}/{total:,}")

    def _progress(self, task: str, percent: int, detail: str) -> None:
        server = self._server
        if not _client_has_progress(server):
            return
        token = self._tokens.get(task)
        if token is None:
            if percent >= 100:
                return
            token = self._tokens[task] = f"codesearch/{task}/{self._root}"
            title = {INDEXING: "Indexing", EMBEDDING: "Embedding"}[task] + f" {self._root.name}"
            server.work_done_progress.create(token)
            server.work_done_progress.begin(token, types.WorkDoneProgressBegin(
                title=title, percentage=percent, message=detail, cancellable=False))
            self._percent[task] = percent
        elif percent >= 100:
            server.work_done_progress.end(token, types.WorkDoneProgressEnd(message="done"))
            del self._tokens[task]
        elif percent != self._percent.get(task):
            server.work_done_progress.report(token, types.WorkDoneProgressReport(percentage=percent, message=detail))
            self._percent[task] = percent


def _client_has_progress(server: CodesearchServer) -> bool:
    window = server.client_capabilities.window
    return bool(window and window.work_done_progress)


# --- LSP shapes ------------------------------------------------------------------------------

def _range(chunk: Chunk) -> types.Range:
    last_line = chunk.text.rsplit("\n", 1)[-1]
    return types.Range(start=types.Position(line=chunk.start_line - 1, character=0),
                       end=types.Position(line=chunk.end_line - 1, character=len(last_line)))


def _uri(hit: Hit) -> str:
    return from_fs_path(str(hit.root / hit.result.chunk.path)) or ""


def _symbol(hit: Hit) -> types.WorkspaceSymbol:
    chunk = hit.result.chunk
    name = chunk.qualified_name or chunk.symbol or f"{chunk.path.rsplit('/', 1)[-1]}:{chunk.start_line}"
    return types.WorkspaceSymbol(name=name, kind=SYMBOL_KINDS.get(chunk.kind, types.SymbolKind.Namespace),
                                 location=types.Location(uri=_uri(hit), range=_range(chunk)),
                                 container_name=chunk.path)


def _result(hit: Hit) -> dict[str, Any]:
    chunk, r = hit.result.chunk, _range(hit.result.chunk)
    return {
        "uri": _uri(hit),
        "range": {"start": {"line": r.start.line, "character": r.start.character},
                  "end": {"line": r.end.line, "character": r.end.character}},
        "symbol": chunk.qualified_name or chunk.symbol,
        "kind": chunk.kind,
        "score": round(hit.result.score, 6),
        "text": chunk.text,
    }


def _argument(args: tuple[Any, ...], command: str) -> dict[str, Any]:
    if len(args) != 1 or not isinstance(args[0], dict):
        raise JsonRpcInvalidParams(f"{command} takes one object argument, e.g. {{\"query\": \"...\"}}")
    return args[0]


def _field(arg: dict[str, Any], name: str, kind: type, default: Any = None, *, required: bool = False) -> Any:
    value = arg.get(name, default)
    if value is None and not required:
        return default
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise JsonRpcInvalidParams(f"'{name}' must be a {kind.__name__}" + (" (required)" if required else ""))
    return value


async def _in_thread(function: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    """Run core work off the event loop; user errors become InvalidParams responses."""
    try:
        return await asyncio.to_thread(function, *args, **kw)
    except CodesearchError as error:
        raise JsonRpcInvalidParams(str(error)) from None


# --- the server --------------------------------------------------------------------------------

def build_server() -> CodesearchServer:
    """A server with every handler registered."""
    server = CodesearchServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: CodesearchServer, params: types.InitializeParams) -> None:
        ls._loop = asyncio.get_running_loop()
        ls.options, ls.problems = ServerOptions.parse(params.initialization_options)

    @server.feature(types.INITIALIZED)
    def initialized(ls: CodesearchServer, params: types.InitializedParams) -> None:
        for problem in ls.problems:
            ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning,
                                                           message=f"codesearch: {problem}"))
        roots = [Path(p) for f in ls.workspace.folders.values() if (p := to_fs_path(f.uri))]
        if not roots and ls.workspace.root_path:
            roots = [Path(ls.workspace.root_path)]
        ls.thread_pool.submit(_log_errors(ls.open_folders), [r.resolve() for r in roots])

    @server.feature(types.WORKSPACE_SYMBOL)
    async def workspace_symbol(
        ls: CodesearchServer, params: types.WorkspaceSymbolParams
    ) -> list[types.WorkspaceSymbol]:
        if not params.query.strip():
            return []
        hits = await _in_thread(ls.search, params.query, k=SYMBOL_RESULTS, mode=ls.options.mode)
        return [_symbol(h) for h in hits]

    @server.command(SEARCH)
    async def search_command(ls: CodesearchServer, *args: Any) -> list[dict[str, Any]]:
        arg = _argument(args, SEARCH)
        query = _field(arg, "query", str, required=True)
        mode = _field(arg, "mode", str, ls.options.mode)
        hits, notes = await _in_thread(ls.search_with_notes, query, k=_field(arg, "k", int, 10), mode=mode,
                                       language=_field(arg, "lang", str), glob=_field(arg, "glob", str))
        # a word read as another is said, as the terminal says it (not for workspace/symbol, which
        # the editor asks at every keystroke)
        for note in notes:
            ls.show(types.MessageType.Info, f"codesearch: {note}")
        return [_result(h) for h in hits]

    @server.command(RELATED)
    async def related_command(ls: CodesearchServer, *args: Any) -> list[dict[str, Any]]:
        arg = _argument(args, RELATED)
        uri = _field(arg, "uri", str, required=True)
        position = _field(arg, "position", dict, required=True)
        line = _field(position, "line", int, required=True)
        live, rel = ls.locate(uri)
        results = await _in_thread(live.related, rel, line + 1, k=_field(arg, "k", int, 10))
        return [_result(Hit(live.root, r)) for r in results]

    @server.command(REINDEX)
    def reindex_command(ls: CodesearchServer, *args: Any) -> dict[str, Any]:
        for live in ls.folders.all():
            live.request_rebuild()
        return {"reindexing": [str(live.root) for live in ls.folders.all()]}

    @server.command(STATUS)
    async def status_command(ls: CodesearchServer, *args: Any) -> dict[str, Any]:
        folders = await _in_thread(lambda: [live.status() for live in ls.folders.all()])
        return {"version": ls.version, "mode": ls.options.mode, "folders": folders}

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_edit(ls: CodesearchServer, params: Any) -> None:
        ls.schedule_edit(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: CodesearchServer, params: types.DidSaveTextDocumentParams) -> None:
        if found := ls.folder_of(params.text_document.uri):
            live, rel = found
            live.saved([rel])  # ahead of the first sync's queue when that is still running

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: CodesearchServer, params: types.DidCloseTextDocumentParams) -> None:
        if found := ls.folder_of(params.text_document.uri):
            live, rel = found
            live.close_buffer(rel)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: CodesearchServer, params: types.DidChangeWatchedFilesParams) -> None:
        for change in params.changes:
            if found := ls.folder_of(change.uri):
                found[0].request_sync()

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def did_change_folders(ls: CodesearchServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        for removed in params.event.removed:
            if path := to_fs_path(removed.uri):
                ls.thread_pool.submit(_log_errors(ls.folders.remove), Path(path).resolve())
        added = [Path(p).resolve() for f in params.event.added if (p := to_fs_path(f.uri))]
        if added:
            ls._multi_root = True
            ls.thread_pool.submit(_log_errors(ls.open_folders), added)

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: CodesearchServer, params: Any) -> None:
        await asyncio.to_thread(ls.folders.close)

    return server


def serve(tcp: tuple[str, int] | None = None) -> None:
    """Run the server on stdio, or on a TCP address."""
    logging.basicConfig(level=logging.WARNING, format="codesearch-lsp %(levelname)s %(message)s")
    server = build_server()
    try:
        if tcp:
            server.start_tcp(*tcp)
        else:
            server.start_io()
    finally:
        server.folders.close()

