"""A large index's BM25 partitions score exactly as FTS5, and follow every change to the chunks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from codesearch.indexer.sync import sync_chunks, worker_pool

import codesearch.partitions as partitions_module
from codesearch.index import CodeIndex, index_dir_for
from codesearch.lexical import query_terms
from codesearch.partitions import STEMMER, refresh
from codesearch.store import Store

QUERIES = ["retry failed uploads", "payment invoice total", "router handler", "cache get", "def return self",
           "parse config", "shipping cost weight", "connection error", "retries retrying retry"]  # one stem, 3 terms
EXTRA = "def compute_shipping_cost(weight):\n    return weight * 3\n"


@pytest.fixture(autouse=True)
def small_partitions(monkeypatch) -> None:
    """The fixture repository (25 chunks) as a large index: partitions of 4 chunk ids, whose
    postings rows a query reads 3 at a time (a large tree's 500), so a stem takes several reads."""
    monkeypatch.setattr(partitions_module, "PARTITION_ROWS", 4)
    monkeypatch.setattr(partitions_module, "ROWS_READ", 3)
    monkeypatch.setattr(partitions_module, "MIN_ROWS", 10)


def synced(store: Store, root: Path, jobs: int = 1) -> Store:
    """A sync, then a refresh of the partitions, as a live index does."""
    sync_chunks(store, root, max_file_bytes=1_000_000, jobs=jobs)
    refresh(store, jobs, worker_pool)
    return store


def indexed(root: Path, jobs: int = 1) -> Store:
    return synced(CodeIndex.open(root, index_dir_for(root), create=True, model_id="fake/encoder").store, root, jobs)


def from_fts5(store: Store, terms: list[str], monkeypatch) -> list[tuple[int, float]]:
    with monkeypatch.context() as patch:
        patch.setattr(Store, "_partitions", lambda self: None)
        return store.lexical_search(terms, 300)


def assert_same_as_fts5(store: Store, monkeypatch) -> None:
    found = store._partitions()
    assert found is not None  # the partitions answer ...
    for query in QUERIES:
        terms = query_terms(query)
        ours, theirs = store.lexical_search(terms, 300), from_fts5(store, terms, monkeypatch)
        assert [i for i, _ in ours] == [i for i, _ in theirs], query  # ... as FTS5 does
        assert [s for _, s in ours] == pytest.approx([s for _, s in theirs], rel=1e-6), query
    terms = sorted({t for q in QUERIES for t in query_terms(q)})
    assert found.frequencies(terms) == {t: store.document_count(f'"{t}"') for t in terms}


def test_stems_are_fts5s() -> None:
    assert STEMMER.stems(["running", "parses", "connection", "parse_config", "x"]) == [
        "run", "pars", "connect", "parse_config", "x"]


def test_partitions_score_as_fts5_after_every_kind_of_change(repo: Path, monkeypatch) -> None:
    store = indexed(repo)
    assert_same_as_fts5(store, monkeypatch)
    built = []
    original = partitions_module.build_partition
    monkeypatch.setattr(partitions_module, "build_partition", lambda *args: built.append(args[1]) or original(*args))
    retry = repo / "src/payments/retry.py"
    retry.write_text(retry.read_text() + "\n\ndef retry_connection_error(error):\n    return error.retry()\n")
    synced(store, repo)
    highest = store.connection.execute("SELECT MAX(id) FROM chunks").fetchone()[0]
    assert len(built) <= 3 and highest // 4 in built  # the edited file's old and new partitions only
    assert_same_as_fts5(store, monkeypatch)
    (repo / "web/extra.py").write_text(EXTRA)
    (repo / "web/cache.rs").unlink()
    (repo / "web/router.go").rename(repo / "web/routing.go")
    synced(store, repo)
    assert_same_as_fts5(store, monkeypatch)


def test_dirty_partitions_leave_the_answer_to_fts5(repo: Path, monkeypatch) -> None:
    store = indexed(repo)
    built = partitions_module.describe(store)
    assert built["current"] and built["built"] == built["wanted"] > 1 and built["out_of_date"] == 0
    expected = {q: from_fts5(store, query_terms(q), monkeypatch) for q in QUERIES}
    with store.transaction():  # a write whose partitions are not refreshed yet
        store.remove_file("web/cache.rs")
    assert store.connection.execute("SELECT COUNT(*) FROM partitions_dirty").fetchone()[0] > 0
    assert store._partitions() is None
    assert partitions_module.describe(store)["out_of_date"] > 0 and not partitions_module.describe(store)["current"]
    after = {q: store.lexical_search(query_terms(q), 300) for q in QUERIES}
    assert after == {q: from_fts5(store, query_terms(q), monkeypatch) for q in QUERIES}
    assert after != expected  # the removed file's chunks are gone from the answers


def test_an_index_below_the_threshold_drops_its_partitions(repo: Path, monkeypatch) -> None:
    store = indexed(repo)
    assert store.keeps_partitions()
    monkeypatch.setattr(partitions_module, "MIN_ROWS", 1_000)
    (repo / "web/cache.rs").unlink()
    synced(store, repo)
    assert not store.keeps_partitions()
    assert store.connection.execute("SELECT COUNT(*) FROM partitions_dirty").fetchone()[0] == 0
    assert store._partitions() is None and store.lexical_search(["retry"], 10)


def test_partitions_laid_out_another_way_are_never_read_and_built_again(repo: Path, monkeypatch) -> None:
    store = indexed(repo)
    count = store.connection.execute("SELECT COUNT(*) FROM partitions").fetchone()[0]
    with store.transaction():  # as an earlier version, with other buckets, left them
        store.set_meta(partitions_module.LAYOUT_KEY, "4 ids, 8-bit buckets")
    assert store._partitions() is None  # read with this version's buckets, they would find nothing
    assert store.lexical_search(["retry"], 10) == from_fts5(store, ["retry"], monkeypatch) != []
    assert refresh(store, 1, worker_pool) == count  # every one again
    assert store.get_meta(partitions_module.LAYOUT_KEY) == partitions_module.layout()
    assert_same_as_fts5(store, monkeypatch)


def test_a_refresh_told_to_stop_leaves_the_rest_to_the_next(repo: Path, monkeypatch) -> None:
    monkeypatch.setattr(partitions_module, "MIN_ROWS", 1_000)  # the first refresh builds none
    store = indexed(repo)
    assert store.get_meta(partitions_module.LAYOUT_KEY) is None  # and writes nothing
    monkeypatch.setattr(partitions_module, "MIN_ROWS", 10)
    assert refresh(store, 1, worker_pool, should_stop=lambda: True) == 1  # one, then it stops
    assert store._partitions() is None  # not all built: FTS5 answers
    assert refresh(store, 1, worker_pool) > 0
    assert_same_as_fts5(store, monkeypatch)


def test_a_write_during_a_build_leaves_its_partition_dirty(repo: Path, monkeypatch) -> None:
    store = indexed(repo)
    other = Store.open(store.index_dir)  # another writer, e.g. `codesearch index` beside the server
    (repo / "web/extra.py").write_text(EXTRA)
    sync_chunks(store, repo, max_file_bytes=1_000_000)
    original = partitions_module.build_partition

    def build_then_write(*args):
        built = original(*args)
        with other.transaction():  # lands after the build read the chunks, before it is written
            other.remove_file("web/extra.py")
        return built

    monkeypatch.setattr(partitions_module, "build_partition", build_then_write)
    refresh(store, 1, worker_pool)
    assert store._partitions() is None  # what was written is not the chunks' state: still dirty
    monkeypatch.setattr(partitions_module, "build_partition", original)
    refresh(store, 1, worker_pool)
    assert_same_as_fts5(store, monkeypatch)
    other.close()


def test_indexing_keeps_existing_partitions_in_step_and_makes_none(repo: Path, monkeypatch) -> None:
    from codesearch.indexing import IndexOptions, open_index, update_index

    options = IndexOptions.create(repo)
    index = open_index(options, create=True)
    update_index(index, options, embed=False)
    assert not index.store.keeps_partitions()  # `codesearch index` stays as fast as it was
    refresh(index.store, 1, worker_pool)  # as a live index does
    (repo / "web/extra.py").write_text(EXTRA)
    update_index(index, options, embed=False)
    assert_same_as_fts5(index.store, monkeypatch)  # rebuilt where the file's chunks went


@pytest.mark.slow
def test_worker_processes_build_the_same_partitions(repo: Path, tmp_path: Path, monkeypatch) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(repo, copy)
    alone, pooled = indexed(repo), indexed(copy, jobs=2)
    for rows in ("SELECT * FROM partitions ORDER BY number", "SELECT * FROM partition_postings ORDER BY key"):
        assert alone.connection.execute(rows).fetchall() == pooled.connection.execute(rows).fetchall()
    assert_same_as_fts5(pooled, monkeypatch)


def test_a_write_marks_each_partition_once_with_a_new_version(repo: Path) -> None:
    store = indexed(repo)
    before = store.connection.execute("SELECT COALESCE(MAX(version), 0) FROM partitions_dirty").fetchone()[0]
    old = {number for (number,) in store.connection.execute(
        f"SELECT DISTINCT id / {partitions_module.PARTITION_ROWS} FROM chunks")}
    marks: list[str] = []
    store.connection.set_trace_callback(lambda sql: marks.append(sql) if "INTO partitions_dirty" in sql else None)
    for path in repo.rglob("*.py"):  # several files a partition: each file's old and new chunks
        path.write_text(path.read_text() + "\n\ndef added_later():\n    return 1\n")
    sync_chunks(store, repo, max_file_bytes=1_000_000)
    store.connection.set_trace_callback(None)
    dirty = dict(store.connection.execute("SELECT number, version FROM partitions_dirty"))
    new = {number for (number,) in store.connection.execute(
        f"SELECT DISTINCT id / {partitions_module.PARTITION_ROWS} FROM chunks WHERE file_id IN "
        "(SELECT id FROM files WHERE path LIKE '%.py')")}
    assert new <= dirty.keys() and dirty.keys() - new <= old  # the partitions written to, all of them
    # one row statement a partition, never a second one: a statement that writes several rows
    # makes FTS5 write out the terms it holds, and marking each file's partitions that way made
    # FTS5 write one small segment a file
    assert len(marks) == len(dirty)
    assert min(dirty.values()) > before  # newer than any a refresh may have read before
