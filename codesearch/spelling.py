"""A query's word that no chunk holds, read as the word one typo away that the code does hold.

`recieve` is in no chunk of a repository where `receive` is in 143: the word is one transposition
away, so the query is answered for `receive`, and the answer says so. What counts as a typo is
Damerau's four kinds (a letter left out, one too many, one wrong, two swapped), on words of
`MIN_LETTERS` letters or more (shorter ones have too many neighbours) written in ASCII letters
only: a name with digits or `_` in it (`handler_number_1499`) is pasted, not typed wrong. An
English word is never a typo (`caller` where the code says only `called`), nor a word the query
quotes, and the replacement is as long, and a word the code writes or English commonly does.

A word the code spells the other way, British or American (`tokenizer` where jsoup writes
`tokeniser`, `behaviour` where Flask writes `behavior`), is read as the code writes it, where the
code writes it more: the definitions, files and BM25 terms are the code's own spelling (`variants`).

The functions here are pure but for the dictionary's loading; `search.respelled` asks the index
which words it holds.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from functools import lru_cache
from typing import Any

from codesearch.lexical import part_spans

MIN_LETTERS = 5
COMMON = 100  # times an English word is in pyspellchecker's text for it to count as a fix unwritten
STEMS_READ = 3  # stems one typo away whose chunks are read for the spelling the code writes
_ALPHABET = "abcdefghijklmnopqrstuvwxyz"
_LOWER_WORD = re.compile(r"[a-z]+")
_TYPED_WORD = re.compile(rf"[A-Za-z]{{{MIN_LETTERS},}}")
_RUN = re.compile(r"\w+")  # a word or an identifier, as `lexical.code_tokens` reads them


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
            written: Callable[[list[str]], Mapping[str, int]], english: Collection[str] = ()) -> str | None:
    """The candidate whose stem the most chunks hold, written in the code or an English word;
    None when there is none.

    `stems[i]` is `candidates[i]`'s stem, `documents` the chunks holding each stem, and
    `written(spellings)` how often some of the chunks holding one stem write each of its
    spellings as a word. A stem is not a word: `serialize` and `serialle` are both `serial`, and
    `attackments` is `attack`, so a spelling counts only where the code writes it or it is
    English (`manages`, where the chunks read say `manage` and `manager`); of those the one the
    code writes most, then an English one. The `STEMS_READ` stems most chunks hold are read."""
    spellings: dict[str, list[str]] = {}
    for candidate, stem in zip(candidates, stems, strict=True):
        if documents.get(stem, 0) and len(candidate) >= MIN_LETTERS:  # `ans` is no fix of `ansi`
            spellings.setdefault(stem, []).append(candidate)
    for stem in sorted(spellings, key=lambda s: -documents[s])[:STEMS_READ]:
        counts = written(spellings[stem])
        found = [s for s in spellings[stem] if counts.get(s, 0) or s in english]
        if found:  # ties: the first, as `edits` orders them
            return max(found, key=lambda s: (counts.get(s, 0), s in english))
    return None


# How British and American English spell one word (`tokeniser`, `tokenizer`; `behaviour`,
# `behavior`; `cancelled`, `canceled`; `licence`, `license`; `catalogue`, `catalog`; `judgement`,
# `judgment`): the head a word starts with, the letters each spelling puts after it, and the
# endings that may follow them. The rules make spellings no one writes (`promise` as `promize`);
# those are in no chunk, and only a spelling the code writes is searched (`search.respell`).
_REGIONAL_RULES = (
    (r"[a-z]{3,}", "is", "iz", ("e", "es", "ed", "ing", "er", "ers", "ation", "ations")),
    (r"[a-z]{2,}", "ys", "yz", ("e", "es", "ed", "ing", "er", "ers")),
    (r"[a-z]{3,}", "our", "or", ("", "s", "ed", "ing", "ite", "ites", "able", "al", "ful")),
    (r"[a-z]{3,}[aeo]", "ll", "l", ("ed", "ing", "er", "ers")),
    (r"[a-z]{2,}", "enc", "ens", ("e", "es")),
    (r"[a-z]{3,}og", "ue", "", ("", "s")),
    (r"[a-z]+dg", "em", "m", ("ent", "ents")),
)
# each rule both ways: (pattern, the other spelling's letters, the endings)
_REGIONAL = tuple((re.compile(rf"^({head}){mine}({'|'.join(endings)})$"), theirs, endings)
                  for head, british, american, endings in _REGIONAL_RULES
                  for mine, theirs in ((british, american), (american, british)))


def variants(word: str) -> list[str]:
    """The other regional spellings of a lower-case word (`tokenizer` gives `tokeniser`), by
    `_REGIONAL_RULES`; none for a word no rule fits."""
    found = (f"{m.group(1)}{theirs}{m.group(2)}" for pattern, theirs, _ in _REGIONAL if (m := pattern.match(word)))
    return [v for v in dict.fromkeys(found) if v != word]


def family(word: str) -> list[str]:
    """The word and the others its regional spelling makes with the rule's other endings
    (`normalize`: `normalizes`, `normalized`, `normalization`, ...): how the code may write it,
    counted together to tell which spelling it uses. The word alone where no rule fits."""
    for pattern, _, endings in _REGIONAL:
        m = pattern.match(word)
        if m:
            stem = word[: m.start(2)]
            return list(dict.fromkeys([word, *(stem + ending for ending in endings)]))
    return [word]


def typed_wrong(query: str, rng: random.Random) -> str:
    """`query` with one typo, as `codesearch bench retrieval --typos` makes them: in one of its
    words of `MIN_LETTERS` letters or more, chosen by `rng`, a letter left out, two swapped, one
    replaced or one added, never making an English word. The query as it is when it has no
    such word."""
    words = list(_TYPED_WORD.finditer(query))
    if not words:
        return query
    word = rng.choice(words)
    while True:
        at, kind = rng.randrange(len(word.group(0))), rng.choice("dsra")
        text = word.group(0)
        if kind == "d":
            typo = text[:at] + text[at + 1 :]
        elif kind == "s" and at < len(text) - 1 and text[at] != text[at + 1]:
            typo = text[:at] + text[at + 1] + text[at] + text[at + 2 :]
        elif kind == "r":
            typo = text[:at] + rng.choice(_ALPHABET) + text[at + 1 :]
        elif kind == "a":
            typo = text[:at] + rng.choice(_ALPHABET) + text[at:]
        else:
            continue
        if typo.lower() != text.lower() and not english_words([typo.lower()]):
            return query[: word.start()] + typo + query[word.end() :]


def english_words(words: Collection[str], least: int = 1) -> set[str]:
    """Those of `words` that an English dictionary holds (pyspellchecker's, read on first use),
    counted `least` times or more in the text it was made from (`COMMON`: `reade` and `anis` are
    there 50 times, `manages` 5,499)."""
    if not words:
        return set()
    counts = _dictionary().word_frequency
    return {w for w in words if counts[w] >= least}


@lru_cache(maxsize=1)
def _dictionary() -> Any:
    from spellchecker import SpellChecker

    return SpellChecker(distance=1)


def respell(query: str, word: str, fix: str) -> str:
    """`query` with `word` (lower case; one typo from `fix`, or its other regional spelling)
    replaced by `fix` wherever it is a word or a part of an identifier (`parseConifg`'s `Conifg`,
    not the `ession` of `URLSession`), each letter keeping its case: `parseConfig`."""
    def replace(run: re.Match[str]) -> str:
        text = run.group(0)
        if text.lower() == word:
            return _cased(fix, text)
        pieces, last = [], 0
        for start, end in part_spans(text):
            if text[start:end].lower() == word:
                pieces += [text[last:start], _cased(fix, text[start:end])]
                last = end
        return "".join(pieces) + text[last:]

    return _RUN.sub(replace, query)


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
    """What the user is told: the words no chunk holds, the words the code spells another way,
    and what was searched for instead."""
    regional = [(word, fix) for word, fix in fixes if fix in variants(word)]
    typed = [pair for pair in fixes if pair not in regional]
    said = []
    if typed:
        which = "this word" if len(typed) == 1 else "these words"
        said.append(f"no chunk holds {which}; searched {_pairs(typed)}")
    if regional:
        said.append(f"searched {_pairs(regional)}, as the code spells {'it' if len(regional) == 1 else 'them'}")
    return "; ".join(said) + " (quote a word to search it as written)"


def _pairs(fixes: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"`{word}` as `{fix}`" for word, fix in fixes)
