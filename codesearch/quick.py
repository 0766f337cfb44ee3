"""The `codesearch` command's entry point: a query the warm local server can answer goes there
before anything heavy is imported.

A terminal query answered by the server should cost little more than starting Python. click
alone takes longer to import than the server takes to answer, so `codesearch query` first reads
its own arguments here, with the standard library only, sends the request, and writes the text
the server rendered (`listing.render`, the code a local answer prints with). Anything this
reader does not know for certain (another command, `--help`, `--catalog`, `--server`, a value it
cannot check, an option it has never seen) and any query the server cannot take (none running,
another build, an error to report) goes to the full command line in `codesearch.cli`, which
parses everything again, prints click's messages and answers in its own process if it must.
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
    search_request,
)

TYPE_CHECKING = False  # typing itself costs 5 ms of the start this module exists to save
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, TextIO

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
_FLAGS = {"--json": "as_json", "--no-refresh": "no_refresh"}
# Environment defaults, as click reads them (`envvar=` on the same options).
_ENVIRONMENT = {"model": "CODESEARCH_MODEL", "index_dir": "CODESEARCH_INDEX_DIR", "device": "CODESEARCH_DEVICE",
                "dtype": "CODESEARCH_DTYPE", "threads": "CODESEARCH_THREADS", "jobs": "CODESEARCH_JOBS"}
# Set, these send the query elsewhere than the local server: click's business.
_ELSEWHERE = ("CODESEARCH_SERVER", "CODESEARCH_NO_DAEMON")


def main() -> None:
    """`codesearch ...`: answer a plain `codesearch query` through the warm server if one is up,
    else run the full command line."""
    arguments = sys.argv[1:]
    if arguments[:1] == ["query"]:
        values = read_query(arguments[1:], os.environ)
        if values is not None:
            _answer_through_server(values)  # exits when answered
    from codesearch.cli import main as full_command_line

    full_command_line()


def wants_color(stream: TextIO) -> bool:
    """Styles for a terminal, not for a pipe or a file, and never with NO_COLOR or TERM=dumb."""
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def read_query(arguments: list[str], environment: Mapping[str, str]) -> dict[str, Any] | None:
    """The parameters of `codesearch query ARGUMENTS` as click would read them, or None where
    only click can say (an option this reader does not know, a value it cannot check)."""
    if any(environment.get(name, "") not in ("", "0") for name in _ELSEWHERE):
        return None
    values: dict[str, Any] = {"path": None, "top": DEFAULT_TOP, "mode": DEFAULT_MODE, "lang": None, "glob": None,
                              "max_tokens": None, "model": None, "index_dir": None,
                              "max_file_bytes": DEFAULT_MAX_FILE_BYTES, "excludes": [],
                              "wait_seconds": DEFAULT_WAIT_SECONDS, "device": None, "dtype": "auto",
                              "threads": None, "jobs": None, "as_json": False, "no_refresh": False}
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


def _answer_through_server(values: dict[str, Any]) -> None:
    """Print the server's answer and exit; return (having remembered why) when it cannot answer."""
    from codesearch.errors import CodesearchError
    from codesearch.service.local import DaemonUnavailable, ask_answer, daemon_disabled, remember_unavailable

    if daemon_disabled():
        return
    request = search_request(values["text"], cwd=os.getcwd(), path=values["path"], top=values["top"],
                             mode=values["mode"], lang=values["lang"], glob=values["glob"],
                             refresh=not values["no_refresh"], index_dir=values["index_dir"], model=values["model"],
                             max_file_bytes=values["max_file_bytes"], excludes=values["excludes"],
                             wait_seconds=values["wait_seconds"], device=values["device"], dtype=values["dtype"],
                             threads=values["threads"], as_json=values["as_json"], max_tokens=values["max_tokens"],
                             color=wants_color(sys.stdout))
    try:
        answer = ask_answer(request)
    except DaemonUnavailable as reason:
        remember_unavailable(reason)
        return
    except CodesearchError:  # an error to report (a path that is not a directory, ...): click words it
        return
    _notes(answer.get("notes", []))
    sys.stdout.write(answer["output"])
    sys.stdout.flush()
    _notes(answer.get("notes_after", []))
    sys.exit(0)


def _notes(messages: list[str]) -> None:
    """Notes on stderr, dimmed on a terminal, as `cli.note` writes them."""
    dim = wants_color(sys.stderr)
    for message in messages:
        sys.stderr.write(f"\x1b[2m{message}\x1b[0m\n" if dim else f"{message}\n")
