"""What every door checks of a query before searching: the modes and the request's values; and
the one shape of a `codesearch query` sent to the warm local server.

Kept apart from `search` so that the CLI, and the quick first step of `codesearch query`
(`codesearch.quick`), can name the modes and defaults without importing the search code.
"""

from __future__ import annotations

from codesearch.errors import QueryError

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: `codesearch query` imports this first
if TYPE_CHECKING:
    from typing import Any

MODES = ("hybrid", "dense", "lexical")
DTYPES = ("auto", "float32", "bfloat16", "int8")
# `codesearch query`'s defaults, for click's options and for the quick path alike.
DEFAULT_TOP, DEFAULT_MODE, DEFAULT_MAX_FILE_BYTES, DEFAULT_WAIT_SECONDS = 10, "hybrid", 1_000_000, 10.0
MIN_MAX_TOKENS = 100
_TRUE_WORDS, _FALSE_WORDS = ("1", "true", "t", "yes", "y", "on"), ("", "0", "false", "f", "no", "n", "off")


def flag_value(text: str) -> bool | None:
    """An environment variable read as an on/off flag, as click reads one (`CODESEARCH_NO_DAEMON=1`);
    None for a word click would refuse."""
    word = text.strip().lower()
    return True if word in _TRUE_WORDS else False if word in _FALSE_WORDS else None


# What people call the languages the index names otherwise (`--lang ts`, `--lang c++`)
_LANGUAGE_NAMES = {
    "objective-c": "objc", "objectivec": "objc", "obj-c": "objc", "c++": "cpp", "cxx": "cpp", "c#": "csharp",
    "cs": "csharp", "ts": "typescript", "js": "javascript", "py": "python", "rb": "ruby", "rs": "rust",
    "kt": "kotlin", "golang": "go", "sh": "bash", "shell": "bash", "zsh": "bash", "hs": "haskell", "ex": "elixir",
    "terraform": "hcl", "tf": "hcl", "bazel": "starlark", "bzl": "starlark", "flutter": "dart",
}


def canonical_language(language: str) -> str:
    """The index's name for a language as a user writes it: `TypeScript`, `ts` -> `typescript`,
    `C++` -> `cpp`, `Objective-C` -> `objc`."""
    name = language.strip().lower()
    return _LANGUAGE_NAMES.get(name, name)


def check_request(query: str, mode: str, k: int, language: str | None = None) -> None:
    """QueryError for an empty query, an unknown mode, a k below 1 or a language codesearch does
    not know (every door checks these): `--lang klingon` would otherwise answer "no results"."""
    if not query.strip():
        raise QueryError("the query is empty; say what the code does, e.g. `codesearch query \"parse config\"`")
    if mode not in MODES:
        raise QueryError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    if k < 1:
        raise QueryError("--top (k) must be at least 1")
    if language:
        from codesearch.indexer.languages import BY_NAME, TEXT  # only when asked: it imports tree-sitter

        if canonical_language(str(language)) not in (*BY_NAME, TEXT):
            raise QueryError(f"unknown language {language!r}; use one of {', '.join(sorted((*BY_NAME, TEXT)))}")


def search_request(text: str, *, cwd: str, path: str | None, top: int, mode: str, lang: str | None,
                   glob: str | None, refresh: bool, index_dir: str | None, model: str | None, max_file_bytes: int,
                   excludes: list[str], wait_seconds: float, device: str | None, dtype: str, threads: int | None,
                   as_json: bool, max_tokens: int | None, color: bool) -> dict[str, Any]:
    """The warm local server's `search` request for one `codesearch query`: the repository is
    `path` (or the one containing `cwd`), found by the server; `render` asks for the text the
    terminal prints, so every client prints the same bytes."""
    return {"op": "search", "cwd": cwd, "path": path, "query": text, "k": top, "mode": mode, "lang": lang,
            "glob": glob, "refresh": refresh, "index_dir": index_dir, "model": model,
            "max_file_size": max_file_bytes, "excludes": excludes, "wait": wait_seconds, "device": device,
            "dtype": dtype, "threads": threads, "render": {"json": as_json, "max_tokens": max_tokens, "color": color}}
