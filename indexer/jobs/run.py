"""The job driver: chunk every repository as a CPU task, encode in a pool of actors, publish
each finished shard in the catalog, then build the catalog's dense index and clear old shards.

Ray schedules, retries tasks whose worker dies (`max_retries`) and restarts dead actors, whose
calls it retries (`max_restarts`, `max_task_retries`). The driver only decides what to do next.
Each repository is published the moment its shard is complete, so a job killed outright and run
again skips every repository it finished (same commit) and re-embeds nothing the vector pool has.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from codesearch.indexer.jobs.spec import JobSpec
from codesearch.indexer.jobs.tasks import POOL_DIR, EncodeActor, Prepared, finish_shard, prepare_repo

from codesearch.catalog.catalog import Catalog, ShardEntry, collect_garbage, publish
from codesearch.encoding import EncoderSettings, model_id_for
from codesearch.errors import CodesearchError, IndexMismatch, IndexMissing
from codesearch.store import Store

TASK_RETRIES = 3
ACTOR_RESTARTS = 3
BATCHES_IN_FLIGHT = 2  # per actor: one running, one waiting
RAY_WORKER_NICENESS = "RAY_worker_niceness"  # the variable Ray reads (ray._private.ray_constants)


@dataclass
class RepoReport:
    """One line of the job's report."""

    name: str
    commit: str = ""
    status: str = "pending"  # indexed, unchanged, failed
    files: int = 0
    chunks: int = 0
    new_vectors: int = 0
    reused_vectors: int = 0
    seconds: float = 0.0
    error: str = ""


@dataclass
class JobReport:
    """What a job did, repository by repository."""

    repos: list[RepoReport]
    seconds: float = 0.0
    chunks_per_second: float = 0.0
    removed: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[RepoReport]:
        """The repositories that could not be indexed."""
        return [r for r in self.repos if r.status == "failed"]


# (repositories done, total, chunks so far, vectors embedded so far, vectors to embed so far)
Progress = Callable[[int, int, int, int, int], None]


def run_job(spec: JobSpec, *, address: str | None = None, progress: Progress | None = None,
            log: Callable[[str], None] = lambda message: None) -> JobReport:
    """Run the job described by `spec` on the Ray cluster at `address` (None: local, all cores)."""
    import ray

    started = time.monotonic()
    model_id = model_id_for(spec.model)
    output = spec.output
    output.mkdir(parents=True, exist_ok=True)
    try:
        catalog = Catalog.load(output)
    except IndexMissing:
        catalog = Catalog(output)
    if catalog.model_id and catalog.model_id != model_id:
        raise IndexMismatch(f"the catalog in {output} holds vectors of {catalog.model_id}, not {model_id}; "
                            "use the same model or another output directory")
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address is None:
        # A local cluster runs the job the user is waiting for: Ray starts its workers at nice 15
        # (background work), where any busy process on the machine starves them for minutes.
        # Ray's own job supervisor runs jobs at 0 the same way; a cluster keeps its own setting.
        os.environ.setdefault(RAY_WORKER_NICENESS, "0")
    ray.init(address=address, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True,
             configure_logging=False)
    driver = _Driver(spec, model_id, catalog, progress or (lambda *_: None), log)
    try:
        driver.run()
    finally:
        driver.release()
    report = JobReport([driver.reports[r.name] for r in spec.repos], seconds=time.monotonic() - started)
    encoded = sum(r.new_vectors for r in report.repos)
    report.chunks_per_second = sum(r.chunks for r in report.repos if r.status == "indexed") / max(report.seconds, 1e-9)
    if encoded or any(r.status == "indexed" for r in report.repos):
        publish_merged(output, log)
    report.removed = collect_garbage(output, spec.options.grace_minutes * 60)
    return report


def publish_merged(output: Path, log: Callable[[str], None]) -> Catalog:
    """Build and publish the catalog's merged dense and lexical indexes where it is big enough."""
    from codesearch.catalog.dense import build_dense
    from codesearch.catalog.lexical import build_lexical

    catalog = Catalog.load(output)
    run_id = uuid.uuid4().hex[:8]
    for kind, build in (("dense", build_dense), ("lexical", build_lexical)):
        entry = build(catalog, run_id, log=log)
        if entry != getattr(catalog, kind):
            catalog = publish(output, partial(Catalog.with_merged, kind=kind, entry=entry))
    return catalog


class _Driver:
    """The state of one run: what is chunking, what waits for which vectors, what is finishing."""

    def __init__(self, spec: JobSpec, model_id: str, catalog: Catalog, progress: Progress,
                 log: Callable[[str], None]) -> None:
        import ray

        self.ray = ray
        self.spec, self.model_id, self.progress, self.log = spec, model_id, progress, log
        self.output = str(spec.output)
        self.run_id = uuid.uuid4().hex[:8]
        self.reports = {r.name: RepoReport(r.name) for r in spec.repos}
        self.catalog = catalog
        self.current = {name: entry.commit for name, entry in catalog.repos.items()}
        self.pool = Store.open(spec.output / POOL_DIR, create=True)
        self.tasks: dict[Any, tuple[str, Any]] = {}  # object ref -> (kind, payload)
        self.queue: deque[tuple[str, str]] = deque()  # (hash, text) waiting for an actor
        self.queued: set[str] = set()  # hashes queued or being encoded
        self.waiting: dict[str, set[str]] = {}  # repo -> hashes it still needs
        self.prepared: dict[str, Prepared] = {}
        self.actors: list[Any] = []
        self.busy: dict[int, int] = {}
        self._finish_started: dict[str, float] = {}
        self.done = 0
        self.embedded = 0

    def run(self) -> None:
        prepare = self.ray.remote(prepare_repo).options(num_cpus=1, max_retries=TASK_RETRIES)
        for repo in self.spec.repos:
            ref = prepare.remote(repo, self.output, self.model_id, self.current.get(repo.name),
                                 self.spec.options.max_file_size, self.run_id)
            self.tasks[ref] = ("prepare", repo.name)
        self._report_progress()
        while self.tasks:
            ready, _ = self.ray.wait(list(self.tasks), num_returns=1)
            kind, payload = self.tasks.pop(ready[0])
            try:
                value = self.ray.get(ready[0])
            except (self.ray.exceptions.RayError, CodesearchError) as error:
                self._failed(kind, payload, error)
            else:
                getattr(self, f"_on_{kind}")(payload, value)
            self._dispatch()
            self._report_progress()

    def release(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor)
        self.pool.close()

    # --- stage results -------------------------------------------------------------------

    def _on_prepare(self, name: str, prepared: Prepared) -> None:
        report = self.reports[name]
        report.commit, report.seconds = prepared.commit, prepared.seconds
        if prepared.error:
            report.status, report.error = "failed", prepared.error
            self.done += 1
            return
        if prepared.skipped:
            entry = self.catalog.repos[name]
            report.status, report.files, report.chunks = "unchanged", entry.files, entry.chunks
            self.done += 1
            return
        report.files, report.chunks = prepared.files, prepared.chunks
        self.prepared[name] = prepared
        have = self.pool.hashes_with_vectors(self.model_id, [h for h, _ in prepared.missing])
        needed = {h for h, _ in prepared.missing if h not in have}
        if not self.spec.options.embed:
            needed = set()
        self.waiting[name] = needed
        for content_hash, text in prepared.missing:
            if content_hash in needed and content_hash not in self.queued:
                self.queued.add(content_hash)
                self.queue.append((content_hash, text))
                report.new_vectors += 1
        report.reused_vectors = len(prepared.missing) - report.new_vectors  # the pool or another repository has them
        prepared.missing = []
        self._finish_ready()

    def _on_encode(self, batch: tuple[int, list[str]], vectors: Any) -> None:
        actor, hashes = batch
        self.busy[actor] -= 1
        with self.pool.transaction():
            self.pool.add_vectors(self.model_id, hashes, vectors)
        self.embedded += len(hashes)
        done = set(hashes)
        for needed in self.waiting.values():
            needed -= done
        self._finish_ready()

    def _on_finish(self, name: str, vectors: int) -> None:
        prepared = self.prepared.pop(name)
        report = self.reports[name]
        entry = ShardEntry(name=name, shard=prepared.shard, commit=prepared.commit, url=self._repo(name).url,
                           ref=self._repo(name).ref, files=prepared.files, chunks=prepared.chunks,
                           vectors=vectors, updated_at=time.time())
        publish(self.spec.output, lambda c: _with_model(c.with_repo(entry), self.model_id))
        report.status = "indexed"
        report.seconds = prepared.seconds + (time.monotonic() - self._finish_started.pop(name))
        self.done += 1
        self.log(f"{name}: {prepared.commit[:12]} published, {prepared.chunks:,} chunks")

    def _failed(self, kind: str, payload: Any, error: BaseException) -> None:
        if kind == "encode":  # the actor is gone for good: every repository waiting on it fails
            actor, hashes = payload
            self.busy[actor] -= 1
            lost = set(hashes)
            for name, needed in list(self.waiting.items()):
                if needed & lost:
                    self.waiting.pop(name)
                    self._fail(name, f"encoding failed: {_first_line(error)}")
            return
        self._fail(payload, _first_line(error))

    def _fail(self, name: str, message: str) -> None:
        report = self.reports[name]
        if report.status != "failed":
            report.status, report.error = "failed", message
            self.done += 1
        self.prepared.pop(name, None)

    # --- scheduling ----------------------------------------------------------------------

    def _finish_ready(self) -> None:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        here = NodeAffinitySchedulingStrategy(self.ray.get_runtime_context().get_node_id(), soft=False)
        finish = self.ray.remote(finish_shard).options(num_cpus=1, max_retries=TASK_RETRIES, scheduling_strategy=here)
        for name in [n for n, needed in self.waiting.items() if not needed]:
            del self.waiting[name]
            self._finish_started[name] = time.monotonic()
            ref = finish.remote(self.output, self.prepared[name].shard, self.model_id, self.spec.options.embed)
            self.tasks[ref] = ("finish", name)

    def _dispatch(self) -> None:
        if self.queue and not self.actors:
            self._start_actors()
        size = self.spec.options.batch_size
        while self.queue:
            actor = min(range(len(self.actors)), key=lambda a: self.busy[a])
            if self.busy[actor] >= BATCHES_IN_FLIGHT:
                return
            batch = [self.queue.popleft() for _ in range(min(size, len(self.queue)))]
            batch.sort(key=lambda item: len(item[1]))
            ref = self.actors[actor].encode.remote([text for _, text in batch])
            self.busy[actor] += 1
            self.tasks[ref] = ("encode", (actor, [h for h, _ in batch]))

    def _start_actors(self) -> None:
        resources = self.ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        nodes = max(1, len([n for n in self.ray.nodes() if n.get("Alive")]))
        count = self.spec.options.encoders or (gpus or nodes)
        options: dict[str, Any] = {"max_restarts": ACTOR_RESTARTS, "max_task_retries": TASK_RETRIES}
        if gpus:
            options.update(num_gpus=1, num_cpus=1)
        else:  # one encoder per node, using the node's cores (chunking tasks share them)
            options.update(num_cpus=1, scheduling_strategy="SPREAD")
        threads = None if gpus else max(1, int(resources.get("CPU", 1)) // nodes)
        settings = EncoderSettings(self.spec.options.device, self.spec.options.dtype, threads)
        actor_class = self.ray.remote(EncodeActor).options(**options)
        self.actors = [actor_class.remote(self.spec.model, settings) for _ in range(count)]
        self.busy = {a: 0 for a in range(count)}
        self.log(f"started {count} encoder actor(s) ({'1 GPU each' if gpus else f'{threads} threads each'})")

    def _repo(self, name: str) -> Any:
        return next(r for r in self.spec.repos if r.name == name)

    def _report_progress(self) -> None:
        chunks = sum(r.chunks for r in self.reports.values())
        vectors = sum(r.new_vectors for r in self.reports.values())
        self.progress(self.done, len(self.reports), chunks, self.embedded, vectors)


def _with_model(catalog: Catalog, model_id: str) -> Catalog:
    from dataclasses import replace

    return replace(catalog, model_id=model_id)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else type(error).__name__
