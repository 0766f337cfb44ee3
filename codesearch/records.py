"""The records every stage passes along: one frozen type per concept."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CHUNK_KINDS = ("function", "method", "class", "module", "block")


@dataclass(frozen=True, slots=True)
class Chunk:
    """A searchable span of one file: a function, method, class header, or a run of other code.

    `start_line` and `end_line` are 1-based and inclusive. `content_hash` identifies what the
    encoder sees (language, kind, qualified name and text, never the path), so a renamed file or a
    moved function keeps its vector.
    """

    path: str
    language: str
    symbol: str
    qualified_name: str
    kind: str
    start_line: int
    end_line: int
    text: str
    content_hash: str

    @classmethod
    def build(
        cls,
        *,
        path: str,
        language: str,
        symbol: str,
        qualified_name: str,
        kind: str,
        start_line: int,
        end_line: int,
        text: str,
    ) -> Chunk:
        """Make a chunk, computing its content hash from the fields the encoder sees."""
        import hashlib  # here, not at the top: a query answered by the local server never hashes

        digest = hashlib.blake2b(digest_size=16)
        for part in (language, kind, qualified_name, text):
            digest.update(part.encode("utf-8", "surrogatepass"))
            digest.update(b"\x00")
        return cls(path, language, symbol, qualified_name, kind, start_line, end_line, text, digest.hexdigest())


def line_numbers(chunk: Chunk) -> list[int | None]:
    """The line of the file each line of a chunk's text is, None where the chunk cannot tell: a
    class's outline leaves out its members' bodies and a run of top-level code the definitions
    between its lines (and blank lines), so of those only the first is known."""
    count = chunk.text.count("\n") + 1
    if count == chunk.end_line - chunk.start_line + 1:
        return list(range(chunk.start_line, chunk.end_line + 1))
    return [chunk.start_line, *[None] * (count - 1)]


def embedding_text(chunk: Chunk) -> str:
    """What the encoder reads for a chunk: a one-line header naming it, then its code.

    The path is left out on purpose: it would make renames re-embed. Everything here is covered
    by `content_hash`.
    """
    name = chunk.qualified_name or chunk.symbol
    header = f"{chunk.language} {chunk.kind} {name}".strip() if name else f"{chunk.language} {chunk.kind}"
    return f"{header}\n{chunk.text}"


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One ranked answer: the chunk and its final score (higher is better).

    `repo` and `commit` name the shard a result came from when a catalog of many repositories
    was searched; they are empty for a single repository's index."""

    chunk: Chunk
    score: float
    repo: str = ""
    commit: str = ""

    def to_json(self) -> dict[str, object]:
        """The `--json` line shape: exactly these fields (plus `repo` and `commit` from a catalog)."""
        c = self.chunk
        where = {"repo": self.repo, "commit": self.commit} if self.repo else {}
        return {
            **where,
            "path": c.path,
            "start_line": c.start_line,
            "end_line": c.end_line,
            "symbol": c.qualified_name or c.symbol,
            "kind": c.kind,
            "language": c.language,
            "score": round(self.score, 6),
            "text": c.text,
        }


def result_from_json(item: dict[str, Any]) -> SearchResult:
    """A result back from its `to_json` shape (what the team server and the local server send).
    The JSON names a method by its qualified name only, so both name fields get it; it carries
    no content hash, which only the index needs."""
    chunk = Chunk(item["path"], item["language"], item["symbol"], item["symbol"], item["kind"],
                  item["start_line"], item["end_line"], item["text"], "")
    return SearchResult(chunk, float(item["score"]), item.get("repo", ""), item.get("commit", ""))
