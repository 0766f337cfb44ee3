"""Code-aware tokens for the BM25 index: identifiers kept whole and split into their words.

`parseHTTPRequest_v2` gives `parsehttprequest_v2`, `parse`, `http`, `request`, `v2`; SQLite's
FTS5 then stems each token (Porter) and scores with BM25. Words of every script are tokens
(`größeBerechnen`, `登录`), folded as FTS5 folds them; text written without spaces between its
words (Chinese, Japanese, Korean) is also indexed as pairs of characters.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import unicodedata
from collections.abc import Sequence
from itertools import chain

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")
_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")

# Line comments, by language: the markers their lines start with (C's `//`, `/*` and `*` elsewhere)
_LINE_COMMENTS = {
    "python": ("#",), "ruby": ("#",), "bash": ("#",), "elixir": ("#",), "lua": ("--",), "haskell": ("--",),
    "zig": ("//",), "php": ("//", "#", "/*", "*"), "sql": ("--", "/*"), "starlark": ("#",), "make": ("#",),
    "hcl": ("#", "//", "/*", "*"),
}
_C_LIKE_COMMENTS = ("//", "/*", "*")
# Lines that start as a comment would but are code: the C preprocessor, Rust's attributes, `#!`
_NOT_COMMENTS = ("#include", "#define", "#if", "#[", "#!", "#pragma")


def comment_markers(language: str) -> tuple[str, ...]:
    """What a line comment of `language` starts with."""
    return _LINE_COMMENTS.get(language, _C_LIKE_COMMENTS)


def is_comment(stripped: str, language: str) -> bool:
    """Whether a line, stripped, is a comment in `language` (not `#include` or `#[derive(...)]`)."""
    return stripped.startswith(comment_markers(language)) and not stripped.startswith(_NOT_COMMENTS)


# Words of a question that say nothing about code ("how does X work").
STOPWORDS = frozenset(
    """
a about an and any are as at be been being but by can could did do does doing done for from get gets
had has have how i if in into is it its me my of on or our should so some than that the their them
then there these they this those to up us was we were what when where which while who whom why will
with would you your code function functions method methods implemented implementation work works
handle handled handles handling find show used use uses using logic defined
""".split()
)


def split_identifier(word: str) -> list[str]:
    """`getHTTPResponse2` -> [get, HTTP, Response, 2]; `snake_case` -> [snake, case]: `_PART`
    matches no underscore, so underscores part words without a split of their own. A word
    outside ASCII is split by its letters' case the same way (`größeBerechnen`)."""
    return [word[start:end] for start, end in part_spans(word)]


def part_spans(word: str) -> list[tuple[int, int]]:
    """Where each of `split_identifier`'s parts of `word` starts and ends."""
    return [m.span() for m in _PART.finditer(word if word.isascii() else _shape(word))]


def _shape(word: str) -> str:
    """`word` with each character as the ASCII one `_WORD` and `_PART` read the same way: an
    upper-case letter as `A`, a decimal digit as `0`, `_` as itself, any other letter as `a`."""
    return "".join("A" if c.isupper() else "0" if c.isdecimal() else "_" if c == "_" else "a" for c in word)


# Every ASCII byte that is not a word character (letter, digit, `_`) as a space. The bytes of
# UTF-8's multi-byte sequences stay: a run holding any is cut into words by `_unicode_tokens`.
_SPACES = bytes(c if c >= 0x80 or chr(c).isalnum() or c == ord("_") else ord(" ") for c in range(256))
KEPT_RUNS = 1 << 17  # distinct runs of word characters whose tokens a process keeps (~40 MB at most)
_known: dict[str, tuple[str, ...]] = {}


def code_tokens(text: str) -> list[str]:
    """Lower-cased tokens of code or prose: each identifier whole and, when compound, its words.

    The tokens `_WORD.findall(text)`'s words give, in order, with no Python step per word (code
    is millions of them when a tree is indexed): bytes that cannot be in a word become spaces and
    `split` cuts the runs between them, each distinct run's tokens are worked out once
    (`_run_tokens`, or `_unicode_tokens` for the runs outside ASCII), and the runs are mapped to
    them in C."""
    runs = text.encode("utf-8", "surrogatepass").translate(_SPACES).decode("utf-8", "surrogatepass").split()
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
    wide = [run for run in missing if not run.isascii()]
    if wide:
        known.update(zip(wide, _unicode_tokens(wide), strict=True))
    for run in missing.difference(wide):
        known[run] = _run_tokens(run)
    return known


def _run_tokens(run: str) -> tuple[str, ...]:
    """One ASCII run of word characters' tokens, in lower case."""
    return tuple(token.lower() for word in _words(run, run) for token in _whole_and_parts(word))


def _words(run: str, shape: str) -> list[str]:
    """A run's words: the run itself, one `_WORD` match of its shape (`_shape`; an ASCII run's
    is the run), unless it starts with a digit (`0x1F` is `0`, `x1F`)."""
    return [run[m.start() : m.end()] for m in _WORD.finditer(shape)] if shape[0].isdigit() else [run]


def _whole_and_parts(word: str) -> list[str]:
    """A word's tokens as written: the word itself when it is compound, then its parts."""
    parts = split_identifier(word)
    return parts if len(parts) == 1 and parts[0] == word else [word, *parts]


# Characters of scripts written without spaces between words: Han, Hiragana, Katakana, and
# Hangul, whose words carry their particles (`파일을`). Their text is also indexed as pairs of
# neighbouring characters (bigrams, as Lucene's CJK analyzer does), so a word inside a sentence
# is found.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f]{2,}")

# Text of these characters alone is one FTS5 token, itself: the letters of Hiragana, Katakana,
# Hangul and the CJK ideographs of Unicode 6.1, whose tables FTS5's tokenizer follows. Most of
# the bigrams are, and FTS5 need not be asked (a third of tokenizing Chinese prose).
_SETTLED = re.compile(r"[\u3041-\u3096\u309d\u309e\u30a1-\u30fa\u30fc-\u30fe\u3400-\u4db5\u4e00-\u9fcb\uac00-\ud7a3]+")


def _unicode_tokens(runs: list[str]) -> list[tuple[str, ...]]:
    """The tokens of runs holding characters outside ASCII. A run's words (`\\w`: letters and
    digits of any script, and `_`; composed, as macOS's file names are not) are tokens as an
    ASCII run's are, whole and by case, plus the bigrams of their CJK text. FTS5's own tokenizer
    then has the last word on each token (`FOLDER`): it cuts where its Unicode tables do and
    folds case and accents, so each token is one FTS5 token, as `partitions.Stemmer` counts on."""
    drafts: list[list[str]] = []
    for run in runs:
        draft: list[str] = []
        for word in re.findall(r"\w+", unicodedata.normalize("NFC", run)):
            if word.isascii():
                draft.extend(_run_tokens(word))
                continue
            for piece in _words(word, _shape(word)):
                draft.extend(_whole_and_parts(piece))
                for text in _CJK.findall(piece):
                    draft.extend(text[i : i + 2] for i in range(len(text) - 1) if text[i : i + 2] != piece)
        drafts.append(draft)
    asked = list(dict.fromkeys(t for draft in drafts for t in draft if not _SETTLED.fullmatch(t)))
    folded = dict(zip(asked, FOLDER.tokens(asked), strict=True))
    return [tuple(chain.from_iterable(folded.get(t, (t,)) for t in draft)) for draft in drafts]


def query_terms(query: str) -> list[str]:
    """The distinct search terms of a query, stopwords dropped (unless nothing else is left, or
    the query writes one as a name: `written_names`)."""
    tokens = list(dict.fromkeys(code_tokens(query)))
    names = written_names(query)
    kept = [t for t in tokens if (t not in STOPWORDS or t in names) and len(t) > 1]
    return kept or tokens


_BACKTICKED = re.compile(r"`([^`\n]+)`")


def written_names(query: str) -> frozenset[str]:
    """The stopwords a query writes as names, which are then searched for: capitalised inside a
    sentence of lower-case words (FluentValidation's `When` and `Unless` in "conditional
    validation with When and Unless", Go's `Handle`, chi's `Use`), or in backticks (`` `use` ``).
    The first word is a question's (`When does ...`), and a title in capitals says nothing."""
    if not any(c.isupper() for c in query) and "`" not in query:
        return frozenset()
    words = re.findall(r"[^\W\d]\w*", query)
    names: set[str] = set()
    if sum(1 for word in words if word[0].islower()) * 2 >= len(words):
        names.update(word.lower() for word in words[1:] if word[0].isupper() and word.lower() in STOPWORDS)
    names.update(token for quoted in _BACKTICKED.findall(query) for token in code_tokens(quoted) if token in STOPWORDS)
    return frozenset(names)


def fts_match_expression(terms: list[str]) -> str:
    """An FTS5 MATCH expression that ORs the terms (each quoted, so none is an operator)."""
    return " OR ".join(fts_phrase(t) for t in terms)


# The FTS5 tokenizer of the index (`store.FTS_TABLE`), of its scratch tables, and of the stemmer
# the BM25 partitions ask (`partitions.Stemmer`): the same stems everywhere.
FTS5_TOKENIZER = "porter unicode61 tokenchars '_'"


class Tokenizer:
    """One of FTS5's tokenizers, asked through an in-memory table and its vocabulary of
    instances: the terms it makes of texts. Made on first use (most processes never ask), one
    lock per table."""

    def __init__(self, tokenize: str) -> None:
        self._tokenize = tokenize
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def terms(self, texts: Sequence[str]) -> list[dict[int, str]]:
        """Each text's terms by their offset (none for a text with no word character)."""
        found: list[dict[int, str]] = [{} for _ in texts]
        if not texts:
            return found
        with self._lock:
            if self._db is None:
                self._db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
                self._db.execute(f"CREATE VIRTUAL TABLE words USING fts5(word, tokenize = \"{self._tokenize}\")")
                self._db.execute("CREATE VIRTUAL TABLE terms USING fts5vocab(words, 'instance')")
            self._db.execute("BEGIN")  # rolled back: cheaper than deleting the rows
            self._db.executemany("INSERT INTO words(rowid, word) VALUES (?, ?)", enumerate(texts, 1))
            for doc, offset, term in self._db.execute("SELECT doc, offset, term FROM terms"):
                found[doc - 1][offset] = term
            self._db.execute("ROLLBACK")
        return found

    def tokens(self, texts: Sequence[str]) -> list[tuple[str, ...]]:
        """Each text's terms, in order."""
        return [tuple(terms[n] for n in sorted(terms)) for terms in self.terms(texts)]


# FTS5's tokenizer without its stemmer: tokens folded to lower case and stripped of accents
FOLDER = Tokenizer(FTS5_TOKENIZER.removeprefix("porter "))


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
