"""What a query quotes or points at, as it is written. Pure functions.

- A pasted error message or log line (four words or more, not a question), what a question
  quotes, or a long option (`--no-refresh`): `verbatim`; the chunks that hold it as written lead.
- A message printed with its values (`Maximum request limit of 42 exceeded.`): `rendered`, the
  chunks whose string literal, its placeholders filled in, made it.
- A place in code as tools print it (`indexer/walk.py:61`, a stack trace's frames): `places`.

`ranking.rank` puts what these find first; `search` finds the chunks to read (FTS5's phrase
query, the index's paths).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

from codesearch.lexical import STOPWORDS
from codesearch.records import Chunk

# Fewer words are a lookup or a few keywords, not something pasted; three are also how people
# describe code (chi's README says "basic HTTP authentication"), unless the query quotes them
_PHRASE_WORDS, _QUOTED_WORDS = 4, 2
_QUOTES = "\"'`"
# A command line's long option (`--no-refresh`): its words are common, the option is not
_OPTION = re.compile(r"(?<![\w-])--[A-Za-z][\w-]*\w")


def verbatim(query: str) -> tuple[str, ...]:
    """The texts a query asks for as they are written: the whole query when it may be pasted (an
    error message or a line from a log or a file, `Failed to add file descriptor to pollset`: four
    words or more, not a question; or two in quotes, the quotes left out), what a question quotes
    (`where is "Did not expect a name" raised`: two words or more), and each long option it
    names (`--no-refresh`, alone or in a question)."""
    text, quoted = _unquoted(query)
    words = len(text.split())
    whole = [text] if (quoted and words >= _QUOTED_WORDS) or (words >= _PHRASE_WORDS and not is_question(text)) else []
    inner = [] if whole else _quoted_parts(text)
    return tuple(dict.fromkeys([*whole, *(part for part in inner if len(part.split()) >= _QUOTED_WORDS),
                                *_OPTION.findall(text)]))


def quoted_texts(query: str) -> list[str]:
    """What the query quotes: the whole of it in quotes, or each quoted part of it."""
    text, quoted = _unquoted(query)
    return [text] if quoted else _quoted_parts(text)


def _unquoted(query: str) -> tuple[str, bool]:
    """The query without the quotes around the whole of it, and whether it had them."""
    text = query.strip()
    if len(text) > 1 and text[0] == text[-1] and text[0] in _QUOTES:
        return text[1:-1].strip(), True
    return text, False


def _quoted_parts(text: str) -> list[str]:
    """Each part of `text` in quotes (`_QUOTED`), the quotes left out."""
    return [next(filter(None, match.groups())).strip() for match in _QUOTED.finditer(text)]


# What a question quotes: "...", `...`, or '...' (not an apostrophe: `what's the user's name`)
_QUOTED = re.compile(r'"([^"\n]+)"|`([^`\n]+)`|(?<!\w)\'([^\'\n]+)\'(?!\w)')
# A question is typed, not pasted (the README's "where are gitignore rules applied" is in the
# README, and a test of it too): it names what it asks about in words, not as it is written
_INTERROGATIVES = frozenset("how where what which why when who whom whose".split())


def is_question(text: str) -> bool:
    """Whether `text` opens as a question does (`where are ...`, `How does ...`, `what's ...`)."""
    first = _FIRST_WORD.match(text)
    return first is not None and first.group(1).lower() in _INTERROGATIVES


_FIRST_WORD = re.compile(r"\W*([A-Za-z]+)")


@lru_cache(maxsize=256)
def verbatim_patterns(query: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """`verbatim`'s texts as patterns in lower case, for texts in lower case: any run of white space
    for a space (a message wrapped across lines still matches), and whole words (`--no-refresh` is
    not `--no-refresh-all`); each with its longest word, which a text it matches holds."""
    patterns = []
    for text in verbatim(query):
        words = text.lower().split()
        patterns.append((max(words, key=len), re.compile(_as_written([words], r"[\w-]"))))
    return tuple(patterns)


def holds_verbatim(text: str, patterns: Sequence[tuple[str, re.Pattern[str]]]) -> bool:
    """Whether `text` holds one of `verbatim_patterns`, in lower case (a pattern that ignores
    case is several times slower to search): its longest word first, then the pattern."""
    lowered = text.lower()
    return any(word in lowered and pattern.search(lowered) for word, pattern in patterns)


def _as_written(pieces: list[list[str]], edge: str) -> str:
    r"""A pattern for words as they are written: any run of white space between two words of a
    piece, any text between pieces (a placeholder's value), and no `edge` character (a class:
    `\w`, `[\w-]`) just before or after it where it begins or ends with one (whole words)."""
    pattern = ".+?".join(r"\s+".join(map(re.escape, piece)) for piece in pieces)
    if pieces[0] and re.match(edge, pieces[0][0]):
        pattern = f"(?<!{edge})" + pattern
    if pieces[-1] and re.match(edge, pieces[-1][-1][-1]):
        pattern += f"(?!{edge})"
    return pattern


# A place in code as tools print it: Python's traceback line, a JVM stack frame (`at
# com.example.Foo.bar(Foo.java:42)`: its package is the file's folders), .NET's `in PATH:line 42`,
# MSVC's `foo.cpp(42)`, and everyone else's `PATH:LINE` (compilers, linters, `grep -n`, Go's and
# Node's stack traces, Rust's panics, codesearch's own results)
_PLACES = re.compile(
    r'File "(?P<py>[^"\n]+)", line (?P<py_line>\d+)'
    r"|(?P<frame>[\w$]+(?:\.[\w$<>]+)+)\((?P<jvm>[\w$-]+\.[A-Za-z]\w*):(?P<jvm_line>\d+)\)"
    r"|(?P<path>(?:[A-Za-z]:)?[\w.@+~\\/-]*\w\.[A-Za-z][\w]*)(?::(?:line )?|\()(?P<line>\d+)")
MAX_PLACES = 10


def places(query: str) -> list[tuple[str, int]]:
    """The places in code a query names, as tools print them (`indexer/walk.py:61`, `src/lib.rs:12:5`,
    a stack trace's frames): paths and lines, at most MAX_PLACES, in the query's order. A path is
    as written (absolute, from another machine, or only a file's name), a JVM frame's with its
    package's folders (`com/example/Foo.java`)."""
    found: list[tuple[str, int]] = []
    for match in _PLACES.finditer(query):
        if match["py"]:
            found.append((match["py"], int(match["py_line"])))
        elif match["jvm"]:
            found.append(("/".join([*match["frame"].split(".")[:-2], match["jvm"]]), int(match["jvm_line"])))
        else:
            found.append((match["path"], int(match["line"])))
    return found[:MAX_PLACES]


# A string literal in code: "...", '...' or a template `...` on one line
_LITERAL = re.compile(r'"([^"\n]{12,})"|\'([^\'\n]{12,})\'|`([^`\n]{12,})`')
# What a message's values are written with: `{name}`, `{0:>5}`, `%s`, `%(name)s`, `%-5d`, `${name}`,
# `#{name}`, `\(name)`, `$name`
_PLACEHOLDER = re.compile(r"\$?\{[^{}]*\}|#\{[^{}]*\}|\\\([^()]*\)|%(?:\([\w.]+\))?[-+ 0#]*\d*(?:\.\d+)?[a-zA-Z]|\$\w+")
_LITERAL_WORDS = 3  # a string literal is a message by its quotes: three words are enough
_LETTERS = re.compile(r"[^\W\d_]{2,}")  # a message's words, in any script (`%s` has none)
READ_CANDIDATES = 20  # BM25's best, read for what the query quotes: a printed message shares most of its words


def first_candidates(lexical: Sequence[tuple[int, float]], dense: Sequence[tuple[int, float]]) -> list[int]:
    """The best READ_CANDIDATES of BM25's list (or, without it, of the vectors'), whose text is
    read for what the query quotes."""
    return [i for i, _ in (lexical or dense)[:READ_CANDIDATES]]


# A word of prose as a query writes it: letters only, perhaps a stop after it (not `java.lang`,
# `X-Trace`, `42` or `/etc/app.toml`, the values and names a pasted message holds)
_PLAIN_WORD = re.compile(r"[^\W\d_]{2,}[.,;!?]?")


def _described(query: str, held: re.Match[str]) -> bool:
    """Whether a query that holds a literal of three words, without placeholders, goes on in plain
    words: a question that names a label ("hot module replacement of a store", a docs site's menu
    item `'Hot Module Replacement'`), not a pasted message, whose other words are an error's name,
    values and paths (`java.lang.IllegalStateException: Not a JSON Null: {}`)."""
    rest = (query[:held.start()] + " " + query[held.end():]).split()
    return any(_PLAIN_WORD.fullmatch(word) and word.islower() and word.strip(".,;!?") not in STOPWORDS for word in rest)


def rendered(query: str, chunks: Mapping[int, Chunk], among: Sequence[int]) -> set[int]:
    """The chunks (of `among`) with a string literal that `query` holds once its values are filled
    in (`Maximum request limit of %d exceeded.` in `Maximum request limit of 42 exceeded.`), or that
    it holds as written (`"Not a JSON Null: " + value`): a message pasted as the program printed it.
    Only a query of three words or more that is not a question, only literals of three words or
    more outside their placeholders, two of them not stopwords, count (`%s is not a %s` is in too
    many questions), and only the chunks of the longest such literal (`"not found: %s"` matches
    more messages than the one pasted). A literal of three words without placeholders counts only
    where the query's other words are no plain words (`_described`)."""
    if len(query.split()) < _LITERAL_WORDS or is_question(query):
        return set()
    best, found, lowered = 0, set[int](), query.lower()
    for item in among:
        for match in _LITERAL.finditer(chunks[item].text):
            literal = match.group(match.lastindex or 0)
            if sum(word in lowered for word in _LETTERS.findall(literal.lower())) < _LITERAL_WORDS:
                continue  # most literals stop here, cheaply: they share fewer words with the query
            pieces = [piece.split() for piece in _PLACEHOLDER.split(literal)]
            # words apart, not one identifier's parts (a doc comment's `basic_memory_buffer`)
            words = [word for piece in pieces for word in piece if _LETTERS.search(word.lower())]
            if (len(words) < max(_LITERAL_WORDS, best) or sum(word.lower() not in STOPWORDS for word in words) < 2
                    or not all(word in lowered for word in _LETTERS.findall(" ".join(words).lower()))):
                continue
            # whole words: not `format string` in `formatted strings`
            held = re.search(_as_written(pieces, r"\w"), query, re.IGNORECASE)
            if held and len(pieces) == 1 and len(words) == _LITERAL_WORDS and _described(query, held):
                continue  # three words and no placeholder: a label as often as a message
            if held:
                if len(words) > best:
                    best, found = len(words), set()
                found.add(item)
    return found
