"""`load(name)`: preset, hub id or local directory to a ready `Encoder`."""

from __future__ import annotations

from codesearch.errors import ModelUnavailable
from codesearch.model.encoder import TransformersEncoder
from codesearch.model.hub import locate_checkpoint
from codesearch.presets import PRESETS


def load(name: str, *, device: str | None = None, download: bool = True) -> TransformersEncoder:
    """Load an encoder; every failure becomes ModelUnavailable with the reason and the fix."""
    preset = PRESETS.get(name) or next((p for p in PRESETS.values() if p.hub_id == name), None)
    target = preset.hub_id if preset else name
    directory = locate_checkpoint(target, download=download)
    try:
        return TransformersEncoder.from_directory(directory, model_id=_model_id(name), preset=preset, device=device)
    except ModelUnavailable:
        raise
    except (OSError, ValueError, KeyError, RuntimeError, ImportError) as error:
        raise ModelUnavailable(f"could not load model {name} from {directory}: {error}") from error


def _model_id(name: str) -> str:
    from codesearch.encoding import model_id_for

    return model_id_for(name)
