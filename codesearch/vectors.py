"""The FAISS side of an index: inner-product search over L2-normalised chunk vectors.

The FAISS file is derived from the SQLite store and stamped with the store's generation; a stale
or missing file (an interrupted run, another writer) is rebuilt from SQLite, never trusted.
Exact (flat) search below `HNSW_THRESHOLD` vectors, HNSW above it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from codesearch.store import Store

FAISS_NAME = "vectors.faiss"
STAMP_NAME = "vectors.json"
HNSW_THRESHOLD = 200_000


class VectorIndex:
    """Nearest chunks to a query vector; ids are chunk ids."""

    def __init__(self, index: Any, count: int) -> None:
        self._index = index
        self.count = count
        self._ids: frozenset[int] | None = None

    def ids(self) -> frozenset[int]:
        """The chunk ids this index holds a vector for, read from FAISS's id map once: asking it
        of a query's candidates costs no database read (`search.unembedded`)."""
        if self._ids is None:
            import faiss

            held: Any = faiss.vector_to_array(self._index.id_map) if self._index is not None else ()
            self._ids = frozenset(int(i) for i in held)
        return self._ids

    @classmethod
    def load(cls, store: Store, model_id: str, *, save: bool = False) -> VectorIndex:
        """The FAISS index for this store and model, rebuilt from SQLite when stale."""
        import faiss

        faiss_path, stamp_path = store.index_dir / FAISS_NAME, store.index_dir / STAMP_NAME
        wanted = {"generation": store.generation, "model_id": model_id}
        try:
            # A writer removes the stamp, replaces the FAISS file, then writes the new stamp: the
            # same stamp before and after the read means the file read belongs to it.
            before = stamp_path.read_text()
            if {k: json.loads(before).get(k) for k in wanted} == wanted:
                index = faiss.read_index(str(faiss_path))
                if stamp_path.read_text() == before:
                    return cls(index, index.ntotal)
        except (OSError, ValueError, RuntimeError):
            pass
        ids, matrix = store.chunk_vectors(model_id)
        index = _build(matrix, ids)
        if save and index is not None:
            stamp_path.unlink(missing_ok=True)
            _write_atomically(faiss_path, lambda tmp: faiss.write_index(index, str(tmp)))
            _write_atomically(stamp_path, lambda tmp: tmp.write_text(json.dumps({**wanted, "count": len(ids)})))
        return cls(index, len(ids))

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(chunk id, cosine similarity) best first."""
        if self.count == 0 or self._index is None:
            return []
        scores, ids = self._index.search(np.asarray(query, dtype=np.float32).reshape(1, -1), min(k, self.count))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]


def _build(matrix: np.ndarray, ids: np.ndarray) -> Any:
    import faiss

    if len(ids) == 0:
        return None
    dim = matrix.shape[1]
    inner = faiss.IndexFlatIP(dim) if len(ids) < HNSW_THRESHOLD else faiss.IndexHNSWFlat(
        dim, 32, faiss.METRIC_INNER_PRODUCT
    )
    index = faiss.IndexIDMap2(inner)
    index.add_with_ids(np.ascontiguousarray(matrix, dtype=np.float32), ids)
    return index


def _write_atomically(path: Path, write: Any) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    write(tmp)
    os.replace(tmp, path)
