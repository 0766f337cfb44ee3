"""The `codesearch` command: one subcommand per noun, every user error one line on stderr."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from codesearch.encoding import EncoderSettings
from codesearch.errors import CodesearchError, damaged, is_damage
from codesearch.paths import check_directory, find_root
from codesearch.requests import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MODE,
    DEFAULT_TOP,
    DEFAULT_WAIT_SECONDS,
    DTYPES,
    MIN_MAX_TOKENS,
    MODES,
    check_request,
)
from codesearch.terminal import options_from

# Imports beyond these happen inside the commands that need them: `--help` and a lexical query
# never load numpy, torch, FAISS or the grammars (and most queries never reach this module: see
# codesearch.quick).
F = TypeVar("F", bound=Callable[..., Any])


def warn(message: str) -> None:
    """A warning on stderr, in yellow."""
    from codesearch.render import stderr

    stderr.print(f"[yellow]warning:[/] {message}", markup=True, highlight=False, soft_wrap=True)


def note(message: str) -> None:
    """A note on stderr, dimmed."""
    from codesearch.render import stderr

    stderr.print(f"[dim]{message}[/]", soft_wrap=True)


def index_options(function: F) -> F:
    """Options shared by the commands that open an index."""
    for option in reversed([
        click.option("--model", "-m", default=None, envvar="CODESEARCH_MODEL",
                     help="Preset (base, small), Hugging Face id, or local directory. [env: CODESEARCH_MODEL]"),
        click.option("--index-dir", default=None, envvar="CODESEARCH_INDEX_DIR",
                     help="Where the index lives (default: REPO/.codesearch). [env: CODESEARCH_INDEX_DIR]"),
        click.option("--max-file-size", "max_file_bytes", default=DEFAULT_MAX_FILE_BYTES, show_default=True, type=int,
                     help="Skip files larger than this many bytes."),
        click.option("--exclude", "excludes", multiple=True, help="Extra ignore pattern (gitignore syntax)."),
        click.option("--wait", "wait_seconds", default=DEFAULT_WAIT_SECONDS, show_default=True, type=float,
                     help="Seconds to wait for another process writing the index."),
        click.option("--device", default=None, envvar="CODESEARCH_DEVICE",
                     help="Encoder device: cpu, cuda, mps (default: the best available). [env: CODESEARCH_DEVICE]"),
        click.option("--dtype", default="auto", envvar="CODESEARCH_DTYPE", type=click.Choice(DTYPES),
                     show_default=True, help="Encoder precision; auto is bfloat16 where the hardware has it."),
        click.option("--threads", default=None, type=click.IntRange(min=1), envvar="CODESEARCH_THREADS",
                     help="CPU threads for the encoder (default: one per core). [env: CODESEARCH_THREADS]"),
        click.option("--jobs", "-j", default=None, type=click.IntRange(min=1), envvar="CODESEARCH_JOBS",
                     help="Processes that read and parse changed files (default: one per core). "
                          "[env: CODESEARCH_JOBS]"),
    ]):
        function = option(function)
    return function


def organisation_options(function: F) -> F:
    """--catalog, --server and --token: an organisation's code instead of a local repository."""
    for option in reversed([
        click.option("--catalog", "catalog_dir", default=None, type=click.Path(path_type=Path),
                     help="The catalog an indexing job wrote in this directory (all its repositories)."),
        click.option("--server", default=None, envvar="CODESEARCH_SERVER",
                     help="A team server (`codesearch serve`) at this URL. [env: CODESEARCH_SERVER]"),
        click.option("--token", default=None, envvar="CODESEARCH_TOKEN",
                     help="Bearer token for --server; it decides which repositories exist. [env: CODESEARCH_TOKEN]"),
    ]):
        function = option(function)
    return function


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CodesearchError as error:
            raise click.ClickException(str(error)) from None
        except Exception as error:
            if is_damage(error):  # found past opening, in pages a query or a sync read later
                raise click.ClickException(str(damaged("here", error))) from None
            raise
        except KeyboardInterrupt:
            from codesearch.terminal import INTERRUPTED

            note(INTERRUPTED)
            sys.exit(130)


@click.group(cls=_Group)
@click.version_option(package_name="codesearch")
def main() -> None:
    """Semantic code search: ask your repository questions in plain English."""


@main.command("index")
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option("--rebuild", is_flag=True, help="Start the index over (keeps cached vectors).")
@click.option("--no-embed", is_flag=True, help="Only chunks and the lexical index; vectors later.")
@index_options
def index_command(path: Path, rebuild: bool, no_embed: bool, **kw: Any) -> None:
    """Index PATH (default: the current directory): chunks, BM25 and vectors, incrementally."""
    from codesearch.indexing import open_index, update_index
    from codesearch.render import progress_bar, summary_line

    root = check_directory(path)
    options = options_from(root, kw)
    index = open_index(options, create=True, rebuild_first=rebuild)
    with index.writing(options.wait_seconds), progress_bar() as progress:
        summary = update_index(index, options, embed=not no_embed, progress=progress, warn=warn)
    click.echo(f"indexed {root}: {summary_line(summary)}", err=True)
    index.close()


@main.command("query")
@click.argument("text")
@click.option("--path", "path", default=None, type=click.Path(path_type=Path),
              help="Repository to search (default: the one containing the current directory).")
@click.option("-k", "--top", default=DEFAULT_TOP, show_default=True, type=int, help="Number of results.")
@click.option("--mode", type=click.Choice(MODES), default=DEFAULT_MODE, show_default=True)
@click.option("--lang", default=None, help="Only this language (python, go, typescript, ...).")
@click.option("--glob", default=None, help="Only paths matching this glob, e.g. 'src/*.py'.")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines: one result per line.")
@click.option("--no-refresh", is_flag=True, help="Answer from the index as it is, without syncing files.")
@organisation_options
@click.option("--repo", "repos", multiple=True,
              help="With --catalog or --server: only repositories matching this name or glob (repeatable).")
@click.option("--max-tokens", default=None, type=click.IntRange(min=MIN_MAX_TOKENS),
              help="Fit the answer in about this many tokens (4 characters each): whole chunks, then outlines.")
@click.option("--no-daemon", is_flag=True, envvar="CODESEARCH_NO_DAEMON",
              help="Answer in this process; neither ask nor start the warm local server. [env: CODESEARCH_NO_DAEMON]")
@index_options
def query_command(text: str, path: Path | None, top: int, mode: str, lang: str | None, glob: str | None,
                  as_json: bool, no_refresh: bool, catalog_dir: Path | None, server: str | None, token: str | None,
                  repos: tuple[str, ...], max_tokens: int | None, no_daemon: bool, **kw: Any) -> None:
    """Search the repository for TEXT, e.g. `codesearch query "where do we retry uploads"`."""
    check_request(text, mode, top, lang)  # before an index or a model is opened for a query that cannot run
    if catalog_dir or server:
        results = _query_many(text, catalog_dir, server, token, repos, top=top, mode=mode, lang=lang, glob=glob,
                              settings=EncoderSettings(kw["device"], kw["dtype"], kw["threads"]))
        _print(results, text, as_json, max_tokens)
        return
    if repos:
        raise click.UsageError("--repo needs --catalog DIR or --server URL")
    if path:
        check_directory(path)  # worded here as before; the server would name it from its own folder
    from codesearch.terminal import answer_query

    answer_query({**kw, "text": text, "path": str(path) if path else None, "top": top, "mode": mode, "lang": lang,
                  "glob": glob, "as_json": as_json, "no_refresh": no_refresh, "max_tokens": max_tokens,
                  "no_daemon": no_daemon}, warn=warn, note=note)


def _query_many(text: str, catalog_dir: Path | None, server: str | None, token: str | None,
                repos: tuple[str, ...], *, top: int, mode: str, lang: str | None, glob: str | None,
                settings: EncoderSettings) -> list[Any]:
    """`query --catalog DIR` (in this process) or `query --server URL` (over HTTP)."""
    if catalog_dir and server:
        raise click.UsageError("give --catalog or --server, not both")
    if server:
        from codesearch.service.client import ServerClient

        results, notes = ServerClient.create(server, token).search_with_notes(
            text, k=top, mode=mode, language=lang, glob=glob, repos=list(repos))
        for message in notes:
            note(message)
    else:
        from codesearch import spelling
        from codesearch.catalog.shards import CatalogSearcher

        searcher = CatalogSearcher(check_directory(catalog_dir), settings)  # type: ignore[arg-type]
        if repos and not searcher.select(repos):
            raise click.UsageError(f"no repository in the catalog matches {', '.join(repos)}")
        results, fixes = searcher.search_with_fixes(text, k=top, mode=mode, language=lang, glob=glob, repos=repos)
        for warning in searcher.warnings:
            warn(warning)
        if fixes:
            note(spelling.note(fixes))
        searcher.close()
    return results


def _print(results: list[Any], text: str, as_json: bool, max_tokens: int | None = None) -> None:
    from codesearch.terminal import print_answer

    print_answer(results, text, as_json=as_json, max_tokens=max_tokens, note=note)


@main.command("status")
@click.argument("path", default=None, required=False, type=click.Path(path_type=Path))
@click.option("--index-dir", default=None, envvar="CODESEARCH_INDEX_DIR", help="Where the index lives.")
@click.option("--json", "as_json", is_flag=True, help="Print the status as one JSON object.")
def status_command(path: Path | None, index_dir: str | None, as_json: bool) -> None:
    """Files, chunks, model, vectors, size on disk and last update of an index."""
    from codesearch import partitions
    from codesearch.indexing import IndexOptions, open_index
    from codesearch.store import FORMAT_VERSION
    from codesearch.tuning import tuned_record

    root = check_directory(path) if path else find_root(Path.cwd())
    options = IndexOptions.create(root, index_dir=index_dir)
    index = open_index(options)
    counts = index.store.counts(index.model_id)
    updated = index.store.get_meta("updated_at")
    info: dict[str, Any] = {
        "root": str(root),
        "index_dir": str(index.index_dir),
        "model": index.model_id,
        **counts,
        "languages": index.store.languages(),
        "size_bytes": sum(p.stat().st_size for p in index.index_dir.iterdir() if p.is_file()),
        "updated_at": float(updated) if updated else None,
        "tuned": tuned_record(index),
        "bm25_partitions": partitions.describe(index.store),
        "format": int(index.store.get_meta("format_version") or FORMAT_VERSION),
    }
    if as_json:
        click.echo(json.dumps(info))
    else:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info["updated_at"])) if updated else "never"
        missing = counts["chunks"] - counts["with_vectors"]
        lines = [
            f"repository   {root}",
            f"index        {index.index_dir} ({info['size_bytes'] / 1e6:.1f} MB)"
            + (f"; format {info['format']}: words outside ASCII are indexed by its next update (`codesearch "
               "index`, or a query)" if info["format"] < FORMAT_VERSION else ""),
            f"files        {counts['files']:,}",
            f"chunks       {counts['chunks']:,} ("
            + ", ".join(f"{lang} {n:,}" for lang, n in list(info["languages"].items())[:6]) + ")",
            f"model        {index.model_id}",
            *([f"tuned        from {info['tuned']['base']} on {info['tuned']['train_pairs']:,} pairs of this "
               f"repository: held-out MRR@10 {info['tuned']['before']['mrr']:.3f} -> "
               f"{info['tuned']['after']['mrr']:.3f} (`codesearch tune --reset` undoes)"] if info["tuned"] else []),
            f"vectors      {counts['with_vectors']:,} of {counts['chunks']:,} chunks"
            + (f" ({missing:,} missing: run `codesearch index` with the model available)" if missing else ""),
            f"bm25         {_bm25_line(info['bm25_partitions'])}",
            f"last update  {when}",
        ]
        click.echo("\n".join(lines))
    index.close()


def _bm25_line(found: dict[str, Any]) -> str:
    """Where lexical scores come from: the BM25 partitions (`codesearch/partitions.py`) or FTS5."""
    from codesearch.partitions import MIN_ROWS

    if found["current"]:
        return f"{found['built']:,} partition{'s' if found['built'] > 1 else ''}, current"
    if found["wanted"]:
        stale = f", {found['out_of_date']:,} out of date" if found["out_of_date"] else ""
        return (f"FTS5 for now: {found['built']:,} of {found['wanted']:,} partitions built{stale} (the server "
                "behind `codesearch query`, the editor or `codesearch watch` brings them up to date)")
    return f"FTS5 (partitions from {MIN_ROWS:,} chunks)"


@main.command("watch")
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option("--no-embed", is_flag=True, help="Keep chunks and the lexical index current; no vectors.")
@index_options
def watch_command(path: Path, no_embed: bool, **kw: Any) -> None:
    """Keep PATH's index current as files change, one log line per sync, until Ctrl-C."""
    from codesearch.live import LiveIndex

    root = check_directory(path)
    live = LiveIndex(options_from(root, kw), _ConsoleListener(), embed=not no_embed).start()
    note(f"watching {root} (Ctrl-C to stop)")
    try:
        while live.alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        note("stopping; the index keeps its last completed state")
    finally:
        live.close()


class _ConsoleListener:
    """`codesearch watch` output: a timestamped line per sync, warnings in yellow."""

    def log(self, message: str) -> None:
        click.echo(f"{time.strftime('%H:%M:%S')} {message}", err=True)

    def warn(self, message: str) -> None:
        warn(message)

    def progress(self, task: str, done: int, total: int) -> None:
        pass


from codesearch import commands as _commands  # noqa: E402,F401  (registers the other commands on `main`)
