"""An index written by an earlier format of codesearch is read as it is and upgraded by its first write.

`fixtures/format1/index.sqlite3` is format 1, written by codesearch at 367ea1d (`codesearch index
tests/fixtures/format1/repo --no-embed`), when words outside ASCII were not indexed.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from codesearch.indexer import CHUNKER_VERSION
from codesearch.indexer.sync import sync_chunks, worker_pool
from conftest import run_cli

import codesearch.partitions as partitions_module
from codesearch.index import CodeIndex
from codesearch.lexical import query_terms
from codesearch.paths import DB_NAME
from codesearch.search import search
from codesearch.store import FORMAT_VERSION, Store

FIXTURE = Path(__file__).parent / "fixtures" / "format1"


@pytest.fixture
def format_1(tmp_path: Path) -> tuple[Path, Path]:
    """The fixture's repository and its format 1 index, copied, the index as if built there."""
    root, index_dir = tmp_path / "repo", tmp_path / "index"
    shutil.copytree(FIXTURE / "repo", root)
    index_dir.mkdir()
    shutil.copy(FIXTURE / "index.sqlite3", index_dir / DB_NAME)
    with sqlite3.connect(index_dir / DB_NAME) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'root'", (str(root),))
        # chunked by this chunker (a later version chunks every file again: not what is tested here)
        db.execute("UPDATE meta SET value = ? WHERE key = 'chunker_version'", (str(CHUNKER_VERSION),))
    return root, index_dir


def symbols(store: Store, query: str) -> list[str]:
    return [r.chunk.symbol or r.chunk.path for r in search(store, query, mode="lexical", k=5)]


def fts_terms(store: Store) -> set[str]:
    store.connection.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.terms USING fts5vocab(main, chunks_fts, 'row')")
    return {term for term, in store.connection.execute("SELECT term FROM temp.terms")}


def test_a_format_1_index_is_read_as_it_is(format_1: tuple[Path, Path]) -> None:
    root, index_dir = format_1
    store = CodeIndex.open(root, index_dir).store
    assert store.get_meta("format_version") == "1"
    assert symbols(store, "retry login")[:1] == ["retry_login"]
    assert symbols(store, "登录失败") == []  # format 1 left out the words outside ASCII ...
    assert store.get_meta("format_version") == "1"  # ... and a reader changes nothing


def test_the_first_write_upgrades_a_format_1_index_in_place(format_1: tuple[Path, Path], monkeypatch) -> None:
    monkeypatch.setattr(partitions_module, "PARTITION_ROWS", 4)
    monkeypatch.setattr(partitions_module, "MIN_ROWS", 4)
    root, index_dir = format_1
    store = CodeIndex.open(root, index_dir, create=True).store
    summary = sync_chunks(store, root, max_file_bytes=1_000_000)
    assert summary.changed == 0 and store.get_meta("format_version") == str(FORMAT_VERSION)
    assert symbols(store, "größe berechnen")[:1] == ["größe_berechnen"]
    assert symbols(store, "Mehrwertsteuer auf einen Nettobetrag")[:1] == ["mehrwertsteuer"]
    assert symbols(store, "登录失败")[:1] == ["retry_login"]  # a word inside a sentence, by its bigrams
    assert symbols(store, "überblick")[:1] == ["docs/überblick.md"]  # a path's words
    partitions_module.refresh(store, 1, worker_pool)
    assert store._partitions() is not None
    for query in ("größe", "登录失败", "retry login", "Überweisung Lastschrift"):
        terms = query_terms(query)
        ours = store.lexical_search(terms, 20)
        with monkeypatch.context() as patch:
            patch.setattr(Store, "_partitions", lambda self: None)
            theirs = store.lexical_search(terms, 20)
        assert ours and [i for i, _ in ours] == [i for i, _ in theirs], query  # the partitions agree with FTS5
        assert [s for _, s in ours] == pytest.approx([s for _, s in theirs], rel=1e-6), query
    # every row, upgraded or not, is deleted with exactly the terms it holds: none is left behind
    with store.transaction():
        for path in list(store.file_states()):
            store.remove_file(path)
    assert fts_terms(store) == set()


def test_status_says_a_format_1_index_is_upgraded_by_its_next_update(format_1: tuple[Path, Path], cli_env) -> None:
    root, index_dir = format_1
    status = ["status", str(root), "--index-dir", str(index_dir)]
    assert "format 1: words outside ASCII are indexed by its next update" in run_cli(status, env=cli_env).stdout
    run_cli(["index", str(root), "--index-dir", str(index_dir), "--no-embed"], env=cli_env)
    assert "words outside ASCII" not in run_cli(status, env=cli_env).stdout
    assert json.loads(run_cli([*status, "--json"], env=cli_env).stdout)["format"] == FORMAT_VERSION


def test_an_index_of_an_unknown_format_is_refused(format_1: tuple[Path, Path]) -> None:
    root, index_dir = format_1
    with sqlite3.connect(index_dir / DB_NAME) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'format_version'")
    with pytest.raises(Exception, match="has format 99.*--rebuild"):
        CodeIndex.open(root, index_dir)
