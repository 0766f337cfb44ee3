"""One `codesearch query` on one repository, whichever reader parsed its arguments (the quick
first step in `codesearch.quick`, or click in `codesearch.cli`): through the warm local server
when one is up, else in this process, which then starts the server for the next query.

Imports nothing heavy until it must answer here, so a query the server answers costs little
more than starting Python; and a lexical query answered here never imports click, rich or torch.
"""

from __future__ import annotations

import os
import sys

from codesearch.requests import search_request

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: the quick first step imports this module
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from typing import Any, TextIO

    from codesearch.indexing import IndexOptions
    from codesearch.records import SearchResult

QUERY_EMBED_SECONDS = 3.0  # a query embeds new chunks for at most this long before answering
INTERRUPTED = "interrupted; the index keeps its last completed state"


def wants_color(stream: TextIO) -> bool:
    """Styles for a terminal, not for a pipe or a file, and never with NO_COLOR or TERM=dumb."""
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def plain_note(message: str) -> None:
    """A note on stderr, dimmed on a terminal (as `cli.note` writes it, without rich)."""
    sys.stderr.write(f"\x1b[2m{message}\x1b[0m\n" if wants_color(sys.stderr) else f"{message}\n")


def plain_warning(message: str) -> None:
    """A warning on stderr, in yellow on a terminal (as `cli.warn` writes it, without rich)."""
    sys.stderr.write(f"\x1b[33mwarning:\x1b[0m {message}\n" if wants_color(sys.stderr) else f"warning: {message}\n")


def answer_query(values: dict[str, Any], *, warn: Callable[[str], None] = plain_warning,
                 note: Callable[[str], None] = plain_note, here: bool = True) -> bool:
    """Answer `codesearch query` with the parameters `values` (as click names them) and print
    the answer. False, having printed nothing, when the server cannot answer and `here` is
    False: the caller answers some other way. CodesearchError for what the user must fix."""
    daemon = not values["no_daemon"] and not _daemon_disabled()
    request = search_request(values["text"], cwd=os.getcwd(), path=values["path"], top=values["top"],
                             mode=values["mode"], lang=values["lang"], glob=values["glob"],
                             refresh=not values["no_refresh"], index_dir=values["index_dir"], model=values["model"],
                             max_file_bytes=values["max_file_bytes"], excludes=list(values["excludes"]),
                             wait_seconds=values["wait_seconds"], device=values["device"], dtype=values["dtype"],
                             threads=values["threads"], as_json=values["as_json"], max_tokens=values["max_tokens"],
                             color=wants_color(sys.stdout))
    then = "start"
    if daemon:
        from codesearch.service.local import DaemonUnavailable, ask_answer, remember_unavailable

        try:
            answer = ask_answer(request)
        except DaemonUnavailable as reason:
            remember_unavailable(reason)  # a second reader in this process need not ask again
            then = reason.then
            if then == "warn" and here:
                warn(str(reason))
        else:
            _write(answer["output"], answer.get("notes", []), answer.get("notes_after", []), note)
            return True
    if not here:
        return False
    results = _search_here(values, warn, note)
    print_answer(results, values["text"], as_json=values["as_json"], max_tokens=values["max_tokens"], note=note)
    if daemon:  # warm up for the next query, on this repository
        from codesearch.service.local import start_server

        start_server(warm=request, then=then)
    return True


def print_answer(results: list[SearchResult], query: str, *, as_json: bool, max_tokens: int | None,
                 note: Callable[[str], None]) -> None:
    """Print results found in this process as `codesearch query` prints them, notes after."""
    from codesearch.listing import render

    output, notes_after = render(results, query, as_json=as_json, max_tokens=max_tokens, color=wants_color(sys.stdout))
    _write(output, [], notes_after, note)


def options_from(root: Path, values: dict[str, Any]) -> IndexOptions:
    """The index options of `root` from the index flags (`--model`, `--index-dir`, ...)."""
    from codesearch.encoding import EncoderSettings
    from codesearch.indexing import IndexOptions

    return IndexOptions.create(root, index_dir=values["index_dir"], model=values["model"],
                               max_file_bytes=values["max_file_bytes"], excludes=tuple(values["excludes"]),
                               wait_seconds=values["wait_seconds"],
                               settings=EncoderSettings(values["device"], values["dtype"], values["threads"]),
                               **({"jobs": values["jobs"]} if values.get("jobs") else {}))


def _search_here(values: dict[str, Any], warn: Callable[[str], None],
                 note: Callable[[str], None]) -> list[SearchResult]:
    """Answer in this process: sync the index with the disk (briefly embed), then search."""
    from pathlib import Path

    from codesearch import spelling
    from codesearch.errors import IndexBusy, IndexUnwritable
    from codesearch.indexing import open_index, update_index
    from codesearch.paths import check_directory, find_root
    from codesearch.search import search_with_fixes

    root = check_directory(Path(values["path"])) if values["path"] else find_root(Path.cwd())
    mode, refresh = values["mode"], not values["no_refresh"]
    options = options_from(root, values)
    index = open_index(options, create=refresh)
    refresh = refresh and not index.is_shard  # a shard is written only by its job
    if refresh:
        try:
            with index.writing(0.0):
                summary = update_index(index, options, embed=mode != "lexical",
                                       embed_budget=QUERY_EMBED_SECONDS, warn=warn)
        except IndexBusy:
            note("another process is updating the index; answering from its last completed state")
        except IndexUnwritable as error:
            note(f"{error}; answering from that state")
        else:
            if summary.missing_vectors and mode != "lexical" and options.encoder(options.model_id(index), warn):
                note(f"{summary.missing_vectors:,} of {summary.chunks:,} chunks have no vectors yet; "
                     "run `codesearch index` to embed them")
    encoder = options.encoder(options.model_id(index), warn) if mode != "lexical" else None
    try:
        results, fixes = search_with_fixes(index.store, values["text"], mode=mode, k=values["top"], encoder=encoder,
                                           language=values["lang"], glob=values["glob"])
        if fixes:
            note(spelling.note(fixes))
        return results
    finally:
        index.close()


def _write(output: str, notes: list[str], notes_after: list[str], note: Callable[[str], None]) -> None:
    for message in notes:
        note(message)
    sys.stdout.write(output)
    sys.stdout.flush()
    for message in notes_after:
        note(message)


def _daemon_disabled() -> bool:
    from codesearch.service.local import daemon_disabled

    return daemon_disabled()
