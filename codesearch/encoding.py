"""The `Encoder` protocol the core relies on, and lazy loading of the real encoders.

The core never imports torch: `load_encoder` imports `codesearch.model` only when vectors are
actually needed, so `codesearch --help` and lexical queries start fast.
"""

from __future__ import annotations

import os
from typing import Protocol, runtime_checkable

import numpy as np

DEFAULT_MODEL = "base"
MODEL_ENV = "CODESEARCH_MODEL"


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


def model_id_for(name: str) -> str:
    """The id recorded in an index for a model name (a preset resolves to its hub id)."""
    from codesearch.presets import PRESETS

    if name in PRESETS:
        return PRESETS[name].hub_id
    if os.path.isdir(name):
        return os.path.abspath(name)
    return name


def load_encoder(name: str, *, device: str | None = None) -> Encoder:
    """Load an encoder by preset name, hub id or local directory; raises ModelUnavailable."""
    from codesearch.model.loading import load

    return load(name, device=device)
