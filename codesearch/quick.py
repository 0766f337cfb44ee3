"""The `codesearch` command's entry point: `codesearch query` without click.

A terminal query answered by the warm local server should cost little more than starting
Python, and click alone takes longer to import than the server takes to answer. So
`codesearch query` first reads its own arguments here, with the standard library only, and
answers through `terminal.answer_query`: from the server, or, for a lexical query when no server
is up, in this process (a lexical query needs neither click nor the encoder).

Anything this reader does not know for certain (another command, `--help`, `--catalog`,
`--server`, a value it cannot check, an option it has never seen), a dense or hybrid query the
server cannot take, and every error goes to the full command line in `codesearch.cli`: it
parses everything again, answers through the same `answer_query`, and words errors as click does.
"""

from __future__ import annotations

import os
import sys

from codesearch.requests import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MODE,
    DEFAULT_TOP,
    DEFAULT_WAIT_SECONDS,
    DTYPES,
    MIN_MAX_TOKENS,
    MODES,
    flag_value,
)

TYPE_CHECKING = False  # typing itself costs 5 ms of the start this module exists to save
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

# `codesearch query`'s options this reader understands: option -> (parameter, how to read it).
# Each must mean here exactly what it means to click (tests/test_quick.py checks it on the command).
_VALUES: dict[str, tuple[str, str]] = {
    "--path": ("path", "text"), "-k": ("top", "int"), "--top": ("top", "int"), "--mode": ("mode", "mode"),
    "--lang": ("lang", "text"), "--glob": ("glob", "text"), "--max-tokens": ("max_tokens", "tokens"),
    "--model": ("model", "text"), "-m": ("model", "text"), "--index-dir": ("index_dir", "text"),
    "--max-file-size": ("max_file_bytes", "int"), "--exclude": ("excludes", "many"),
    "--wait": ("wait_seconds", "float"), "--device": ("device", "text"), "--dtype": ("dtype", "dtype"),
    "--threads": ("threads", "count"), "--jobs": ("jobs", "count"), "-j": ("jobs", "count"),
}
_FLAGS = {"--json": "as_json", "--no-refresh": "no_refresh", "--no-daemon": "no_daemon"}
# Environment defaults, as click reads them (`envvar=` on the same options).
_ENVIRONMENT = {"model": "CODESEARCH_MODEL", "index_dir": "CODESEARCH_INDEX_DIR", "device": "CODESEARCH_DEVICE",
                "dtype": "CODESEARCH_DTYPE", "threads": "CODESEARCH_THREADS", "jobs": "CODESEARCH_JOBS"}
NO_DAEMON_ENV = "CODESEARCH_NO_DAEMON"
SERVER_ENV = "CODESEARCH_SERVER"  # set, the query goes to a team server: click's business


def main() -> None:
    """`codesearch ...`: answer a plain `codesearch query` through the warm server if one is up
    (or here, for a lexical one), else run the full command line."""
    arguments = sys.argv[1:]
    if arguments[:1] == ["query"]:
        values = read_query(arguments[1:], os.environ)
        if values is not None:
            _answer(values)  # exits when answered
    from codesearch.cli import main as full_command_line

    full_command_line()


def read_query(arguments: list[str], environment: Mapping[str, str]) -> dict[str, Any] | None:
    """The parameters of `codesearch query ARGUMENTS` as click would read them, or None where
    only click can say (an option this reader does not know, a value it cannot check)."""
    no_daemon = flag_value(environment.get(NO_DAEMON_ENV, ""))
    if environment.get(SERVER_ENV) or no_daemon is None:
        return None
    values: dict[str, Any] = {"path": None, "top": DEFAULT_TOP, "mode": DEFAULT_MODE, "lang": None, "glob": None,
                              "max_tokens": None, "model": None, "index_dir": None,
                              "max_file_bytes": DEFAULT_MAX_FILE_BYTES, "excludes": [],
                              "wait_seconds": DEFAULT_WAIT_SECONDS, "device": None, "dtype": "auto",
                              "threads": None, "jobs": None, "as_json": False, "no_refresh": False,
                              "no_daemon": no_daemon}
    for name, variable in _ENVIRONMENT.items():
        if environment.get(variable):
            values[name] = _value(environment[variable], _kind(name))
            if values[name] is None:
                return None
    texts: list[str] = []
    position = 0
    while position < len(arguments):
        argument = arguments[position]
        position += 1
        if not argument.startswith("-") or argument == "-":
            texts.append(argument)
            continue
        option, has_value, value = argument.partition("=") if argument.startswith("--") else (argument, "", "")
        if option in _FLAGS and not has_value:
            values[_FLAGS[option]] = True
            continue
        if option not in _VALUES:
            return None  # --help, --catalog, --server, --no-daemon, -k5, a typo: click's to read
        if not has_value:
            if position == len(arguments):
                return None
            value, position = arguments[position], position + 1
        name, kind = _VALUES[option]
        read = _value(value, kind)
        if read is None:
            return None
        values[name] = values[name] + [read] if kind == "many" else read
    if len(texts) != 1 or not texts[0].strip():
        return None
    values["text"] = texts[0]
    return values


def _kind(name: str) -> str:
    return next(kind for parameter, kind in _VALUES.values() if parameter == name)


def _value(text: str, kind: str) -> Any:
    """`text` read as `kind`, or None where click might read it differently (or refuse it)."""
    try:
        if kind in ("int", "count", "tokens"):
            number = int(text)
            least = {"int": None, "count": 1, "tokens": MIN_MAX_TOKENS}[kind]
            return number if least is None or number >= least else None
        if kind == "float":
            return float(text) if text.replace(".", "", 1).isdigit() else None
    except ValueError:
        return None
    if kind == "mode":
        return text if text in MODES else None
    if kind == "dtype":
        return text if text in DTYPES else None
    return text


def _answer(values: dict[str, Any]) -> None:
    """Answer and exit; return (printing nothing) where the full command line must: a query the
    server cannot answer that needs the encoder here, or an error, which click words."""
    from codesearch.errors import CodesearchError
    from codesearch.terminal import INTERRUPTED, answer_query, plain_note

    try:
        answered = answer_query(values, here=values["mode"] == "lexical")
    except CodesearchError:
        return  # click checks again, and says what to fix as it always does
    except KeyboardInterrupt:
        plain_note(INTERRUPTED)
        sys.exit(130)
    if answered:
        sys.exit(0)
