"""Unsaved editor buffers, searchable before they are saved.

An open, edited file is re-chunked from the buffer into an `OverlayFile`. Searches then hide the
index's (stale) chunks of that path and score the overlay's chunks on the same scales: BM25 with
the index's statistics (`Store.bm25_terms`) and cosine against cached or freshly made vectors.
Nothing here is written to the index; saving the file does that, through the normal sync.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from codesearch.lexical import query_terms
from codesearch.records import Chunk
from codesearch.store import Store

if TYPE_CHECKING:
    import numpy as np

Scored = list[tuple[int, float]]


@dataclass(frozen=True)
class OverlayFile:
    """One dirty buffer: its text, its chunks, and the vectors known for them (by content hash)."""

    path: str
    text: str
    chunks: tuple[Chunk, ...]
    vectors: Mapping[str, np.ndarray] = field(default_factory=dict)

    def vector(self, chunk: Chunk) -> np.ndarray | None:
        """The chunk's vector, if it has one yet."""
        return self.vectors.get(chunk.content_hash)


@dataclass(frozen=True)
class Overlay:
    """The dirty buffers of one repository, by repo-relative path."""

    files: Mapping[str, OverlayFile] = field(default_factory=dict)

    def hides(self, path: str) -> bool:
        """Whether the index's chunks of `path` are stale (a buffer replaces them)."""
        return path in self.files

    def find(self, path: str, line: int) -> Chunk | None:
        """The innermost overlay chunk of `path` containing `line`, if the path is dirty."""
        file = self.files.get(path)
        inside = [c for c in file.chunks if c.start_line <= line <= c.end_line] if file else []
        return min(inside, key=lambda c: c.end_line - c.start_line, default=None)

    def vector(self, chunk: Chunk) -> np.ndarray | None:
        """An overlay chunk's vector, if it has one yet."""
        file = self.files.get(chunk.path)
        return file.vector(chunk) if file else None

    def add_candidates(
        self,
        store: Store,
        query: str,
        chunks: dict[int, Chunk],
        lexical: Scored,
        dense: Scored,
        query_vector: np.ndarray | None,
        keep: Callable[[Chunk], bool],
        *,
        lexical_wanted: bool,
    ) -> tuple[Scored, Scored]:
        """Add the overlay's chunks to the candidate lists under negative ids (index ids are
        positive); returns the merged lexical and dense lists, best first. An empty lexical list
        from the index still gets the overlay's matches when `lexical_wanted`."""
        extra = [c for file in self.files.values() for c in file.chunks if keep(c)]
        chunks.update({-(n + 1): c for n, c in enumerate(extra)})
        if lexical_wanted:
            lexical = lexical + [(-(n + 1), s) for n, s in store.bm25_terms(extra, query_terms(query))]
        if query_vector is not None:
            vectors = [(n, self.vector(chunk)) for n, chunk in enumerate(extra)]
            dense = dense + [(-(n + 1), float(v @ query_vector)) for n, v in vectors if v is not None]
        return sorted(lexical, key=lambda p: -p[1]), sorted(dense, key=lambda p: -p[1])


EMPTY = Overlay()
