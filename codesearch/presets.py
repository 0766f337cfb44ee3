"""Named models. A preset's settings apply where the checkpoint carries no sentence-transformers
configuration of its own."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Preset:
    """A named checkpoint and how to use it."""

    name: str
    hub_id: str
    dim: int
    pooling: str  # "cls" or "mean"
    query_prefix: str = ""
    document_prefix: str = ""
    description: str = ""


PRESETS: dict[str, Preset] = {
    "base": Preset(
        "base", "Alibaba-NLP/gte-modernbert-base", 768, "cls",
        description="ModernBERT-base embedding model, 8192 tokens (default)",
    ),
    "small": Preset(
        "small", "ibm-granite/granite-embedding-small-english-r2", 384, "cls",
        description="47M-parameter ModernBERT, 8192 tokens; for CPU-only machines",
    ),
}
