"""`codesearch bench retrieval`: the shared benchmark's protocol (NDCG@10), run through the same
index and search code a user runs."""

from __future__ import annotations

import json
import math
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from codesearch.indexing import IndexOptions, open_index, update_index
from codesearch.search import search

K = 10


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


def run_retrieval(
    annotations: Path,
    repos: Path,
    *,
    mode: str,
    model: str | None,
    only: tuple[str, ...],
    out: Path | None,
    echo: Callable[[str], None],
    warn: Callable[[str], None],
    budgets: tuple[int, ...] = (),
) -> dict[str, float]:
    """Index each repository, answer its queries, print and return NDCG@10 per repository.

    With `budgets`, also the share of queries whose answer, laid out as the MCP `search` tool
    lays it out within that many tokens, shows a relevant target's chunk whole."""
    from codesearch.service.budget import estimate_tokens, layout

    table = _repos_table(annotations)
    per_repo: dict[str, float] = {}
    by_language: dict[str, list[float]] = defaultdict(list)
    latencies: list[float] = []
    lines: list[str] = []
    inside: dict[int, list[bool]] = {budget: [] for budget in budgets}
    answer_tokens: dict[int, list[int]] = {budget: [] for budget in budgets}
    for file in sorted(annotations.glob("*.json")):
        name = file.stem
        if name == "repos" or (only and name not in only):
            continue
        info = table.get(name, {})
        root = repos / name / (info.get("benchmark_root") or "")
        if not root.is_dir():
            warn(f"skipping {name}: {root} does not exist")
            continue
        options = IndexOptions.create(root.resolve(), model=model)
        started = time.monotonic()
        index = open_index(options, create=True)
        with index.writing(options.wait_seconds):
            update_index(index, options, embed=mode != "lexical", warn=warn)
        index_seconds = time.monotonic() - started
        encoder = options.encoder(options.model_id(index), warn) if mode != "lexical" else None
        scores = []
        for item in json.loads(file.read_text()):
            t0 = time.perf_counter()
            results = search(index.store, item["query"], mode=mode, k=K, encoder=encoder)
            latencies.append(time.perf_counter() - t0)
            hits = [{"path": r.chunk.path, "start_line": r.chunk.start_line, "end_line": r.chunk.end_line}
                    for r in results]
            lines.append(json.dumps({"repo": name, "query": item["query"], "hits": hits}))
            scores.append(ndcg_at_10(hits, item.get("relevant", []) + item.get("secondary", [])))
            for budget in budgets:
                text, shown = layout(results, item["query"], budget)
                whole = [i for i, form in enumerate(shown) if form == "whole"]
                inside[budget].append(any(_hit_matches(hits[i], t) for i in whole for t in item.get("relevant", [])))
                answer_tokens[budget].append(estimate_tokens(text))
        index.close()
        per_repo[name] = statistics.mean(scores) if scores else 0.0
        language = info.get("language", "?")
        by_language[language].append(per_repo[name])
        echo(f"{name:14s} {language:11s} NDCG@10 {per_repo[name]:.4f}  ({len(scores)} queries, "
             f"index {index_seconds:.1f} s)")
    if out:
        out.write_text("\n".join(lines) + "\n")
    if per_repo:
        echo("by language: " + ", ".join(f"{k} {statistics.mean(v):.3f}" for k, v in sorted(by_language.items())))
        echo(f"median query latency: {statistics.median(latencies) * 1000:.1f} ms over {len(latencies)} queries")
        echo(f"NDCG@10 ({mode}, mean over {len(per_repo)} repos): {statistics.mean(per_repo.values()):.4f}")
    for budget, found in sorted(inside.items()):
        if found:
            echo(f"a relevant target whole within {budget:,} tokens: {sum(found) / len(found):.3f} of {len(found)} "
                 f"queries; median answer {statistics.median(answer_tokens[budget]):,.0f} tokens")
    return per_repo
