"""The live index: the watcher keeps it current, readers see whole states, buffers overlay files."""

from __future__ import annotations

import gc
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from codesearch.indexer import watch
from codesearch.indexer.sync import sync_chunks
from conftest import FakeEncoder

import codesearch.search as search_module
from codesearch.indexing import IndexOptions
from codesearch.lexical import query_terms
from codesearch.live import LiveIndex
from codesearch.store import Store


def wait_for(predicate: Callable[[], object], timeout: float = 15.0) -> None:
    """Poll until `predicate` is truthy; fail with a clear message after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {predicate.__doc__ or predicate}"
        time.sleep(0.05)


class Recorder:
    """A listener that keeps what the live index says."""

    def __init__(self) -> None:
        self.logs: list[str] = []
        self.warnings: list[str] = []
        self.events: list[tuple[str, int, int]] = []

    def log(self, message: str) -> None:
        self.logs.append(message)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def progress(self, task: str, done: int, total: int) -> None:
        self.events.append((task, done, total))


@pytest.fixture
def live(repo: Path, tmp_path: Path) -> Iterator[tuple[LiveIndex, Recorder, FakeEncoder]]:
    options = IndexOptions.create(repo, index_dir=str(tmp_path / "index"), model="fake/encoder")
    encoder = FakeEncoder()
    options._encoders["fake/encoder"] = encoder
    recorder = Recorder()
    index = LiveIndex(options, recorder).start()
    index.ready.wait(30)
    wait_for(lambda: any(line.startswith("embedded") for line in recorder.logs))
    yield index, recorder, encoder
    index.close()


def paths_for(index: LiveIndex, query: str, **kw: object) -> list[str]:
    return [r.chunk.path for r in index.search(query, **kw)]  # type: ignore[arg-type]


def symbols_for(index: LiveIndex, query: str, **kw: object) -> list[str]:
    return [r.chunk.symbol for r in index.search(query, **kw)]  # type: ignore[arg-type]


def test_first_sync_reports_progress_and_embeds(live: tuple[LiveIndex, Recorder, FakeEncoder]) -> None:
    index, recorder, encoder = live
    assert ("indexing", 1, 1) in recorder.events
    assert any(task == "embedding" and done == total for task, done, total in recorder.events)
    assert any(line.startswith("synced") for line in recorder.logs)
    assert symbols_for(index, "retry failed uploads", mode="dense")[0] == "retry_failed_uploads"


def test_a_ready_live_index_has_frozen_what_its_process_had_loaded(
        live: tuple[LiveIndex, Recorder, FakeEncoder]) -> None:
    # modules and model out of the garbage collector's full passes (`settle_heap`), once per process
    assert gc.get_freeze_count() > 0


def test_watcher_applies_create_modify_move_and_delete(live: tuple[LiveIndex, Recorder, FakeEncoder]) -> None:
    index, _, _ = live
    root = index.root
    (root / "src" / "ledger.py").write_text("def reconcile_ledger_entries(entries):\n    return sorted(entries)\n")
    wait_for(lambda: "src/ledger.py" in paths_for(index, "reconcile ledger entries"))

    (root / "src" / "ledger.py").write_text("def settle_quarterly_balance(book):\n    return book.close()\n")
    wait_for(lambda: "settle_quarterly_balance" in symbols_for(index, "settle quarterly balance"))
    assert "reconcile_ledger_entries" not in symbols_for(index, "reconcile ledger entries")

    os.rename(root / "src" / "ledger.py", root / "src" / "books.py")
    # lexical: the fake encoder's hashed vectors must not decide what this test is about, the move
    wait_for(lambda: paths_for(index, "settle quarterly balance", mode="lexical")[:1] == ["src/books.py"])
    assert "src/ledger.py" not in paths_for(index, "settle quarterly balance")

    shutil.move(str(root / "src" / "payments"), str(root / "src" / "billing"))  # a directory rename
    wait_for(lambda: paths_for(index, "retry failed uploads")[:1] == ["src/billing/retry.py"])
    assert not any(p.startswith("src/payments/") for p in paths_for(index, "invoice total tax retry", k=50))

    (root / "src" / "books.py").unlink()
    wait_for(lambda: "src/books.py" not in paths_for(index, "settle quarterly balance"))


def test_atomic_save_and_gitignore_change(live: tuple[LiveIndex, Recorder, FakeEncoder]) -> None:
    index, _, _ = live
    root = index.root
    target = root / "web" / "session.ts"
    temp = root / "web" / ".session.ts.swp~"
    temp.write_text("export function renewSessionToken(token: string): string {\n  return token + '!';\n}\n")
    os.replace(temp, target)  # how many editors save: write a temp file, rename it over the original
    wait_for(lambda: "renewSessionToken" in symbols_for(index, "renew session token"))
    assert "isSessionExpired" not in symbols_for(index, "session expired")

    (root / ".gitignore").write_text("web/\n")
    wait_for(lambda: not any(p.startswith("web/") for p in paths_for(index, "renew session token cache router")))
    (root / ".gitignore").write_text("")
    wait_for(lambda: "web/session.ts" in paths_for(index, "renew session token"))


def test_a_checkout_of_many_files_is_one_sync(live: tuple[LiveIndex, Recorder, FakeEncoder]) -> None:
    index, recorder, _ = live

    def syncs() -> int:
        return len([line for line in recorder.logs if line.startswith("synced")])

    before = syncs()
    generated = index.root / "generated"
    generated.mkdir()
    for n in range(1500):
        (generated / f"module_{n}.py").write_text(f"def handler_number_{n}(request):\n    return {n}\n")
    wait_for(lambda: index.status()["files"] >= 1500 + 7, timeout=60)
    assert symbols_for(index, "handler_number_1499")[:1] == ["handler_number_1499"]
    # the sync logs its line just after it commits: a busy machine can show the files first
    wait_for(lambda: syncs() > before)
    assert 1 <= syncs() - before <= 5, recorder.logs  # debounced into a handful of syncs, not 1,500


def test_a_query_syncs_only_when_the_watcher_saw_a_change(live: tuple[LiveIndex, Recorder, FakeEncoder],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    index, _, _ = live
    monkeypatch.setattr("codesearch.live.COOKIE_SECONDS", 30.0)  # a busy machine may be slow to report it
    wait_for(lambda: index.state == "idle")
    settled = index.last_sync
    assert index.sync_now(10) and index.last_sync is settled  # nothing changed: no walk, no sync
    assert not list(index.root.rglob(".codesearch-cookie-*"))  # the cookie is gone again
    # written just before the query: the watcher has reported it once its cookie arrives, so the
    # query syncs first, without waiting for the watcher's quiet period
    (index.root / "src" / "ledger.py").write_text("def reconcile_ledger_entries(entries):\n    return entries\n")
    assert index.sync_now(10) and index.last_sync is not settled
    assert symbols_for(index, "reconcile_ledger_entries", mode="lexical")[:1] == ["reconcile_ledger_entries"]


def test_a_watcher_that_stops_reporting_is_not_trusted(live: tuple[LiveIndex, Recorder, FakeEncoder]) -> None:
    index, recorder, _ = live
    watcher = index._watcher
    assert watcher is not None
    watcher._observer.unschedule_all()  # the OS stops reporting (events lost), the thread lives on
    (index.root / "src" / "ledger.py").write_text("def reconcile_ledger_entries(entries):\n    return entries\n")
    assert index.sync_now(10)  # no cookie came: a full sync, as without a watcher
    assert symbols_for(index, "reconcile_ledger_entries", mode="lexical")[:1] == ["reconcile_ledger_entries"]
    assert any("did not report its cookie" in line for line in recorder.logs)
    settled = index.last_sync
    assert index.sync_now(10) and index.last_sync is not settled  # and every later query syncs too


def test_ignored_and_index_paths_trigger_nothing(live: tuple[LiveIndex, Recorder, FakeEncoder]) -> None:
    index, _, _ = live
    watcher = index._watcher
    assert watcher is not None
    root = str(index.root)
    assert watcher.relevant(f"{root}/node_modules/pkg/index.js") is None
    assert watcher.relevant(f"{root}/.git/index") is None
    assert watcher.relevant(str(index.options.index_dir / "index.sqlite3")) is None
    assert watcher.relevant(f"{root}/.git/info/exclude") == ".git/info/exclude"
    assert watcher.relevant(f"{root}/src/.gitignore") == "src/.gitignore"
    assert watcher.relevant(f"{root}/src/app.py") == "src/app.py"
    # a folder the built-in rules leave out, which the project's ignore file brings back, is watched
    # as the walk indexes it
    assert watcher.relevant(f"{root}/build/tool.py") is None
    (index.root / ".codesearchignore").write_text("!build/\n")
    # the ignore file's own event comes first, as the OS delivers them: the folders found ignored
    # until then are read again
    assert watcher.relevant(f"{root}/.codesearchignore") == ".codesearchignore"
    assert watcher.relevant(f"{root}/build/tool.py") == "build/tool.py"
    assert watcher.relevant(f"{root}/node_modules/pkg/index.js") is None


def test_paths_under_an_ignored_folder_read_the_rules_once(live: tuple[LiveIndex, Recorder, FakeEncoder],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # an `npm install` writes thousands of files under `node_modules/`: the rules are read down to
    # the folder once, not once for each file (76 µs a path)
    index, _, _ = live
    watcher = index._watcher
    assert watcher is not None
    root = str(index.root)
    reads: list[str] = []
    real = watch.ignored_by
    monkeypatch.setattr(watch, "ignored_by", lambda *args: reads.append(args[1]) or real(*args))
    for n in range(50):
        assert watcher.relevant(f"{root}/node_modules/pkg{n % 5}/lib/file{n}.js") is None
    assert reads == ["node_modules/pkg0/lib/file0.js"]
    assert watcher.relevant(f"{root}/.gitignore") == ".gitignore"  # rules may have changed: read again
    assert watcher.relevant(f"{root}/node_modules/pkg0/lib/other.js") is None
    assert len(reads) == 2


def test_unsaved_buffer_is_searched_instead_of_the_file(live: tuple[LiveIndex, Recorder, FakeEncoder],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    index, _, _ = live
    path = "src/payments/retry.py"
    on_disk = (index.root / path).read_text()
    edited = on_disk + "\n\ndef quarantine_corrupt_upload(upload):\n    upload.move_to('quarantine')\n"
    index.edit(path, edited)
    found = index.search("quarantine corrupt upload", k=3)
    assert found[0].chunk.symbol == "quarantine_corrupt_upload" and found[0].chunk.path == path
    # A word typed wrong is respelled once for the results and the note that says so (no answer
    # is kept for a second asking while buffers are open).
    calls: list[str] = []
    respell = search_module._respelled
    monkeypatch.setattr(search_module, "_respelled", lambda *a: calls.append(a[1]) or respell(*a))
    typed, fixes = index.search_with_fixes("retry the uplaods that failed", k=3)
    assert typed[0].chunk.symbol == "retry_failed_uploads" and fixes == (("uplaods", "uploads"),)
    assert calls == ["retry the uplaods that failed"]
    # The fake encoder's vectors are bags of whitespace tokens: this query shares the new line's.
    dense = index.search("def quarantine_corrupt_upload(upload):", mode="dense", k=3)
    assert dense[0].chunk.symbol == "quarantine_corrupt_upload"
    # The file's indexed chunks are hidden, not doubled.
    assert [r.chunk.symbol for r in index.search("retry failed uploads", k=20)].count("retry_failed_uploads") == 1
    assert index.status()["unsaved_buffers"] == [path]

    # Words the index has nowhere: the overlay alone answers, in every mode that reads BM25.
    index.edit(path, on_disk + "\n\ndef calibrate_flux_capacitor(level):\n    return level\n")
    for mode in ("hybrid", "lexical"):
        assert symbols_for(index, "calibrate flux capacitor", mode=mode)[:1] == ["calibrate_flux_capacitor"], mode

    index.close_buffer(path)
    assert "quarantine_corrupt_upload" not in symbols_for(index, "quarantine corrupt upload")

    index.edit(path, edited)
    (index.root / path).write_text(edited)  # saved: the sync indexes it and the overlay goes away
    wait_for(lambda: index.status()["unsaved_buffers"] == [])
    assert symbols_for(index, "quarantine corrupt upload")[0] == "quarantine_corrupt_upload"


def test_related_finds_similar_code_but_not_itself(live: tuple[LiveIndex, Recorder, FakeEncoder]) -> None:
    index, _, _ = live
    (index.root / "src" / "payments" / "retry_copy.py").write_text(
        (index.root / "src" / "payments" / "retry.py").read_text())
    wait_for(lambda: "src/payments/retry_copy.py" in paths_for(index, "retry failed uploads", k=20))
    wait_for(lambda: index.status()["with_vectors"] == index.status()["chunks"])
    line = next(n for n, text in enumerate((index.root / "src/payments/retry.py").read_text().splitlines(), 1)
                if "def retry_failed_uploads" in text)
    results = index.related("src/payments/retry.py", line + 1)
    assert (results[0].chunk.path, results[0].chunk.symbol) == ("src/payments/retry_copy.py", "retry_failed_uploads")
    assert not any(r.chunk.path == "src/payments/retry.py" and r.chunk.symbol == "retry_failed_uploads"
                   for r in results)


def test_a_reader_snapshot_never_sees_a_half_applied_sync(repo: Path, tmp_path: Path) -> None:
    writer = Store.open(tmp_path / "index", create=True)
    sync_chunks(writer, repo, max_file_bytes=10**6)
    reader = Store.open(tmp_path / "index")
    before = reader.counts("none")["chunks"]
    for n in range(50):
        (repo / f"extra_{n}.py").write_text(f"def extra_{n}():\n    return {n}\n")
    with reader.snapshot():
        assert reader.counts("none")["chunks"] == before
        done = threading.Event()
        threading.Thread(target=lambda: (sync_chunks(writer, repo, max_file_bytes=10**6), done.set())).start()
        assert done.wait(30)
        assert reader.counts("none")["chunks"] == before  # the commit landed, the snapshot holds
        assert reader.lexical_search(["extra_7"], 5) == []
    assert reader.counts("none")["chunks"] == before + 50


def test_overlay_bm25_matches_sqlite_fts5(repo: Path, tmp_path: Path) -> None:
    store = Store.open(tmp_path / "index", create=True)
    sync_chunks(store, repo, max_file_bytes=10**6)
    terms = query_terms("retry failed uploads with backoff delay")
    expected = store.lexical_search(terms, 10)
    chunks = store.chunks_by_id(i for i, _ in expected)
    ours = store.bm25_terms([chunks[i] for i, _ in expected], terms)
    assert len(ours) == len(expected) > 2
    for (_, score), (_, reference) in zip(ours, expected, strict=True):
        assert score == pytest.approx(reference, rel=1e-9)
    assert [p for p, _ in ours] == list(range(len(expected)))


def test_a_model_that_cannot_load_leaves_lexical_search(repo: Path, tmp_path: Path) -> None:
    options = IndexOptions.create(repo, index_dir=str(tmp_path / "index"), model=str(tmp_path / "no-such-model"))
    recorder = Recorder()
    index = LiveIndex(options, recorder, watch=False).start()
    try:
        wait_for(lambda: index.encoder_state != "loading")
        assert "unavailable" in index.encoder_state
        assert any("model unavailable" in w for w in recorder.warnings)
        assert symbols_for(index, "retry failed uploads")[0] == "retry_failed_uploads"
    finally:
        index.close()


def test_a_file_saved_during_the_first_sync_is_found_before_it_ends(repo: Path, tmp_path: Path) -> None:
    for i in range(60):  # progress is reported every 50 files
        (repo / "src" / f"gen_{i}.py").write_text(f"def generated_{i}():\n    return {i}\n")
    (repo / ".gitignore").write_text("scratch/\n")
    (repo / "scratch").mkdir()

    class Stalled(Recorder):
        """Holds the first sync in the middle of reading files until the test lets it go."""

        def __init__(self) -> None:
            super().__init__()
            self.reading, self.go_on = threading.Event(), threading.Event()

        def progress(self, task: str, done: int, total: int) -> None:
            super().progress(task, done, total)
            if task == "indexing" and 0 < done < total and not self.go_on.is_set():
                self.reading.set()
                assert self.go_on.wait(30)

    recorder = Stalled()
    options = IndexOptions.create(repo, index_dir=str(tmp_path / "index"))
    index = LiveIndex(options, recorder, embed=False).start()
    try:
        assert recorder.reading.wait(30) and not index.ready.is_set()  # the first sync is under way
        (repo / "src" / "ledger.py").write_text("def reconcile_ledger_entries(entries):\n    return entries\n")
        index.saved(["src/ledger.py"])  # what the editor's didSave does
        (repo / "scratch" / "notes.py").write_text("def jot_down_notes():\n    return 1\n")
        index.saved(["scratch/notes.py"])  # ignored: served for now, never indexed
        assert index.search("reconcile ledger entries", mode="lexical", k=3)[0].chunk.symbol == \
            "reconcile_ledger_entries"
        recorder.go_on.set()
        assert index.ready.wait(30)
        # the sync after the first indexes it; the overlay goes only once the index holds the file
        wait_for(lambda: not index.status()["unsaved_buffers"])  # the ignored file leaves the overlay too
        assert paths_for(index, "reconcile ledger entries", mode="lexical")[:1] == ["src/ledger.py"]
        assert "scratch/notes.py" not in paths_for(index, "jot down notes", mode="lexical")
    finally:
        recorder.go_on.set()
        index.close()


def test_a_live_index_keeps_its_bm25_partitions(repo: Path, tmp_path: Path, monkeypatch) -> None:
    import codesearch.partitions as partitions_module

    monkeypatch.setattr(partitions_module, "PARTITION_ROWS", 4)  # the fixture's 25 chunks, in partitions of 4
    monkeypatch.setattr(partitions_module, "MIN_ROWS", 10)
    options = IndexOptions.create(repo, index_dir=str(tmp_path / "index"), model="fake/encoder")
    index = LiveIndex(options, Recorder(), embed=False).start()
    reader = Store.open(tmp_path / "index")

    def partitions_cover_every_chunk() -> bool:
        return reader._partitions() is not None

    wait_for(partitions_cover_every_chunk, timeout=60)  # built after the first sync
    (repo / "src" / "ledger.py").write_text("def reconcile_ledger_entries(entries):\n    return sorted(entries)\n")
    wait_for(lambda: "src/ledger.py" in paths_for(index, "reconcile ledger entries", mode="lexical"), timeout=60)
    wait_for(partitions_cover_every_chunk, timeout=60)  # rebuilt where the new file's chunks went
    terms = query_terms("reconcile ledger entries retry payment")
    found = reader.lexical_search(terms, 50)
    assert found[0][0] in {c for c, in reader.connection.execute(
        "SELECT id FROM chunks WHERE path = 'src/ledger.py'")}
    monkeypatch.setattr(Store, "_partitions", lambda self: None)
    from_fts5 = reader.lexical_search(terms, 50)
    assert [i for i, _ in found] == [i for i, _ in from_fts5]
    assert [s for _, s in found] == pytest.approx([s for _, s in from_fts5], rel=1e-6)
    reader.close()
    index.close()


def test_a_first_sync_loads_the_encoder_before_it_builds_partitions(repo: Path, tmp_path: Path, monkeypatch) -> None:
    import codesearch.live as live_module

    options = IndexOptions.create(repo, index_dir=str(tmp_path / "index"), model="fake/encoder")
    options._encoders["fake/encoder"] = FakeEncoder()
    index = LiveIndex(options, Recorder())
    loaded_when_refreshed: list[bool] = []
    original = live_module.partitions.refresh_or_warn

    def refresh(*args: object, **kw: object) -> None:
        loaded_when_refreshed.append(index.encoder_loaded.is_set())
        original(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(live_module.partitions, "refresh_or_warn", refresh)
    index.start()
    wait_for(lambda: loaded_when_refreshed)
    index.close()
    assert loaded_when_refreshed[0]  # building partitions (seconds on a large tree) never delays dense search
