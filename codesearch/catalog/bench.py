"""Benchmarks of catalogs: `codesearch bench serve` and `codesearch bench catalog`.

- `serve`: the shared retrieval benchmark's queries sent to a running team server by concurrent
  clients, each query restricted to its repository and over every repository; writes the hits
  in the format `shared/bench/score.py` reads and prints NDCG@10 and latency percentiles.
- `catalog`: a catalog scaled up by publishing its shards again under many names (hard links,
  no extra disk), then in-process lexical and dense query latency, the merged IVF index's
  recall@10 against exact search, and the process's memory.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from codesearch.bench import ndcg_at_10
from codesearch.catalog.catalog import SHARDS_DIR, Catalog, ShardEntry, publish
from codesearch.catalog.dense import MergedIndex
from codesearch.catalog.shards import CatalogSearcher
from codesearch.indexer.jobs.run import publish_merged
from codesearch.store import Store

Echo = Callable[[str], None]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def _queries(annotations: Path) -> list[tuple[str, dict[str, Any]]]:
    return [(file.stem, q) for file in sorted(annotations.glob("*.json")) if file.stem != "repos"
            for q in json.loads(file.read_text())]


def run_serve_bench(url: str, annotations: Path, *, token: str | None, mode: str, clients: int, out: Path,
                    echo: Echo) -> None:
    """NDCG@10 and latency of a team server, restricted to each query's repository and over all."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    queries = _queries(annotations)
    for scope in ("restricted", "all"):
        def ask(item: tuple[str, dict[str, Any]], scope: str = scope) -> tuple[str, dict[str, Any], list, float]:
            repo, q = item
            body = {"query": q["query"], "k": 10, "mode": mode, **({"repos": [repo]} if scope == "restricted" else {})}
            started = time.perf_counter()
            response = httpx.post(f"{url}/search", json=body, headers=headers, timeout=300)
            elapsed = time.perf_counter() - started
            response.raise_for_status()
            return repo, q, response.json()["results"], elapsed

        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            answers = list(pool.map(ask, queries))
        wall = time.perf_counter() - started
        lines: list[str] = []
        scores: dict[str, list[float]] = {}
        latencies: list[float] = []
        for repo, q, results, elapsed in answers:
            # a hit in another repository never counts, whatever its path
            hits = [{"path": r["path"] if r["repo"] == repo else f"other:{r['repo']}/{r['path']}",
                     "start_line": r["start_line"], "end_line": r["end_line"]} for r in results]
            lines.append(json.dumps({"repo": repo, "query": q["query"], "hits": hits}))
            scores.setdefault(repo, []).append(ndcg_at_10(hits, q.get("relevant", []) + q.get("secondary", [])))
            latencies.append(elapsed * 1000)
        target = out.with_name(f"{out.stem}-{scope}{out.suffix}")
        target.write_text("\n".join(lines) + "\n")
        mean = statistics.mean(statistics.mean(v) for v in scores.values())
        echo(f"{scope:10s} {mode}: NDCG@10 {mean:.4f} over {len(scores)} repositories, {len(queries)} queries; "
             f"{clients} clients: p50 {percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms, "
             f"{len(queries) / wall:.1f} queries/s; hits in {target}")


def scale_catalog(source: Path, target: Path, copies: int, echo: Echo) -> Catalog:
    """Publish every shard of `source` again under `copies` names in `target` (hard links)."""
    catalog = Catalog.load(source)
    entries = []
    for n in range(copies):
        for entry in catalog.repos.values():
            shard = f"{SHARDS_DIR}/copy{n}-{Path(entry.shard).name}"
            folder = target / shard
            if not folder.exists():
                folder.mkdir(parents=True)
                for file in catalog.shard_dir(entry).iterdir():
                    if file.is_file() and not file.name.endswith(("-wal", "-shm", ".lock")):
                        os.link(file, folder / file.name)
            entries.append(ShardEntry(f"copy{n}/{entry.name}", shard, entry.commit, entry.url, entry.ref, entry.files,
                                      entry.chunks, entry.vectors, entry.updated_at))

    def change(current: Catalog) -> Catalog:
        from dataclasses import replace

        return replace(current, model_id=catalog.model_id, repos={e.name: e for e in entries})

    scaled = publish(target, change)
    echo(f"{len(entries):,} shards, {sum(e.chunks for e in entries):,} chunks, "
         f"{sum(e.vectors for e in entries):,} vectors")
    started = time.perf_counter()
    scaled = publish_merged(target, echo)
    kinds = [m.kind for m in (scaled.dense, scaled.lexical) if m is not None]
    echo(f"merged indexes built in {time.perf_counter() - started:.1f} s: {', '.join(kinds) or 'none'}")
    return scaled


def run_catalog_bench(directory: Path, queries: list[str], *, echo: Echo, recall_queries: int = 100) -> None:
    """Lexical and dense latency over the whole catalog, IVF recall@10, and memory."""
    searcher = CatalogSearcher(directory)
    catalog = searcher.catalog()
    echo(f"catalog   {len(catalog.repos):,} repositories, {sum(e.chunks for e in catalog.repos.values()):,} chunks")
    for mode in ("lexical", "dense", "hybrid"):
        searcher.search(queries[0], mode=mode)  # warm: connections, encoder, FAISS
        times = []
        for query in queries:
            started = time.perf_counter()
            searcher.search(query, mode=mode, k=10)
            times.append((time.perf_counter() - started) * 1000)
        echo(f"{mode:8s}  p50 {percentile(times, 50):8.1f} ms   p99 {percentile(times, 99):8.1f} ms   "
             f"({len(queries)} queries, in process, query encoding included)")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    echo(f"memory    {rss:,.0f} MB peak resident (the server process holds the same)")
    if catalog.dense is None:
        echo("recall    no merged index (below the threshold): dense search is exact")
        return
    merged = MergedIndex(directory, catalog.dense)
    encoder = searcher.encoder()
    assert encoder is not None
    vectors = encoder.encode_queries(queries[:recall_queries])
    exact, copies = _exact_top(catalog, vectors)
    for nprobe in sorted({merged.entry.params["nprobe"] // 2, merged.entry.params["nprobe"],
                          merged.entry.params["nprobe"] * 4}):
        hits, started = 0, time.perf_counter()
        for row, vector in enumerate(vectors):
            found: list[tuple[str, int]] = []
            for shard, chunk_id, _ in merged.search(vector, 10 * copies, nprobe=nprobe):
                key = (_base(shard), chunk_id)
                if key not in found:
                    found.append(key)
            hits += len(set(found[:10]) & exact[row])
        elapsed = (time.perf_counter() - started) * 1000 / len(vectors)
        echo(f"recall@10 {hits / 10 / len(vectors):.4f} at nprobe {nprobe} ({catalog.dense.kind}), "
             f"{elapsed:.2f} ms per search of {10 * copies} neighbours")


def _base(shard: str) -> str:
    """The shard a scaled copy was made from (`shards/copy7-flask-...` -> `flask-...`)."""
    name = Path(shard).name
    return name.split("-", 1)[1] if name.startswith("copy") else name


def _exact_top(catalog: Catalog, vectors: np.ndarray) -> tuple[list[set[tuple[str, int]]], int]:
    """Each query's exact top 10 over the distinct shards (a copy's chunks are its original's:
    recall is counted over distinct chunks), and how many copies each shard has."""
    bases: dict[str, ShardEntry] = {}
    for entry in catalog.repos.values():
        bases.setdefault(_base(entry.shard), entry)
    keys, scores = [], []
    for base, entry in bases.items():
        store = Store.open(catalog.shard_dir(entry))
        ids, matrix = store.chunk_vectors(catalog.model_id)
        store.close()
        keys += [(base, int(i)) for i in ids]
        scores.append(vectors @ matrix.T)
    every = np.concatenate(scores, axis=1)
    top = np.argsort(-every, axis=1)[:, :10]
    return [{keys[j] for j in row} for row in top], max(1, len(catalog.repos) // len(bases))
