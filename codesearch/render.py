"""Terminal output: results with highlighted lines, summary lines, progress bars."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from codesearch.lexical import query_terms
from codesearch.records import SearchResult

if TYPE_CHECKING:
    from codesearch.indexer.sync import SyncSummary

SNIPPET_LINES = 4
stderr = Console(stderr=True, highlight=False)


def print_results(console: Console, results: list[SearchResult], query: str) -> None:
    """Rank, path:start-end, symbol, score, and a few lines with the query's words highlighted."""
    if not results:
        console.print("no results", style="dim")
        return
    terms = [t for t in query_terms(query) if len(t) > 2]
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.I) if terms else None
    for rank, result in enumerate(results, 1):
        c = result.chunk
        name = c.qualified_name or c.symbol or f"({c.kind})"
        repo = f"[magenta]{escape(result.repo)}[/]@{result.commit[:8]} " if result.repo else ""
        console.print(
            f"[bold]{rank:>2}.[/] {repo}[cyan]{escape(c.path)}[/]:{c.start_line}-{c.end_line}  "
            f"[bold]{escape(name)}[/] [dim]{c.kind}, {c.language}, score {result.score:.3f}[/]"
        )
        for number, line in _snippet(c.text, c.start_line, pattern):
            text = escape(line.rstrip()[:160])
            if pattern:
                text = pattern.sub(lambda m: f"[bold yellow]{m.group(0)}[/]", text)
            console.print(f"    [dim]{number:>5} │[/] {text}")


def _snippet(text: str, first_line: int, pattern: re.Pattern[str] | None) -> list[tuple[int, str]]:
    lines = text.split("\n")
    picked = [0]
    if pattern:
        picked += [i for i, line in enumerate(lines) if i and pattern.search(line)][: SNIPPET_LINES - 1]
    for i in range(1, len(lines)):
        if len(picked) >= min(SNIPPET_LINES, len(lines)):
            break
        if i not in picked and lines[i].strip():
            picked.append(i)
    return [(first_line + i, lines[i]) for i in sorted(set(picked))]


def summary_line(summary: SyncSummary) -> str:
    """One line: files, chunks, new embeddings and speed, skipped files with reasons, seconds."""
    parts = [
        f"{summary.files:,} files ({summary.changed:,} changed, {summary.removed:,} removed)",
        f"{summary.chunks:,} chunks",
    ]
    rate = f", {summary.new_vectors / summary.embed_seconds:.1f} chunks/s" if summary.embed_seconds else ""
    parts.append(f"{summary.new_vectors:,} new embeddings{rate}")
    if summary.missing_vectors:
        parts.append(f"{summary.missing_vectors:,} chunks without vectors")
    if summary.skipped:
        reasons = ", ".join(f"{reason}: {n}" for reason, n in summary.skipped.most_common())
        parts.append(f"skipped {sum(summary.skipped.values()):,} ({reasons})")
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
