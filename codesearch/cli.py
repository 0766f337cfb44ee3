"""The `codesearch` command: one subcommand per noun, every user error one line on stderr."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from codesearch.encoding import DTYPES, EncoderSettings
from codesearch.errors import CodesearchError, IndexBusy
from codesearch.paths import check_directory, find_root
from codesearch.requests import MODES

if TYPE_CHECKING:
    from codesearch.indexing import IndexOptions

# Imports beyond these happen inside the commands that need them: a query answered by the warm
# local server, `--mode lexical` and `--help` never load numpy, torch, FAISS or the grammars.
F = TypeVar("F", bound=Callable[..., Any])
QUERY_EMBED_SECONDS = 3.0


def _warn(message: str) -> None:
    from codesearch.render import stderr

    stderr.print(f"[yellow]warning:[/] {message}", markup=True, highlight=False, soft_wrap=True)


def _note(message: str) -> None:
    from codesearch.render import stderr

    stderr.print(f"[dim]{message}[/]", soft_wrap=True)


def index_options(function: F) -> F:
    """Options shared by the commands that open an index."""
    for option in reversed([
        click.option("--model", "-m", default=None, envvar="CODESEARCH_MODEL",
                     help="Preset (base, small), Hugging Face id, or local directory. [env: CODESEARCH_MODEL]"),
        click.option("--index-dir", default=None, envvar="CODESEARCH_INDEX_DIR",
                     help="Where the index lives (default: REPO/.codesearch). [env: CODESEARCH_INDEX_DIR]"),
        click.option("--max-file-size", "max_file_bytes", default=1_000_000, show_default=True, type=int,
                     help="Skip files larger than this many bytes."),
        click.option("--exclude", "excludes", multiple=True, help="Extra ignore pattern (gitignore syntax)."),
        click.option("--wait", "wait_seconds", default=10.0, show_default=True, type=float,
                     help="Seconds to wait for another process writing the index."),
        click.option("--device", default=None, envvar="CODESEARCH_DEVICE",
                     help="Encoder device: cpu, cuda, mps (default: the best available). [env: CODESEARCH_DEVICE]"),
        click.option("--dtype", default="auto", envvar="CODESEARCH_DTYPE", type=click.Choice(DTYPES),
                     show_default=True, help="Encoder precision; auto is bfloat16 where the hardware has it."),
        click.option("--threads", default=None, type=click.IntRange(min=1), envvar="CODESEARCH_THREADS",
                     help="CPU threads for the encoder (default: one per core). [env: CODESEARCH_THREADS]"),
    ]):
        function = option(function)
    return function


def _options(root: Path, kw: dict[str, Any]) -> IndexOptions:
    from codesearch.indexing import IndexOptions

    return IndexOptions.create(root, index_dir=kw["index_dir"], model=kw["model"],
                               max_file_bytes=kw["max_file_bytes"], excludes=tuple(kw["excludes"]),
                               wait_seconds=kw["wait_seconds"],
                               settings=EncoderSettings(kw["device"], kw["dtype"], kw["threads"]))


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CodesearchError as error:
            raise click.ClickException(str(error)) from None
        except KeyboardInterrupt:
            _note("interrupted; the index keeps its last completed state")
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
    options = _options(root, kw)
    index = open_index(options, create=True, rebuild_first=rebuild)
    with index.writing(options.wait_seconds), progress_bar() as progress:
        summary = update_index(index, options, embed=not no_embed, progress=progress, warn=_warn)
    click.echo(f"indexed {root}: {summary_line(summary)}", err=True)
    index.close()


@main.command("query")
@click.argument("text")
@click.option("--path", "path", default=None, type=click.Path(path_type=Path),
              help="Repository to search (default: the one containing the current directory).")
@click.option("-k", "--top", default=10, show_default=True, type=int, help="Number of results.")
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True)
@click.option("--lang", default=None, help="Only this language (python, go, typescript, ...).")
@click.option("--glob", default=None, help="Only paths matching this glob, e.g. 'src/*.py'.")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines: one result per line.")
@click.option("--no-refresh", is_flag=True, help="Answer from the index as it is, without syncing files.")
@click.option("--catalog", "catalog_dir", default=None, type=click.Path(path_type=Path),
              help="Search the catalog an indexing job wrote in this directory (all its repositories).")
@click.option("--server", default=None, envvar="CODESEARCH_SERVER",
              help="Ask a team server (`codesearch serve`) at this URL. [env: CODESEARCH_SERVER]")
@click.option("--token", default=None, envvar="CODESEARCH_TOKEN",
              help="Bearer token for --server. [env: CODESEARCH_TOKEN]")
@click.option("--repo", "repos", multiple=True,
              help="With --catalog or --server: only repositories matching this name or glob (repeatable).")
@click.option("--max-tokens", default=None, type=click.IntRange(min=100),
              help="Fit the answer in about this many tokens (4 characters each): whole chunks, then outlines.")
@click.option("--no-daemon", is_flag=True, envvar="CODESEARCH_NO_DAEMON",
              help="Answer in this process; neither ask nor start the warm local server. [env: CODESEARCH_NO_DAEMON]")
@index_options
def query_command(text: str, path: Path | None, top: int, mode: str, lang: str | None, glob: str | None,
                  as_json: bool, no_refresh: bool, catalog_dir: Path | None, server: str | None, token: str | None,
                  repos: tuple[str, ...], max_tokens: int | None, no_daemon: bool, **kw: Any) -> None:
    """Search the repository for TEXT, e.g. `codesearch query "where do we retry uploads"`."""
    if not text.strip():
        raise click.UsageError("the query is empty; say what the code does, e.g. \"parse config file\"")
    if catalog_dir or server:
        results = _query_many(text, catalog_dir, server, token, repos, top=top, mode=mode, lang=lang, glob=glob,
                              settings=EncoderSettings(kw["device"], kw["dtype"], kw["threads"]))
        _print(results, text, as_json, max_tokens)
        return
    if repos:
        raise click.UsageError("--repo needs --catalog DIR or --server URL")
    root = check_directory(path) if path else find_root(Path.cwd())
    request = {"op": "search", "root": str(root), "query": text, "k": top, "mode": mode, "lang": lang, "glob": glob,
               "refresh": not no_refresh, "index_dir": kw["index_dir"], "model": kw["model"],
               "max_file_size": kw["max_file_bytes"], "excludes": list(kw["excludes"]), "wait": kw["wait_seconds"],
               "device": kw["device"], "dtype": kw["dtype"], "threads": kw["threads"]}
    use_daemon, then = not no_daemon and not _daemon_disabled(), "start"
    if use_daemon:
        from codesearch.service.local import DaemonUnavailable, ask_search, start_server

        try:
            results, notes = ask_search(request)
        except DaemonUnavailable as reason:
            then = reason.then
            if then == "warn":
                _warn(str(reason))
        else:
            for note in notes:
                _note(note)
            _print(results, text, as_json, max_tokens)
            return
    results = _query_here(root, text, top=top, mode=mode, lang=lang, glob=glob, no_refresh=no_refresh, kw=kw)
    _print(results, text, as_json, max_tokens)
    if use_daemon:  # warm up for the next query, on this repository
        start_server(warm=request, then=then)


def _daemon_disabled() -> bool:
    from codesearch.service.local import daemon_disabled

    return daemon_disabled()


def _query_here(root: Path, text: str, *, top: int, mode: str, lang: str | None, glob: str | None,
                no_refresh: bool, kw: dict[str, Any]) -> list[Any]:
    """Answer a query in this process: sync the index with the disk (briefly embed), then search."""
    from codesearch.indexing import open_index, update_index
    from codesearch.search import search

    options = _options(root, kw)
    index = open_index(options, create=not no_refresh)
    if index.is_shard:
        no_refresh = True  # a shard is written only by its job
    if not no_refresh:
        try:
            with index.writing(0.0):
                summary = update_index(index, options, embed=mode != "lexical",
                                       embed_budget=QUERY_EMBED_SECONDS, warn=_warn)
        except IndexBusy:
            _note("another process is updating the index; answering from its last completed state")
        else:
            if summary.missing_vectors and mode != "lexical" and options.encoder(options.model_id(index), _warn):
                _note(f"{summary.missing_vectors:,} of {summary.chunks:,} chunks have no vectors yet; "
                      "run `codesearch index` to embed them")
    encoder = options.encoder(options.model_id(index), _warn) if mode != "lexical" else None
    try:
        return search(index.store, text, mode=mode, k=top, encoder=encoder, language=lang, glob=glob)
    finally:
        index.close()


def _query_many(text: str, catalog_dir: Path | None, server: str | None, token: str | None,
                repos: tuple[str, ...], *, top: int, mode: str, lang: str | None, glob: str | None,
                settings: EncoderSettings) -> list[Any]:
    """`query --catalog DIR` (in this process) or `query --server URL` (over HTTP)."""
    if catalog_dir and server:
        raise click.UsageError("give --catalog or --server, not both")
    if server:
        from codesearch.service.client import ServerClient

        results = ServerClient.create(server, token).search(text, k=top, mode=mode, language=lang, glob=glob,
                                                            repos=list(repos))
    else:
        from codesearch.catalog.shards import CatalogSearcher

        searcher = CatalogSearcher(check_directory(catalog_dir), settings)  # type: ignore[arg-type]
        if repos and not searcher.select(repos):
            raise click.UsageError(f"no repository in the catalog matches {', '.join(repos)}")
        results = searcher.search(text, k=top, mode=mode, language=lang, glob=glob, repos=repos)
        for warning in searcher.warnings:
            _warn(warning)
        searcher.close()
    return results


def _print(results: list[Any], text: str, as_json: bool, max_tokens: int | None = None) -> None:
    if max_tokens is not None:
        _print_within(results, text, as_json, max_tokens)
    elif as_json:
        for result in results:
            click.echo(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        from codesearch.listing import print_results, wants_color

        print_results(sys.stdout, results, text, color=wants_color(sys.stdout))


def _print_within(results: list[Any], text: str, as_json: bool, max_tokens: int) -> None:
    """`--max-tokens`: the answer the MCP `search` tool gives; as JSON, the results it shows, outlined
    ones with only their first and matching lines and `"truncated": true`."""
    from codesearch.service.budget import layout, outline_lines, query_pattern

    answer, shown = layout(results, text, max_tokens)
    if not as_json:
        click.echo(answer)
        return
    pattern = query_pattern(text)
    for result, form in zip(results, shown, strict=True):
        if form == "whole":
            click.echo(json.dumps(result.to_json(), ensure_ascii=False))
        elif form == "outline":
            line = {**result.to_json(), "text": outline_lines(result, pattern), "truncated": True}
            click.echo(json.dumps(line, ensure_ascii=False))
    if None in shown:
        _note(f"{shown.count(None)} more result(s) did not fit in {max_tokens} tokens")


@main.command("status")
@click.argument("path", default=None, required=False, type=click.Path(path_type=Path))
@click.option("--index-dir", default=None, envvar="CODESEARCH_INDEX_DIR", help="Where the index lives.")
@click.option("--json", "as_json", is_flag=True, help="Print the status as one JSON object.")
def status_command(path: Path | None, index_dir: str | None, as_json: bool) -> None:
    """Files, chunks, model, vectors, size on disk and last update of an index."""
    from codesearch.indexing import IndexOptions, open_index

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
    }
    if as_json:
        click.echo(json.dumps(info))
    else:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info["updated_at"])) if updated else "never"
        missing = counts["chunks"] - counts["with_vectors"]
        lines = [
            f"repository   {root}",
            f"index        {index.index_dir} ({info['size_bytes'] / 1e6:.1f} MB)",
            f"files        {counts['files']:,}",
            f"chunks       {counts['chunks']:,} ("
            + ", ".join(f"{lang} {n:,}" for lang, n in list(info["languages"].items())[:6]) + ")",
            f"model        {index.model_id}",
            f"vectors      {counts['with_vectors']:,} of {counts['chunks']:,} chunks"
            + (f" ({missing:,} missing: run `codesearch index` with the model available)" if missing else ""),
            f"last update  {when}",
        ]
        click.echo("\n".join(lines))
    index.close()


@main.command("watch")
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option("--no-embed", is_flag=True, help="Keep chunks and the lexical index current; no vectors.")
@index_options
def watch_command(path: Path, no_embed: bool, **kw: Any) -> None:
    """Keep PATH's index current as files change, one log line per sync, until Ctrl-C."""
    from codesearch.live import LiveIndex

    root = check_directory(path)
    live = LiveIndex(_options(root, kw), _ConsoleListener(), embed=not no_embed).start()
    _note(f"watching {root} (Ctrl-C to stop)")
    try:
        while live.alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        _note("stopping; the index keeps its last completed state")
    finally:
        live.close()


class _ConsoleListener:
    """`codesearch watch` output: a timestamped line per sync, warnings in yellow."""

    def log(self, message: str) -> None:
        click.echo(f"{time.strftime('%H:%M:%S')} {message}", err=True)

    def warn(self, message: str) -> None:
        _warn(message)

    def progress(self, task: str, done: int, total: int) -> None:
        pass


@main.group("daemon")
def daemon_group() -> None:
    """The warm local query server that answers `codesearch query` (started by the first query)."""


@daemon_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as one JSON object.")
def daemon_status(as_json: bool) -> None:
    """Whether the server runs, since when, and the repositories it keeps open."""
    from codesearch.service.local import DaemonUnavailable, ask, runtime_dir

    try:
        status = ask({"op": "status"}, timeout=10.0, check_build=False)
    except DaemonUnavailable as reason:
        if as_json:
            click.echo(json.dumps({"running": False, "reason": str(reason)}))
        else:
            click.echo(f"not running ({reason}); the next `codesearch query` starts it")
        return
    if as_json:
        click.echo(json.dumps({"running": True, **status}))
        return
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(status["started"]))
    click.echo(f"running      pid {status['pid']}, since {started}, build {status['build']}\n"
               f"socket       {runtime_dir(create=False)}\n"
               f"idle exit    after {status['idle_seconds']:g} s without a query")
    for index in status["indexes"]:
        click.echo(f"repository   {index['root']}: {index['files']:,} files, {index['chunks']:,} chunks, "
                   f"{index['with_vectors']:,} vectors, {index['state']}, encoder {index['encoder']}")


@daemon_group.command("stop")
def daemon_stop() -> None:
    """Stop the server (it also stops by itself when idle)."""
    from codesearch.service.local import stop_server

    click.echo("stopped" if stop_server() else "not running")


@daemon_group.command("start")
@click.option("--foreground", is_flag=True, help="Run in this terminal, logging here, until Ctrl-C.")
@click.option("--idle", "idle_seconds", default=None, type=click.FloatRange(min=1),
              help="Exit after this many seconds without a query (default 900).")
def daemon_start(foreground: bool, idle_seconds: float | None) -> None:
    """Start the server now instead of at the next query."""
    from codesearch.service.local import start_server

    if foreground:
        from codesearch.service.daemon import main as serve_main

        raise SystemExit(serve_main([] if idle_seconds is None else ["--idle", str(idle_seconds)]))
    start_server(idle_seconds=idle_seconds)
    click.echo("starting; `codesearch daemon status` shows it")


@main.command("mcp")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--catalog", "catalog_dir", default=None, type=click.Path(path_type=Path),
              help="Serve the catalog an indexing job wrote in this directory instead of local repositories.")
@click.option("--server", default=None, envvar="CODESEARCH_SERVER",
              help="Serve what this team server (`codesearch serve`) lets the token see. [env: CODESEARCH_SERVER]")
@click.option("--token", default=None, envvar="CODESEARCH_TOKEN",
              help="Bearer token for --server. [env: CODESEARCH_TOKEN]")
@index_options
def mcp_command(paths: tuple[Path, ...], catalog_dir: Path | None, server: str | None, token: str | None,
                **kw: Any) -> None:
    """Serve code search to coding agents over MCP (stdio): PATHS are the repositories (default: here)."""
    try:
        from codesearch.service import mcp
    except ImportError as error:
        raise click.ClickException(
            f"the MCP server needs the mcp extra ({error.name} is missing): pip install 'codesearch[mcp]'") from None
    if sum(bool(x) for x in (paths, catalog_dir, server)) > 1:
        raise click.UsageError("serve local PATHS, --catalog DIR or --server URL: one of them")
    settings = EncoderSettings(kw["device"], kw["dtype"], kw["threads"])
    backend: mcp.Backend
    folders = None
    if server:
        from codesearch.service.client import ServerClient

        backend = mcp.ServerBackend(ServerClient.create(server, token))
    elif catalog_dir:
        from codesearch.catalog.shards import CatalogSearcher

        backend = mcp.CatalogBackend(CatalogSearcher(check_directory(catalog_dir), settings))
    else:
        from codesearch.live import LiveFolders, LiveIndex
        from codesearch.service.queries import can_watch

        listener = mcp.Listener()
        folders = LiveFolders(lambda root: LiveIndex(_options(root, kw), listener, watch=can_watch()))
        for root in [check_directory(p) for p in paths] or [find_root(Path.cwd())]:
            folders.add(root)
        backend = mcp.LiveBackend(folders)
    try:
        mcp.build_server(backend).run("stdio")
    finally:
        if folders is not None:
            folders.close()


@main.command("lsp")
@click.option("--tcp", "address", default=None, metavar="HOST:PORT",
              help="Listen on TCP instead of talking over stdin/stdout.")
def lsp_command(address: str | None) -> None:
    """The language server for editors (stdio by default); see the README for editor setup."""
    tcp = None
    if address:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise click.BadParameter(f"expected HOST:PORT, e.g. 127.0.0.1:2087, not {address!r}", param_hint="--tcp")
        tcp = (host, int(port))
    try:
        from codesearch.lsp.server import serve
    except ImportError as error:
        raise click.ClickException(
            f"the language server needs the lsp extra ({error.name} is missing): pip install 'codesearch[lsp]'"
        ) from None
    serve(tcp)


@main.group("job")
def job_group() -> None:
    """Indexing jobs over many repositories (on Ray), publishing a catalog."""


@job_group.command("run")
@click.argument("spec_path", metavar="SPEC", type=click.Path(path_type=Path))
@click.option("--address", default=None, envvar="RAY_ADDRESS",
              help="Ray cluster to join (default: start Ray here on this machine's cores). [env: RAY_ADDRESS]")
@click.option("--report", "report_path", default=None, type=click.Path(path_type=Path),
              help="Also write the per-repository report here as JSON.")
def job_run(spec_path: Path, address: str | None, report_path: Path | None) -> None:
    """Index the repositories SPEC (TOML) lists into a catalog; exit 1 if any failed."""
    from codesearch.indexer.jobs.report import print_report, run_with_progress, write_report
    from codesearch.indexer.jobs.spec import JobSpec

    spec = JobSpec.load(spec_path)
    try:
        import ray  # noqa: F401
    except ImportError:
        raise click.ClickException(
            "indexing jobs need the distributed extra: pip install 'codesearch[distributed]'") from None
    from codesearch.render import stderr

    report = run_with_progress(spec, address=address, console=stderr)
    print_report(report, stderr)
    if report_path:
        write_report(report, report_path)
    if report.failed:
        raise SystemExit(1)


@main.command("serve")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.option("--tokens", "tokens_path", default=None, type=click.Path(path_type=Path),
              help="TOML file of bearer tokens scoped to repositories; needed to listen beyond loopback.")
@index_options
def serve_command(directory: Path, host: str, port: int, tokens_path: Path | None, **kw: Any) -> None:
    """Serve DIRECTORY (a job's output, or one index) as an HTTP JSON API for the team."""
    import ipaddress

    try:
        import uvicorn

        from codesearch.service.http import create_app
    except ImportError as error:
        raise click.ClickException(f"the server needs the serve extra ({error.name} is missing): "
                                   "pip install 'codesearch[serve]'") from None
    from codesearch.catalog.shards import CatalogSearcher
    from codesearch.service.tokens import TokenTable

    tokens = TokenTable.load(tokens_path) if tokens_path else None
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if tokens is None and not loopback:
        raise click.UsageError(f"refusing to serve on {host} without --tokens: anyone who can reach it would "
                               "read every repository; give a token file or listen on 127.0.0.1")
    searcher = CatalogSearcher(check_directory(directory), EncoderSettings(kw["device"], kw["dtype"], kw["threads"]))
    _raise_open_files_limit()
    searcher.encoder()  # load the model now, not on the first query
    for warning in searcher.warnings:
        _warn(warning)
    _note(f"serving {directory} on http://{host}:{port} ({len(searcher.repos()):,} repositories"
          + (", tokens required)" if tokens else ", no tokens: loopback only)"))
    uvicorn.run(create_app(searcher, tokens), host=host, port=port, log_level="warning")


def _raise_open_files_limit() -> None:
    """A catalog keeps a few files open per shard: allow as many as the system lets us."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY or soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))
    except (ImportError, ValueError, OSError):
        pass


@main.group("model")
def model_group() -> None:
    """Models: list the presets, download one for offline use."""


@model_group.command("list")
def model_list() -> None:
    """The preset names and what they stand for."""
    from codesearch.presets import PRESETS

    for preset in PRESETS.values():
        click.echo(f"{preset.name:6s} {preset.hub_id}  ({preset.dim} dims) {preset.description}")


@model_group.command("download")
@click.argument("name", default="base")
def model_download(name: str) -> None:
    """Download NAME (preset or hub id) into the Hugging Face cache for later offline use."""
    from codesearch.model.hub import locate_checkpoint
    from codesearch.presets import PRESETS

    hub_id = PRESETS[name].hub_id if name in PRESETS else name
    directory = locate_checkpoint(hub_id, download=True)
    click.echo(f"{hub_id} is at {directory}")


@main.group("bench")
def bench_group() -> None:
    """Benchmarks that print figures."""


@bench_group.command("retrieval")
@click.option("--annotations", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of NAME.json query files (with repos.json beside or inside it).")
@click.option("--repos", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder holding one checkout per repository, REPOS/NAME.")
@click.option("--mode", type=click.Choice(MODES), default="lexical", show_default=True)
@click.option("--model", "-m", default=None, help="Model for dense and hybrid modes.")
@click.option("--only", multiple=True, help="Only these repositories (repeatable).")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write the hits as JSON Lines here.")
@click.option("--max-tokens", "budgets", multiple=True, type=click.IntRange(min=100),
              help="Also the share of queries whose MCP answer within this many tokens shows a relevant "
                   "target whole (repeatable).")
def bench_retrieval(annotations: Path, repos: Path, mode: str, model: str | None, only: tuple[str, ...],
                    out: Path | None, budgets: tuple[int, ...]) -> None:
    """NDCG@10 per repository, per language and overall, with index time and query latency."""
    from codesearch.bench import run_retrieval

    run_retrieval(annotations, repos, mode=mode, model=model, only=only, out=out, echo=click.echo, warn=_warn,
                  budgets=budgets)


@bench_group.command("serve")
@click.option("--url", required=True, help="The team server, e.g. http://127.0.0.1:8765.")
@click.option("--annotations", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--token", default=None, envvar="CODESEARCH_TOKEN")
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True)
@click.option("--clients", default=8, show_default=True, type=click.IntRange(min=1))
@click.option("--out", type=click.Path(path_type=Path), default=Path("serve-results.jsonl"), show_default=True)
def bench_serve(url: str, annotations: Path, token: str | None, mode: str, clients: int, out: Path) -> None:
    """NDCG@10 and latency through a team server: each query in its repository, then over all."""
    from codesearch.catalog.bench import run_serve_bench

    run_serve_bench(url, annotations, token=token, mode=mode, clients=clients, out=out, echo=click.echo)


@bench_group.command("catalog")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--copies", default=0, type=click.IntRange(min=0),
              help="First publish every shard again under this many names into --scaled-dir.")
@click.option("--scaled-dir", type=click.Path(path_type=Path), default=None)
@click.option("--annotations", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Take the queries from the retrieval benchmark's annotations.")
@click.option("--queries", "limit", default=100, show_default=True, type=click.IntRange(min=1))
def bench_catalog(directory: Path, copies: int, scaled_dir: Path | None, annotations: Path | None,
                  limit: int) -> None:
    """Query latency, IVF recall@10 against exact search, and memory of a (scaled) catalog."""
    from codesearch.catalog.bench import run_catalog_bench, scale_catalog

    if copies:
        if scaled_dir is None:
            raise click.UsageError("--copies needs --scaled-dir")
        scale_catalog(directory, scaled_dir, copies, click.echo)
        directory = scaled_dir
    queries = ["parse command line options", "retry failed request", "serialize to json", "route handler"]
    if annotations:
        queries = [q["query"] for f in sorted(annotations.glob("*.json")) for q in json.loads(f.read_text())]
    run_catalog_bench(directory, queries[:limit], echo=click.echo)


@bench_group.command("encoder")
@click.option("--model", "-m", default="base", show_default=True, help="Preset, Hugging Face id or directory.")
@click.option("--random-weights", is_flag=True,
              help="Use ModernBERT-base's shapes with random weights (same compute; nothing to download).")
@click.option("--repo", type=click.Path(exists=True, file_okay=False, path_type=Path), default=".",
              show_default=True, help="Repository whose chunks are encoded.")
@click.option("--limit", default=128, show_default=True, type=click.IntRange(min=1), help="Chunks to encode.")
@click.option("--device", default=None, help="cpu, cuda or mps (default: the best available).")
@click.option("--dtype", default="auto", show_default=True, type=click.Choice(DTYPES))
@click.option("--runs", default=3, show_default=True, type=click.IntRange(min=1), help="Timed runs per variant.")
@click.option("--batch-size", default=32, show_default=True, type=click.IntRange(min=1),
              help="Batch size of the two baselines.")
def bench_encoder(model: str, random_weights: bool, repo: Path, limit: int, device: str | None, dtype: str,
                  runs: int, batch_size: int) -> None:
    """Tokens/s, chunks/s, peak memory and query latency: fast path vs transformers vs sentence-transformers."""
    from codesearch.model.benchmark import run_encoder_bench

    run_encoder_bench(model=model, random_weights=random_weights, repo=repo, limit=limit, device=device,
                      dtype=dtype, runs=runs, batch_size=batch_size, echo=click.echo)
