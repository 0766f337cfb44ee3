"""Bearer tokens for `codesearch serve`: a TOML file, one `[[token]]` table per token.

    [[token]]
    secret = "s3cr3t-for-team-payments"
    repos = ["payments-*", "shared/*"]   # repository name patterns; "*" for all

A token sees only the repositories its patterns match, by every endpoint.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from pathlib import Path

from codesearch.errors import CodesearchError
from codesearch.tomlfile import read_toml

MIN_SECRET_LENGTH = 16


class TokenFileError(CodesearchError):
    """The token file is missing, not TOML, or has a bad entry."""


@dataclass(frozen=True)
class Token:
    """One secret and the repository patterns it may see."""

    secret: str
    repos: tuple[str, ...]


class TokenTable:
    """The tokens of a file; `scope(secret)` gives a token's patterns, or None for no such token."""

    def __init__(self, tokens: list[Token]) -> None:
        self._tokens = tokens

    @classmethod
    def load(cls, path: Path) -> TokenTable:
        """Read and check a token file."""
        raw = read_toml(path, "token file", TokenFileError)
        entries = raw.get("token")
        if not isinstance(entries, list) or not entries:
            raise TokenFileError(f"{path} has no [[token]] tables; add one with secret and repos")
        tokens = []
        for n, entry in enumerate(entries, 1):
            secret = entry.get("secret") if isinstance(entry, dict) else None
            repos = entry.get("repos") if isinstance(entry, dict) else None
            if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
                raise TokenFileError(f"token {n} in {path} needs a secret of at least {MIN_SECRET_LENGTH} characters")
            if not isinstance(repos, list) or not repos or not all(isinstance(r, str) and r for r in repos):
                raise TokenFileError(f'token {n} in {path} needs repos = ["pattern", ...] ("*" for all)')
            tokens.append(Token(secret, tuple(repos)))
        return cls(tokens)

    def scope(self, secret: str) -> tuple[str, ...] | None:
        """The repository patterns of the token with this secret (compared in constant time)."""
        found = None
        for token in self._tokens:
            if hmac.compare_digest(token.secret.encode(), secret.encode()):
                found = token.repos
        return found
