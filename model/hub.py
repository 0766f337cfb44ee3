"""Finding a checkpoint on disk: a local directory, the Hugging Face cache, or a download.

Left alone, the hub client spends most of a minute retrying an unreachable hub. We probe the hub
with one short TCP connection first and remember a failure for `OFFLINE_MEMORY_SECONDS`, so an
offline machine finds out in a few seconds once, then at once.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from urllib.parse import urlparse

from codesearch.errors import ModelUnavailable

PROBE_TIMEOUT_SECONDS = 3.0
OFFLINE_MEMORY_SECONDS = 600


def cache_dir() -> Path:
    """codesearch's own small cache (hub reachability), beside the HF cache."""
    base = os.environ.get("CODESEARCH_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "codesearch"
    )
    return Path(base)


def hub_endpoint() -> str:
    """The hub address the HF client would use."""
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co")


def hub_reachable() -> tuple[bool, str]:
    """(reachable, reason) — from memory when a recent probe failed, else a fresh 3-second probe."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return False, "HF_HUB_OFFLINE is set"
    endpoint = hub_endpoint()
    memory = cache_dir() / "hub.json"
    try:
        remembered = json.loads(memory.read_text())
        if remembered.get("endpoint") == endpoint and remembered.get("until", 0) > time.time():
            return False, f"{remembered.get('reason')} (remembered; retried after {time.ctime(remembered['until'])})"
    except (OSError, ValueError):
        pass
    url = urlparse(endpoint)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=PROBE_TIMEOUT_SECONDS):
            pass
    except OSError as error:
        reason = f"cannot reach {endpoint} ({error.strerror or error})"
        try:
            memory.parent.mkdir(parents=True, exist_ok=True)
            memory.write_text(json.dumps({"endpoint": endpoint, "until": time.time() + OFFLINE_MEMORY_SECONDS,
                                          "reason": reason}))
        except OSError:
            pass
        return False, reason
    return True, ""


def locate_checkpoint(hub_id_or_path: str, *, download: bool = True) -> Path:
    """A local directory holding the checkpoint; downloads it into the HF cache once if needed."""
    local = Path(hub_id_or_path).expanduser()
    if local.is_dir():
        return local
    if local.is_absolute() or hub_id_or_path.startswith((".", "~")):
        raise ModelUnavailable(f"model directory {hub_id_or_path} does not exist")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    cache = _hub_cache()
    try:
        return Path(snapshot_download(hub_id_or_path, local_files_only=True, cache_dir=cache))
    except (LocalEntryNotFoundError, OSError, ValueError):
        pass
    if not download:
        raise ModelUnavailable(f"model {hub_id_or_path} is not in the Hugging Face cache")
    reachable, reason = hub_reachable()
    if not reachable:
        raise ModelUnavailable(
            f"model {hub_id_or_path} is not downloaded and the hub is unreachable: {reason}. "
            f"Run `codesearch model download {hub_id_or_path}` on a machine with network access "
            "(or copy its Hugging Face cache), or pass --model PATH to a local checkpoint"
        )
    try:
        return Path(snapshot_download(hub_id_or_path, allow_patterns=_CHECKPOINT_FILES, cache_dir=cache))
    except Exception as error:  # the hub client raises many types (HTTP, auth, not found)
        raise ModelUnavailable(f"could not download model {hub_id_or_path}: {error}") from error


def _hub_cache() -> str | None:
    """The HF cache as the environment says now (the hub client reads it once, at import)."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    if os.environ.get("HF_HOME"):
        return os.path.join(os.environ["HF_HOME"], "hub")
    return None


_CHECKPOINT_FILES = [
    "*.json", "*.safetensors", "*.txt", "*.model", "1_Pooling/*", "2_Normalize/*", "*.py",
]
