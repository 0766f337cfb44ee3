"""Latency of the language server as an editor sees it, over real stdio.

    python -m codesearch.lsp.bench --repo COPY_OF_A_REPO --model MODEL [--runs 11]

Prints the median (and min/max) of: a `workspace/symbol` round trip; `didChange` of a new
function until `workspace/symbol` returns it first; a file written on disk until it is returned
first. The repository is written to (new files, then removed): pass a copy.

    python -m codesearch.lsp.bench --repo BIG_TREE --model MODEL --save-during-first-sync 10

instead starts the server on an unindexed tree, saves a new file SECONDS later (written, then
`didSave`) and prints how long until `workspace/symbol` returns its function first, and whether
the first indexing was still running.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

POLL_SECONDS = 0.02


async def _status(client: LanguageClient) -> dict[str, Any]:
    params = types.ExecuteCommandParams(command="codesearch.status", arguments=[{}])
    status: Any = await client.workspace_execute_command_async(params)
    return dict(status["folders"][0])


async def _first(client: LanguageClient, query: str) -> str | None:
    found = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query=query)) or []
    return found[0].name if found else None


async def _until_first(client: LanguageClient, query: str, name: str, timeout: float = 60.0) -> float:
    started = time.perf_counter()
    while await _first(client, query) != name:
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"{name} not found first for {query!r} within {timeout}s")
        await asyncio.sleep(POLL_SECONDS)
    return time.perf_counter() - started


def _line(label: str, seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return (f"{label:38s} median {statistics.median(ms):8.1f} ms   min {min(ms):8.1f}   "
            f"max {max(ms):8.1f}   runs {len(ms)}")


async def _start(repo: Path, options: dict[str, str]) -> LanguageClient:
    """`codesearch lsp` started over stdio and initialized on `repo` with these options."""
    client = LanguageClient("codesearch-bench", "1")
    exe = shutil.which("codesearch") or str(Path(sys.executable).with_name("codesearch"))
    await client.start_io(exe, "lsp")
    await client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri=from_fs_path(str(repo)),
        workspace_folders=[types.WorkspaceFolder(uri=from_fs_path(str(repo)) or "", name=repo.name)],
        initialization_options=options))
    client.initialized(types.InitializedParams())
    return client


async def run(repo: Path, model: str, runs: int, queries: list[str]) -> None:
    client = await _start(repo, {"model": model})
    started = time.perf_counter()
    while True:
        status = await _status(client)
        if status["encoder"] != "loading" and status["chunks"] and status["with_vectors"] == status["chunks"]:
            break
        await asyncio.sleep(1.0)
    print(f"indexed and embedded {status['chunks']:,} chunks of {repo} with {status['model']} "
          f"in {time.perf_counter() - started:.0f} s", flush=True)

    symbol: list[float] = []
    for n in range(runs):
        query = queries[n % len(queries)]
        t = time.perf_counter()
        await client.workspace_symbol_async(types.WorkspaceSymbolParams(query=query))
        symbol.append(time.perf_counter() - t)

    target = next(p for p in sorted(repo.rglob("*.ts")) if ".codesearch" not in p.parts)
    uri = from_fs_path(str(target)) or ""
    text = target.read_text()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="typescript", version=1, text=text)))
    edit: list[float] = []
    lines = text.count("\n")
    for n in range(runs):
        name = f"reconcileLedgerBatch{n}"
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=n + 2),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line=lines, character=0),
                                  end=types.Position(line=lines, character=0)),
                text=f"\nexport function {name}(entries: number[]): number {{\n  return entries.length;\n}}\n")]))
        lines += 4
        edit.append(await _until_first(client, f"{name} ledger", name))
    client.text_document_did_close(types.DidCloseTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))

    disk: list[float] = []
    written: list[Path] = []
    for n in range(runs):
        name = f"settleQuarterBalance{n}"
        path = repo / f"bench_written_{n}.ts"
        started = time.perf_counter()
        path.write_text(f"export function {name}(book: string): string {{\n  return book;\n}}\n")
        written.append(path)
        await _until_first(client, f"{name} quarter", name)
        disk.append(time.perf_counter() - started)
    for path in written:
        path.unlink()

    print(_line("workspace/symbol round trip", symbol))
    print(_line("didChange -> edited function first", edit))
    print(_line("file written on disk -> found first", disk))
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()


async def save_during_first_sync(repo: Path, model: str, delay: float) -> None:
    client = await _start(repo, {"model": model, "mode": "lexical"})
    await asyncio.sleep(delay)
    name = "settle_quarterly_balance_now"
    path = repo / "codesearch_bench_saved.py"
    path.write_text(f"def {name}(book):\n    return book.close()\n")
    started = time.perf_counter()
    client.text_document_did_save(types.DidSaveTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=from_fs_path(str(path)) or "")))
    try:
        await _until_first(client, name, name)
        found = time.perf_counter() - started
        status = await _status(client)
        print(f"a file saved {delay:.0f} s after the server started was found first in {found * 1000:.0f} ms; "
              f"the first indexing was {'still running' if status['state'] == 'indexing' else status['state']} "
              f"({status['files']:,} files committed of the tree)", flush=True)
    finally:
        path.unlink()
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, required=True, help="A repository copy (files are written in it).")
    parser.add_argument("--model", required=True, help="Model (preset, hub id or local directory).")
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--save-during-first-sync", type=float, default=None, metavar="SECONDS",
                        help="Only measure a file saved this long after start, during the first indexing.")
    args = parser.parse_args()
    if args.save_during_first_sync is not None:
        asyncio.run(save_during_first_sync(args.repo.resolve(), args.model, args.save_during_first_sync))
        return
    queries = ["parse a string into a date", "validate an email address", "merge two object schemas",
               "error message formatting", "optional and nullable types", "refine with a custom check"]
    asyncio.run(run(args.repo.resolve(), args.model, args.runs, queries))


if __name__ == "__main__":
    main()
