"""The packed ModernBERT path against transformers' own `ModernBertModel` (float32, padded).

The checkpoint is tiny (local window 16 tokens, maximum 256) with weights drawn larger than the
default initialisation, so that which tokens attend to which decides the output: with the window
switched off the long sequences fall well below the tolerance (checked below), so these tests can
fail."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from codesearch.model.encoder import TransformersEncoder
from codesearch.model.loading import load
from codesearch.model.modernbert import Group, attention_groups, local_attention
from conftest import build_tiny_modernbert
from transformers import AutoModel

from codesearch.encoding import EncoderSettings
from codesearch.errors import ModelUnavailable

WINDOW = 16  # local_attention of the tiny config; a token sees 8 neighbours on each side
# shorter than, at and just past the half window; shorter than, equal to and longer than the
# window; long; near and at the model's maximum of 256 (the encoder adds [CLS] and [SEP])
LENGTHS = [3, 9, 10, 12, 16, 17, 40, 100, 250, 256]
TOLERANCE = {"float32": 0.9999, "bfloat16": 0.999, "int8": 0.99}
# The CUDA cases run where PyTorch sees a GPU (a GPU machine's run of this file); CI has none.
CASES = [("cpu", "float32"), ("cpu", "bfloat16"), ("cpu", "int8"),
         *[pytest.param("cuda", dtype, marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU"))
           for dtype in ("float32", "bfloat16")]]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_modernbert(tmp_path_factory.mktemp("exact") / "modernbert", layers=4, weight_std=0.15)


def texts_of_lengths(encoder: TransformersEncoder, lengths: list[int]) -> list[str]:
    """Texts that tokenize to exactly these lengths, special tokens included, of varied words."""
    words = [w for w in sorted(encoder.tokenizer.get_vocab()) if w.isalpha() and len(w) > 2
             and len(encoder.tokenizer(w, add_special_tokens=False)["input_ids"]) == 1][:50]
    texts = [" ".join(words[(i * 7 + n) % len(words)] for i in range(n - 2)) for n in lengths]
    assert [len(ids) for ids in encoder.token_ids(texts)] == lengths
    return texts


def reference_vectors(directory: Path, texts: list[str], pooling: str, attention: str) -> np.ndarray:
    """transformers' ModernBertModel, float32, one padded batch; pooled and normalised."""
    encoder = load(str(directory), EncoderSettings(device="cpu", dtype="float32"))
    model = AutoModel.from_pretrained(directory, attn_implementation=attention).eval()
    batch = encoder.tokenizer(texts, padding=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**batch).last_hidden_state
    if pooling == "cls":
        pooled = hidden[:, 0]
    else:
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden * mask).sum(1) / mask.sum(1)
    return F.normalize(pooled, dim=-1).numpy()


@pytest.mark.parametrize(("device", "dtype"), CASES)
@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_fast_path_matches_the_reference(checkpoint: Path, device: str, dtype: str, pooling: str) -> None:
    encoder = load(str(checkpoint), EncoderSettings(device=device, dtype=dtype))
    assert encoder.fast is not None
    encoder.pooling = pooling
    texts = texts_of_lengths(encoder, LENGTHS)
    expected = reference_vectors(checkpoint, texts, pooling, "sdpa" if dtype != "float32" else "eager")
    cosines = np.sum(encoder.encode_documents(texts) * expected, axis=1)
    assert cosines.min() >= TOLERANCE[dtype], dict(zip(LENGTHS, cosines.round(6).tolist(), strict=True))


def test_the_window_matters_so_the_comparison_can_fail(checkpoint: Path) -> None:
    encoder = load(str(checkpoint), EncoderSettings(device="cpu", dtype="float32"))
    texts = texts_of_lengths(encoder, LENGTHS)
    expected = reference_vectors(checkpoint, texts, "mean", "eager")
    assert encoder.fast is not None
    encoder.fast.half_window = 10**6  # every layer global: wrong for the local layers
    cosines = np.sum(encoder.encode_documents(texts) * expected, axis=1)
    short = [c for n, c in zip(LENGTHS, cosines, strict=True) if n <= WINDOW // 2 + 1]
    long = [c for n, c in zip(LENGTHS, cosines, strict=True) if n >= 40]
    assert min(short) >= TOLERANCE["float32"]  # within the window nothing changes
    assert max(long) < TOLERANCE["float32"]


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA GPU"))])
def test_batching_and_order_do_not_change_a_vector(checkpoint: Path, device: str) -> None:
    encoder = load(str(checkpoint), EncoderSettings(device=device, dtype="float32"))
    texts = texts_of_lengths(encoder, [5, 40, 5, 17, 40, 250, 5])
    together = encoder.encode_documents(texts)
    alone = np.stack([encoder.encode_documents([t])[0] for t in texts])
    assert np.allclose(together, alone, atol=1e-5 if device == "cpu" else 1e-4)


def test_local_attention_equals_a_dense_band_mask() -> None:
    torch.manual_seed(0)
    for length in (9, 10, 31, 64, 65, 200):
        q, k, v = (torch.randn(2, 3, length, 8) for _ in range(3))
        distance = (torch.arange(length)[:, None] - torch.arange(length)[None, :]).abs()
        dense = F.scaled_dot_product_attention(q, k, v, attn_mask=distance <= 8)
        assert torch.allclose(local_attention(q, k, v, 8), dense, atol=1e-5), length


def test_attention_groups_pad_little_and_long_sequences_not_at_all() -> None:
    groups = attention_groups([3, 3, 5, 40, 45, 100, 600, 600, 601])
    assert groups == [Group(0, (3, 3, 5)), Group(11, (40, 45)), Group(96, (100,)), Group(196, (600, 600)),
                      Group(1396, (601,))]
    assert [g.uniform for g in groups] == [False, False, True, True, True]
    assert attention_groups([]) == []


def test_matryoshka_truncation_is_the_normalised_prefix(checkpoint: Path) -> None:
    full = load(str(checkpoint), EncoderSettings(device="cpu", dtype="float32"))
    short = load(f"{checkpoint}@16", EncoderSettings(device="cpu", dtype="float32"))
    assert short.dim == 16 and short.model_id.endswith("@16")
    texts = ["def parse(config): return config", "retry the failed uploads"]
    wide, narrow = full.encode_documents(texts), short.encode_documents(texts)
    assert narrow.shape == (2, 16)
    assert np.allclose(narrow, wide[:, :16] / np.linalg.norm(wide[:, :16], axis=1, keepdims=True), atol=1e-5)
    with pytest.raises(ModelUnavailable, match="cannot truncate 32-dimensional vectors to 64"):
        load(f"{checkpoint}@64")


def test_other_encoders_take_the_generic_path(tmp_path: Path) -> None:
    directory = build_tiny_modernbert(tmp_path / "bert", architecture="bert")
    encoder = load(str(directory), EncoderSettings(device="cpu", dtype="float32"))
    assert encoder.fast is None and encoder.model.config.model_type == "bert"
    texts = ["def add(a, b): return a + b", "class Cache:\n    pass\n" * 20]
    expected = reference_vectors(directory, texts, "mean", "eager")
    assert np.sum(encoder.encode_documents(texts) * expected, axis=1).min() >= 0.9999
    with pytest.raises(ModelUnavailable, match="int8 is implemented for ModernBERT checkpoints only"):
        load(str(directory), EncoderSettings(device="cpu", dtype="int8"))


def test_wrong_names_and_settings_say_what_to_do(checkpoint: Path) -> None:
    with pytest.raises(ModelUnavailable, match="unknown model 'bsae'.*codesearch model list"):
        load("bsae")
    with pytest.raises(ModelUnavailable, match="unknown dtype"):
        load(str(checkpoint), EncoderSettings(dtype="float8"))
    if not torch.cuda.is_available():
        with pytest.raises(ModelUnavailable, match="no CUDA GPU"):
            load(str(checkpoint), EncoderSettings(device="cuda"))
