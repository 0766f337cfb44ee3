"""`load(name)`: preset, hub id or local directory to a ready `Encoder`.

The checkpoint is located before torch and transformers are imported, so a missing model is
reported in milliseconds."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from codesearch.model.hub import locate_checkpoint

from codesearch.encoding import EncoderSettings, model_id_for, split_dims
from codesearch.errors import ModelUnavailable
from codesearch.presets import PRESETS

if TYPE_CHECKING:
    from codesearch.model.encoder import TransformersEncoder


def load(name: str, settings: EncoderSettings | None = None, *, download: bool = True) -> TransformersEncoder:
    """Load an encoder; every failure becomes ModelUnavailable with the reason and the fix.

    `name` is a preset (`base`), a hub id (`owner/model`) or a directory, optionally with
    `@DIMS` for Matryoshka truncation (`base@256`)."""
    base, dims = split_dims(name)
    preset = PRESETS.get(base) or next((p for p in PRESETS.values() if p.hub_id == base), None)
    if preset is None and "/" not in base and not os.path.isdir(base):
        raise ModelUnavailable(
            f"unknown model {base!r}: not a preset ({', '.join(PRESETS)}), a Hugging Face id "
            "(owner/name) or a directory; `codesearch model list` shows the presets"
        )
    directory = locate_checkpoint(preset.hub_id if preset else base, download=download)
    from codesearch.model.encoder import TransformersEncoder

    try:
        return TransformersEncoder.from_directory(directory, model_id=model_id_for(name), preset=preset,
                                                  settings=settings, dims=dims)
    except ModelUnavailable:
        raise
    except (OSError, ValueError, KeyError, RuntimeError, ImportError) as error:
        raise ModelUnavailable(f"could not load model {name} from {directory}: {error}") from error
