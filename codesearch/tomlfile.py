"""Reading the TOML files a user writes (a job's SPEC, a server's tokens) with clear errors."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from codesearch.errors import CodesearchError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def read_toml(path: Path, what: str, error: type[CodesearchError]) -> dict[str, Any]:
    """The parsed file; `error` with a message naming `what` (e.g. "SPEC file") when it is
    missing, unreadable or not TOML."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"no such {what}: {path}") from None
    except (OSError, UnicodeDecodeError) as problem:
        raise error(f"cannot read {what} {path}: {problem}") from None
    except tomllib.TOMLDecodeError as problem:
        raise error(f"{path} is not valid TOML: {problem}") from None
