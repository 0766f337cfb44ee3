"""`load(name)`: preset, hub id or local directory to a ready `Encoder`.

The checkpoint is located before torch and transformers are imported, so a missing model is
reported in milliseconds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codesearch.model.hub import locate_checkpoint

from codesearch.errors import ModelUnavailable
from codesearch.presets import PRESETS

if TYPE_CHECKING:
    from codesearch.model.encoder import TransformersEncoder


def load(name: str, *, device: str | None = None, download: bool = True) -> TransformersEncoder:
    """Load an encoder; every failure becomes ModelUnavailable with the reason and the fix."""
    from codesearch.encoding import model_id_for

    preset = PRESETS.get(name) or next((p for p in PRESETS.values() if p.hub_id == name), None)
    directory = locate_checkpoint(preset.hub_id if preset else name, download=download)
    from codesearch.model.encoder import TransformersEncoder

    try:
        return TransformersEncoder.from_directory(directory, model_id=model_id_for(name), preset=preset,
                                                  device=device)
    except ModelUnavailable:
        raise
    except (OSError, ValueError, KeyError, RuntimeError, ImportError) as error:
        raise ModelUnavailable(f"could not load model {name} from {directory}: {error}") from error
