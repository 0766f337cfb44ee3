"""The `Encoder` protocol the core relies on, and lazy loading of the real encoders.

The core never imports torch: `load_encoder` imports `codesearch.model` only when vectors are
actually needed, so `codesearch --help` and lexical queries start fast.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from codesearch.requests import DTYPES as DTYPES  # defined with the other request values

if TYPE_CHECKING:
    import numpy as np

DEFAULT_MODEL = "base"
TUNE_FILE = "codesearch-tune.json"  # beside a model `codesearch tune` made: what it was tuned from, how it scored
MODEL_ENV = "CODESEARCH_MODEL"


@dataclass(frozen=True, slots=True)
class EncoderSettings:
    """Where and how the encoder runs. `auto` dtype: bfloat16 on CUDA and on processors with
    bfloat16 instructions (AVX-512 BF16, AMX), float32 elsewhere; `int8` is CPU-only."""

    device: str | None = None  # None: CUDA, then Apple MPS, then CPU
    dtype: str = "auto"
    threads: int | None = None  # None: PyTorch's default (one per physical core)


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors; prefixes and pooling are its own business."""

    model_id: str
    dim: int
    max_tokens: int

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        """Vectors for code chunks, shape [n, dim]."""
        ...

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Vectors for search queries, shape [n, dim]."""
        ...


def split_dims(name: str) -> tuple[str, int | None]:
    """`base@256` -> ("base", 256): a model name with Matryoshka truncation to 256 dimensions."""
    head, sep, tail = name.rpartition("@")
    if sep and tail.isdigit() and int(tail) > 0 and not os.path.isdir(name):
        return head, int(tail)
    return name, None


def model_id_for(name: str) -> str:
    """The id recorded in an index for a model name: a preset resolves to its hub id, a
    directory to its absolute path, and an `@DIMS` suffix is kept (it changes the vectors)."""
    from codesearch.presets import PRESETS

    base, dims = split_dims(name)
    suffix = f"@{dims}" if dims else ""
    if base in PRESETS:
        return PRESETS[base].hub_id + suffix
    if os.path.isdir(base):
        return os.path.abspath(base) + suffix
    return name


def load_encoder(name: str, settings: EncoderSettings | None = None) -> Encoder:
    """Load an encoder by preset name, hub id or local directory; raises ModelUnavailable."""
    from codesearch.model.loading import load

    return load(name, settings or EncoderSettings())
