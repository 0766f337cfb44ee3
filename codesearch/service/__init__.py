"""The doors through which queries reach the search code from another process.

- `http`: `codesearch serve DIR`, the team search server (FastAPI on uvicorn) over a catalog or
  one index, with bearer tokens scoped to repository patterns (`tokens`).
- `client`: what `codesearch query --server URL` and the language server use to ask it.

Every door answers through `codesearch.catalog.shards.CatalogSearcher` (and so `ranking.rank`),
the same code the terminal uses for `codesearch query --catalog DIR`.
"""
