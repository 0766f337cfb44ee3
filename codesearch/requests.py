"""What every door checks of a query before searching: the modes and the request's values.

Kept apart from `search` so that the CLI can name the modes without importing the search code.
"""

from __future__ import annotations

from codesearch.errors import QueryError

MODES = ("hybrid", "dense", "lexical")


def check_request(query: str, mode: str, k: int) -> None:
    """QueryError for an empty query, an unknown mode or a k below 1 (every door checks these)."""
    if not query.strip():
        raise QueryError("the query is empty; say what the code does, e.g. `codesearch query \"parse config\"`")
    if mode not in MODES:
        raise QueryError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    if k < 1:
        raise QueryError("--top (k) must be at least 1")
