"""Incremental sync with a fake encoder: nothing is embedded twice."""

from __future__ import annotations

import shutil
from pathlib import Path

import codesearch.indexer.sync as sync_module
import pytest
from codesearch.indexer.sync import embed_missing, sync_chunks

import codesearch.store as store_module
from codesearch.index import CodeIndex, index_dir_for
from codesearch.render import summary_line
from codesearch.search import search
from codesearch.store import SYNC_CACHE_KIB


def open_index(root: Path) -> CodeIndex:
    return CodeIndex.open(root, index_dir_for(root), create=True, model_id="fake/encoder")


def run(index: CodeIndex, root: Path, encoder):
    summary = sync_chunks(index.store, root, max_file_bytes=1_000_000)
    embedded, missing = embed_missing(index.store, encoder)
    return summary, embedded, missing


def test_second_run_reads_and_embeds_nothing(repo: Path, fake_encoder) -> None:
    index = open_index(repo)
    first, embedded, missing = run(index, repo, fake_encoder)
    assert first.changed == 7 and embedded > 10 and missing == 0
    second, embedded_again, _ = run(index, repo, fake_encoder)
    assert (second.changed, second.removed, embedded_again) == (0, 0, 0)


def test_rename_duplicate_move_and_branch_switch_embed_nothing_new(repo: Path, fake_encoder) -> None:
    index = open_index(repo)
    run(index, repo, fake_encoder)
    # Rename a file and duplicate another.
    (repo / "src/payments/retry.py").rename(repo / "src/payments/retrying.py")
    shutil.copy(repo / "web/router.go", repo / "web/router_copy.go")
    summary, embedded, _ = run(index, repo, fake_encoder)
    assert (summary.changed, summary.removed, embedded) == (2, 1, 0)
    # Move a function to another file.
    invoice = repo / "src/payments/invoice.py"
    original = invoice.read_text()
    (repo / "src/payments/helpers.py").write_text(
        original[original.index("@dataclass"):original.index("class Invoice")])
    invoice.write_text(original.replace(original[original.index("@dataclass"):original.index("class Invoice")], ""))
    _, embedded, _ = run(index, repo, fake_encoder)
    assert embedded <= 1  # only the shrunken module chunk of invoice.py is new
    # A branch switch and back: the old content's vectors are still cached.
    invoice.write_text(original)
    (repo / "src/payments/helpers.py").unlink()
    _, embedded, _ = run(index, repo, fake_encoder)
    assert embedded == 0


def test_changed_file_is_searchable_and_deleted_file_is_gone(repo: Path, fake_encoder) -> None:
    index = open_index(repo)
    run(index, repo, fake_encoder)
    (repo / "web/extra.py").write_text("def compute_shipping_cost(weight):\n    return weight * 3\n")
    (repo / "web/cache.rs").unlink()
    summary, embedded, _ = run(index, repo, fake_encoder)
    assert (summary.changed, summary.removed) == (1, 1) and embedded == 1
    top = search(index.store, "shipping cost", mode="lexical", k=3)
    assert top[0].chunk.symbol == "compute_shipping_cost"
    assert not search(index.store, "LruCache evicts", mode="lexical", k=10, glob="*.rs")


def test_binary_and_invalid_utf8_files(repo: Path, fake_encoder) -> None:
    (repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    # an Illustrator file: a PDF, text at first, with no NUL byte early on
    (repo / "logo.ai").write_bytes(b"%PDF-1.5\r%\xe2\xe3\xcf\xd3\n1 0 obj\n<</Metadata 2 0 R>>\n" + b"\x9f\xd2x" * 4000)
    (repo / "latin1.py").write_bytes(b"def caf\xe9():\n    return 'na\xefve'\n")
    index = open_index(repo)
    summary, _, _ = run(index, repo, fake_encoder)
    assert summary.skipped == {"binary": 2}
    # indexed all the same, and said so apart from the files left out
    assert summary.warned == {"invalid UTF-8 (decoded with replacement)": 1}
    line = summary_line(summary)
    assert "skipped 2 (binary: 2)" in line and "indexed with a warning 1 (invalid UTF-8" in line
    assert any(r.chunk.path == "latin1.py" for r in search(index.store, "return", mode="lexical", k=20))


def test_names_that_are_not_utf8_are_skipped_and_counted_and_the_rest_indexed(repo: Path, fake_encoder) -> None:
    import os

    latin1 = os.fsencode(repo / "src") + b"/caf\xe9.py"  # Latin-1 names, as old archives hold them
    folder = os.fsencode(repo / "src") + b"/l\xe4ndisch"
    try:
        with open(latin1, "w") as file:
            file.write("def cafe_latin1_name():\n    return 1\n")
        os.mkdir(folder)
    except OSError:  # a filesystem that only takes UTF-8 names (macOS) cannot hold the case
        pytest.skip("this filesystem refuses names that are not UTF-8")
    with open(folder + b"/mod.py", "w") as file:
        file.write("def inside_latin1_folder():\n    return 2\n")
    (repo / "src" / "größe.py").write_text("def unicode_name_ok():\n    return 3\n")
    index = open_index(repo)
    summary, _, _ = run(index, repo, fake_encoder)
    assert summary.skipped["name not UTF-8"] == 2  # the file, and the folder with all it holds
    assert search(index.store, "unicode_name_ok", mode="lexical", k=1)[0].chunk.path == "src/größe.py"
    assert search(index.store, "retry failed uploads", mode="lexical", k=1)[0].chunk.path == "src/payments/retry.py"


def test_a_full_disk_says_so_and_leaves_the_last_commit(repo: Path, fake_encoder) -> None:
    from codesearch.errors import IndexUnwritable

    index = open_index(repo)
    run(index, repo, fake_encoder)
    db = index.store.connection
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")  # as a full disk would: SQLite cannot grow the file
    for n in range(200):
        (repo / "src" / f"added_{n}.py").write_text(f"def added_function_{n}(x):\n    return x * {n}\n" * 20)
    with pytest.raises(IndexUnwritable, match=r"cannot be written \(database or disk is full\); free disk space"):
        sync_chunks(index.store, repo, max_file_bytes=1_000_000)
    assert not db.in_transaction  # rolled back: the connection still answers, from the last commit
    assert search(index.store, "retry failed uploads", mode="lexical", k=1)[0].chunk.path == "src/payments/retry.py"
    assert not search(index.store, "added_function_7", mode="lexical", k=1, glob="src/added_*")
    db.execute(f"PRAGMA max_page_count = {pages * 1000}")  # space again: the next sync lands
    sync_chunks(index.store, repo, max_file_bytes=1_000_000)
    assert search(index.store, "added_function_7", mode="lexical", k=1)[0].chunk.path == "src/added_7.py"


def test_a_notebook_is_searched_by_its_cells_and_its_plots_do_not_hide_it(repo: Path, fake_encoder) -> None:
    import json

    plot = {"data": {"image/png": "iVBORw0KGgo" * 50_000}, "metadata": {}, "output_type": "display_data"}
    cells = [{"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [plot],
              "source": ["def quarterly_churn_rate(customers):\n", "    return sum(c.left for c in customers)\n"]}]
    notebook = {"cells": cells, "metadata": {"kernelspec": {"language": "python", "name": "python3"}},
                "nbformat": 4, "nbformat_minor": 5}
    (repo / "analysis.ipynb").write_text(json.dumps(notebook, indent=1, sort_keys=True))
    (repo / "broken.ipynb").write_text('{"cells": [')
    index = open_index(repo)
    summary, _, _ = run(index, repo, fake_encoder)
    assert summary.skipped == {"notebook it cannot read": 1}  # not "minified"
    found = search(index.store, "quarterly churn rate", mode="lexical", k=1)[0].chunk
    assert (found.path, found.symbol, found.language) == ("analysis.ipynb", "quarterly_churn_rate", "python")
    assert (repo / "analysis.ipynb").read_text().split("\n")[found.start_line - 1].strip().startswith('"def quarterly')


def _rows(index: CodeIndex) -> list[tuple]:
    db = index.store._db
    chunks = db.execute("SELECT c.id, f.path, f.sha, f.language, c.symbol, c.kind, c.start_line, c.end_line, "
                        "c.content_hash FROM chunks c JOIN files f ON f.id = c.file_id ORDER BY c.id").fetchall()
    fts = db.execute("SELECT rowid, bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH "
                     "'handler OR request OR field OR retry OR cache OR def OR return' ORDER BY rowid").fetchall()
    return chunks + fts


def test_a_process_pool_builds_the_same_index_row_for_row(repo: Path, tmp_path: Path, monkeypatch) -> None:
    import codesearch.indexer.sync as sync

    for i in range(30):
        (repo / "src" / f"gen_{i}.py").write_text(
            "\n\n".join(f"def handler_{i}_{j}(request):\n    return request.get('field_{j}')" for j in range(5)))
    (repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (repo / "latin1.py").write_bytes(b"def caf\xe9():\n    return 'na\xefve'\n")
    (repo / "bundle.js").write_text("var a=1;" * 20_000)  # one long line: minified
    monkeypatch.setattr(sync, "PARALLEL_MIN_FILES", 1)  # a pool even for this small tree
    built = {}
    for jobs in (1, 2):
        index = CodeIndex.open(repo, tmp_path / f"jobs-{jobs}", create=True, model_id="fake/encoder")
        summary = sync_chunks(index.store, repo, max_file_bytes=1_000_000, jobs=jobs, commit_every=8)
        built[jobs] = (summary.changed, dict(summary.skipped), _rows(index),
                       search(index.store, "handler request field", mode="lexical", k=10))
        again = sync_chunks(index.store, repo, max_file_bytes=1_000_000, jobs=jobs)
        assert (again.changed, again.removed) == (0, 0)  # nothing re-read on the second run
        index.close()
    assert built[1][0] == built[2][0] == 38
    assert built[1][1] == built[2][1] and built[2][1]["binary"] == 1 and built[2][1]["minified"] == 1
    assert built[1][2] == built[2][2]  # the same chunks, ids and FTS5 rows and scores
    assert [(r.chunk.path, r.chunk.start_line, r.score) for r in built[1][3]] == \
           [(r.chunk.path, r.chunk.start_line, r.score) for r in built[2][3]]  # the same BM25 scores


def test_the_lexical_index_stores_no_second_copy_and_stays_consistent_through_edits(repo: Path) -> None:
    index = open_index(repo)
    sync_chunks(index.store, repo, max_file_bytes=1_000_000)
    db = index.store._db
    assert db.execute("SELECT path_terms, body_terms FROM chunks_fts LIMIT 1").fetchone() == (None, None)
    retry = repo / "src/payments/retry.py"
    original = retry.read_text()
    for round_ in range(3):  # each edit deletes the file's old rows with their recomputed terms
        retry.write_text(original.replace("retry_failed_uploads", f"resend_batch_{round_}"))
        sync_chunks(index.store, repo, max_file_bytes=1_000_000)
    db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('integrity-check')")  # raises if rows went astray
    def rows(term: str) -> int:
        return db.execute("SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH ?", (f'"{term}"',)).fetchone()[0]

    def holding(term: str) -> int:  # the chunks that contain the term, by the chunks table
        return db.execute("SELECT COUNT(*) FROM chunks WHERE text LIKE ?", (f"%{term}%",)).fetchone()[0]

    for term in ("retry_failed_uploads", "resend_batch_0", "resend_batch_2"):  # the old terms are gone
        assert rows(term) == holding(term), term
    assert rows("resend_batch_0") == 0 and rows("resend_batch_2") == 1
    assert search(index.store, "resend_batch_2", mode="lexical", k=1)[0].chunk.path == "src/payments/retry.py"


def test_an_index_from_before_contentless_fts_keeps_working_and_rebuild_converts_it(repo: Path) -> None:
    from codesearch.index import rebuild
    from codesearch.store import FTS_TABLE

    index = open_index(repo)
    db = index.store._db
    with index.store.transaction():  # what an older codesearch created
        db.execute("DROP TABLE chunks_fts")
        db.execute(FTS_TABLE.replace("content = '', ", ""))
    index.close()
    index = open_index(repo)
    sync_chunks(index.store, repo, max_file_bytes=1_000_000)
    (repo / "web/cache.rs").unlink()
    sync_chunks(index.store, repo, max_file_bytes=1_000_000)  # a removal on the old table
    assert not search(index.store, "LruCache evicts", mode="lexical", k=10, glob="*.rs")
    index.close()
    rebuild(repo, index_dir_for(repo), "fake/encoder")
    index = open_index(repo)
    sync_chunks(index.store, repo, max_file_bytes=1_000_000)
    table = index.store._db.execute("SELECT sql FROM sqlite_master WHERE name = 'chunks_fts'").fetchone()[0]
    assert "content = ''" in table
    assert search(index.store, "retry failed uploads", mode="lexical", k=1)[0].chunk.symbol == "retry_failed_uploads"


def test_what_the_store_keeps_between_queries_is_never_stale_nor_short(repo: Path, fake_encoder,
                                                                        monkeypatch) -> None:
    import codesearch.store as store_module

    index = open_index(repo)
    sync_chunks(index.store, repo, max_file_bytes=1_000_000)
    store = index.store
    ids = [i for i, _ in store.lexical_search(["def", "func", "return"], 500)]
    assert len(ids) > 6
    first = store.chunks_by_id(ids)
    assert store.chunks_by_id(ids) == first  # kept: the same answer from memory
    monkeypatch.setattr(store_module, "KEPT_CHUNKS", 4)  # overflow: what is kept is dropped, not lost
    assert store.chunks_by_id(ids) == first and store.chunks_by_id(ids[:3]) == {i: first[i] for i in ids[:3]}
    hashes = [c.content_hash for c in first.values()]
    assert store.hashes_with_vectors("fake/encoder", hashes) == set()
    embed_missing(store, fake_encoder)  # a write: nothing kept before it is believed after it
    assert store.hashes_with_vectors("fake/encoder", hashes) == set(hashes)
    (repo / "web/router.go").write_text("package web\n\nfunc Rewritten() {}\n")
    sync_chunks(store, repo, max_file_bytes=1_000_000)
    fresh = store_module.Store.open(index_dir_for(repo))  # a new connection: nothing kept
    assert store.chunks_by_id(ids) == fresh.chunks_by_id(ids) != first
    fresh.close()


def test_the_chunks_a_vector_index_lacks_are_those_dense_search_cannot_rank(repo: Path, fake_encoder) -> None:
    from codesearch.search import unembedded
    from codesearch.vectors import VectorIndex

    index = open_index(repo)
    run(index, repo, fake_encoder)
    store = index.store
    loaded = VectorIndex.load(store, "fake/encoder")
    (repo / "web/late.go").write_text("package web\n\nfunc LateArrival() int {\n\treturn 1\n}\n")
    sync_chunks(store, repo, max_file_bytes=1_000_000)  # chunked, not embedded
    chunks = store.chunks_by_id(i for i, _ in store.lexical_search(["func", "def", "latearriv"], 500))
    late = {i for i, c in chunks.items() if c.path == "web/late.go"}
    assert late and len(chunks) > len(late)
    assert unembedded(store, "fake/encoder", chunks) == late  # the database's answer
    assert unembedded(store, "fake/encoder", chunks, vectors=VectorIndex.load(store, "fake/encoder")) == late
    embed_missing(store, fake_encoder)
    assert unembedded(store, "fake/encoder", chunks) == set()
    # an index loaded before the vectors were written cannot rank the new chunk: dense abstains
    assert unembedded(store, "fake/encoder", chunks, vectors=loaded) == late
    assert unembedded(store, "fake/encoder", chunks, vectors=VectorIndex.load(store, "fake/encoder")) == set()


def test_a_sync_writes_with_a_large_page_cache_and_gives_it_back(repo: Path, monkeypatch) -> None:
    index = open_index(repo)
    connection = index.store.connection
    before = connection.execute("PRAGMA cache_size").fetchone()[0]
    during, returned = [], []
    monkeypatch.setattr(store_module, "_return_freed_memory", lambda: returned.append(True))
    apply = sync_module._apply
    monkeypatch.setattr(sync_module, "_apply", lambda *args: during.append(
        connection.execute("PRAGMA cache_size").fetchone()[0]) or apply(*args))
    sync_chunks(index.store, repo, max_file_bytes=1_000_000)
    assert len(during) == 7 and set(during) == {-SYNC_CACHE_KIB}  # every file's write, in KiB
    assert connection.execute("PRAGMA cache_size").fetchone()[0] == before  # a server keeps no more
    assert returned == [True]  # and the freed pages go back to the system
    (repo / "web/extra.py").write_text("def extra():\n    return 1\n")
    monkeypatch.setattr(index.store, "bump_generation", lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):  # a sync that fails gives it back too
        sync_chunks(index.store, repo, max_file_bytes=1_000_000)
    assert connection.execute("PRAGMA cache_size").fetchone()[0] == before and len(returned) == 2


def test_an_index_chunked_by_another_chunker_version_is_chunked_again_on_its_next_sync(
        repo: Path, fake_encoder, monkeypatch) -> None:
    import codesearch.indexer.chunker as chunker_module
    from codesearch.indexer import CHUNKER_VERSION

    real_chunk_source = chunker_module.chunk_source

    def older_chunker(text: str, path: str, language: str):  # one that made nothing of Go
        return [] if language == "go" else real_chunk_source(text, path, language)

    monkeypatch.setattr(chunker_module, "chunk_source", older_chunker)
    index = open_index(repo)
    run(index, repo, fake_encoder)
    with index.store.transaction():
        index.store.set_meta("chunker_version", str(CHUNKER_VERSION - 1))
    index.close()
    monkeypatch.setattr(chunker_module, "chunk_source", real_chunk_source)

    index = open_index(repo)  # still readable: queries keep working until the sync
    assert not search(index.store, "Router.ServeHTTP", mode="lexical", k=1)
    summary, embedded, missing = run(index, repo, fake_encoder)
    go_chunks = len(real_chunk_source((repo / "web/router.go").read_text(), "web/router.go", "go"))
    assert summary.changed == 7 and embedded == go_chunks and missing == 0  # the rest stayed cached
    assert index.store.get_meta("chunker_version") == str(CHUNKER_VERSION)
    assert search(index.store, "Router.ServeHTTP", mode="lexical", k=1)[0].chunk.path == "web/router.go"
    again, embedded_again, _ = run(index, repo, fake_encoder)
    assert (again.changed, embedded_again) == (0, 0)
