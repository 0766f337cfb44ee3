"""The query service behind the warm local server: live indexes by repository, opened on demand.

It answers through `LiveIndex.search`, the same code the language server answers with, so the
terminal and the editor rank alike; the team server and `query --catalog` answer through
`CatalogSearcher`, which ranks with the same `ranking.rank`.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codesearch import spelling
from codesearch.encoding import Encoder, EncoderSettings
from codesearch.errors import QueryError, damaged, is_damage
from codesearch.indexing import IndexOptions, open_index
from codesearch.listing import render
from codesearch.live import LiveIndex
from codesearch.paths import check_directory, find_root
from codesearch.requests import check_request

SYNC_SECONDS = 2.0  # at most this long for the disk's changes to reach the index before answering
ENCODER_WAIT_SECONDS = 300.0


class AnswerLocally(Exception):
    """The client should answer this request itself (a catalog shard: only its job writes it)."""


@dataclass
class _Listener:
    """What a live index says, kept for the answers (there is no terminal to print it on)."""

    warnings: list[str] = field(default_factory=list)

    def log(self, message: str) -> None:
        print(time.strftime("%H:%M:%S"), message, file=sys.stderr, flush=True)  # the server's log file

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        self.log(f"warning: {message}")

    def progress(self, task: str, done: int, total: int) -> None:
        pass


class QueryService:
    """Live indexes by repository, opened on the first query that names them, and the searches."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._indexes: dict[tuple[Any, ...], tuple[LiveIndex, _Listener]] = {}
        self._encoders: dict[EncoderSettings, dict[str, Encoder | None]] = {}  # shared by every index

    def search(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer a `codesearch query` request as the terminal would."""
        query, mode, k = str(request.get("query", "")), str(request.get("mode", "hybrid")), request.get("k", 10)
        if not isinstance(k, int):
            raise QueryError("k must be a whole number")
        check_request(query, mode, k, request.get("lang"))
        live, listener = self._index_for(request, embed=mode != "lexical")
        try:
            return self._answer(live, listener, request, query, mode, k)
        except Exception as error:
            if not is_damage(error):
                raise
            self._drop(live)  # the next request opens it again: rebuilt by then, or damaged still
            raise damaged(f"at {live.options.index_dir}", error) from error

    def _answer(self, live: LiveIndex, listener: _Listener, request: dict[str, Any], query: str, mode: str,
                k: int) -> dict[str, Any]:
        seen = len(listener.warnings)
        if request.get("refresh", True):  # else: the index as it is, like `--no-refresh` in the terminal
            live.ready.wait()
            live.sync_now(SYNC_SECONDS)
        if mode != "lexical":
            live.encoder_loaded.wait(ENCODER_WAIT_SECONDS)
        results, fixes = live.search_with_fixes(query, mode=mode, k=k, language=request.get("lang"),
                                                glob=request.get("glob"))
        notes = listener.warnings[seen:]
        if fixes:
            notes.append(spelling.note(fixes))
        if mode != "lexical" and live.encoder_state == "ready":
            status = live.status()
            if status["chunks"] > status["with_vectors"]:
                notes.append(f"{status['chunks'] - status['with_vectors']:,} of {status['chunks']:,} chunks have "
                             "no vectors yet; the server is embedding them")
        elif mode != "lexical" and listener.warnings:
            notes.append(listener.warnings[-1])
        answer: dict[str, Any] = {"results": [r.to_json() for r in results], "notes": list(dict.fromkeys(notes))}
        render_as = request.get("render")
        if isinstance(render_as, dict):  # the text the terminal prints, so every client prints the same
            answer["output"], answer["notes_after"] = render(
                results, query, as_json=bool(render_as.get("json")), max_tokens=render_as.get("max_tokens"),
                color=bool(render_as.get("color")))
        return answer

    def status(self) -> list[dict[str, Any]]:
        """Every open index's status."""
        with self._lock:
            indexes = [live for live, _ in self._indexes.values()]
        return [live.status() for live in indexes]

    def _drop(self, live: LiveIndex) -> None:
        """Close one live index and forget it."""
        with self._lock:
            self._indexes = {key: found for key, found in self._indexes.items() if found[0] is not live}
        live.close()

    def close(self) -> None:
        with self._lock:
            indexes, self._indexes = list(self._indexes.values()), {}
        for live, _ in indexes:
            live.close()

    def _index_for(self, request: dict[str, Any], *, embed: bool) -> tuple[LiveIndex, _Listener]:
        """The live index a request names, opened if need be. An index opened for lexical queries
        does not embed; the first query that wants vectors reopens it with the encoder."""
        root = repository_of(request)
        settings = EncoderSettings(request.get("device"), request.get("dtype", "auto"), request.get("threads"))
        options = IndexOptions.create(root, index_dir=request.get("index_dir"), model=request.get("model"),
                                      max_file_bytes=int(request.get("max_file_size", 1_000_000)),
                                      excludes=tuple(request.get("excludes", ())),
                                      wait_seconds=float(request.get("wait", 10.0)), settings=settings)
        key = (str(root), str(options.index_dir), options.model, options.max_file_bytes, options.excludes, settings)
        with self._lock:
            found = self._indexes.pop(key, None)
            if found is not None and found[0].alive() and (found[0].embeds or not embed):
                self._indexes[key] = found
                return found
            if found is not None:
                found[0].close()
            if not request.get("refresh", True) and not options.exists():
                open_index(options, create=False)  # the same "no index here" error as the terminal's
            index = open_index(options, create=True)
            try:
                if index.is_shard:
                    raise AnswerLocally(f"{options.index_dir} is a catalog shard")
            finally:
                index.close()
            options._encoders = self._encoders.setdefault(settings, {})
            listener = _Listener()
            live = LiveIndex(options, listener, watch=can_watch(), embed=embed).start()
            self._indexes[key] = (live, listener)
            return live, listener


def repository_of(request: dict[str, Any]) -> Path:
    """The repository a request names: `root`; else `path`, relative to the client's `cwd`; else
    the repository containing `cwd` (as `codesearch query` finds it in the terminal)."""
    if request.get("root"):
        return check_directory(Path(str(request["root"])))
    if not request.get("cwd"):
        raise QueryError("a search request names its repository: root, or cwd (and path)")
    cwd = Path(str(request["cwd"]))
    return check_directory(cwd / str(request["path"])) if request.get("path") else find_root(cwd)


def can_watch() -> bool:
    """Whether the file watcher (watchdog, the lsp extra) is installed."""
    try:
        import watchdog  # noqa: F401
    except ImportError:
        return False
    return True
