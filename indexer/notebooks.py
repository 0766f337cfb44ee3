"""Jupyter notebooks: their cells as source code the chunker reads, on the lines of the file.

A notebook is JSON, and its outputs (a plot is a line of base64 that can be megabytes long) made
it look minified, or its JSON indexed as text. Jupyter, JupyterLab, VS Code and Colab write it
with nbformat, which puts each line of a cell's source on a line of its own, as a JSON string.
So the code is given to the chunker at the lines of the file that hold it, every other line
blank: a definition's lines are the notebook file's, and `path:line` points into it. Markdown
cells are comments there; outputs are left out.
"""

from __future__ import annotations

import json
from typing import Any

NOTEBOOK_SUFFIX = ".ipynb"
# The line comment of the kernels' languages that have one other than `#` (markdown cells become
# comments in the notebook's language)
_COMMENTS = {"c": "//", "cpp": "//", "csharp": "//", "go": "//", "java": "//", "javascript": "//", "kotlin": "//",
             "rust": "//", "scala": "//", "swift": "//", "typescript": "//", "haskell": "--", "lua": "--"}


def is_notebook(path: str) -> bool:
    """Whether a file is a Jupyter notebook, by its name."""
    return path.lower().endswith(NOTEBOOK_SUFFIX)


def notebook_source(text: str) -> tuple[str, str] | None:
    """The notebook's language (its kernel's, `python` when it names none) and its cells as
    source text with as many lines as the file: each line of a code cell at the line of the file
    that holds it, each line of a markdown cell as a comment there, every other line blank. None
    for a file that is not a notebook written one source line per JSON line."""
    try:
        notebook = json.loads(text)
    except ValueError:
        return None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        return None
    language = _language(notebook.get("metadata"))
    comment = _COMMENTS.get(language, "#")
    lines = text.split("\n")
    source = [""] * len(lines)
    at = 0
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown"):
            continue
        written = cell.get("source")
        pieces = written if isinstance(written, list) else [written] if isinstance(written, str) else None
        if pieces is None or not all(isinstance(piece, str) and "\n" not in piece.rstrip("\r\n") for piece in pieces):
            return None  # a cell's lines in one JSON string: they are not on lines of their own
        at = _find_source(lines, at, pieces)
        if at < 0:
            return None
        for row, piece in enumerate(pieces, at):
            line = piece.rstrip("\r\n")
            source[row] = line if cell["cell_type"] == "code" else f"{comment} {line}".rstrip()
        at += len(pieces)
    return language, "\n".join(source)


def _find_source(lines: list[str], start: int, pieces: list[str]) -> int:
    """The row of the file, from `start` on, where a cell's source pieces begin, one per line
    after its `"source": [`; -1 if they are not there as written."""
    for row in range(start, len(lines)):
        opening = lines[row].strip()
        if not opening.startswith('"source": ['):
            continue
        if not pieces:
            return row + 1
        if all(_string_on(lines, row + 1 + n) == piece for n, piece in enumerate(pieces)):
            return row + 1
    return -1


def _string_on(lines: list[str], row: int) -> str | None:
    """The JSON string that line `row` holds, alone but for a comma after it; None if it holds none."""
    if row >= len(lines):
        return None
    try:
        value = json.loads(lines[row].strip().removesuffix(","))
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def _language(metadata: Any) -> str:
    """The notebook kernel's language, lower case (`python`, `julia`, `r`): its kernelspec's
    `language`, else its language_info's `name` (a kernelspec's `name` is the kernel's, `python3`)."""
    if isinstance(metadata, dict):
        for key, field in (("kernelspec", "language"), ("language_info", "name")):
            entry = metadata.get(key)
            name = entry.get(field) if isinstance(entry, dict) else None
            if isinstance(name, str) and name:
                return name.lower()
    return "python"
