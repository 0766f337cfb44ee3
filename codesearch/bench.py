"""`codesearch bench retrieval`: the shared benchmark's protocol (NDCG@10), run through the same
index and search code a user runs, several modes side by side, with a chart people can compare."""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codesearch import partitions, spelling
from codesearch.errors import PathError
from codesearch.indexer.sync import worker_pool
from codesearch.indexing import IndexOptions, open_index, update_index
from codesearch.lexical import split_identifier
from codesearch.search import search

K = 10
# Published figures on the same protocol (semble's table, all 63 repositories), drawn as lines.
ANCHORS = {"semble hybrid": 0.854, "CodeRankEmbed hybrid": 0.862, "semble BM25 + re-ranking": 0.834}


def _path_matches(hit: str, target: str) -> bool:
    a, b = hit.replace("\\", "/").lstrip("./"), target.replace("\\", "/")
    return a == b or a.endswith("/" + b) or b.endswith("/" + a)


def _hit_matches(hit: dict[str, Any], target: str | dict[str, Any]) -> bool:
    if isinstance(target, str):
        return _path_matches(hit["path"], target)
    if not _path_matches(hit["path"], str(target["path"])):
        return False
    start, end = target.get("start_line"), target.get("end_line")
    return start is None or end is None or not (hit["end_line"] < start or hit["start_line"] > end)


def ndcg_at_10(hits: list[dict[str, Any]], targets: list[Any]) -> float:
    """NDCG@10 where each target counts once, at its first matching hit."""
    if not targets:
        return 0.0
    gains = [0] * K
    for target in targets:
        for rank, hit in enumerate(hits[:K]):
            if _hit_matches(hit, target):
                gains[rank] = 1
                break
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sum(1 / math.log2(i + 2) for i in range(min(K, len(targets))))
    return dcg / ideal


def _repos_table(annotations: Path) -> dict[str, dict[str, Any]]:
    for candidate in (annotations / "repos.json", annotations.parent / "repos.json"):
        if candidate.exists():
            return {r["name"]: r for r in json.loads(candidate.read_text())}
    return {}


def default_index_root() -> Path:
    """Where the benchmark keeps its indexes: codesearch's cache, never inside the checkouts."""
    from codesearch.model.hub import cache_dir

    return cache_dir() / "bench"


def model_folder(model_id: str) -> str:
    """A folder name for a model's indexes: readable, and distinct for distinct ids."""
    tail = "-".join(model_id.replace("\\", "/").rstrip("/").split("/")[-2:])
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", tail).strip("-.")[:60] or "model"
    return f"{readable}-{hashlib.sha1(model_id.encode()).hexdigest()[:8]}"


@dataclass
class ModeScores:
    """One mode's results: NDCG@10 per repository and per category, latencies, budget recall."""

    per_repo: dict[str, float] = field(default_factory=dict)
    per_category: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    latencies: list[float] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    inside: dict[int, list[bool]] = field(default_factory=lambda: defaultdict(list))
    answer_tokens: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))

    def mean(self) -> float:
        return statistics.mean(self.per_repo.values()) if self.per_repo else 0.0


def _annotation_files(annotations: Path) -> list[Path]:
    """The benchmark's annotation files, one per repository, by name (`repos.json` is not one)."""
    return sorted(file for file in annotations.glob("*.json") if file.stem != "repos")


def run_retrieval(
    annotations: Path,
    repos: Path,
    *,
    modes: tuple[str, ...],
    model: str | None,
    only: tuple[str, ...],
    out: Path | None,
    echo: Callable[[str], None],
    warn: Callable[[str], None],
    budgets: tuple[int, ...] = (),
    index_root: Path | None = None,
    chart: Path | None = None,
    typos: int | None = None,
) -> dict[str, ModeScores]:
    """Index each repository once, answer its queries in every mode, print NDCG@10 per
    repository, language and category side by side, and write the hits and a chart.

    Indexes live under `index_root/<model>/<repo>`, one set per model, so runs with different
    models never meet each other's index. With `budgets`, also the share of queries whose answer,
    laid out as the MCP `search` tool lays it out within that many tokens, shows a relevant
    target's chunk whole. With `typos` (a seed), each query has one typo (`spelling.typed_wrong`)."""
    table = _repos_table(annotations)
    for written in (out, chart):  # made now, so a long run cannot end unable to write its results
        if written is not None:
            try:
                written.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise PathError(f"cannot write {written}: no folder can be made at {written.parent} "
                                f"({error.strerror}); give another --out or --chart") from None
    files = _annotation_files(annotations)
    named = {file.stem for file in files}
    unknown = sorted(set(only) - named)
    if unknown:
        raise PathError(f"no annotations for {', '.join(unknown)} in {annotations}; "
                        f"--only takes one of {', '.join(sorted(named)) or '(none found)'}")
    results = {mode: ModeScores() for mode in modes}
    languages: dict[str, str] = {}
    root_of_indexes = index_root or default_index_root()
    for file in files:
        name = file.stem
        if only and name not in only:
            continue
        info = table.get(name, {})
        root = repos / name / (info.get("benchmark_root") or "")
        if not root.is_dir():
            warn(f"skipping {name}: {root} does not exist")
            continue
        probe = IndexOptions.create(root.resolve(), model=model)
        options = IndexOptions.create(root.resolve(), model=model,
                                      index_dir=str(root_of_indexes / model_folder(probe.model_id()) / name))
        started = time.monotonic()
        index = open_index(options, create=True)
        with index.writing(options.wait_seconds):
            update_index(index, options, embed=any(mode != "lexical" for mode in modes), warn=warn)
        # the BM25 partitions the server behind `codesearch query` builds after its first sync:
        # the same scores as FTS5's, in less time
        partitions.refresh_or_warn(index.store, options.jobs, worker_pool, warn)
        index_seconds = time.monotonic() - started
        encoder = options.encoder(options.model_id(index), warn) if set(modes) - {"lexical"} else None
        queries = json.loads(file.read_text())
        if typos is not None:
            rng = random.Random(f"{typos}:{name}")
            queries = [{**q, "query": spelling.typed_wrong(q["query"], rng)} for q in queries]
        for mode in modes:
            _answer(name, queries, index.store, mode, encoder, results[mode], budgets)
        index.close()
        languages[name] = info.get("language", "?")
        echo(f"{name:14s} {languages[name]:11s} "
             + "  ".join(f"{mode} {results[mode].per_repo[name]:.4f}" for mode in modes)
             + f"  ({len(queries)} queries, index {index_seconds:.1f} s)")
    if not languages:
        raise PathError(f"no repository was answered: {annotations} holds no annotations (NAME.json)"
                        if not named else f"none of the {len(named)} annotated repositories is under {repos}; "
                        "check them out there (see the README's recipe)")
    _report(results, languages, echo)
    for mode, scores in results.items():
        for budget, found in sorted(scores.inside.items()):
            echo(f"{mode}: a relevant target whole within {budget:,} tokens: {sum(found) / len(found):.3f} of "
                 f"{len(found)} queries; median answer {statistics.median(scores.answer_tokens[budget]):,.0f} tokens")
    if out:
        for mode, scores in results.items():
            target = out if len(modes) == 1 else out.with_name(f"{out.stem}-{mode}{out.suffix}")
            target.write_text("\n".join(scores.lines) + "\n")
            echo(f"hits written to {target}")
    if chart:
        try:
            draw_chart(results, languages, chart)
            echo(f"chart written to {chart}")
        except ImportError:
            warn("the chart needs matplotlib: pip install 'codesearch[bench]'")
    return results


def _answer(name: str, queries: list[dict[str, Any]], store: Any, mode: str, encoder: Any, scores: ModeScores,
            budgets: tuple[int, ...]) -> None:
    from codesearch.service.budget import estimate_tokens, layout

    per_query = []
    for item in queries:
        t0 = time.perf_counter()
        answer = search(store, item["query"], mode=mode, k=K, encoder=encoder)
        scores.latencies.append(time.perf_counter() - t0)
        hits = [{"path": r.chunk.path, "start_line": r.chunk.start_line, "end_line": r.chunk.end_line}
                for r in answer]
        scores.lines.append(json.dumps({"repo": name, "query": item["query"], "hits": hits}))
        ndcg = ndcg_at_10(hits, item.get("relevant", []) + item.get("secondary", []))
        per_query.append(ndcg)
        scores.per_category[item.get("category", "?")].append(ndcg)
        for budget in budgets:
            text, shown = layout(answer, item["query"], budget)
            whole = [i for i, form in enumerate(shown) if form == "whole"]
            scores.inside[budget].append(any(_hit_matches(hits[i], t) for i in whole for t in item.get("relevant", [])))
            scores.answer_tokens[budget].append(estimate_tokens(text))
    scores.per_repo[name] = statistics.mean(per_query) if per_query else 0.0


def by_language(scores: ModeScores, languages: dict[str, str]) -> dict[str, float]:
    """A language's score: the mean over its repositories."""
    grouped: dict[str, list[float]] = defaultdict(list)
    for name, value in scores.per_repo.items():
        grouped[languages[name]].append(value)
    return {language: statistics.mean(values) for language, values in sorted(grouped.items())}


def _report(results: dict[str, ModeScores], languages: dict[str, str], echo: Callable[[str], None]) -> None:
    modes = list(results)
    header = " " * 16 + "".join(f"{mode:>10s}" for mode in modes)
    echo("\nby language" + header[11:])
    per_language = {mode: by_language(scores, languages) for mode, scores in results.items()}
    for language in per_language[modes[0]]:
        echo(f"  {language:14s}" + "".join(f"{per_language[mode][language]:10.3f}" for mode in modes))
    echo("by category" + header[11:])
    for category in sorted(results[modes[0]].per_category):
        echo(f"  {category:14s}" + "".join(
            f"{statistics.mean(results[mode].per_category[category]):10.3f}" for mode in modes))
    echo("median query latency: " + ", ".join(
        f"{mode} {statistics.median(s.latencies) * 1000:.1f} ms" for mode, s in results.items())
        + f" (over {len(results[modes[0]].latencies)} queries)")
    for mode, scores in results.items():
        echo(f"NDCG@10 ({mode}, mean over {len(scores.per_repo)} repos): {scores.mean():.4f}; "
             f"mean over {len(per_language[mode])} languages: {statistics.mean(per_language[mode].values()):.4f}")


def draw_chart(results: dict[str, ModeScores], languages: dict[str, str], path: Path) -> None:
    """Per-language bars, one colour per mode, the published anchors as dashed lines (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modes = list(results)
    per_language = {mode: by_language(scores, languages) for mode, scores in results.items()}
    names = list(per_language[modes[0]])
    width = 0.8 / len(modes)
    figure, axes = plt.subplots(figsize=(min(20.0, max(8.0, 0.3 * len(names) * len(modes) + 4)), 5))
    for n, mode in enumerate(modes):
        positions = [i + (n - (len(modes) - 1) / 2) * width for i in range(len(names))]
        axes.bar(positions, [per_language[mode][name] for name in names], width,
                 label=f"{mode} ({results[mode].mean():.3f})")
    for (label, value), style in zip(ANCHORS.items(), ("--", ":", "-."), strict=True):
        axes.axhline(value, color="grey", linestyle=style, linewidth=1, label=f"{label} {value:.3f} (published)")
    axes.set_xticks(range(len(names)), names, rotation=45, ha="right")
    axes.set_ylim(0, 1)
    axes.set_ylabel("NDCG@10")
    axes.set_title("codesearch retrieval, per language")
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


# --- `codesearch bench index` ----------------------------------------------------------------

class PeakMemory:
    """The peak memory of this process and all its descendants (the indexing workers) together,
    sampled from /proc every 0.1 s; where there is no /proc, this process's own peak RSS."""

    def __init__(self) -> None:
        import threading

        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        import resource

        while True:
            now = _tree_memory(os.getpid()) or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            self.peak = max(self.peak, now)
            if self._stop.wait(0.1):
                return


def _tree_memory(root: int) -> int:
    """Bytes of memory a process and its descendants use: each one's proportional set size
    (shared pages, such as a forkserver's imports in its workers, counted once between them),
    or its resident size where the kernel has no smaps_rollup; 0 without /proc."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
            children[int(stat[stat.rindex(")") + 2:].split()[1])].append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += _process_memory(pid)
        todo.extend(children.get(pid, []))
    return total


def _process_memory(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def run_index_bench(root: Path, *, index_dir: Path | None, jobs: int, queries: int,
                    echo: Callable[[str], None]) -> dict[str, float]:
    """Build a lexical index of `root` from scratch and print its speed, size, memory and the
    in-process latency of lexical queries made from the tree's own identifiers."""
    import random
    import shutil
    import tempfile

    scratch = index_dir is None
    folder = index_dir or Path(tempfile.mkdtemp(prefix="codesearch-bench-"))
    if folder.exists() and any(folder.iterdir()):
        raise PathError(f"{folder} is not empty; give a new or empty folder for the benchmark's index")
    try:
        options = IndexOptions.create(root.resolve(), index_dir=str(folder), jobs=jobs)
        with PeakMemory() as memory:
            started = time.perf_counter()
            index = open_index(options, create=True)
            with index.writing(options.wait_seconds):
                summary = update_index(index, options, embed=False)
            seconds = time.perf_counter() - started
        store = index.store
        store.checkpoint()
        source = store.source_bytes()
        on_disk = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
        figures = {"files": summary.files, "chunks": summary.chunks, "seconds": seconds,
                   "mb_per_s": source / 1e6 / seconds, "index_ratio": on_disk / max(source, 1),
                   "peak_mb": memory.peak / 1e6}
        echo(f"{summary.files:,} files, {source / 1e6:,.1f} MB, {summary.chunks:,} chunks in {seconds:.1f} s "
             f"with {jobs} job{'s' if jobs > 1 else ''}: {summary.files / seconds:,.0f} files/s, "
             f"{figures['mb_per_s']:.1f} MB/s, {summary.chunks / seconds:,.0f} chunks/s")
        echo(f"index {on_disk / 1e6:,.1f} MB = {figures['index_ratio']:.2f}x the source; peak memory "
             f"{figures['peak_mb']:,.0f} MB (this process and its workers together)")
        names = store.sample_symbols(queries, random.Random(0))
        _print_latencies(figures, "", _lexical_latencies(store, names), "", echo)
        if store.chunk_count() >= partitions.MIN_ROWS:  # what a live index then builds, in the background
            with PeakMemory() as memory:
                started = time.perf_counter()
                built = partitions.refresh(store, jobs, worker_pool)
                figures["partitions_seconds"] = time.perf_counter() - started
            store.checkpoint()
            grown = sum(f.stat().st_size for f in folder.iterdir() if f.is_file()) - on_disk
            figures["partitions_peak_mb"] = memory.peak / 1e6
            echo(f"BM25 partitions (a live index builds them after indexing): {built} in "
                 f"{figures['partitions_seconds']:.1f} s, peak memory {figures['partitions_peak_mb']:,.0f} MB, "
                 f"{grown / 1e6:,.1f} MB more on disk ({(on_disk + grown) / max(source, 1):.2f}x the source)")
            _print_latencies(figures, "_partitions", _lexical_latencies(store, names), ", with the partitions",
                             echo)
        index.close()
        return figures
    finally:
        if scratch:
            shutil.rmtree(folder, ignore_errors=True)


def _lexical_latencies(store: Any, names: list[str]) -> list[float]:
    """Seconds per lexical query, sorted: each symbol name, every other one split into its words."""
    latencies: list[float] = []
    for name in names:
        query = " ".join(split_identifier(name)) if len(latencies) % 2 else name
        started = time.perf_counter()
        search(store, query, mode="lexical", k=K)
        latencies.append(time.perf_counter() - started)
    return sorted(latencies)


def _print_latencies(figures: dict[str, float], key: str, latencies: list[float], how: str,
                     echo: Callable[[str], None]) -> None:
    if latencies:
        figures[f"p50{key}_ms"] = statistics.median(latencies) * 1000
        figures[f"p99{key}_ms"] = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1000
        echo(f"lexical query in process over {len(latencies)} queries (symbols and their words{how}): "
             f"p50 {figures[f'p50{key}_ms']:.1f} ms, p99 {figures[f'p99{key}_ms']:.1f} ms")


def run_tune_bench(annotations: Path, repos: Path, *, model: str | None, only: tuple[str, ...], max_minutes: float,
                   index_root: Path | None, scratch: Path, echo: Callable[[str], None],
                   warn: Callable[[str], None], max_steps: int | None = None,
                   hard_negatives: bool = False) -> dict[str, dict[str, float]]:
    """`codesearch tune` measured on the benchmark: for each repository, dense and hybrid NDCG@10
    with the base model, then tuned on the repository's own code (the benchmark's queries are
    never seen), re-embedded, and measured again; with the held-out pair MRR, the time per
    1,000 pairs seen and the peak memory. Works on a copy of each index, in `scratch`."""
    import shutil

    from codesearch.errors import CodesearchError
    from codesearch.tuning import BATCH_SIZE, tune

    table = _repos_table(annotations)
    rows: dict[str, dict[str, float]] = {}
    for file in _annotation_files(annotations):
        name = file.stem
        if only and name not in only:
            continue
        root = (repos / name / (table.get(name, {}).get("benchmark_root") or "")).resolve()
        if not root.is_dir():
            warn(f"skipping {name}: {root} does not exist")
            continue
        probe = IndexOptions.create(root, model=model)
        cached = (index_root or default_index_root()) / model_folder(probe.model_id()) / name
        copy = scratch / name
        shutil.rmtree(copy, ignore_errors=True)
        options = IndexOptions.create(root, model=model, index_dir=str(cached))
        index = open_index(options, create=True)
        with index.writing(options.wait_seconds):
            update_index(index, options, embed=True, warn=warn)  # the base model's vectors, cached for next time
        index.close()
        shutil.copytree(cached, copy)
        queries = json.loads(file.read_text())
        row = _dense_and_hybrid(name, queries, IndexOptions.create(root, index_dir=str(copy)), "before", warn)
        try:
            with PeakMemory() as memory:
                report = tune(IndexOptions.create(root, index_dir=str(copy)), max_minutes=max_minutes,
                              max_steps=max_steps, hard_negatives=hard_negatives, say=lambda _: None)
        except CodesearchError as error:
            warn(f"{name}: not tuned: {error}")
            continue
        seen = report.steps * BATCH_SIZE
        row.update(pairs=len(report.mined.pairs), mrr_before=report.before.mrr, mrr_after=report.after.mrr,
                   kept=float(report.kept), seconds_per_1000_pairs=1000 * report.seconds / max(seen, 1),
                   peak_mb=memory.peak / 1e6)
        if report.kept:
            tuned = IndexOptions.create(root, index_dir=str(copy))
            index = open_index(tuned)
            with index.writing(tuned.wait_seconds):
                update_index(index, tuned, embed=True, warn=warn)
            index.close()
            row.update(_dense_and_hybrid(name, queries, tuned, "after", warn))
        else:
            row.update(dense_after=row["dense_before"], hybrid_after=row["hybrid_before"])
        rows[name] = row
        shutil.rmtree(copy, ignore_errors=True)
        echo(f"{name:14s} pairs {row['pairs']:5.0f}  MRR {row['mrr_before']:.3f} -> {row['mrr_after']:.3f}  "
             f"dense {row['dense_before']:.4f} -> {row['dense_after']:.4f}  hybrid {row['hybrid_before']:.4f} -> "
             f"{row['hybrid_after']:.4f}  {'kept' if report.kept else 'not kept'}  "
             f"{row['seconds_per_1000_pairs']:.0f} s/1,000 pairs  peak {row['peak_mb']:,.0f} MB")
    if rows:
        def mean(key: str) -> float:
            return statistics.mean(row[key] for row in rows.values())

        echo(f"mean over {len(rows)}: dense {mean('dense_before'):.4f} -> {mean('dense_after'):.4f}, hybrid "
             f"{mean('hybrid_before'):.4f} -> {mean('hybrid_after'):.4f}, MRR {mean('mrr_before'):.3f} -> "
             f"{mean('mrr_after'):.3f}; worst hybrid change "
             f"{min(row['hybrid_after'] - row['hybrid_before'] for row in rows.values()):+.4f}")
    return rows


def _dense_and_hybrid(name: str, queries: list[dict[str, Any]], options: IndexOptions, when: str,
                      warn: Callable[[str], None]) -> dict[str, float]:
    index = open_index(options)
    encoder = options.encoder(options.model_id(index), warn)
    row = {}
    for mode in ("dense", "hybrid"):
        scores = ModeScores()
        _answer(name, queries, index.store, mode, encoder, scores, ())
        row[f"{mode}_{when}"] = scores.per_repo[name]
    index.close()
    return row
