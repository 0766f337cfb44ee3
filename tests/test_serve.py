"""`codesearch serve`: the team server over a catalog, its tokens, its limits, and its clients."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from catalogs import build_catalog, make_org
from conftest import json_lines, run_cli

from codesearch.catalog.shards import CatalogSearcher

fastapi = pytest.importorskip("fastapi", reason="the serve extra is installed by .ci/setup")
from fastapi.testclient import TestClient  # noqa: E402

from codesearch.search import common_words, search  # noqa: E402
from codesearch.service.http import create_app  # noqa: E402
from codesearch.service.tokens import TokenTable  # noqa: E402
from codesearch.store import Store  # noqa: E402

ALL_TOKEN, WEB_TOKEN = "all-repositories-token", "web-team-only-token"


@pytest.fixture
def output(tmp_path: Path, fake_encoder: Any) -> Path:
    repos = make_org(tmp_path / "org")
    build_catalog(tmp_path / "out", {"team-payments": repos["payments"], "team-web": repos["web"],
                                     "tools": repos["tools"]}, fake_encoder)
    return tmp_path / "out"


@pytest.fixture
def tokens(tmp_path: Path) -> TokenTable:
    (tmp_path / "tokens.toml").write_text(
        f'[[token]]\nsecret = "{ALL_TOKEN}"\nrepos = ["*"]\n\n'
        f'[[token]]\nsecret = "{WEB_TOKEN}"\nrepos = ["team-web"]\n')
    return TokenTable.load(tmp_path / "tokens.toml")


def _client(output: Path, fake_encoder: Any, tokens: TokenTable | None) -> TestClient:
    return TestClient(create_app(CatalogSearcher(output, encoder=fake_encoder), tokens))


def _auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_a_scoped_token_sees_nothing_of_other_repositories(output: Path, fake_encoder: Any,
                                                           tokens: TokenTable) -> None:
    client = _client(output, fake_encoder, tokens)
    assert client.get("/health").json()["status"] == "ok"
    assert "repos" not in client.get("/health").json()
    for method, path, body in (("GET", "/repos", None), ("POST", "/search", {"query": "retry"})):
        assert client.request(method, path, json=body).status_code == 401
        assert client.request(method, path, json=body, headers=_auth("not-a-token-at-all")).status_code == 401
    every = client.get("/repos", headers=_auth(ALL_TOKEN)).json()["repos"]
    assert sorted(r["repo"] for r in every) == ["team-payments", "team-web", "tools"]
    assert all(r["commit"] and r["chunks"] == r["vectors"] > 0 for r in every)
    web = client.get("/repos", headers=_auth(WEB_TOKEN)).json()["repos"]
    assert [r["repo"] for r in web] == ["team-web"]
    for body in ({"query": "retry the uploads that failed"}, {"query": "retry uploads", "repos": ["team-payments"]},
                 {"query": "retry uploads", "repos": ["*"], "mode": "lexical"}):
        results = client.post("/search", json=body, headers=_auth(WEB_TOKEN)).json()["results"]
        assert {r["repo"] for r in results} <= {"team-web"}
    full = client.post("/search", json={"query": "retry the uploads that failed"}, headers=_auth(ALL_TOKEN)).json()
    top = full["results"][0]
    assert top["repo"] == "team-payments" and top["symbol"] == "retry_failed_uploads" and len(top["commit"]) == 40
    assert set(top) == {"repo", "commit", "path", "start_line", "end_line", "symbol", "kind", "language", "score",
                        "text"}
    related = {"repo": "team-payments", "path": top["path"], "line": top["start_line"]}
    assert client.post("/related", json=related, headers=_auth(ALL_TOKEN)).status_code == 200
    hidden = client.post("/related", json=related, headers=_auth(WEB_TOKEN))
    unknown = client.post("/related", json={**related, "repo": "no-such-repo"}, headers=_auth(WEB_TOKEN))
    assert hidden.status_code == unknown.status_code == 400
    said = hidden.json()["detail"].replace("team-payments", "X")
    assert said == unknown.json()["detail"].replace("no-such-repo", "X")  # a hidden repository is not there


def test_a_query_restricted_to_one_repository_ranks_as_its_own_index(output: Path, fake_encoder: Any) -> None:
    searcher = CatalogSearcher(output, encoder=fake_encoder)
    entry = searcher.catalog().repos["team-payments"]
    store = Store.open(searcher.catalog().shard_dir(entry))
    assert common_words(store, "invoice total with tax") == {"invoice"}  # in most of its chunks: names none
    for query in ("retry the uploads that failed", "invoice total with tax", "backoff"):
        for mode in ("lexical", "dense", "hybrid"):
            alone = search(store, query, mode=mode, k=10, encoder=fake_encoder)
            served = searcher.search(query, mode=mode, k=10, repos=["team-payments"])
            assert [(r.chunk, r.score) for r in served] == [(r.chunk, r.score) for r in alone]
    store.close()


def test_a_lookup_a_pasted_line_and_a_place_find_their_code_through_the_catalog_as_in_one_index(
        output: Path, fake_encoder: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Store, "lexical_search", lambda self, terms, limit: [])  # BM25 finds nothing
    searcher = CatalogSearcher(output, encoder=fake_encoder)
    store = Store.open(searcher.catalog().shard_dir(searcher.catalog().repos["team-payments"]))
    for query, symbol in (("Invoice", "Invoice"), ("sum the line items and add sales tax", "Invoice.total_with_tax"),
                          ('File "/srv/payments/src/payments/invoice.py", line 21', "Invoice.total_with_tax")):
        found = searcher.search(query, mode="lexical", k=3)
        assert found[0].chunk.qualified_name == symbol and found[0].repo == "team-payments"
        assert search(store, query, mode="lexical", k=3)[0].chunk == found[0].chunk
    store.close()


def test_a_word_typed_wrong_is_read_as_the_word_the_catalog_s_code_holds(output: Path, fake_encoder: Any,
                                                                          tokens: TokenTable,
                                                                          cli_env: dict[str, str]) -> None:
    typed, meant = "retry the uplaods that failed", "retry the uploads that failed"
    searcher = CatalogSearcher(output, encoder=fake_encoder)
    assert searcher.respelled(typed) == (meant, (("uplaods", "uploads"),))  # three shards together
    assert searcher.respelled(typed, repos=["team-payments"]) == (meant, (("uplaods", "uploads"),))  # one
    assert searcher.respelled(typed, repos=["team-web"]) == (typed, ())  # no neighbour in its code
    assert searcher.respelled(meant) == (meant, ()) and searcher.respelled('retry "uplaods"')[1] == ()
    for mode in ("lexical", "hybrid"):
        found = searcher.search(typed, mode=mode, k=3)
        assert [(r.chunk, r.repo) for r in found] == [(r.chunk, r.repo) for r in searcher.search(meant, mode=mode, k=3)]
        assert found[0].chunk.qualified_name == "retry_failed_uploads"
        assert searcher.search_with_fixes(typed, mode=mode, k=3) == (found, (("uplaods", "uploads"),))
    client = _client(output, fake_encoder, tokens)
    answer = client.post("/search", json={"query": typed}, headers=_auth(ALL_TOKEN)).json()
    assert answer["results"][0]["symbol"] == "retry_failed_uploads"
    assert answer["notes"] == ["no chunk holds this word; searched `uplaods` as `uploads` (quote a word to search "
                               "it as written)"]
    assert client.post("/search", json={"query": meant}, headers=_auth(ALL_TOKEN)).json()["notes"] == []
    scoped = client.post("/search", json={"query": typed}, headers=_auth(WEB_TOKEN)).json()
    assert scoped["notes"] == []  # a token's repositories only: the others' words are not its to see
    printed = run_cli(["query", typed, "--catalog", str(output), "--mode", "lexical", "--json"], env=cli_env)
    assert json_lines(printed.stdout)[0]["symbol"] == "retry_failed_uploads"
    assert "searched `uplaods` as `uploads`" in printed.stderr


def test_bad_requests_get_4xx_and_the_server_keeps_answering(output: Path, fake_encoder: Any) -> None:
    client = _client(output, fake_encoder, None)
    assert client.post("/search", content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 422
    cases = [{"query": "x", "colour": "blue"}, {"query": ""}, {"query": "x", "k": 0}, {"query": "x", "k": 10_000},
             {"query": "x", "mode": "psychic"}, {"k": 3}, {"query": 7}]
    for body in cases:
        response = client.post("/search", json=body)
        assert response.status_code == 422, body
        assert response.json()["detail"], body
    assert client.post("/related", json={"repo": "tools", "path": "x.py", "line": 0}).status_code == 422
    assert client.post("/related", json={"repo": "tools", "path": "nothing.py", "line": 3}).status_code == 400
    huge = {"query": "x" * 100_000}
    assert client.post("/search", json=huge).status_code == 413

    def stream() -> Any:
        for _ in range(100):
            yield b"x" * 1024

    assert client.post("/search", content=stream(), headers={"Content-Type": "application/json"}).status_code == 413
    assert client.post("/search", json={"query": "   "}).status_code == 400
    assert client.post("/search", json={"query": "session expired"}).json()["results"][0]["repo"] == "team-web"


def test_a_new_catalog_is_served_without_a_restart(output: Path, fake_encoder: Any, tmp_path: Path) -> None:
    client = _client(output, fake_encoder, None)
    assert len(client.get("/repos").json()["repos"]) == 3
    extra = tmp_path / "extra"
    (extra / "lib").mkdir(parents=True)
    # One chunk: in its own index every word is in every chunk, so its own BM25 idf is ~0. The
    # catalog scores it on the statistics of all repositories together, so it still comes first.
    (extra / "lib" / "ledger.py").write_text("def reconcile_ledger_entries(entries):\n    return sorted(entries)\n")
    build_catalog(output, {"ledger": extra}, fake_encoder)
    assert "ledger" in [r["repo"] for r in client.get("/repos").json()["repos"]]
    hits = client.post("/search", json={"query": "reconcile ledger entries", "mode": "lexical"}).json()["results"]
    assert hits[0]["repo"] == "ledger" and hits[0]["symbol"] == "reconcile_ledger_entries"


@contextmanager
def _served(app: Any) -> Iterator[str]:
    """The app on a real uvicorn server on a free loopback port; yields its URL."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the server did not start"
        thread.join(0.05)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join()


class _Rendezvous(CatalogSearcher):
    """A searcher whose searches wait for each other: two queries finish only if they run at once."""

    barrier = threading.Barrier(2, timeout=60)

    def search(self, *args: Any, **kw: Any) -> Any:
        self.barrier.wait()
        return super().search(*args, **kw)


@pytest.mark.slow
def test_concurrent_queries_and_the_terminal_client(output: Path, fake_encoder: Any, tokens: TokenTable,
                                                    cli_env: dict[str, str]) -> None:
    with _served(create_app(_Rendezvous(output, encoder=fake_encoder), tokens)) as url:
        import httpx

        statuses: list[int] = []

        def ask(query: str) -> None:
            response = httpx.post(f"{url}/search", json={"query": query, "mode": "lexical"}, headers=_auth(ALL_TOKEN),
                                  timeout=120)
            statuses.append(response.status_code)

        clients = [threading.Thread(target=ask, args=(q,)) for q in ("retry uploads", "session expired")]
        for client in clients:
            client.start()
        for client in clients:
            client.join()
        assert statuses == [200, 200]  # each waited for the other: neither queued behind the other

        _Rendezvous.barrier = threading.Barrier(1)
        hits = json_lines(run_cli(["query", "session expired cache", "--server", url, "--token", WEB_TOKEN,
                                   "--json", "--mode", "lexical"], env=cli_env).stdout)
        assert hits and {h["repo"] for h in hits} == {"team-web"} and all(len(h["commit"]) == 40 for h in hits)
        full = json_lines(run_cli(["query", "retry the uploads that failed", "--server", url, "--json"],
                                  env={**cli_env, "CODESEARCH_TOKEN": ALL_TOKEN}).stdout)
        assert full[0]["symbol"] == "retry_failed_uploads" and full[0]["repo"] == "team-payments"
        typed = run_cli(["query", "retry the uplaods that failed", "--server", url, "--mode", "lexical"],
                        env={**cli_env, "CODESEARCH_TOKEN": ALL_TOKEN})
        assert "searched `uplaods` as `uploads`" in typed.stderr and "retry_failed_uploads" in typed.stdout
        refused = run_cli(["query", "x", "--server", url, "--token", "wrong-token-wrong-token"], env=cli_env,
                          check=False)
        assert refused.returncode == 1 and "refused the token" in refused.stderr
    gone = run_cli(["query", "x", "--server", url], env=cli_env, check=False)
    assert gone.returncode == 1 and "cannot reach" in gone.stderr


@pytest.mark.slow
def test_serve_refuses_the_network_without_tokens(output: Path, cli_env: dict[str, str], tmp_path: Path) -> None:
    refused = run_cli(["serve", str(output), "--host", "0.0.0.0"], env=cli_env, check=False, timeout=60)
    assert refused.returncode == 2 and "without --tokens" in refused.stderr
    missing = run_cli(["serve", str(tmp_path / "nothing")], env=cli_env, check=False, timeout=60)
    assert missing.returncode == 1 and "no such path" in missing.stderr


def test_merged_indexes_answer_like_the_shards(output: Path, fake_encoder: Any,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from codesearch.catalog import shards as shards_module
    from codesearch.catalog.catalog import Catalog, publish
    from codesearch.catalog.dense import build_dense, ivf_parameters
    from codesearch.catalog.lexical import build_lexical

    assert ivf_parameters(1_000_000) == {"nlist": 4096, "nprobe": 256, "train": 163_840}
    queries = ["retry the uploads that failed", "session expired", "invoice total with tax", "cache entry"]
    apart = CatalogSearcher(output, encoder=fake_encoder)
    expected = {(q, m): apart.search(q, mode=m, k=3) for q in queries for m in ("lexical", "dense")}
    catalog = Catalog.load(output)
    lexical, dense = build_lexical(catalog, "t", threshold=1), build_dense(catalog, "t", threshold=1)
    assert lexical is not None and dense is not None and dense.kind.startswith("IVF") and dense.count == sum(
        e.vectors for e in catalog.repos.values())
    publish(output, lambda c: replace(c.with_merged("lexical", lexical).with_merged("dense", dense)))
    monkeypatch.setattr(shards_module, "MERGED_SHARDS", 1)
    monkeypatch.setattr(shards_module, "MERGED_THRESHOLD", 1)
    merged = CatalogSearcher(output, encoder=fake_encoder)
    for (query, mode), before in expected.items():
        after = merged.search(query, mode=mode, k=3)
        assert (after[0].repo, after[0].chunk.path, after[0].chunk.start_line) == (
            before[0].repo, before[0].chunk.path, before[0].chunk.start_line), (query, mode)
    assert merged._merged_lexical(merged._shards(None, ("*",))) is not None
    assert merged._merged_index() is not None
    # the same shards: kept, unless its rows were tokenized by another index format (words outside ASCII)
    again = Catalog.load(output)
    assert build_lexical(again, "u", threshold=1) == again.lexical
    older = replace(again, lexical=replace(lexical, params={}))  # as format 1's jobs recorded it
    assert build_lexical(older, "v", threshold=1).file != lexical.file

@pytest.mark.slow
def test_the_editor_merges_the_team_servers_results(output: Path, fake_encoder: Any, tokens: TokenTable,
                                                    repo: Path, cli_env: dict[str, str]) -> None:
    from lsprotocol import types
    from test_lsp import eventually, start

    async def session(url: str) -> tuple[list[str], list[str], list[str]]:
        # The workspace leaves web/ out of its own index; the team's index has it.
        options = {"mode": "lexical", "exclude": ["web/"], "server": url, "token": ALL_TOKEN}
        client = await start(repo, cli_env, options)
        try:
            async def indexed() -> bool:
                status = await client.workspace_execute_command_async(
                    types.ExecuteCommandParams(command="codesearch.status", arguments=[{}]))
                return bool(status["folders"]) and status["folders"][0]["state"] == "idle"

            await eventually(indexed, timeout=60)
            symbols = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="session expired"))
            retry = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="retry failed uploads"))
            # a word only the team's code holds, typed wrong: the team server's note is shown
            await client.workspace_execute_command_async(types.ExecuteCommandParams(
                command="codesearch.search", arguments=[{"query": "purge sessions that have expird"}]))
            return ([s.location.uri for s in symbols or []], [s.location.uri for s in retry or []],
                    [m.message for m in client.messages])
        finally:
            await client.shutdown_async(None)
            client.exit(None)
            await client.stop()

    with _served(create_app(CatalogSearcher(output, encoder=fake_encoder), tokens)) as url:
        session_uris, retry_uris, messages = asyncio.run(session(url))
    assert session_uris and session_uris[0].endswith(str(repo / "web" / "session.ts"))  # from the team
    assert retry_uris and retry_uris[0].endswith(str(repo / "src" / "payments" / "retry.py"))
    assert sum("searched `expird` as `expired`" in m for m in messages) == 1, messages
    # A team server that cannot be reached: one warning, and the workspace still answers.
    session_uris, retry_uris, messages = asyncio.run(session("http://127.0.0.1:9"))
    assert not any(u.endswith("session.ts") for u in session_uris)
    assert retry_uris and retry_uris[0].endswith("retry.py")
    assert sum("team server" in m for m in messages) == 1
