"""What `codesearch query` prints. As text: rank, place, symbol and score, then a few lines of
code with the query's words highlighted; ANSI styles on a terminal (unless NO_COLOR is set),
plain text otherwise. Written without rich, whose import alone costs more than a query answered
by the warm local server. Or JSON Lines, or an answer fitted in a token budget.

`render` is the one place that turns results into those bytes: the terminal calls it for an
answer found in its own process, the warm local server for one it found, so both print alike."""

from __future__ import annotations

import io
import json
import re
from typing import TextIO

from codesearch.lexical import query_terms
from codesearch.records import Chunk, SearchResult, line_numbers

SNIPPET_LINES = 4
_RESET = "\x1b[0m"
BOLD, DIM, CYAN, MAGENTA, HIGHLIGHT = "\x1b[1m", "\x1b[2m", "\x1b[36m", "\x1b[35m", "\x1b[1;33m"


def render(results: list[SearchResult], query: str, *, as_json: bool = False, max_tokens: int | None = None,
           color: bool = False) -> tuple[str, list[str]]:
    """The text `codesearch query` writes to stdout, and the notes it writes to stderr after it.
    `max_tokens` lays the answer out as the MCP `search` tool does; as JSON, that is the results
    it shows, outlined ones with only their first and matching lines and `"truncated": true`."""
    if max_tokens is not None:
        from codesearch.service.budget import layout, outline_lines, query_pattern

        answer, shown = layout(results, query, max_tokens)
        notes = [f"{shown.count(None)} more result(s) did not fit in {max_tokens} tokens"] if None in shown else []
        if not as_json:
            return answer + "\n", []
        pattern = query_pattern(query)
        lines = [json.dumps(result.to_json() if form == "whole" else
                            {**result.to_json(), "text": outline_lines(result, pattern), "truncated": True},
                            ensure_ascii=False)
                 for result, form in zip(results, shown, strict=True) if form is not None]
        return "".join(line + "\n" for line in lines), notes
    if as_json:
        return "".join(json.dumps(result.to_json(), ensure_ascii=False) + "\n" for result in results), []
    text = io.StringIO()
    print_results(text, results, query, color=color)
    return text.getvalue(), []


def print_results(stream: TextIO, results: list[SearchResult], query: str, *, color: bool = False) -> None:
    """Write the results to `stream`, styled when `color`. Scores print from the 6 places the
    JSON shape keeps (as the warm server answers), so an edge like 0.2325 reads the same both ways."""
    def paint(text: str, style: str) -> str:
        return f"{style}{text}{_RESET}" if color else text

    if not results:
        stream.write(paint("no results", DIM) + "\n")
        return
    terms = [t for t in query_terms(query) if len(t) > 2]
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.I) if terms else None
    for rank, result in enumerate(results, 1):
        c = result.chunk
        name = c.qualified_name or c.symbol or f"({c.kind})"
        repo = f"{paint(result.repo, MAGENTA)}@{result.commit[:8]} " if result.repo else ""
        score = round(result.score, 6)
        stream.write(f"{paint(f'{rank:>2}.', BOLD)} {repo}{paint(c.path, CYAN)}:{c.start_line}-{c.end_line}  "
                     f"{paint(name, BOLD)} {paint(f'{c.kind}, {c.language}, score {score:.3f}', DIM)}\n")
        for number, line in snippet(c, pattern):
            text = line.rstrip()[:160].expandtabs(4)
            if pattern and color:
                text = pattern.sub(lambda m: paint(m.group(0), HIGHLIGHT), text)
            shown = "" if number is None else number  # a line whose number the chunk cannot tell
            stream.write(f"    {paint(f'{shown:>5} │', DIM)} {text}\n")


def snippet(chunk: Chunk, pattern: re.Pattern[str] | None) -> list[tuple[int | None, str]]:
    """The lines to show of a chunk: its first, those matching the query, then the next ones;
    each with its line in the file, where the chunk tells it (`line_numbers`)."""
    lines = chunk.text.split("\n")
    picked = [0]
    if pattern:
        picked += [i for i, line in enumerate(lines) if i and pattern.search(line)][: SNIPPET_LINES - 1]
    for i in range(1, len(lines)):
        if len(picked) >= min(SNIPPET_LINES, len(lines)):
            break
        if i not in picked and lines[i].strip():
            picked.append(i)
    numbers = line_numbers(chunk)
    return [(numbers[i], lines[i]) for i in sorted(set(picked))]
