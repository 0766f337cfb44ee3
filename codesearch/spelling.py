"""A query's word that no chunk holds, read as the word one typo away that the code does hold.

`recieve` is in no chunk of a repository where `receive` is in 143: the word is one transposition
away, so the query is answered for `receive`, and the answer says so. What counts as a typo is
Damerau's four kinds (a letter left out, one too many, one wrong, two swapped), on words of
`MIN_LETTERS` letters or more (shorter ones have too many neighbours) written in ASCII letters
only: a name with digits or `_` in it (`handler_number_1499`) is pasted, not typed wrong. An
English word is never a typo (`caller` where the code says only `called`), nor a word the query
quotes, and the replacement is a word the code writes. The functions here are pure but for the
dictionary's loading; `search.respelled` asks the index which words it holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from functools import lru_cache
from typing import Any

MIN_LETTERS = 5
STEMS_READ = 3  # stems one typo away whose chunks are read for the spelling the code writes
_ALPHABET = "abcdefghijklmnopqrstuvwxyz"
_LOWER_WORD = re.compile(r"[a-z]+")


def edits(word: str) -> list[str]:
    """Every string one typo from `word` (lower-case a-z): each letter left out, each two
    neighbours swapped, each letter replaced, each letter added; in that order, once each."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    left_out = [head + tail[1:] for head, tail in splits if tail]
    swapped = [head + tail[1] + tail[0] + tail[2:] for head, tail in splits if len(tail) > 1 and tail[0] != tail[1]]
    replaced = [head + c + tail[1:] for head, tail in splits if tail for c in _ALPHABET if c != tail[0]]
    added = [head + c + tail for head, tail in splits for c in _ALPHABET]
    return [e for e in dict.fromkeys(left_out + swapped + replaced + added) if e != word]


def typos(terms: Sequence[str], frequency: Mapping[str, int], english: Collection[str]) -> list[str]:
    """The terms that may be typed wrong: in no chunk, of `MIN_LETTERS` letters or more, letters
    only, and not `english` words (`caller` is no typo of `called` where no chunk says "caller");
    longest first (`parseconifg` before its part `conifg`)."""
    found = [t for t in terms if frequency.get(t, 0) == 0 and len(t) >= MIN_LETTERS
             and _LOWER_WORD.fullmatch(t) and t not in english]
    return sorted(found, key=len, reverse=True)


def nearest(candidates: Sequence[str], stems: Sequence[str], documents: Mapping[str, int],
            written: Callable[[list[str]], Mapping[str, int]]) -> str | None:
    """The candidate the code writes whose stem the most chunks hold, or None.

    `stems[i]` is `candidates[i]`'s stem, `documents` the chunks holding each stem, and
    `written(spellings)` how often some of the chunks holding one stem write each of its
    spellings as a word (`serialize`, not `serialle`, though both are `serial` to the stemmer;
    nor `attackments`, which is `attack`). The `STEMS_READ` stems most chunks hold are read."""
    spellings: dict[str, list[str]] = {}
    for candidate, stem in zip(candidates, stems, strict=True):
        if documents.get(stem, 0):
            spellings.setdefault(stem, []).append(candidate)
    for stem in sorted(spellings, key=lambda s: -documents[s])[:STEMS_READ]:
        counts = written(spellings[stem])
        found = [s for s in spellings[stem] if counts.get(s, 0)]
        if found:
            return max(found, key=lambda s: counts[s])  # ties: the first, as `edits` orders them
    return None


def english_words(words: Collection[str]) -> set[str]:
    """Those of `words` that an English dictionary holds (pyspellchecker's, read on first use)."""
    return _dictionary().known(words) if words else set()


@lru_cache(maxsize=1)
def _dictionary() -> Any:
    from spellchecker import SpellChecker

    return SpellChecker(distance=1)


def respell(query: str, word: str, fix: str) -> str:
    """`query` with `word` (lower case, one typo from `fix`) replaced by `fix` wherever it is
    written, in any case and inside identifiers (`parseConifg`), each letter keeping its case:
    `parseConfig`. A letter added takes the case of the one before it."""
    def replace(match: re.Match[str]) -> str:
        return _cased(fix, match.group(0))

    return re.sub(re.escape(word), replace, query, flags=re.IGNORECASE)


def _cased(fix: str, written: str) -> str:
    """`fix` in the case of `written`: all capitals where it is (`RECIEVE`), else `written`'s
    own letters where the two agree (their shared head and tail) and lower case between them,
    capitalised when the word's first letter is the one that changed (`Teh` gives `The`)."""
    if len(written) > 1 and written.isupper():
        return fix.upper()
    lowered = written.lower()
    head = 0
    while head < min(len(fix), len(lowered)) and fix[head] == lowered[head]:
        head += 1
    tail = 0
    while tail < min(len(fix), len(lowered)) - head and fix[-1 - tail] == lowered[-1 - tail]:
        tail += 1
    middle = fix[head : len(fix) - tail]
    if head == 0 and written[:1].isupper():
        middle = middle[:1].upper() + middle[1:]
    return written[:head] + middle + written[len(written) - tail :]


def note(fixes: Sequence[tuple[str, str]]) -> str:
    """What the user is told: the words no chunk holds and what was searched for instead."""
    said = ", ".join(f"`{word}` as `{fix}`" for word, fix in fixes)
    which = "this word" if len(fixes) == 1 else "these words"
    return f"no chunk holds {which}; searched {said} (quote a word to search it as written)"
