"""The doors through which queries reach the search code from another process.

- `http`: `codesearch serve DIR`, the team search server (FastAPI on uvicorn) over a catalog or
  one index, with bearer tokens scoped to repository patterns (`tokens`).
- `client`: what `codesearch query --server URL` and the language server use to ask it.
- `daemon`: the warm local server behind `codesearch query` (a Unix socket per user), which
  answers through `queries.QueryService`: live indexes opened on demand, searched by the same
  `LiveIndex.search` as the language server; `local` is its client, standard library only.
- `mcp`: `codesearch mcp`, the server for coding agents (the MCP SDK over stdio), whose answers
  `budget` lays out within a token budget.

The catalog doors answer through `codesearch.catalog.shards.CatalogSearcher`, the same code the
terminal uses for `codesearch query --catalog DIR`; a repository's own index is searched by
`search.search`. Both rank with `ranking.rank`, and request values are checked once, in
`codesearch.requests`.
"""
