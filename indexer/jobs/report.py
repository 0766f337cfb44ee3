"""What a job shows: a progress line while it runs, then a per-repository table and JSON."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

from codesearch.indexer.jobs.run import JobReport, run_job
from codesearch.indexer.jobs.spec import JobSpec
from rich.console import Console
from rich.table import Table


def run_with_progress(spec: JobSpec, *, address: str | None, console: Console) -> JobReport:
    """Run the job with a live status line: repositories done, chunks, chunks/s."""
    started = time.monotonic()
    status = console.status("starting Ray")
    last = [0.0]

    def progress(done: int, total: int, chunks: int, embedded: int, to_embed: int) -> None:
        rate = chunks / max(time.monotonic() - started, 1e-9)
        line = (f"repositories {done}/{total} · {chunks:,} chunks ({rate:,.0f}/s) · "
                f"embedded {embedded:,} of {to_embed:,} new vectors")
        if console.is_terminal:
            status.update(line)
        elif time.monotonic() - last[0] > 5 or done == total:
            last[0] = time.monotonic()
            console.print(line)

    def log(message: str) -> None:
        console.print(f"[dim]{message}[/]")

    with status:
        return run_job(spec, address=address, progress=progress, log=log)


def print_report(report: JobReport, console: Console) -> None:
    """The per-repository table and a summary line."""
    table = Table(show_edge=False, pad_edge=False, box=None)
    for column in ("repository", "status", "commit", "files", "chunks", "new vectors", "reused", "seconds"):
        numeric = column in ("files", "chunks", "new vectors", "reused", "seconds")
        table.add_column(column, justify="right" if numeric else "left", no_wrap=True)
    for r in report.repos:
        table.add_row(r.name, r.status, r.commit[:12], f"{r.files:,}", f"{r.chunks:,}", f"{r.new_vectors:,}",
                      f"{r.reused_vectors:,}", f"{r.seconds:.1f}")
    console.print(table, soft_wrap=True)
    for r in report.failed:
        console.print(f"[red]{r.name}[/]: {r.error}", soft_wrap=True, highlight=False)
    counts = {s: sum(1 for r in report.repos if r.status == s) for s in ("indexed", "unchanged", "failed")}
    console.print(f"{counts['indexed']} indexed, {counts['unchanged']} unchanged, {counts['failed']} failed; "
                  f"{report.chunks_per_second:,.0f} chunks/s; {report.seconds:.1f} s"
                  + (f"; removed {len(report.removed)} old shard(s)" if report.removed else ""))


def write_report(report: JobReport, path: Path) -> None:
    """The report as JSON: {"seconds", "chunks_per_second", "repos": [...]}."""
    path.write_text(json.dumps({"seconds": report.seconds, "chunks_per_second": report.chunks_per_second,
                                "removed": report.removed, "repos": [asdict(r) for r in report.repos]}, indent=1))
