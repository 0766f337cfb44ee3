"""Code-aware tokens for the BM25 index: identifiers kept whole and split into their words.

`parseHTTPRequest_v2` gives `parsehttprequest_v2`, `parse`, `http`, `request`, `v2`; SQLite's
FTS5 then stems each token (Porter) and scores with BM25.
"""

from __future__ import annotations

import re
from itertools import chain

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")
_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")

# Words of a question that say nothing about code ("how does X work").
STOPWORDS = frozenset(
    """
a about an and any are as at be been being but by can could did do does doing done for from get gets
had has have how i if in into is it its me my of on or our should so some than that the their them
then there these they this those to up us was we were what when where which while who whom why will
with would you your code function functions method methods implemented implementation work works
handle handled handles handling find show used use uses using logic defined define
""".split()
)


def split_identifier(word: str) -> list[str]:
    """`getHTTPResponse2` -> [get, HTTP, Response, 2]; `snake_case` -> [snake, case]: `_PART`
    matches no underscore, so underscores part words without a split of their own."""
    return _PART.findall(word)


# Every byte that is not a word character (ASCII letter, digit, `_`) as a space, UTF-8's
# multi-byte sequences included: `_WORD` matches ASCII only.
_SPACES = bytes(c if chr(c).isascii() and (chr(c).isalnum() or c == ord("_")) else ord(" ") for c in range(256))
KEPT_RUNS = 1 << 17  # distinct runs of word characters whose tokens a process keeps (~40 MB at most)
_known: dict[str, tuple[str, ...]] = {}


def code_tokens(text: str) -> list[str]:
    """Lower-cased tokens of code or prose: each identifier whole and, when compound, its words.

    The tokens `_WORD.findall(text)`'s words give, in order, with no Python step per word (code
    is millions of them when a tree is indexed): bytes that cannot be in a word become spaces and
    `split` cuts the runs between them, each distinct run's tokens are worked out once
    (`_run_tokens`), and the runs are mapped to them in C."""
    runs = text.encode("utf-8", "surrogatepass").translate(_SPACES).decode("ascii").split()
    return list(chain.from_iterable(map(_tokens_of(runs).__getitem__, runs)))


def _tokens_of(runs: list[str]) -> dict[str, tuple[str, ...]]:
    """The process's table of runs' tokens, holding every one of `runs`. A full table is
    replaced by a new one, never emptied: a thread still reading the old one finds its runs."""
    global _known
    known = _known
    missing = set(runs).difference(known)
    if len(known) + len(missing) > KEPT_RUNS:
        known = _known = {}
        missing = set(runs)
    for run in missing:
        known[run] = _run_tokens(run)
    return known


def _run_tokens(run: str) -> tuple[str, ...]:
    """One run of word characters' tokens: the run is one `_WORD` match unless it starts with a
    digit (`0x1F` is `0`, `x1F`)."""
    tokens: list[str] = []
    for word in _WORD.findall(run) if run[0].isdigit() else (run,):
        parts = split_identifier(word)
        if len(parts) != 1 or parts[0] != word:
            tokens.append(word.lower())
        tokens.extend(p.lower() for p in parts)
    return tuple(tokens)


def query_terms(query: str) -> list[str]:
    """The distinct search terms of a query, stopwords dropped (unless nothing else is left)."""
    tokens = list(dict.fromkeys(code_tokens(query)))
    kept = [t for t in tokens if t not in STOPWORDS and len(t) > 1]
    return kept or tokens


def fts_match_expression(terms: list[str]) -> str:
    """An FTS5 MATCH expression that ORs the terms (each quoted, so none is an operator)."""
    return " OR ".join(fts_phrase(t) for t in terms)


# The FTS5 tokenizer of the index (`store.FTS_TABLE`), of its scratch tables, and of the stemmer
# the BM25 partitions ask (`partitions.Stemmer`): the same stems everywhere.
FTS5_TOKENIZER = "porter unicode61 tokenchars '_'"


def fts_phrase(term: str) -> str:
    """One term as an FTS5 phrase: quoted, so it is never read as an operator."""
    return '"' + term.replace('"', '""') + '"'


def weighty_terms(terms: list[str], rows: int, frequency: dict[str, int]) -> list[str]:
    """The terms worth asking FTS5 for: those in at most half of the `rows` chunks, and in one
    at least. BM25's idf of a term in more than half is clamped to almost nothing (1e-6), so it
    moves no score, yet FTS5 scores every row it matches (`zod`, in every path of zod's
    repository, doubled the time of its queries). With no term left, all of them."""
    return [t for t in terms if 0 < frequency[t] <= rows / 2] or terms


def common_terms(terms: list[str], rows: int, frequency: dict[str, int]) -> frozenset[str]:
    """The terms in more than half of the `rows` chunks: the ones `weighty_terms` leaves out, and
    the words that name a project in its own code (`atom` in jotai, `gson` in Gson)."""
    return frozenset(t for t in terms if frequency[t] > rows / 2)


def index_texts(path: str, symbols: list[str], bodies: list[str]) -> list[tuple[str, str, str]]:
    """The FTS5 columns (path, symbol, body terms) of a file's chunks, as space-separated tokens.
    Pure and picklable: indexing workers compute them beside the chunks."""
    path_terms = " ".join(code_tokens(path))
    return [(path_terms, " ".join(code_tokens(symbol)), " ".join(code_tokens(body)))
            for symbol, body in zip(symbols, bodies, strict=True)]
