"""`load(name)`: preset, hub id or local directory to a ready `Encoder`.

The checkpoint is located before torch and transformers are imported, so a missing model is
reported in milliseconds."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codesearch.model.hub import locate_checkpoint

from codesearch.encoding import TUNE_FILE, EncoderSettings, model_id_for, split_dims
from codesearch.errors import ModelUnavailable
from codesearch.presets import PRESETS

if TYPE_CHECKING:
    from codesearch.model.encoder import TransformersEncoder


def load(name: str, settings: EncoderSettings | None = None, *, download: bool = True) -> TransformersEncoder:
    """Load an encoder; every failure becomes ModelUnavailable with the reason and the fix.

    `name` is a preset (`base`), a hub id (`owner/model`) or a directory, optionally with
    `@DIMS` for Matryoshka truncation (`base@256`)."""
    base, dims = split_dims(name)
    tuned = _tune_record(base)
    if tuned is not None:  # `codesearch tune`'s output: an adapter of a base model, or a tuned checkpoint
        return _load_tuned(name, base, tuned, settings, dims, download)
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


def _tune_record(directory: str) -> dict[str, Any] | None:
    """The record `codesearch tune` leaves beside an adapter or a tuned checkpoint, if any."""
    path = os.path.join(directory, TUNE_FILE)
    if not os.path.isfile(path):
        return None
    try:
        with open(path) as file:
            record = json.load(file)
    except (OSError, ValueError) as error:
        raise ModelUnavailable(f"the tuned model at {directory} is unreadable ({error}); "
                               "run `codesearch tune --reset` to go back to its base model") from error
    return record if isinstance(record, dict) else None


def _load_tuned(name: str, directory: str, record: dict[str, Any], settings: EncoderSettings | None,
                dims: int | None, download: bool) -> TransformersEncoder:
    """A tuned model: its base with the LoRA adapter merged in (so the fast path runs unchanged),
    or a fully tuned checkpoint; pooling and prefixes as the base had them."""
    from codesearch.model.encoder import TransformersEncoder

    lora = record.get("method") == "lora"
    base = str(record.get("base", ""))
    checkpoint = Path(directory)
    if lora:
        base_name, _ = split_dims(base)
        preset = PRESETS.get(base_name) or next((p for p in PRESETS.values() if p.hub_id == base_name), None)
        checkpoint = locate_checkpoint(preset.hub_id if preset else base_name, download=download)
    try:
        return TransformersEncoder.from_directory(
            checkpoint, model_id=model_id_for(name), settings=settings, dims=dims,
            adapter=Path(directory) if lora else None, tuned=record)
    except ModelUnavailable:
        raise
    except (OSError, ValueError, KeyError, RuntimeError, ImportError) as error:
        raise ModelUnavailable(f"could not load the tuned model {directory} (from {base}): {error}; "
                               "`codesearch tune --reset` goes back to the base model") from error
