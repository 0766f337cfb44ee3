"""Indexing jobs over many repositories on Ray: `codesearch job run SPEC`.

- `spec`: the SPEC file (TOML) as records, checked with messages that say what to fix.
- `git`: resolving a ref to a commit and materialising that commit's tree from a clone cache.
- `tasks`: the Ray side: a CPU task that chunks one repository into a shard, and an actor pool
  that encodes what no shard of the catalog has a vector for.
- `run`: the driver: schedules the stages, publishes each finished shard in the catalog.
"""
