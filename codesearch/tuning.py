"""`codesearch tune`: fit the encoder to one repository's code, measured, kept only if better.

1. Mine (query, code) pairs from the index (`codesearch.pairs`) and hold out every pair of a
   fifth of the files (chosen by a hash of the path, so the split is the same on every run).
2. Score the base model on the held-out pairs: each query against every held-out code plus the
   other chunks of the held-out files, MRR@10 and recall@10, through the encoder's own path.
3. Train (`codesearch.model.tuning`) with in-batch negatives (and, with `--hard-negatives`,
   one per pair from the index's BM25) for at most `--max-minutes`, and keep half of what was
   learned (`MERGE_WEIGHT`).
4. Score the tuned model the same way. Better: the adapter (or the tuned checkpoint) goes to
   INDEX_DIR/tuned/ID and becomes the index's model; its id is that directory, so no vector of
   the base is ever taken for it, and `codesearch index` embeds what is missing. Not better:
   nothing changes. `--reset` goes back to the base, whose cached vectors are still there.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codesearch.encoding import DEFAULT_MODEL, TUNE_FILE, load_encoder, model_id_for
from codesearch.errors import CodesearchError
from codesearch.indexing import IndexOptions, open_index
from codesearch.pairs import Mined, Pair, mine
from codesearch.records import embedding_text
from codesearch.search import search_lexical

if TYPE_CHECKING:
    from codesearch.index import CodeIndex
    from codesearch.model.tuning import Scores
    from codesearch.store import Store

TUNED_DIR = "tuned"
TUNED_FROM = "tuned_from"  # meta key: the base model of a tuned index ("" when not tuned)
HELD_OUT_PERCENT = 20
BATCH_SIZE = 16  # pairs per training step, each also a negative for the others
MIN_TRAIN_PAIRS, MIN_HELD_OUT_PAIRS = 100, 16  # below 100 pairs a tune overfits (see README)
MAX_HELD_OUT_PAIRS, MAX_DISTRACTORS = 300, 300  # each encoded twice: on a CPU, seconds per hundred
Progress = Callable[[int, float, float], None]  # (step, loss, seconds)


@dataclass
class TuneReport:
    """What `codesearch tune` did, for the terminal and for benchmarks."""

    mined: Mined
    train_pairs: int
    held_out_pairs: int
    base_id: str
    before: Scores
    after: Scores
    steps: int
    seconds: float
    first_loss: float
    last_loss: float
    interrupted: bool
    kept: bool
    model_id: str  # the index's model afterwards


def tune(options: IndexOptions, *, max_minutes: float = 5.0, full: bool = False, max_steps: int | None = None,
         batch_size: int = BATCH_SIZE, hard_negatives: bool = False, progress: Progress | None = None,
         say: Callable[[str], None] = print) -> TuneReport:
    """Tune the model of the index at `options` on its own code; see the module's docstring."""
    from codesearch.model import tuning

    index = open_index(options)
    try:
        base_id = base_model(index)
        chunks = index.store.all_chunks()
        mined = mine(chunks, options.root if (options.root / ".git").exists() else None)
        say(f"pairs: {mined.summary()}")
        held = held_out_files(mined.pairs)
        train_pairs = [p for p in mined.pairs if p.path not in held]
        test_pairs = [p for p in mined.pairs if p.path in held][:MAX_HELD_OUT_PAIRS]
        if len(train_pairs) < MIN_TRAIN_PAIRS or len(test_pairs) < MIN_HELD_OUT_PAIRS:
            raise CodesearchError(
                f"{len(mined.pairs):,} training pairs ({len(train_pairs):,} to train on, {len(test_pairs):,} held "
                f"out) are too few to tune on and measure; tuning needs at least {MIN_TRAIN_PAIRS} and "
                f"{MIN_HELD_OUT_PAIRS}: functions with doc comments, compound names or tests")
        # off by default: measured on the benchmark, BM25's near misses taught the model to push
        # away code that people's questions were about (README, `codesearch tune`)
        negatives = [_hard_negative(index.store, pair) if hard_negatives else None for pair in train_pairs]
        codes = list(dict.fromkeys(p.code for p in test_pairs))
        known = set(codes)
        codes += [text for text in (embedding_text(c) for c in chunks if c.path in held) if text not in known][
            :MAX_DISTRACTORS]
        position = {code: number for number, code in enumerate(codes)}
        answers = [position[p.code] for p in test_pairs]
        encoder = load_encoder(base_id, options.settings)
        if not hasattr(encoder, "model"):
            raise CodesearchError(f"{base_id} is not a transformers model; only those can be tuned")
        queries = [p.query for p in test_pairs]
        before = tuning.evaluate(encoder, queries, codes, answers)
        say(f"held out: {len(test_pairs):,} pairs from {len({p.path for p in test_pairs}):,} files; base model "
            f"MRR@10 {before.mrr:.3f}, recall@10 {before.recall:.3f}")
        trained = tuning.train(encoder, [p.query for p in train_pairs], [p.code for p in train_pairs],
                               negatives, full=full, max_seconds=max_minutes * 60, max_steps=max_steps,
                               batch_size=batch_size, progress=progress)
        staging = options.index_dir / TUNED_DIR / f".staging-{time.time_ns()}"
        record = {"base": base_id, "created": time.time(), "repository": str(options.root),
                  "pairs": {kind: mined.found[kind] - mined.leaked[kind] for kind in mined.found},
                  "train_pairs": len(train_pairs), "held_out_pairs": len(test_pairs), "steps": trained.steps,
                  "hard_negatives": hard_negatives, "merge_weight": tuning.MERGE_WEIGHT,
                  "before": {"mrr": before.mrr, "recall": before.recall}}
        try:
            if trained.steps:
                tuning.soften(encoder, trained, tuning.MERGE_WEIGHT, full=full)
                tuning.save(trained, encoder, staging, record, full=full)
                after = tuning.evaluate(tuning.merged(encoder, trained, full=full), queries, codes, answers)
            else:
                after = before
            kept = trained.steps > 0 and after.mrr > before.mrr
            model_id = index.model_id
            if kept:
                model_id = _adopt(index, options, staging, base_id, {**record, "after": {"mrr": after.mrr,
                                                                                         "recall": after.recall}})
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return TuneReport(mined, len(train_pairs), len(test_pairs), base_id, before, after, trained.steps,
                          trained.seconds, trained.losses[0] if trained.losses else 0.0,
                          _tail_mean(trained.losses), trained.interrupted, kept, model_id)
    finally:
        index.close()


def reset(options: IndexOptions) -> str | None:
    """Go back to the base model; its id, or None when the index was not tuned."""
    index = open_index(options)
    try:
        base = index.store.get_meta(TUNED_FROM) or ""
        if not base:
            return None
        tuned = index.model_id
        with index.writing(options.wait_seconds), index.store.transaction():
            index.store.set_meta("model_id", base)
            index.store.set_meta(TUNED_FROM, "")
            index.store.drop_vectors(tuned)
            index.store.bump_generation()
        shutil.rmtree(options.index_dir / TUNED_DIR, ignore_errors=True)
        return base
    finally:
        index.close()


def tuned_record(index: CodeIndex) -> dict[str, Any] | None:
    """What the index's tuned model was tuned from and how it scored, if it is tuned."""
    if not index.store.get_meta(TUNED_FROM):
        return None
    try:
        record = json.loads((Path(index.model_id) / TUNE_FILE).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def base_model(index: CodeIndex) -> str:
    """The model a tune starts from: the base of an already tuned index, else its model."""
    return index.store.get_meta(TUNED_FROM) or index.model_id or model_id_for(DEFAULT_MODEL)


def held_out_files(pairs: list[Pair]) -> set[str]:
    """The files whose pairs are held out: files taken in the order of a hash of their path
    (the same on every run, unrelated to names or folders) until they hold a fifth of the
    pairs. A file that would take the share past two fifths is passed over (one big file must
    not leave nothing to train on), and never is every file held out."""
    per_file = Counter(pair.path for pair in pairs)
    ordered = sorted(per_file, key=lambda p: hashlib.sha1(p.encode()).hexdigest())
    held: set[str] = set()
    count = 0
    for path in ordered:
        if count * 100 >= len(pairs) * HELD_OUT_PERCENT or len(held) == len(per_file) - 1:
            break
        if (count + per_file[path]) * 100 <= len(pairs) * 2 * HELD_OUT_PERCENT:
            held.add(path)
            count += per_file[path]
    if not held and len(ordered) > 1:  # every file is big: the smallest
        held.add(min(ordered, key=lambda p: per_file[p]))
    return held


def _hard_negative(store: Store, pair: Pair) -> str | None:
    """What BM25 ranks high for the pair's query that is not its answer (nor in its file)."""
    hits = search_lexical(store, pair.query, limit=10)
    chunks = store.chunks_by_id([i for i, _ in hits])
    for chunk_id, _ in hits:
        chunk = chunks.get(chunk_id)
        if chunk is not None and chunk.path != pair.path:
            return embedding_text(chunk)
    return None


def _adopt(index: CodeIndex, options: IndexOptions, staging: Path, base_id: str, record: dict[str, Any]) -> str:
    """Make the staged model the index's: its directory is named by a hash of what it holds."""
    saved = staging / TUNE_FILE
    saved.write_text(json.dumps({**json.loads(saved.read_text()), **record}, indent=2) + "\n")
    digest = hashlib.sha256()
    for file in sorted(staging.iterdir()):
        if file.is_file():
            digest.update(file.read_bytes())
    final = options.index_dir / TUNED_DIR / digest.hexdigest()[:12]
    previous = index.model_id if index.store.get_meta(TUNED_FROM) else None
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)
    model_id = model_id_for(str(final))
    with index.writing(options.wait_seconds), index.store.transaction():
        index.store.set_meta("model_id", model_id)
        index.store.set_meta(TUNED_FROM, base_id)
        if previous and previous != model_id:
            index.store.drop_vectors(previous)
        index.store.bump_generation()
    if previous and previous != model_id and Path(previous).parent == final.parent:
        shutil.rmtree(previous, ignore_errors=True)  # the tune before this one
    return model_id


def _tail_mean(losses: list[float], share: float = 0.2) -> float:
    """The mean loss of the last fifth of the steps (one step's loss is noisy)."""
    tail = losses[-max(1, int(len(losses) * share)):] if losses else [0.0]
    return sum(tail) / len(tail)
