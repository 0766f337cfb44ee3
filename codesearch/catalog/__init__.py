"""Many repositories as one searchable collection: the catalog an indexing job publishes.

- `catalog`: which shard is current for each repository, replaced atomically; retired shards
  removed after a grace period.
- `dense`: one FAISS index over the vectors of every shard (IVF past a size), built by the job.
- `shards`: searching the current shards as one, ranked with one fusion.
"""
