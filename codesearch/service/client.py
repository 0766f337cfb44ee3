"""Asking a team server (`codesearch serve`) from the terminal and the editor.

Standard library only, so `codesearch query --server` starts as fast as a lexical query.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from codesearch.errors import CodesearchError
from codesearch.records import SearchResult, result_from_json

TOKEN_ENV = "CODESEARCH_TOKEN"
TIMEOUT_SECONDS = 30.0


class ServerError(CodesearchError):
    """The server cannot be reached, refused the token, or refused the request."""


@dataclass(frozen=True)
class ServerClient:
    """One team server and the token to show it."""

    url: str
    token: str | None = None

    @classmethod
    def create(cls, url: str, token: str | None = None) -> ServerClient:
        """A client; the token defaults to $CODESEARCH_TOKEN."""
        if not url.startswith(("http://", "https://")):
            raise ServerError(f"--server must be an http:// or https:// URL, not {url!r}")
        return cls(url.rstrip("/"), token or os.environ.get(TOKEN_ENV) or None)

    def search(self, query: str, *, k: int = 10, mode: str = "hybrid", language: str | None = None,
               glob: str | None = None, repos: list[str] | None = None) -> list[SearchResult]:
        """POST /search; results carry their repository and commit."""
        return self.search_with_notes(query, k=k, mode=mode, language=language, glob=glob, repos=repos)[0]

    def search_with_notes(self, query: str, *, k: int = 10, mode: str = "hybrid", language: str | None = None,
                          glob: str | None = None, repos: list[str] | None = None) -> tuple[list[SearchResult],
                                                                                          list[str]]:
        """POST /search: the results and what the server says of the query (a word it read as
        another); a server from before notes says nothing."""
        body: dict[str, Any] = {"query": query, "k": k, "mode": mode}
        for key, value in (("lang", language), ("glob", glob), ("repos", repos or None)):
            if value is not None:
                body[key] = value
        answer = self._call("POST", "/search", body)
        return [result_from_json(item) for item in answer["results"]], [str(n) for n in answer.get("notes", [])]

    def related(self, repo: str, path: str, line: int, *, k: int = 10) -> list[SearchResult]:
        """POST /related: code like the definition at repo:path:line."""
        body = {"repo": repo, "path": path, "line": line, "k": k}
        return [result_from_json(item) for item in self._call("POST", "/related", body)["results"]]

    def repos(self) -> list[dict[str, Any]]:
        """GET /repos."""
        return list(self._call("GET", "/repos")["repos"])

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(self.url + path, method=method,
                                         data=json.dumps(body).encode() if body is not None else None)
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError as error:
            detail = _detail(error.read())
            if error.code == 401:
                raise ServerError(f"{self.url} refused the token ({detail}); pass --token or set {TOKEN_ENV}") from None
            raise ServerError(f"{self.url} answered {error.code}: {detail}") from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            raise ServerError(f"cannot reach {self.url}: {reason}") from None


def _detail(body: bytes) -> str:
    try:
        detail = json.loads(body).get("detail")
    except (ValueError, AttributeError):
        return body.decode(errors="replace")[:200]
    if isinstance(detail, list):  # a validation error: say which field and why
        return "; ".join(f"{'.'.join(str(p) for p in d.get('loc', []))}: {d.get('msg')}" for d in detail)
    return str(detail)
