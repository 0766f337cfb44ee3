"""Joining ranked lists and BM25's arithmetic: reciprocal rank fusion for hybrid mode, and the
formula FTS5's `bm25()` uses, which the BM25 partitions, unsaved buffers and the catalog's
shards compute outside SQLite (`bm25_idf`, `bm25_share`, `reweight_idf`)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any

RRF_K = 60


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], k: int = RRF_K,
                           abstaining: Sequence[Collection[int]] = ()) -> dict[int, float]:
    """score(id) = sum over lists of 1 / (k + rank), ranks from 1.

    `abstaining[n]` holds the items list n cannot rank (dense search, for chunks that have no
    vector yet). Such an item is scored on the lists that can: the mean of their contributions
    times the number of lists, so a missing opinion neither costs nor earns it anything."""
    fused: dict[int, float] = defaultdict(float)
    for ranking in rankings:
        for rank, item in enumerate(ranking, 1):
            fused[item] += 1.0 / (k + rank)
    silent: dict[int, int] = defaultdict(int)  # how many lists abstain on each ranked item
    for absent in abstaining:
        for item in (absent if len(absent) < len(fused) else fused):
            if item in fused and item in absent:
                silent[item] += 1
    for item, count in silent.items():
        if count < len(rankings):
            fused[item] *= len(rankings) / (len(rankings) - count)
    return dict(fused)


def fuse(lexical: Sequence[tuple[int, float]], dense: Sequence[tuple[int, float]],
         unembedded: Collection[int] = ()) -> dict[int, float]:
    """Hybrid mode's base scores, in (0, 1]: the two lists joined by reciprocal rank fusion."""
    fused = reciprocal_rank_fusion([[i for i, _ in lexical], [i for i, _ in dense]], abstaining=[(), unembedded])
    return normalise(list(fused.items()))


def normalise(scored: Sequence[tuple[int, float]]) -> dict[int, float]:
    """Scale scores into (0, 1] by the best one."""
    if not scored:
        return {}
    top = max(score for _, score in scored) or 1.0
    return {item: score / top for item, score in scored}


BM25_K1, BM25_B = 1.2, 0.75  # FTS5's bm25()


def bm25_idf(rows: int, matching: int) -> float:
    """BM25's inverse document frequency as SQLite's FTS5 computes it (never below 1e-6)."""
    return max(math.log((rows - matching + 0.5) / (matching + 0.5)), 1e-6)


def bm25_share(idf: float, frequency: Any, length: Any, average: float) -> Any:
    """One term's share of a chunk's BM25 as FTS5's bm25() computes it, from the term's `idf`,
    its column-weighted `frequency` in the chunk, and the chunk's `length` in tokens against the
    `average`: numbers, or numpy arrays of them (one per chunk)."""
    return idf * frequency * (BM25_K1 + 1) / (frequency + BM25_K1 * (1 - BM25_B + BM25_B * length / average))


def reweight_idf(term_scores: dict[str, dict[int, float]], local_idf: dict[str, float],
                 global_idf: dict[str, float]) -> dict[int, float]:
    """BM25 of one index's chunks on another collection's statistics.

    BM25 is a sum over terms of idf(term) times a term-frequency part; FTS5 gives each term's
    score with the index's own idf, so dividing by it and multiplying by the collection's idf
    scores a chunk as if its index were the whole collection. Searching many repositories at
    once, this is what makes their scores comparable: a term common in one small repository is
    not thereby worthless in the search."""
    total: dict[int, float] = defaultdict(float)
    for term, scores in term_scores.items():
        factor = global_idf[term] / local_idf[term]
        for item, score in scores.items():
            total[item] += score * factor
    return dict(total)
