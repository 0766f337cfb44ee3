"""The commands beyond indexing and searching one repository: the local and team servers, the
server for coding agents, the language server, indexing jobs, models and benchmarks. They
register on the `codesearch` group defined in `cli`."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from codesearch.cli import index_options, main, note, options_from, organisation_options, warn
from codesearch.encoding import DTYPES, EncoderSettings
from codesearch.paths import check_directory, find_root
from codesearch.requests import MODES


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
@organisation_options
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
        folders = LiveFolders(lambda root: LiveIndex(options_from(root, kw), listener, watch=can_watch()))
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
        warn(warning)
    note(f"serving {directory} on http://{host}:{port} ({len(searcher.repos()):,} repositories"
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
@click.option("--mode", "modes", type=click.Choice(MODES), multiple=True,
              help="Search mode; repeat to compare modes side by side (default: lexical).")
@click.option("--model", "-m", default=None, help="Model for dense and hybrid modes.")
@click.option("--only", multiple=True, help="Only these repositories (repeatable).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("retrieval.jsonl"), show_default=True,
              help="Write the hits as JSON Lines here (one file per mode: NAME-MODE.jsonl).")
@click.option("--chart", type=click.Path(path_type=Path), default=None,
              help="The PNG chart per language (default: beside --out, NAME.png).")
@click.option("--index-root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the indexes are kept, one folder per model (default: codesearch's cache).")
@click.option("--max-tokens", "budgets", multiple=True, type=click.IntRange(min=100),
              help="Also the share of queries whose MCP answer within this many tokens shows a relevant "
                   "target whole (repeatable).")
@click.option("--typos", type=int, default=None, metavar="SEED",
              help="Ask each query with one typo in one of its longer words, chosen by this seed (how well "
                   "a query typed wrong is answered); the hits then hold the queries as typed.")
def bench_retrieval(annotations: Path, repos: Path, modes: tuple[str, ...], model: str | None,
                    only: tuple[str, ...], out: Path, chart: Path | None, index_root: Path | None,
                    budgets: tuple[int, ...], typos: int | None) -> None:
    """NDCG@10 per repository, language and category for one or more modes, with index time,
    query latency and a chart."""
    from codesearch.bench import run_retrieval

    run_retrieval(annotations, repos, modes=modes or ("lexical",), model=model, only=only, out=out,
                  echo=click.echo, warn=warn, budgets=budgets, index_root=index_root,
                  chart=chart or out.with_suffix(".png"), typos=typos)


@bench_group.command("index")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path), default=".")
@click.option("--jobs", "-j", default=None, type=click.IntRange(min=1),
              help="Processes that parse files (default: one per core).")
@click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Build the index in this new or empty folder (default: a temporary one, removed after).")
@click.option("--queries", default=200, show_default=True, type=click.IntRange(min=0),
              help="Lexical queries timed after the build (the tree's own symbols and their words).")
def bench_index(path: Path, jobs: int | None, index_dir: Path | None, queries: int) -> None:
    """Lexical index build of PATH from scratch: files/s, MB/s, chunks/s, index size against the
    source, peak memory, and lexical query p50/p99 in process."""
    import os

    from codesearch.bench import run_index_bench

    run_index_bench(check_directory(path), index_dir=index_dir, jobs=jobs or os.cpu_count() or 1,
                    queries=queries, echo=click.echo)


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


@main.command("tune")
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option("--max-minutes", default=5.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Stop training after this long (the measuring before and after comes on top).")
@click.option("--full", is_flag=True, help="Tune every weight instead of a LoRA adapter (bigger, slower).")
@click.option("--reset", is_flag=True, help="Go back to the base model (its cached vectors are kept).")
@click.option("--max-steps", default=None, type=click.IntRange(min=0),
              help="Stop after this many training steps (for experiments).")
@click.option("--batch-size", default=16, show_default=True, type=click.IntRange(min=2),
              help="Pairs per training step (each also a negative for the others).")
@click.option("--hard-negatives", is_flag=True,
              help="Also train against what BM25 ranks high for each pair's query (measured worse; see README).")
@click.option("--index-dir", default=None, envvar="CODESEARCH_INDEX_DIR", help="Where the index lives.")
@click.option("--device", default=None, envvar="CODESEARCH_DEVICE", help="cpu, cuda, mps (default: the best).")
@click.option("--threads", default=None, type=click.IntRange(min=1), envvar="CODESEARCH_THREADS",
              help="CPU threads (default: one per core).")
def tune_command(path: Path, max_minutes: float, full: bool, reset: bool, max_steps: int | None, batch_size: int,
                 hard_negatives: bool, index_dir: str | None, device: str | None, threads: int | None) -> None:
    """Fit the index's encoder to PATH's own code (pairs mined from it; no labels), kept only if
    it finds held-out code better. Then `codesearch index PATH` embeds with the tuned model."""
    from codesearch.indexing import IndexOptions

    root = check_directory(path)
    options = IndexOptions.create(root, index_dir=index_dir, settings=EncoderSettings(device, "float32", threads))
    if reset:
        from codesearch.tuning import reset as reset_tuning

        base = reset_tuning(options)
        click.echo(f"{root} is back on {base}" if base else f"{root}'s index is not tuned; nothing to reset")
        _stop_local_server()
        return
    from codesearch.render import tuning_bar
    from codesearch.tuning import tune

    with tuning_bar(max_minutes * 60) as progress:
        report = tune(options, max_minutes=max_minutes, full=full, max_steps=max_steps, batch_size=batch_size,
                      hard_negatives=hard_negatives, progress=progress, say=note)
    stopped = " (stopped by Ctrl-C)" if report.interrupted else ""
    note(f"trained {report.steps:,} steps on {report.train_pairs:,} pairs in {report.seconds:.0f} s{stopped}; "
         f"loss {report.first_loss:.3f} -> {report.last_loss:.3f}")
    change = (f"held-out MRR@10 {report.before.mrr:.3f} -> {report.after.mrr:.3f}, "
              f"recall@10 {report.before.recall:.3f} -> {report.after.recall:.3f}")
    if report.kept:
        click.echo(f"tuned: {change}; the index now uses {report.model_id}\n"
                   f"run `codesearch index {path}` to embed its chunks with it (`codesearch tune --reset` undoes)")
        _stop_local_server()
    else:
        click.echo(f"not better ({change}); nothing changed, the index keeps {report.model_id}")


def _stop_local_server() -> None:
    """A running local server holds the index's old model: end it (the next query starts one)."""
    from codesearch.service.local import stop_server

    if stop_server():
        note("stopped the warm local server, which held the old model")


@bench_group.command("tune")
@click.option("--annotations", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of NAME.json query files (with repos.json beside or inside it).")
@click.option("--repos", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder holding one checkout per repository, REPOS/NAME.")
@click.option("--model", "-m", default=None, help="The base model.")
@click.option("--only", multiple=True, help="Only these repositories (repeatable).")
@click.option("--max-minutes", default=3.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Training time per repository.")
@click.option("--max-steps", default=None, type=click.IntRange(min=0),
              help="Training steps per repository (the same on a fast or a slow machine).")
@click.option("--hard-negatives", is_flag=True, help="Tune with BM25 hard negatives, as `tune --hard-negatives`.")
@click.option("--index-root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the base model's indexes are kept (as for `bench retrieval`).")
@click.option("--scratch", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the tuned copies of the indexes go (default: a temporary folder).")
def bench_tune(annotations: Path, repos: Path, model: str | None, only: tuple[str, ...], max_minutes: float,
               max_steps: int | None, hard_negatives: bool, index_root: Path | None, scratch: Path | None) -> None:
    """Dense and hybrid NDCG@10 per repository before and after `codesearch tune` on its own code."""
    import tempfile

    from codesearch.bench import run_tune_bench

    with tempfile.TemporaryDirectory(prefix="codesearch-tune-bench-") as temporary:
        run_tune_bench(annotations, repos, model=model, only=only, max_minutes=max_minutes, index_root=index_root,
                       scratch=scratch or Path(temporary), echo=click.echo, warn=warn, max_steps=max_steps,
                       hard_negatives=hard_negatives)
