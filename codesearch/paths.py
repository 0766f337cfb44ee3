"""Where a repository and its index are: cheap path rules, imported by the CLI before anything heavy."""

from __future__ import annotations

import os
from pathlib import Path

from codesearch.errors import PathError

DB_NAME = "index.sqlite3"
INDEX_DIR_NAME = ".codesearch"
INDEX_DIR_ENV = "CODESEARCH_INDEX_DIR"


def find_root(start: Path) -> Path:
    """The repository containing `start`: the nearest ancestor with an index or a `.git`."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / INDEX_DIR_NAME / DB_NAME).exists() or (candidate / ".git").exists():
            return _named_in_utf8(candidate)
    return _named_in_utf8(start)


def check_directory(path: Path) -> Path:
    """The resolved directory, or a PathError saying what is wrong with it."""
    if not path.exists():
        raise PathError(f"no such path: {path}")
    if not path.is_dir():
        raise PathError(f"not a directory: {path}; give the repository's folder")
    if not os.access(path, os.R_OK | os.X_OK):
        raise PathError(f"cannot read directory {path}; check its permissions")
    return _named_in_utf8(path.resolve())


def is_utf8(name: str) -> bool:
    """Whether a file name came from bytes that are UTF-8 (Python keeps others as lone surrogates,
    `caf\\udce9.py` for a Latin-1 `café.py`, which SQLite, JSON and an editor's URI cannot hold)."""
    if name.isascii():  # most names: no encoding to try
        return True
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _named_in_utf8(root: Path) -> Path:
    """`root`, or a PathError where its path is not UTF-8: the index records it, and prints it."""
    text = str(root)
    if is_utf8(text):
        return root
    shown = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    raise PathError(f"the path {shown} is not UTF-8, and codesearch keeps and prints paths as UTF-8; "
                    "rename the folder or move the repository")


def index_dir_for(root: Path, override: str | None = None) -> Path:
    """`--index-dir`, else $CODESEARCH_INDEX_DIR, else ROOT/.codesearch."""
    chosen = override or os.environ.get(INDEX_DIR_ENV)
    return Path(chosen).expanduser().resolve() if chosen else root / INDEX_DIR_NAME
