"""End to end through the installed `codesearch` executable."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import EXECUTABLE, json_lines, run_cli

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("args", [["--help"], ["status"], ["query", "--mode", "lexical", "retry failed uploads"],
                                  ["query", "--mode", "lexical", "--no-refresh", "retry failed uploads"]])
def test_lexical_work_imports_no_model_vector_or_parser_libraries(args: list[str], repo: Path, cli_env) -> None:
    run_cli(["index", str(repo), "--no-embed"], env=cli_env)
    code = ("import sys; from codesearch.cli import main\n"
            f"try: main({args!r})\nexcept SystemExit as exit: assert not exit.code, exit.code\n"
            "heavy = {'torch', 'transformers', 'numpy', 'faiss', 'rich.progress', 'tree_sitter'} & set(sys.modules)\n"
            "assert not heavy, f'imported {sorted(heavy)}'")
    result = subprocess.run([str(EXECUTABLE.with_name("python")), "-c", code], env=cli_env, cwd=repo,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert ("retry_failed_uploads" if args[0] == "query" else "index" if args[0] == "--help" else "chunks") \
        in result.stdout


def test_index_query_status_with_a_tiny_modernbert(repo: Path, tiny_model: Path, cli_env) -> None:
    first = run_cli(["index", str(repo), "--model", str(tiny_model)], env=cli_env)
    assert "7 files" in first.stderr and "new embeddings" in first.stderr and "chunks/s" in first.stderr
    # The dense path: a function's own text finds that function first through FAISS.
    body = (repo / "web/router.go").read_text().split("// ServeHTTP")[1]
    dense = json_lines(run_cli(["query", "go method Router.ServeHTTP\n// ServeHTTP" + body, "--mode", "dense",
                                "--json", "-k", "3"], env=cli_env, cwd=repo).stdout)
    assert dense[0]["symbol"] == "Router.ServeHTTP"
    assert set(dense[0]) == {"path", "start_line", "end_line", "symbol", "kind", "language", "score", "text"}
    for mode in ("lexical", "hybrid"):
        hits = json_lines(run_cli(["query", "retry the uploads that failed", "--mode", mode, "--json"],
                                  env=cli_env, cwd=repo / "src").stdout)
        assert "retry_failed_uploads" in [h["symbol"] for h in hits[:3]], mode
        assert hits[0]["path"] == "src/payments/retry.py"
    filtered = json_lines(run_cli(["query", "cache", "--lang", "rust", "--json"], env=cli_env, cwd=repo).stdout)
    assert filtered and {h["language"] for h in filtered} == {"rust"}
    human = run_cli(["query", "session expired", "--path", str(repo), "-k", "2"], env=cli_env).stdout
    assert "web/session.ts:" in human and " 2. " in human and " 3. " not in human
    status = json.loads(run_cli(["status", str(repo), "--json"], env=cli_env).stdout)
    assert status["files"] == 7 and status["chunks"] == status["with_vectors"] > 10
    assert status["model"] == str(tiny_model)
    assert status["bm25_partitions"] == {"built": 0, "wanted": 0, "out_of_date": 0, "current": False}  # too small
    again = run_cli(["index", str(repo)], env=cli_env)
    assert "0 changed" in again.stderr and "0 new embeddings" in again.stderr


def test_user_errors_are_one_line_without_traceback(repo: Path, tiny_model: Path, cli_env, tmp_path) -> None:
    (tmp_path / "file.txt").write_text("x")
    cases = [
        (["index", str(tmp_path / "missing")], "no such path"),
        (["index", str(tmp_path / "file.txt")], "not a directory"),
        (["query", "  ", "--path", str(repo)], "query is empty"),
        (["query", "retry", "--path", str(repo), "--lang", "klingon"], "unknown language 'klingon'; use one of bash"),
        (["status", str(repo)], "no index"),
    ]
    latin1 = os.fsencode(tmp_path) + b"/caf\xe9"  # a folder named in Latin-1, where the filesystem takes one
    with contextlib.suppress(OSError):
        os.mkdir(latin1)
        cases.append((["index", os.fsdecode(latin1), "--no-embed"], "caf\\xe9 is not UTF-8"))
    for args, message in cases:
        result = run_cli(args, env=cli_env, check=False)
        assert result.returncode != 0 and message in result.stderr and "Traceback" not in result.stderr
    run_cli(["index", str(repo), "--model", str(tiny_model)], env=cli_env)
    other = run_cli(["query", "x", "--path", str(repo), "--model", "small"], env=cli_env, check=False)
    assert other.returncode != 0 and "--rebuild" in other.stderr and "Traceback" not in other.stderr


def test_a_damaged_index_says_so_and_rebuild_starts_it_over(repo: Path, cli_env) -> None:
    run_cli(["index", str(repo), "--no-embed"], env=cli_env)
    database = repo / ".codesearch" / "index.sqlite3"
    for damage in (b"not an index at all " * 1000, database.read_bytes()[:5000]):  # not SQLite; cut short
        database.write_bytes(damage)
        for name in ("index.sqlite3-wal", "index.sqlite3-shm"):
            (repo / ".codesearch" / name).unlink(missing_ok=True)
        for args in (["query", "retry", "--path", str(repo), "--mode", "lexical"], ["index", str(repo)],
                     ["status", str(repo)]):
            result = run_cli(args, env=cli_env, check=False)
            assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
            assert "is damaged" in result.stderr and "codesearch index --rebuild" in result.stderr
        run_cli(["index", str(repo), "--no-embed", "--rebuild"], env=cli_env)
        found = run_cli(["query", "retry failed uploads", "--path", str(repo), "--mode", "lexical", "--json"],
                        env=cli_env)
        assert json_lines(found.stdout)[0]["path"] == "src/payments/retry.py"


def test_damage_inside_the_full_text_index_is_damage() -> None:
    import sqlite3

    from codesearch.errors import is_damage, is_unwritable

    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE words USING fts5(text, content = '')")
    with db:
        db.executemany("INSERT INTO words(rowid, text) VALUES (?, ?)",
                       ((n, f"retry upload {n}") for n in range(20_000)))
    db.execute("UPDATE words_data SET block = randomblob(length(block)) WHERE id > 10")  # its pages, garbled
    with pytest.raises(sqlite3.DatabaseError) as raised:
        db.execute("SELECT COUNT(*) FROM words WHERE words MATCH 'retry'").fetchall()
    assert is_damage(raised.value) and not is_unwritable(raised.value)  # SQLite calls it SQLITE_CORRUPT_VTAB


def test_an_index_without_vectors_takes_the_model_asked_for(repo: Path, tiny_model: Path, cli_env) -> None:
    run_cli(["index", str(repo), "--no-embed"], env=cli_env)  # lexical first: the default model recorded
    run_cli(["index", str(repo), "--model", str(tiny_model)], env=cli_env)  # was "--rebuild"
    status = json.loads(run_cli(["status", str(repo), "--json"], env=cli_env).stdout)
    assert status["model"] == str(tiny_model) and status["with_vectors"] == status["chunks"] > 0
    # once it holds vectors, another model is refused: they would mix
    other = run_cli(["index", str(repo), "--model", "small"], env=cli_env, check=False)
    assert other.returncode != 0 and "--rebuild" in other.stderr


def test_offline_model_falls_back_to_lexical_then_fills_in(repo: Path, tiny_model: Path, cli_env) -> None:
    started = time.monotonic()
    offline = run_cli(["index", str(repo), "--model", "acme/tiny-code"], env=cli_env)
    assert time.monotonic() - started < 30
    assert offline.stderr.count("warning:") == 1 and "acme/tiny-code" in offline.stderr
    hits = json_lines(run_cli(["query", "retry failed uploads", "--json", "--path", str(repo)], env=cli_env).stdout)
    assert hits[0]["symbol"] == "retry_failed_uploads"
    status = json.loads(run_cli(["status", str(repo), "--json"], env=cli_env).stdout)
    assert status["with_vectors"] == 0 and status["chunks"] > 0
    # The model becomes available in the HF cache: the next run embeds everything.
    cache = Path(cli_env["HF_HOME"]) / "hub" / "models--acme--tiny-code"
    shutil.copytree(tiny_model, cache / "snapshots" / "r1")
    (cache / "refs").mkdir()
    (cache / "refs" / "main").write_text("r1")
    run_cli(["index", str(repo)], env=cli_env)
    status = json.loads(run_cli(["status", str(repo), "--json"], env=cli_env).stdout)
    assert status["with_vectors"] == status["chunks"]


def _grow(repo: Path, files: int) -> None:
    for i in range(files):
        functions = "\n\n".join(
            f"def handler_{i}_{j}(request):\n    \"\"\"Handle request kind {i} {j}.\"\"\"\n"
            f"    return request.get('field_{j}', {i * j})" for j in range(12))
        (repo / "src" / f"gen_{i}.py").write_text(functions + "\n")


def _count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as connection:
        return connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_killing_index_midway_keeps_the_last_state_and_resumes(repo: Path, tiny_model: Path, cli_env) -> None:
    run_cli(["index", str(repo), "--model", str(tiny_model)], env=cli_env)
    db = repo / ".codesearch" / "index.sqlite3"
    before = _count(db, "embeddings")
    _grow(repo, 150)
    process = subprocess.Popen([str(EXECUTABLE), "index", str(repo)], env=cli_env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _count(db, "embeddings") == before and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, "indexing finished before it could be killed; grow the repository"
    # While it runs, a second writer is told the index is busy.
    busy = run_cli(["index", str(repo), "--wait", "0"], env=cli_env, check=False)
    assert busy.returncode != 0 and "busy" in busy.stderr
    process.send_signal(signal.SIGKILL)
    process.wait()
    partial = _count(db, "embeddings")
    total_chunks = _count(db, "chunks")
    assert before < partial < before + total_chunks
    # The killed index opens and answers.
    hits = json_lines(run_cli(["query", "handler_7_3", "--json", "--no-refresh", "--path", str(repo)],
                              env=cli_env).stdout)
    assert hits and hits[0]["symbol"] == "handler_7_3"
    resumed = run_cli(["index", str(repo)], env=cli_env)
    new = int(resumed.stderr.split(" new embeddings")[0].rsplit(" ", 1)[-1].replace(",", ""))
    status = json.loads(run_cli(["status", str(repo), "--json"], env=cli_env).stdout)
    assert status["with_vectors"] == status["chunks"]
    assert 0 < new < status["chunks"] - (partial - before) + 1


def test_killing_during_the_chunk_phase_keeps_the_previous_index(repo: Path, tiny_model: Path, cli_env) -> None:
    run_cli(["index", str(repo), "--model", str(tiny_model), "--no-embed"], env=cli_env)
    _grow(repo, 400)
    mark = f"CODESEARCH_TEST_RUN={uuid.uuid4().hex}"  # in the environment of the indexer and its pool
    process = subprocess.Popen([str(EXECUTABLE), "index", str(repo), "--no-embed", "--jobs", "2"],
                               env={**cli_env, **dict([mark.split("=")])},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    helpers = lambda: _marked_processes(mark) - {process.pid}  # noqa: E731
    _wait_until(lambda: len(helpers()) >= 2 or process.poll() is not None, "the parsing pool to start")
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    # the pool's forkserver and workers are not the indexer's children: they end with it all the same
    _wait_until(lambda: not helpers(), "the killed indexer's pool to exit")
    status = json.loads(run_cli(["status", str(repo), "--json"], env=cli_env).stdout)
    assert status["files"] in (7, 407)  # all or nothing, never a half-applied sync
    run_cli(["index", str(repo), "--no-embed"], env=cli_env)
    assert json.loads(run_cli(["status", str(repo), "--json"], env=cli_env).stdout)["files"] == 407


def _marked_processes(mark: str) -> set[int]:
    """Live processes of this user whose environment holds `mark` (NAME=VALUE)."""
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and mark.encode() in (entry / "environ").read_bytes().split(b"\0") \
                    and (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z":
                found.add(int(entry.name))
        except OSError:
            continue
    return found


def _wait_until(condition: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_model_list_and_bench_retrieval(repo: Path, cli_env, tmp_path: Path, tiny_model: Path) -> None:
    listed = run_cli(["model", "list"], env=cli_env).stdout
    assert "Alibaba-NLP/gte-modernbert-base" in listed and "granite-embedding-small-english-r2" in listed
    annotations = tmp_path / "annotations"
    annotations.mkdir()
    (annotations / "shop.json").write_text(json.dumps([
        {"query": "retry failed uploads", "relevant": ["src/payments/retry.py"], "secondary": [],
         "category": "semantic"},
        {"query": "evict least recently used entry", "relevant": [
            {"path": "web/cache.rs", "start_line": 3, "end_line": 8}], "secondary": [], "category": "symbol"},
    ]))
    (annotations / "repos.json").write_text(json.dumps([{"name": "shop", "language": "mixed"}]))
    repos = tmp_path / "repos"
    repos.mkdir()
    shutil.copytree(repo, repos / "shop")
    out, indexes = tmp_path / "results.jsonl", tmp_path / "indexes"
    bench = ["bench", "retrieval", "--annotations", str(annotations), "--repos", str(repos), "--index-root",
             str(indexes)]
    result = run_cli([*bench, "--out", str(out)], env=cli_env)
    assert "NDCG@10 (lexical, mean over 1 repos): 1.0000" in result.stdout
    assert "semantic" in result.stdout and "symbol" in result.stdout and "mixed" in result.stdout
    rows = json_lines(out.read_text())
    assert rows[0]["repo"] == "shop" and rows[0]["hits"][0]["path"] == "src/payments/retry.py"
    assert out.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (repos / "shop" / ".codesearch").exists()  # indexes live apart from the checkouts
    # each query typed wrong (one typo in a long word): the hits hold the queries as typed, and
    # what the code holds is still found
    # (into a folder not made yet: made before the run, not found missing after it)
    typed = run_cli([*bench, "--out", str(tmp_path / "runs" / "typed.jsonl"), "--typos", "3"], env=cli_env)
    queries = [row["query"] for row in json_lines((tmp_path / "runs" / "typed.jsonl").read_text())]
    assert len(queries) == 2 and "retry failed uploads" not in queries and "NDCG@10 (lexical" in typed.stdout

    # several modes side by side, with another model: its own index, no "built with model" refusal
    result = run_cli([*bench, "--out", str(out), "--mode", "lexical", "--mode", "hybrid", "--model",
                      str(tiny_model)], env=cli_env)
    assert "NDCG@10 (hybrid, mean over 1 repos)" in result.stdout, result.stdout + result.stderr
    assert json_lines((tmp_path / "results-hybrid.jsonl").read_text())[0]["repo"] == "shop"
    assert (tmp_path / "results-lexical.jsonl").exists()
    assert len(list(indexes.iterdir())) == 2  # one folder per model

    # what a user can get wrong is said before any index is built, not found after the run
    wrong = run_cli([*bench, "--only", "shops"], env=cli_env, check=False)
    assert wrong.returncode != 0 and "no annotations for shops" in wrong.stderr and "one of shop" in wrong.stderr
    elsewhere = run_cli(["bench", "retrieval", "--annotations", str(annotations), "--repos", str(tmp_path)],
                        env=cli_env, check=False)
    assert elsewhere.returncode != 0 and "none of the 1 annotated repositories" in elsewhere.stderr
    (tmp_path / "taken").write_text("a file, not a folder")
    unwritable = run_cli([*bench, "--out", str(tmp_path / "taken" / "hits.jsonl")], env=cli_env, check=False)
    assert unwritable.returncode != 0 and "cannot write" in unwritable.stderr
    assert "Traceback" not in wrong.stderr + elsewhere.stderr + unwritable.stderr


def test_bench_encoder_compares_the_fast_path_with_both_baselines(repo: Path, tiny_model: Path, cli_env) -> None:
    result = run_cli(["bench", "encoder", "--model", str(tiny_model), "--repo", str(repo), "--limit", "12",
                      "--runs", "1", "--dtype", "float32"], env=cli_env)
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()
            if line.split() and line.split()[0] in ("fast", "padded", "st")}
    assert set(rows) == {"fast", "padded", "st"}, result.stdout + result.stderr
    for variant in ("padded", "st"):
        speedup, cosine = rows[variant][6], rows[variant][7]
        assert speedup.endswith("x") and float(cosine) >= 0.9999  # same weights, same vectors
    assert "tokens    " in result.stdout and "12 chunks" in result.stdout


def test_bench_index_prints_speed_size_memory_and_query_latency(repo: Path, cli_env, tmp_path: Path) -> None:
    result = run_cli(["bench", "index", str(repo), "--queries", "6", "--jobs", "2"], env=cli_env)
    out = result.stdout
    assert "7 files" in out and "chunks/s" in out and "MB/s" in out, out + result.stderr
    ratio = float(out.split("x the source")[0].rsplit("=", 1)[1])
    assert ratio > 0  # (a tiny repository: SQLite's pages dwarf its 7 files)
    assert int(out.split("peak memory ")[1].split(" MB")[0].replace(",", "")) > 10
    assert "lexical query in process over 6 queries" in out and "p99" in out
    assert not (repo / ".codesearch").exists()  # the benchmark's index was temporary

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    refused = run_cli(["bench", "index", str(repo), "--index-dir", str(busy)], env=cli_env, check=False)
    assert refused.returncode != 0 and "not empty" in refused.stderr
    assert (busy / "keep.txt").read_text() == "mine"  # nothing of the user's is touched
