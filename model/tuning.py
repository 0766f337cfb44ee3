"""Contrastive fine-tuning of an encoder on (query, code) pairs: LoRA adapters through peft, or
every weight (`full`). What `codesearch tune` runs; `codesearch.tuning` decides what to train
on and whether to keep the result.

The loss is InfoNCE: each query against its own code, every other code of the batch (in-batch
negatives) and, when asked for, one hard negative per pair (a chunk BM25 ranks high for that
query but that is not the answer). What was learned is then kept at half weight (`soften`):
the weights move halfway from the base to the tuned ones, as robust fine-tuning (WiSE-FT) does.

Training runs the model's padded forward pass with gradients, pooled as the encoder pools;
evaluation and the vectors of a tuned model go through the encoder's own path (the packed fast
path for ModernBERT), after the adapter is merged into the weights.
"""

from __future__ import annotations

import copy
import json
import random
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from codesearch.model.encoder import TransformersEncoder, pool_padded

from codesearch.encoding import TUNE_FILE

TRAIN_MAX_TOKENS = 128  # code is cut here while training: a function's start says most of what it does
TEMPERATURE = 0.05
LORA_RANK, LORA_ALPHA = 8, 16
LEARNING_RATE = {"lora": 5e-4, "full": 2e-5}
WARMUP_STEPS = 2  # LoRA starts as a no-op (B = 0); a CPU run has tens of steps, not thousands
# Halfway between the base and the tuned weights. Measured on the benchmark's 20 repositories
# (README): the repository's own pairs are learned at either weight, but at full weight people's
# questions came out worse than with the base model, and at half weight no worse on average.
MERGE_WEIGHT = 0.5


@dataclass(frozen=True)
class Scores:
    """Retrieval of held-out pairs: each query against every held-out code (and distractors)."""

    mrr: float  # mean reciprocal rank of the right code, 0 past rank 10
    recall: float  # share of queries whose code is in the top 10
    queries: int


@dataclass
class Trained:
    """The outcome of `train`: the model with its adapter (or tuned weights), and its losses."""

    model: Any
    losses: list[float]
    seconds: float
    interrupted: bool = False  # stopped by Ctrl-C

    @property
    def steps(self) -> int:
        return len(self.losses)


def evaluate(encoder: TransformersEncoder, queries: Sequence[str], codes: Sequence[str],
             answers: Sequence[int], k: int = 10) -> Scores:
    """MRR@k and recall@k of `queries` (the i-th answered by codes[answers[i]]) through the
    encoder's own inference path, as `codesearch query` would rank them."""
    if not queries:
        return Scores(0.0, 0.0, 0)
    query_vectors = encoder.encode_queries(list(queries))
    code_vectors = encoder.encode_documents(list(codes))
    scores = query_vectors @ code_vectors.T
    right = scores[np.arange(len(queries)), np.asarray(answers)]
    ranks = 1 + (scores > right[:, None]).sum(axis=1)
    reciprocal = np.where(ranks <= k, 1.0 / ranks, 0.0)
    return Scores(float(reciprocal.mean()), float((ranks <= k).mean()), len(queries))


def train(encoder: TransformersEncoder, queries: Sequence[str], codes: Sequence[str],
          negatives: Sequence[str | None], *, full: bool = False, max_seconds: float = 300.0,
          max_steps: int | None = None, batch_size: int = 16, seed: int = 0,
          progress: Callable[[int, float, float], None] | None = None) -> Trained:
    """Fine-tune a copy of `encoder.model` on the pairs (queries[i], codes[i]) with hard
    negatives[i], until `max_seconds` or `max_steps`. LoRA unless `full`. Ctrl-C stops it after
    the step under way (the result is the model as of that step); a second Ctrl-C aborts."""
    torch.manual_seed(seed)
    model = copy.deepcopy(encoder.model).float().train()
    if not full:
        from peft import LoraConfig, get_peft_model

        with warnings.catch_warnings():  # peft asks transformers a question it has renamed; not ours to fix
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing", category=FutureWarning)
            model = get_peft_model(model, LoraConfig(r=LORA_RANK, lora_alpha=LORA_ALPHA, lora_dropout=0.0,
                                                     target_modules="all-linear"))
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=LEARNING_RATE["full" if full else "lora"], weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / WARMUP_STEPS))
    order = list(range(len(queries)))
    rng = random.Random(seed)
    losses: list[float] = []
    started = time.monotonic()
    with _stop_on_interrupt() as stop:
        while (max_steps is None or len(losses) < max_steps) and not stop.is_set():
            rng.shuffle(order)
            for start in range(0, len(order) - 1, batch_size):
                batch = order[start : start + batch_size]
                if len(batch) < 2 or time.monotonic() - started >= max_seconds or stop.is_set() or \
                        (max_steps is not None and len(losses) >= max_steps):
                    break
                loss = _step_loss(encoder, model, [queries[i] for i in batch], [codes[i] for i in batch],
                                  [n for n in (negatives[i] for i in batch) if n])
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(parameters, 1.0)
                optimizer.step()
                schedule.step()
                losses.append(float(loss.detach()))
                if progress:
                    progress(len(losses), losses[-1], time.monotonic() - started)
            if time.monotonic() - started >= max_seconds or not losses:
                break
    model.eval()
    return Trained(model, losses, time.monotonic() - started, stop.is_set())


@contextmanager
def _stop_on_interrupt() -> Iterator[threading.Event]:
    """An event the first Ctrl-C sets (the loop then stops after its step, so no weight is left
    half updated); a second Ctrl-C raises KeyboardInterrupt as usual."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def interrupted(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def soften(encoder: TransformersEncoder, trained: Trained, weight: float, *, full: bool) -> None:
    """Keep `weight` of what training changed, in place: a LoRA adapter's update B·A is scaled
    by scaling B; fully tuned weights move back toward the base's. Saving and merging then
    need nothing further."""
    with torch.no_grad():
        if not full:
            for name, parameter in trained.model.named_parameters():
                if "lora_B" in name:
                    parameter.mul_(weight)
            return
        base = encoder.model.state_dict()
        for name, tensor in trained.model.state_dict().items():
            if tensor.is_floating_point():
                start = base[name].to(tensor)
                tensor.copy_(start + weight * (tensor - start))


def merged(encoder: TransformersEncoder, trained: Trained, *, full: bool) -> TransformersEncoder:
    """An encoder of the trained weights (the adapter merged in), on the encoder's fast path."""
    model = trained.model if full else trained.model.merge_and_unload()
    return _same_encoder(encoder, model.eval())


def save(trained: Trained, encoder: TransformersEncoder, directory: Path, record: dict[str, Any], *,
         full: bool) -> None:
    """Write the adapter (or, `full`, the whole checkpoint with its tokenizer) and the record of
    what it was tuned from into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    trained.model.save_pretrained(directory)
    if full:
        encoder.tokenizer.save_pretrained(directory)
    settings = {"pooling": encoder.pooling, "query_prefix": encoder.query_prefix,
                "document_prefix": encoder.document_prefix, "max_tokens": encoder.max_tokens}
    (directory / TUNE_FILE).write_text(json.dumps({**record, **settings, "method": "full" if full else "lora"},
                                                  indent=2) + "\n")


def _step_loss(encoder: TransformersEncoder, model: Any, queries: list[str], codes: list[str],
               negatives: list[str]) -> torch.Tensor:
    """InfoNCE of the queries against their codes, the batch's other codes and the hard negatives.
    On a GPU the forward pass runs in bfloat16 (autocast; the weights and their updates stay float32)."""
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=encoder.device.type == "cuda"):
        query_vectors = _embed(encoder, model, [encoder.query_prefix + q for q in queries])
        code_vectors = _embed(encoder, model, [encoder.document_prefix + c for c in [*codes, *negatives]])
    logits = query_vectors.float() @ code_vectors.float().T / TEMPERATURE
    return F.cross_entropy(logits, torch.arange(len(queries), device=logits.device))


def _embed(encoder: TransformersEncoder, model: Any, texts: list[str]) -> torch.Tensor:
    """Normalised vectors with gradients: the padded forward pass, pooled as the encoder pools."""
    limit = min(encoder.max_tokens, TRAIN_MAX_TOKENS)
    room = limit - len(encoder._prefix_ids) - len(encoder._suffix_ids)
    sequences = [encoder._prefix_ids + ids[:room] + encoder._suffix_ids for ids in encoder._tokenize(texts)]
    longest = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), longest), encoder.tokenizer.pad_token_id or 0, dtype=torch.long)
    mask = torch.zeros((len(sequences), longest), dtype=torch.long)
    for row, sequence in enumerate(sequences):
        ids[row, : len(sequence)] = torch.tensor(sequence)
        mask[row, : len(sequence)] = 1
    device = encoder.device
    hidden = model(input_ids=ids.to(device), attention_mask=mask.to(device)).last_hidden_state
    pooled = pool_padded(hidden, mask.to(device), encoder.pooling)[:, : encoder.dim]
    return F.normalize(pooled, dim=-1)


def _same_encoder(encoder: TransformersEncoder, model: Any) -> TransformersEncoder:
    return TransformersEncoder(model, encoder.tokenizer, model_id=encoder.model_id, pooling=encoder.pooling,
                               max_tokens=encoder.max_tokens, query_prefix=encoder.query_prefix,
                               document_prefix=encoder.document_prefix, dims=encoder.dim)
