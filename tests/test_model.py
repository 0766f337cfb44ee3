"""Loading encoders through the user's code path: local directories, the HF cache, offline."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from codesearch.model import hub
from codesearch.model.loading import load

from codesearch.errors import ModelUnavailable


def test_tiny_modernbert_loads_from_disk_with_its_own_pooling(tiny_model: Path) -> None:
    encoder = load(str(tiny_model))
    assert encoder.model.config.model_type == "modernbert"
    assert encoder.fast is not None  # ModernBERT checkpoints take the packed path by default
    assert encoder.pooling == "mean" and encoder.dim == 32 and encoder.max_tokens == 256
    texts = ["def add(a, b): return a + b", "x" * 10, "class Cache:\n    pass"]
    vectors = encoder.encode_documents(texts)
    assert vectors.shape == (3, 32) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Batching by length must not change a text's vector.
    alone = encoder.encode_documents([texts[0]])
    assert np.allclose(alone[0], vectors[0], atol=1e-5)


def test_text_longer_than_the_model_is_split_not_cut(tiny_model: Path) -> None:
    encoder = load(str(tiny_model))
    head = "def first(): return 1\n" * 60
    tail = "class Other:\n    pass\n" * 60
    assert len(encoder.tokenizer(head + tail)["input_ids"]) > encoder.max_tokens
    whole, only_head = encoder.encode_documents([head + tail, head])
    assert float(whole @ only_head) < 0.9999  # the tail still counts


def test_hub_id_is_found_in_the_hf_cache_without_network(tiny_model: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    snapshot = tmp_path / "hub" / "models--acme--tiny-code" / "snapshots" / "abc123"
    shutil.copytree(tiny_model, snapshot)
    (tmp_path / "hub" / "models--acme--tiny-code" / "refs").mkdir()
    (tmp_path / "hub" / "models--acme--tiny-code" / "refs" / "main").write_text("abc123")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    encoder = load("acme/tiny-code")
    assert encoder.model_id == "acme/tiny-code"


def test_unreachable_hub_fails_fast_and_is_remembered(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("CODESEARCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    probes = []
    real = hub.socket.create_connection
    monkeypatch.setattr(hub.socket, "create_connection", lambda *a, **k: probes.append(a) or real(*a, **k))
    started = time.monotonic()
    with pytest.raises(ModelUnavailable, match="unreachable.*codesearch model download"):
        load("acme/not-downloaded")
    with pytest.raises(ModelUnavailable, match="remembered"):
        load("acme/not-downloaded")
    assert len(probes) == 1
    assert time.monotonic() - started < hub.PROBE_TIMEOUT_SECONDS * 2 + 5


def test_missing_directory_and_generators_are_refused(tiny_model: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="does not exist"):
        load(str(tmp_path / "nowhere"))
    broken = tmp_path / "no-tokenizer"
    shutil.copytree(tiny_model, broken)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (broken / name).unlink(missing_ok=True)
    with pytest.raises(ModelUnavailable):
        load(str(broken))
