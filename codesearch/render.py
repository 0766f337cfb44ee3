"""Terminal output through rich: warnings and notes on stderr, summary lines, progress bars.
Search results are printed by `listing`, which needs no rich (a query must start fast)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from codesearch.indexer.sync import SyncSummary

stderr = Console(stderr=True, highlight=False)


def summary_line(summary: SyncSummary) -> str:
    """One line: files, chunks, new embeddings and speed, skipped files with reasons, files
    indexed with a warning, seconds."""
    parts = [
        f"{summary.files:,} files ({summary.changed:,} changed, {summary.removed:,} removed)",
        f"{summary.chunks:,} chunks",
    ]
    rate = f", {summary.new_vectors / summary.embed_seconds:.1f} chunks/s" if summary.embed_seconds else ""
    parts.append(f"{summary.new_vectors:,} new embeddings{rate}")
    if summary.missing_vectors:
        parts.append(f"{summary.missing_vectors:,} chunks without vectors")
    for what, counts in (("skipped", summary.skipped), ("indexed with a warning", summary.warned)):
        if counts:
            reasons = ", ".join(f"{reason}: {n}" for reason, n in counts.most_common())
            parts.append(f"{what} {sum(counts.values()):,} ({reasons})")
    parts.append(f"{summary.seconds + summary.embed_seconds:.1f} s")
    return "; ".join(parts)


@contextmanager
def progress_bar() -> Iterator[object]:
    """A progress callback drawing a bar on stderr (nothing when stderr is not a terminal)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=stderr, transient=True, disable=not sys.stderr.isatty(),
    )
    tasks: dict[str, TaskID] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    with bar:
        yield update


@contextmanager
def tuning_bar(max_seconds: float) -> Iterator[Callable[[int, float, float], None]]:
    """A progress callback for `codesearch tune`: time spent of `max_seconds`, step and loss."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                   console=stderr, transient=True, disable=not sys.stderr.isatty())
    task = bar.add_task("tuning", total=max_seconds)

    def update(step: int, loss: float, seconds: float) -> None:
        bar.update(task, completed=seconds, description=f"tuning: step {step:,}, loss {loss:.3f}")

    with bar:
        yield update
