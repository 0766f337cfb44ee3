"""Shared fixtures: a tiny ModernBERT saved to disk, a small multi-language repository, a seeded
fake encoder, and a runner for the installed `codesearch` executable. Nothing is downloaded."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).parent / "fixtures"
EXECUTABLE = Path(sys.executable).with_name("codesearch")


class FakeEncoder:
    """Deterministic bag-of-tokens vectors; counts what it embeds."""

    model_id = "fake/encoder"
    dim = 64
    max_tokens = 512

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for token in text.lower().split():
            v[int(hashlib.md5(token.encode()).hexdigest(), 16) % self.dim] += 1.0
        return v / max(float(np.linalg.norm(v)), 1e-9)

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._vector(t) for t in texts])


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of the small multi-language repository, as a git-like checkout."""
    target = tmp_path / "repo"
    shutil.copytree(FIXTURES / "repo", target)
    (target / ".git").mkdir()
    return target


def build_tiny_modernbert(directory: Path, *, layers: int = 2, weight_std: float | None = None,
                          architecture: str = "modernbert") -> Path:
    """A ModernBERT (or, for the generic path, BERT) with random weights and a WordPiece tokenizer
    trained here, saved the way a user's checkpoint is (save_pretrained + sentence-transformers
    files). `weight_std` redraws the matrices larger than the default initialisation, so that
    attention patterns, not the embeddings, decide the output."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, ModernBertConfig, ModernBertModel, PreTrainedTokenizerFast

    corpus = [p.read_text() for p in sorted((FIXTURES / "languages").iterdir())]
    corpus += [p.read_text() for p in sorted((FIXTURES / "repo").rglob("*.*"))]
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokenizer.train_from_iterator(corpus, trainers.WordPieceTrainer(vocab_size=600, special_tokens=specials))
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]", special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]",
        sep_token="[SEP]", mask_token="[MASK]", model_max_length=256,
    )
    torch.manual_seed(0)
    if architecture == "bert":
        model = BertModel(BertConfig(
            vocab_size=tokenizer.get_vocab_size(), hidden_size=32, intermediate_size=48, num_hidden_layers=layers,
            num_attention_heads=2, max_position_embeddings=256, pad_token_id=0,
        ), add_pooling_layer=False).eval()
    else:
        model = ModernBertModel(ModernBertConfig(
            vocab_size=tokenizer.get_vocab_size(), hidden_size=32, intermediate_size=48, num_hidden_layers=layers,
            num_attention_heads=2, max_position_embeddings=256, local_attention=16, global_attn_every_n_layers=2,
            pad_token_id=0, cls_token_id=cls_id, sep_token_id=sep_id, bos_token_id=cls_id, eos_token_id=sep_id,
        )).eval()
    if weight_std is not None:
        with torch.no_grad():
            for parameter in model.parameters():
                if parameter.dim() == 2:
                    parameter.normal_(0.0, weight_std)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    fast.save_pretrained(directory)
    (directory / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]))
    (directory / "1_Pooling").mkdir(exist_ok=True)
    (directory / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": 32, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True}))
    return directory


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_modernbert(tmp_path_factory.mktemp("models") / "tiny-modernbert")


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """An environment with private caches and a hub that refuses connections at once."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CODESEARCH_", "HF_"))}
    env.update(
        HF_HOME=str(tmp_path / "hf-home"),
        CODESEARCH_CACHE_DIR=str(tmp_path / "cs-cache"),
        HF_ENDPOINT="http://127.0.0.1:9",
        COLUMNS="200",
        CODESEARCH_NO_DAEMON="1",  # tests of the warm local server (test_daemon.py) turn it on
    )
    return env


def run_cli(args: list[str], *, env: dict[str, str], cwd: Path | None = None,
            check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the installed `codesearch` executable."""
    result = subprocess.run([str(EXECUTABLE), *args], env=env, cwd=cwd, capture_output=True, text=True,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"codesearch {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]
