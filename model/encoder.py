"""A transformers encoder behind the `Encoder` protocol.

Pooling (CLS or mean), query/document prefixes and the maximum length come from the checkpoint's
own sentence-transformers files where it has them, else from the preset. A text longer than the
model's maximum is split into windows whose vectors are averaged, never cut off. Texts are sorted
by length and batched under a token budget; ModernBERT checkpoints then run packed, without any
padding (`model/modernbert.py`), every other encoder through transformers' own padded forward.
"""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch
from codesearch.model.modernbert import FastModernBert
from transformers import AutoConfig, AutoModel, AutoTokenizer
from transformers.utils import logging as transformers_logging

from codesearch.encoding import DTYPES, EncoderSettings
from codesearch.errors import ModelUnavailable
from codesearch.presets import Preset

transformers_logging.set_verbosity_error()
transformers_logging.disable_progress_bar()
log = logging.getLogger(__name__)

TOKENS_PER_BATCH = 4096  # real tokens per packed batch; larger measured no faster on CPU
MAX_BATCH = 256
_NOT_ENCODERS = ("ForCausalLM", "LMHeadModel", "ForConditionalGeneration")


def keep_freed_memory() -> None:
    """Let glibc reuse freed activations instead of returning them to the system and faulting
    fresh pages in for the next batch (about 12% of CPU encoding time at ModernBERT-base size)."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # musl and other C libraries: leave them alone
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    libc.mallopt(m_mmap_threshold, 1 << 30)
    libc.mallopt(m_trim_threshold, 1 << 30)


def pick_device(requested: str | None = None) -> torch.device:
    """CUDA, then Apple MPS, then CPU, unless one is asked for."""
    if requested:
        device = torch.device(requested)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ModelUnavailable("--device cuda was asked for, but PyTorch sees no CUDA GPU here")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def cpu_has_bfloat16() -> bool:
    """Whether the processor runs bfloat16 matrix multiplications natively (AVX-512 BF16 or AMX)."""
    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def pick_dtype(requested: str, device: torch.device) -> tuple[torch.dtype, bool]:
    """The weights' dtype and whether linear layers run in int8, for a `--dtype` value."""
    if requested not in DTYPES:
        raise ModelUnavailable(f"unknown dtype {requested!r}; choose one of {', '.join(DTYPES)}")
    if requested == "int8":
        if device.type != "cpu":
            raise ModelUnavailable(f"int8 runs on the CPU only; on {device.type} use --dtype bfloat16")
        from codesearch.model.int8 import int8_supported

        if not int8_supported():
            raise ModelUnavailable("int8 needs an x86 processor (oneDNN); use --dtype bfloat16 or float32")
        return (torch.bfloat16 if cpu_has_bfloat16() else torch.float32), True
    if requested == "bfloat16" or (requested == "auto" and (device.type == "cuda" or (
            device.type == "cpu" and cpu_has_bfloat16()))):
        return torch.bfloat16, False
    return torch.float32, False


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
    """Any transformers encoder checkpoint; ModernBERT ones take the packed fast path."""

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
        dims: int | None = None,
        int8: bool = False,
        fast: bool = True,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.model_id = model_id
        self.pooling = pooling
        self.max_tokens = max_tokens
        self.query_prefix = query_prefix
        self.document_prefix = document_prefix
        hidden = int(model.config.hidden_size)
        if dims is not None and not 0 < dims <= hidden:
            raise ModelUnavailable(f"{model_id}: cannot truncate {hidden}-dimensional vectors to {dims}")
        self.dim = dims or hidden
        self._prefix_ids, self._suffix_ids = _special_tokens(tokenizer)
        self.fast = FastModernBert(model, int8=int8) if fast and model.config.model_type == "modernbert" else None
        if int8 and self.fast is None:
            raise ModelUnavailable(f"{model_id}: int8 is implemented for ModernBERT checkpoints only")
        # see `_run_on_one_thread`; its thread starts with the first call from another thread
        self._torch_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="codesearch-encoder")

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @classmethod
    def from_directory(
        cls, directory: Path, *, model_id: str, preset: Preset | None = None,
        settings: EncoderSettings | None = None, dims: int | None = None, adapter: Path | None = None,
        tuned: dict[str, Any] | None = None,
    ) -> TransformersEncoder:
        """Load a checkpoint directory saved with `save_pretrained` (plus optional ST files).
        `adapter`: a LoRA adapter (peft) merged into the weights as they load; `tuned`: the
        record `codesearch tune` wrote, whose pooling and prefixes are the base model's."""
        settings = settings or EncoderSettings()
        config = AutoConfig.from_pretrained(directory)
        architectures = getattr(config, "architectures", None) or []
        if (getattr(config, "is_decoder", False) or getattr(config, "is_encoder_decoder", False)
                or any(a.endswith(_NOT_ENCODERS) for a in architectures)):
            raise ModelUnavailable(
                f"{model_id} is a text generator ({', '.join(architectures) or config.model_type}), not an "
                "encoder; pass an embedding model such as the `base` preset"
            )
        try:
            tokenizer = AutoTokenizer.from_pretrained(directory)
        except (OSError, ValueError, TypeError) as error:
            raise ModelUnavailable(f"{model_id} has no usable tokenizer in {directory}: {error}") from error
        if settings.threads:
            torch.set_num_threads(settings.threads)
        device = pick_device(settings.device)
        dtype, int8 = pick_dtype(settings.dtype, device)
        if device.type == "cpu":
            keep_freed_memory()
        model = AutoModel.from_pretrained(directory, dtype=dtype)
        if adapter is not None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
        model = model.to(device).eval()
        st = read_sentence_transformers_config(directory)
        st.update({key: value for key, value in (tuned or {}).items()
                   if key in ("pooling", "query_prefix", "document_prefix", "max_tokens")})
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
            dims=dims,
            int8=int8,
        )

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        """Vectors for code chunks."""
        return self._encode([self.document_prefix + t for t in texts])

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Vectors for queries."""
        return self._encode([self.query_prefix + t for t in texts])

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        """The model inputs for texts: special tokens added, long texts split into windows."""
        return [window for ids in self._tokenize(texts) for window in self._windows(ids)]

    # --- internals -----------------------------------------------------------------------

    def _tokenize(self, texts: list[str]) -> list[list[int]]:
        return self.tokenizer(texts, add_special_tokens=False, truncation=False)["input_ids"]

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        pieces: list[list[int]] = []
        owner: list[int] = []
        for index, ids in enumerate(self._tokenize(texts)):
            for window in self._windows(ids):
                pieces.append(window)
                owner.append(index)
        pooled = self._run_on_one_thread(pieces)[:, : self.dim]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        weights = np.array([len(p) for p in pieces], dtype=np.float32)[:, None]
        np.add.at(out, np.array(owner), pooled * weights)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def _windows(self, ids: list[int]) -> list[list[int]]:
        room = self.max_tokens - len(self._prefix_ids) - len(self._suffix_ids)
        chunks = [ids[i : i + room] for i in range(0, max(len(ids), 1), room)] or [[]]
        return [self._prefix_ids + c + self._suffix_ids for c in chunks]

    def _run_on_one_thread(self, sequences: list[list[int]]) -> np.ndarray:
        """Servers answer each request on a thread of its own, and PyTorch's CPU kernels start
        a team of worker threads for every new thread that calls them (4 ms of a 16 ms query
        here); so calls from threads other than the main one all run on one long-lived thread,
        which also keeps two requests from fighting over the cores. The main thread (the command
        line) runs its own, so Ctrl-C stops it at once."""
        if threading.current_thread() is threading.main_thread():
            return self._run_with_fallback(sequences)
        return self._torch_thread.submit(self._run_with_fallback, sequences).result()

    def _run_with_fallback(self, sequences: list[list[int]]) -> np.ndarray:
        """Apple MPS cannot be tested here; if it fails, say so once and go on on the CPU."""
        try:
            return self._run(sequences)
        except (RuntimeError, NotImplementedError) as error:
            if self.device.type != "mps":
                raise
            log.warning("the MPS device failed (%s); encoding on the CPU from now on", error)
            self.model = self.model.to("cpu", torch.float32)
            self.fast = FastModernBert(self.model) if self.fast is not None else None
            return self._run(sequences)

    @torch.inference_mode()
    def _run(self, sequences: list[list[int]]) -> np.ndarray:
        """Pooled, not yet normalised, vectors for token id sequences, in their order."""
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
        result = np.zeros((len(sequences), int(self.model.config.hidden_size)), dtype=np.float32)
        run = self._run_packed if self.fast is not None else self._run_padded
        for batch in _batches([len(sequences[i]) for i in order]):
            members = [order[i] for i in batch]
            result[members] = run([sequences[i] for i in members]).float().cpu().numpy()
        return result

    def _run_packed(self, batch: list[list[int]]) -> torch.Tensor:
        assert self.fast is not None
        lengths = [len(seq) for seq in batch]
        ids = torch.tensor([token for seq in batch for token in seq], dtype=torch.long, device=self.device)
        hidden = self.fast.hidden_states(ids, lengths).float()
        if self.pooling == "cls":
            starts = torch.tensor([0, *np.cumsum(lengths)[:-1].tolist()], device=self.device)
            return hidden[starts]
        owners = torch.repeat_interleave(torch.arange(len(batch), device=self.device),
                                         torch.tensor(lengths, device=self.device))
        sums = torch.zeros(len(batch), hidden.shape[1], device=self.device).index_add_(0, owners, hidden)
        return sums / torch.tensor(lengths, device=self.device, dtype=sums.dtype)[:, None]

    def _run_padded(self, batch: list[list[int]]) -> torch.Tensor:
        longest = max(len(seq) for seq in batch)
        ids = torch.full((len(batch), longest), self.tokenizer.pad_token_id or 0, dtype=torch.long)
        mask = torch.zeros((len(batch), longest), dtype=torch.long)
        for row, seq in enumerate(batch):
            ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
            mask[row, : len(seq)] = 1
        ids, mask = ids.to(self.device), mask.to(self.device)
        return pool_padded(self.model(input_ids=ids, attention_mask=mask).last_hidden_state, mask, self.pooling)


def pool_padded(hidden: torch.Tensor, mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """float32 CLS or mean vectors from a padded batch's hidden states [batch, length, dim]."""
    hidden = hidden.float()
    if pooling == "cls":
        return hidden[:, 0]
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1)


def _batches(sorted_lengths: list[int]) -> list[list[int]]:
    """Positions of length-sorted sequences, cut into batches of at most TOKENS_PER_BATCH tokens
    counted as padded to the batch's longest (equal to the real count when lengths are equal)."""
    batches: list[list[int]] = []
    current: list[int] = []
    for position, length in enumerate(sorted_lengths):
        if current and (len(current) >= MAX_BATCH or length * (len(current) + 1) > TOKENS_PER_BATCH):
            batches.append(current)
            current = []
        current.append(position)
    if current:
        batches.append(current)
    return batches
