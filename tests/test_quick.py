"""`codesearch query`'s quick first step reads its arguments as click does, or leaves them to click."""

from __future__ import annotations

import click
import pytest

from codesearch.cli import main
from codesearch.quick import _ENVIRONMENT, _FLAGS, _VALUES, read_query

QUERY = main.commands["query"]
ENVIRONMENT = {"CODESEARCH_MODEL": "small", "CODESEARCH_INDEX_DIR": "/tmp/elsewhere", "CODESEARCH_THREADS": "3",
               "CODESEARCH_DTYPE": "float32", "CODESEARCH_JOBS": "2", "CODESEARCH_DEVICE": "cpu"}


def click_reads(arguments: list[str], environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict:
    for name in [*ENVIRONMENT, "CODESEARCH_SERVER", "CODESEARCH_NO_DAEMON"]:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with QUERY.make_context("query", list(arguments)) as context:
        return context.params


@pytest.mark.parametrize("arguments", [
    ["parse config"],
    ["-k", "3", "--mode", "lexical", "parse config"],
    ["parse config", "--json", "--no-refresh", "--no-daemon", "--top=7", "--mode=dense"],
    ["--path", "src", "--lang", "go", "--glob", "*.go", "--max-tokens", "500", "where are retries"],
    ["-m", "base", "--index-dir", "idx", "--max-file-size", "2000", "--exclude", "a/", "--exclude=*.min.js",
     "--wait", "2.5", "--device", "cpu", "--dtype", "int8", "--threads", "2", "-j", "4", "x"],
    ["-", "-k", "1"],
])
@pytest.mark.parametrize("environment", [{}, ENVIRONMENT, {"CODESEARCH_NO_DAEMON": "1"},
                                         {"CODESEARCH_NO_DAEMON": "off"}])
def test_the_quick_reader_reads_what_click_reads(arguments: list[str], environment: dict[str, str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    quick = read_query(arguments, environment)
    assert quick is not None
    expected = click_reads(arguments, environment, monkeypatch)
    assert quick.pop("text") == expected["text"]
    expected["path"] = str(expected["path"]) if expected["path"] is not None else None
    expected["excludes"] = list(expected["excludes"])
    for name, value in quick.items():
        assert expected[name] == value, name


@pytest.mark.parametrize("arguments,environment", [
    (["--help"], {}), (["--catalog", "dir", "x"], {}), (["--server", "http://h", "x"], {}),
    (["-k5", "x"], {}), (["--mode", "fuzzy", "x"], {}), (["--threads", "0", "x"], {}),
    (["--max-tokens", "50", "x"], {}),
    (["-k", "many", "x"], {}), (["--wait", "-1", "x"], {}), (["  "], {}), (["two", "texts"], {}), ([], {}),
    (["x", "--typo"], {}), (["x", "-k"], {}), (["x", "--", "y"], {}), (["x", "--json=yes"], {}),
    (["x"], {"CODESEARCH_SERVER": "http://team"}), (["x"], {"CODESEARCH_NO_DAEMON": "maybe"}),
    (["x"], {"CODESEARCH_THREADS": "none"}), (["x"], {"CODESEARCH_DTYPE": "float64"}),
])
def test_what_the_quick_reader_cannot_be_sure_of_goes_to_click(arguments: list[str],
                                                                environment: dict[str, str]) -> None:
    assert read_query(arguments, environment) is None


def test_every_option_the_quick_reader_knows_is_the_same_option_to_click() -> None:
    options = {name: parameter for parameter in QUERY.params if isinstance(parameter, click.Option)
               for name in parameter.opts}
    for option, (name, _) in _VALUES.items():
        assert options[option].name == name and not options[option].is_flag, option
        assert options[option].multiple == (name == "excludes"), option
    for option, name in _FLAGS.items():
        assert options[option].name == name and options[option].is_flag, option
    for name, variable in _ENVIRONMENT.items():
        assert next(p.envvar for p in QUERY.params if p.name == name) == variable
    # the defaults: the first case of test_the_quick_reader_reads_what_click_reads, with no option given
