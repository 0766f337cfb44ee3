"""Helpers for tests of catalogs: small git repositories and catalogs built without Ray."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from codesearch.indexer.sync import embed_missing, sync_chunks
from conftest import FIXTURES

from codesearch.catalog.catalog import SHARDS_DIR, ShardEntry, publish
from codesearch.index import CodeIndex
from codesearch.vectors import VectorIndex


def git(cwd: Path, *args: str) -> str:
    """Run git with a fixed identity; its stdout."""
    return subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@example.com", *args], cwd=cwd,
                          check=True, capture_output=True, text=True).stdout.strip()


def make_org(base: Path) -> dict[str, Path]:
    """Three small git repositories of different code: payments, web, tools."""
    repos = {"payments": base / "payments", "web": base / "web", "tools": base / "tools"}
    shutil.copytree(FIXTURES / "repo" / "src", repos["payments"] / "src")
    shutil.copytree(FIXTURES / "repo" / "tests", repos["payments"] / "tests")
    shutil.copytree(FIXTURES / "repo" / "web", repos["web"] / "web")
    repos["tools"].mkdir()
    for name in ("sample.py", "sample.go", "sample.rb", "sample.lua"):
        if (FIXTURES / "languages" / name).exists():
            shutil.copy(FIXTURES / "languages" / name, repos["tools"] / name)
    for path in repos.values():
        git(path, "init", "-q", "-b", "main")
        git(path, "add", "-A")
        git(path, "commit", "-qm", "first")
    return repos


def build_catalog(output: Path, repos: dict[str, Path], encoder: object) -> None:
    """Index each repository as a shard with `encoder` and publish them, as a job would."""
    for name, root in repos.items():
        commit = git(root, "rev-parse", "HEAD") if (root / ".git").exists() else "0" * 40
        shard = f"{SHARDS_DIR}/{name}-{commit[:12]}"
        index = CodeIndex.open(root, output / shard, create=True, model_id=encoder.model_id)  # type: ignore[attr-defined]
        summary = sync_chunks(index.store, root, max_file_bytes=1_000_000)
        embed_missing(index.store, encoder)  # type: ignore[arg-type]
        with index.store.transaction():
            index.store.set_meta("shard_of", name)
            index.store.set_meta("commit", commit)
        VectorIndex.load(index.store, encoder.model_id, save=True)  # type: ignore[attr-defined]
        counts = index.store.counts(encoder.model_id)  # type: ignore[attr-defined]
        index.close()
        entry = ShardEntry(name, shard, commit, str(root), None, summary.files, counts["chunks"],
                           counts["with_vectors"])

        def change(catalog, entry=entry):  # type: ignore[no-untyped-def]
            from dataclasses import replace

            return replace(catalog.with_repo(entry), model_id=encoder.model_id)  # type: ignore[attr-defined]

        publish(output, change)
