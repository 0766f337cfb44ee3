"""`codesearch mcp` end to end: the MCP SDK's own client starts the server over stdio on the fixture
repository, lists the tools and calls each one. Waits are for states (the index synced, a
file found), not for time."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from conftest import EXECUTABLE

from codesearch.records import Chunk, SearchResult
from codesearch.service.budget import estimate_tokens, fit

pytest.importorskip("mcp")  # the mcp extra; CI installs it, so this never skips there
from mcp import ClientSession, StdioServerParameters, stdio_client  # noqa: E402


def result(symbol: str, lines: int, path: str = "src/a.py") -> SearchResult:
    body = "\n".join([f"def {symbol}(upload):"] + [f"    retry_upload(upload, attempt={n})" for n in range(lines)])
    return SearchResult(Chunk.build(path=path, language="python", symbol=symbol, qualified_name=symbol,
                                    kind="function", start_line=10, end_line=10 + lines, text=body), 1.0)


def test_answers_fit_the_budget_whole_chunks_first_then_outlines() -> None:
    results = [result("small", 3), result("huge", 400), result("other", 3)]
    text = fit(results, "retry upload", max_tokens=200)
    assert estimate_tokens(text) <= 200
    assert text.startswith("src/a.py:10-13 small (function, python)\ndef small(upload):")
    assert "src/a.py:10-410 huge (function, python)\n10: def huge(upload):\n11:     retry_upload" in text
    assert "attempt=399" not in text  # the huge chunk is outlined, not whole
    assert "def other(upload):" in text
    tight = fit(results, "retry upload", max_tokens=100)
    assert estimate_tokens(tight) <= 100 and "more result(s) did not fit in 100 tokens" in tight


def call(session: ClientSession, tool: str, **arguments: object):  # noqa: ANN201
    return session.call_tool(tool, arguments)


def text_of(answer) -> str:  # noqa: ANN001
    return "\n".join(part.text for part in answer.content if getattr(part, "text", None))


async def wait_for_answer(session: ClientSession, predicate, timeout: float = 60.0, **arguments: object) -> str:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while True:
        answer = text_of(await call(session, "search", **arguments))
        if predicate(answer):
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"no answer satisfied the test in {timeout} s; last:\n{answer}")
        await asyncio.sleep(0.1)


@pytest.mark.slow
def test_an_agent_lists_and_calls_every_tool_over_stdio(repo: Path, cli_env: dict[str, str]) -> None:
    async def session_run() -> None:
        parameters = StdioServerParameters(command=str(EXECUTABLE), args=["mcp", str(repo)],
                                           env={**cli_env, "HF_HUB_OFFLINE": "1"}, cwd=str(repo))
        async with stdio_client(parameters) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            tools = {tool.name: tool for tool in (await session.list_tools()).tools}
            assert set(tools) == {"search", "related", "status"}
            assert set(tools["search"].input_schema["properties"]) == {"query", "k", "mode", "path", "glob", "lang",
                                                                       "max_tokens"}
            assert "max_tokens" in tools["search"].description
            # no model can be loaded here: lexical answers at once, with a note saying why
            answer = await wait_for_answer(session, lambda a: "retry_failed_uploads" in a,
                                           query="retry failed uploads", k=3)
            assert answer.splitlines()[0].startswith("[lexical results where vectors are missing")
            assert "src/payments/retry.py:11-19 retry_failed_uploads (function, python)" in answer
            small = text_of(await call(session, "search", query="retry failed uploads", k=20, max_tokens=120))
            assert estimate_tokens(small) <= 120 and "did not fit in 120 tokens" in small
            # a linter's place (BM25 alone had answered `LineItem` for its words): the code at that line
            linted = text_of(await call(session, "search", query="src/payments/retry.py:7:5: E501 line too long", k=2))
            first = next(line for line in linted.splitlines() if ".py:" in line)  # after the note, if any
            assert first.startswith("src/payments/retry.py:6-8 backoff_delay"), linted
            typed = text_of(await call(session, "search", query="retyr faild uploads", k=1, mode="lexical"))
            assert "searched `retyr` as `retry`, `faild` as `failed`" in typed.splitlines()[0]
            assert "retry_failed_uploads (function" in typed
            only_go = text_of(await call(session, "search", query="serve http", lang="go", mode="lexical"))
            assert "web/router.go" in only_go and ".py:" not in only_go
            related = text_of(await call(session, "related", path="src/payments/retry.py", line=12, k=3))
            assert "retry_failed_uploads (function" not in related.splitlines()[0]  # itself left out
            status = json.loads(text_of(await call(session, "status")))
            assert status["repositories"][0]["root"] == str(repo) and status["repositories"][0]["files"] == 7
            # bad arguments are tool errors; the server keeps answering
            for tool, arguments in [("search", {"query": "x", "k": 0}), ("search", {"query": "x", "mode": "fuzzy"}),
                                    ("search", {"query": " "}), ("search", {"query": "x", "path": "elsewhere"}),
                                    ("search", {"k": 3}), ("search", {"query": "x", "k": "many"}),
                                    ("related", {"path": "/etc/passwd", "line": 1}),
                                    ("related", {"path": "src/payments/retry.py", "line": 0})]:
                failed = await call(session, tool, **arguments)
                assert failed.is_error, (tool, arguments, text_of(failed))
            # a file written now is found once the watcher has synced it
            (repo / "src" / "quarantine.py").write_text("def quarantine_corrupt_upload(upload):\n    pass\n")
            found = await wait_for_answer(session, lambda a: "quarantine_corrupt_upload" in a,
                                          query="quarantine_corrupt_upload", mode="lexical", k=1)
            assert found.startswith("src/quarantine.py:1-2 quarantine_corrupt_upload")

    asyncio.run(session_run())


@pytest.mark.slow
def test_the_terminal_takes_the_same_budget(repo: Path, cli_env: dict[str, str]) -> None:
    from conftest import json_lines, run_cli

    ask = ["query", "--mode", "lexical", "retry failed uploads", "--max-tokens", "150"]
    text = run_cli(ask, env=cli_env, cwd=repo).stdout
    assert estimate_tokens(text) <= 150 and text.startswith("src/payments/retry.py:11-19 retry_failed_uploads")
    assert "did not fit in 150 tokens" in text
    lines = json_lines(run_cli([*ask, "--json"], env=cli_env, cwd=repo).stdout)
    assert lines[0]["symbol"] == "retry_failed_uploads" and lines[0].get("truncated")  # outlined to fit
    assert str(lines[0]["text"]).startswith("11: def retry_failed_uploads(")
    roomy = json_lines(run_cli([*ask[:-1], "4000", "--json"], env=cli_env, cwd=repo).stdout)
    unbounded = json_lines(run_cli([*ask[:-2], "--json"], env=cli_env, cwd=repo).stdout)
    assert len(roomy) == len(unbounded) >= 4 and not any(line.get("truncated") for line in roomy)


@pytest.mark.slow
def test_an_organisations_catalog_directly_and_through_a_scoped_team_server(tmp_path: Path, cli_env: dict[str, str],
                                                                            fake_encoder: object) -> None:
    import socket
    import subprocess

    from catalogs import build_catalog, git, make_org

    def git_head(path: Path) -> str:
        return git(path, "rev-parse", "HEAD")

    repos = make_org(tmp_path / "org")
    build_catalog(tmp_path / "out", {"team-payments": repos["payments"], "team-web": repos["web"]}, fake_encoder)
    (tmp_path / "tokens.toml").write_text('[[token]]\nsecret = "web-team-only-secret"\nrepos = ["team-web"]\n')
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([str(EXECUTABLE), "serve", str(tmp_path / "out"), "--port", str(port), "--tokens",
                               str(tmp_path / "tokens.toml")], env=cli_env, stderr=subprocess.DEVNULL)

    async def session_run(args: list[str]) -> dict[str, str]:
        parameters = StdioServerParameters(command=str(EXECUTABLE), args=["mcp", *args], env=cli_env)
        async with stdio_client(parameters) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            answers = {
                "all": text_of(await call(session, "search", query="retry failed uploads session", mode="lexical")),
                "web": text_of(await call(session, "search", query="session", mode="lexical", path="team-w*")),
                "status": text_of(await call(session, "status")),
                "typed": text_of(await call(session, "search", query="expired sesion", mode="lexical")),
            }
            related = await call(session, "related", path="team-payments:src/payments/retry.py", line=12, k=3)
            answers["related"] = ("error: " if related.is_error else "") + text_of(related)
            assert (await call(session, "related", path="src/payments/retry.py", line=12)).is_error  # no REPO:
            return answers

    try:
        local = asyncio.run(session_run(["--catalog", str(tmp_path / "out")]))
        commit = git_head(repos["payments"])[:8]
        assert f"team-payments@{commit}:src/payments/retry.py:11-19 retry_failed_uploads" in local["all"]
        assert "web/session.ts" in local["all"]
        assert "team-web@" in local["web"] and "team-payments@" not in local["web"]
        assert '"team-payments"' in local["status"] and not local["related"].startswith("error")
        assert "searched `sesion` as `session`" in local["typed"].splitlines()[0] and "web/session.ts" in local["typed"]
        deadline = time.monotonic() + 60
        while not _healthy(port):
            assert server.poll() is None and time.monotonic() < deadline, "the team server did not start"
            time.sleep(0.1)
        remote = asyncio.run(session_run(["--server", f"http://127.0.0.1:{port}", "--token", "web-team-only-secret"]))
        assert "web/session.ts" in remote["all"] and "team-payments" not in remote["all"]
        assert "team-payments" not in remote["status"] and remote["related"].startswith("error")
        assert "searched `sesion` as `session`" in remote["typed"].splitlines()[0]
    finally:
        server.kill()


def _healthy(port: int) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False
