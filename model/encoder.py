"""A transformers encoder behind the `Encoder` protocol.

Pooling (CLS or mean), query/document prefixes and the maximum length come from the checkpoint's
own sentence-transformers files where it has them, else from the preset. Texts are sorted by
length and batched under a token budget, so little compute goes on padding; a text longer than
the model's maximum is split into windows whose vectors are averaged, never cut off.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import AutoConfig, AutoModel, AutoTokenizer
from transformers.utils import logging as transformers_logging

from codesearch.errors import ModelUnavailable
from codesearch.presets import Preset

transformers_logging.set_verbosity_error()
transformers_logging.disable_progress_bar()

TOKENS_PER_BATCH = 16384
MAX_BATCH = 64
_DECODER_SUFFIXES = ("ForCausalLM", "LMHeadModel", "ForConditionalGeneration")


def pick_device(requested: str | None = None) -> torch.device:
    """CUDA, then Apple MPS, then CPU, unless one is asked for."""
    if requested:
        return torch.device(requested)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def read_sentence_transformers_config(directory: Path) -> dict[str, Any]:
    """Pooling mode, prompts and max length from a sentence-transformers checkpoint, if present."""
    found: dict[str, Any] = {}
    modules_file = directory / "modules.json"
    if modules_file.exists():
        for module in json.loads(modules_file.read_text()):
            if str(module.get("type", "")).endswith("Pooling"):
                pooling_file = directory / module.get("path", "") / "config.json"
                if pooling_file.exists():
                    pooling = json.loads(pooling_file.read_text())
                    if pooling.get("pooling_mode_cls_token"):
                        found["pooling"] = "cls"
                    elif pooling.get("pooling_mode_mean_tokens"):
                        found["pooling"] = "mean"
    st_file = directory / "config_sentence_transformers.json"
    if st_file.exists():
        prompts = json.loads(st_file.read_text()).get("prompts") or {}
        found["query_prefix"] = prompts.get("query", "")
        found["document_prefix"] = prompts.get("document", prompts.get("passage", ""))
    bert_file = directory / "sentence_bert_config.json"
    if bert_file.exists():
        max_length = json.loads(bert_file.read_text()).get("max_seq_length")
        if max_length:
            found["max_tokens"] = int(max_length)
    return found


def _special_tokens(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The ids a tokenizer puts before and after a text ([CLS] ... [SEP] for BERT-likes)."""
    plain = tokenizer("x", add_special_tokens=False)["input_ids"]
    full = tokenizer("x", add_special_tokens=True)["input_ids"]
    for start in range(len(full) - len(plain) + 1):
        if full[start : start + len(plain)] == plain:
            return full[:start], full[start + len(plain) :]
    return [], []


class TransformersEncoder:
    """Any transformers encoder checkpoint (ModernBERT, BERT, RoBERTa, ...)."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        model_id: str,
        pooling: str,
        max_tokens: int,
        query_prefix: str = "",
        document_prefix: str = "",
        device: torch.device,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.model_id = model_id
        self.pooling = pooling
        self.max_tokens = max_tokens
        self.query_prefix = query_prefix
        self.document_prefix = document_prefix
        self.device = device
        self.dim = int(model.config.hidden_size)
        self._prefix_ids, self._suffix_ids = _special_tokens(tokenizer)

    @classmethod
    def from_directory(
        cls, directory: Path, *, model_id: str, preset: Preset | None = None, device: str | None = None
    ) -> TransformersEncoder:
        """Load a checkpoint directory saved with `save_pretrained` (plus optional ST files)."""
        config = AutoConfig.from_pretrained(directory)
        architectures = getattr(config, "architectures", None) or []
        if getattr(config, "is_decoder", False) or any(a.endswith(_DECODER_SUFFIXES) for a in architectures):
            raise ModelUnavailable(
                f"{model_id} is a text generator ({', '.join(architectures)}), not an encoder; "
                "pass an embedding model such as the `base` preset"
            )
        try:
            tokenizer = AutoTokenizer.from_pretrained(directory)
        except (OSError, ValueError, TypeError) as error:
            raise ModelUnavailable(f"{model_id} has no usable tokenizer in {directory}: {error}") from error
        target = pick_device(device)
        dtype = torch.bfloat16 if target.type == "cuda" else torch.float32
        model = AutoModel.from_pretrained(directory, dtype=dtype).to(target).eval()
        st = read_sentence_transformers_config(directory)
        limits = [getattr(config, "max_position_embeddings", 512), st.get("max_tokens", 1 << 30)]
        if 0 < getattr(tokenizer, "model_max_length", 0) < 1 << 30:
            limits.append(tokenizer.model_max_length)
        return cls(
            model,
            tokenizer,
            model_id=model_id,
            pooling=st.get("pooling", preset.pooling if preset else "mean"),
            max_tokens=int(min(limits)),
            query_prefix=st.get("query_prefix", preset.query_prefix if preset else ""),
            document_prefix=st.get("document_prefix", preset.document_prefix if preset else ""),
            device=target,
        )

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        """Vectors for code chunks."""
        return self._encode([self.document_prefix + t for t in texts])

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Vectors for queries."""
        return self._encode([self.query_prefix + t for t in texts])

    # --- internals -----------------------------------------------------------------------

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        pieces: list[list[int]] = []
        owner: list[int] = []
        for index, ids in enumerate(self.tokenizer(texts, add_special_tokens=False, truncation=False)["input_ids"]):
            for window in self._windows(ids):
                pieces.append(window)
                owner.append(index)
        pooled = self._run(pieces)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        weights = np.array([len(p) for p in pieces], dtype=np.float32)[:, None]
        np.add.at(out, np.array(owner), pooled * weights)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def _windows(self, ids: list[int]) -> list[list[int]]:
        room = self.max_tokens - len(self._prefix_ids) - len(self._suffix_ids)
        chunks = [ids[i : i + room] for i in range(0, max(len(ids), 1), room)] or [[]]
        return [self._prefix_ids + c + self._suffix_ids for c in chunks]

    @torch.inference_mode()
    def _run(self, sequences: list[list[int]]) -> np.ndarray:
        order = sorted(range(len(sequences)), key=lambda i: -len(sequences[i]))
        result = np.zeros((len(sequences), self.dim), dtype=np.float32)
        pad_id = self.tokenizer.pad_token_id or 0
        start = 0
        while start < len(order):
            longest = len(sequences[order[start]])
            size = max(1, min(MAX_BATCH, TOKENS_PER_BATCH // max(longest, 1)))
            batch = order[start : start + size]
            ids = torch.full((len(batch), longest), pad_id, dtype=torch.long)
            mask = torch.zeros((len(batch), longest), dtype=torch.long)
            for row, index in enumerate(batch):
                seq = sequences[index]
                ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
                mask[row, : len(seq)] = 1
            ids, mask = ids.to(self.device), mask.to(self.device)
            hidden = self.model(input_ids=ids, attention_mask=mask).last_hidden_state.float()
            if self.pooling == "cls":
                pooled = hidden[:, 0]
            else:
                weights = mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1)
            result[batch] = pooled.cpu().numpy()
            start += size
        return result
