"""Which definitions a query names, and how much each gains for it (`definition_boost`): a
name said whole, or all of a compound name's words (`parse config` names `parseConfig`), with
the short forms code writes them in (`config` as `cfg`), the doer a verb makes (`format` names
`SqlFormatter`), without a project's prefix (`ngx_`) or the `is`, `get` or `I` a question leaves
out; a qualified name written in a sentence (`app.set`); never a word in most of the index's
chunks (the project's own name)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable
from functools import lru_cache

from codesearch.code_priors import empty_extension
from codesearch.lexical import code_tokens
from codesearch.records import Chunk
from codesearch.symbols import IDENTIFIER, constructs, dotted_name, symbol_words

DEFINITION_BOOST = 1.6
PARTIAL_DEFINITION_BOOST = 1.25


def definition_boost(chunk: Chunk, query: str, common: Collection[str] = (),
                     prefixes: frozenset[str] = frozenset()) -> float:
    """How much a chunk gains for defining a symbol the query names (`common`: as `rank`'s;
    `prefixes`: as `name_prefixes` finds them)."""
    words, tokens, dotted = query_words(query)
    return definition_weight(chunk, naming_words(words, dotted, common), tokens, dotted, prefixes)


# How many named definitions among the candidates `name_prefixes` needs to tell a prefix, and
# how many of the best candidates it reads (a project's prefix is on most of any hundred of them)
PREFIX_SAMPLE = 20
PREFIX_CANDIDATES = 100


def name_prefixes(chunks: Iterable[Chunk]) -> frozenset[str]:
    """The word more than half the candidates' definitions' names start with, where there are
    PREFIX_SAMPLE of them or more: a C project's namespace (`ngx_` in nginx, `uv_` in libuv),
    which a question leaves out ("parse HTTP request line" names `ngx_http_parse_request_line`).
    The candidates stand for the index: in nginx nearly every definition starts so."""
    firsts: Counter[str] = Counter()
    named = 0
    for chunk in chunks:
        if chunk.symbol and chunk.kind not in ("module", "block"):
            named += 1
            parts = symbol_words(chunk.symbol)[2]
            if parts:
                firsts[parts[0]] += 1
    return frozenset(part for part, count in firsts.items() if 2 * count > named >= PREFIX_SAMPLE)


def naming_words(words: frozenset[str], dotted: tuple[str, ...], common: Collection[str]) -> frozenset[str]:
    """The query's words that can name a definition: not one in most of the index's chunks (the
    project's own name, `atom` in jotai, `gson` in Gson, `clap` in "how zig-clap parses"; BM25
    already gives it no weight, and the one definition it names took the first place for every
    question that says it), unless the query writes it in a qualified name (`fmt::format`)."""
    if not common:
        return words
    qualified = {part for name in dotted for part in name.split(".")}
    return words.difference(w for w in common if w not in qualified)


def definition_weight(chunk: Chunk, words: frozenset[str], tokens: frozenset[str],
                      dotted: tuple[str, ...] = (), prefixes: frozenset[str] = frozenset()) -> float:
    """`definition_boost` with the query's words worked out once, for `rank`'s loop. `dotted`
    holds the qualified names the query writes (`app.set`, `Sinatra::Base`), lower-cased with dots:
    one names a definition however short its last part (`set` alone says too little). A name's
    words are named without the project's prefix (`prefixes`) and the word a question leaves out
    before them (`_LEFT_OUT`: a predicate's `is`, an accessor's `get`, an interface's `I`)."""
    if not chunk.symbol or chunk.kind in ("module", "block") or empty_extension(chunk):
        return 1.0
    symbol, telling, parts = symbol_words(chunk.symbol)
    # a constructor bears its class's name, which a sentence names the class by ("profile classes
    # grouping maps": AutoMapper's one-line `Profile.Profile()` had come first)
    if symbol in words and telling and symbol not in _RELATIONS and (chunk.kind == "class" or not constructs(chunk)):
        return DEFINITION_BOOST
    if dotted and _writes(chunk.qualified_name.lower(), dotted):
        return DEFINITION_BOOST
    if not parts:
        return 1.0
    if tokens.issuperset(parts):
        return PARTIAL_DEFINITION_BOOST
    if parts[0] in prefixes and len(set(parts[1:])) > 1:
        parts = parts[1:]
        if tokens.issuperset(parts):
            return PARTIAL_DEFINITION_BOOST
    if parts[0] in _LEFT_OUT and len(set(parts[1:])) > 1 and tokens.issuperset(parts[1:]):
        return PARTIAL_DEFINITION_BOOST
    return 1.0


# The word a name starts with that a question leaves out: a predicate's, "leap year" names
# `isLeapYear` and "thread safe" `is_thread_safe`; an accessor's `get`, "elements by class"
# names jsoup's `getElementsByClass`; and an interface's `I`, "pipeline behavior" names MediatR's
# `IPipelineBehavior` (two words or more after it, as after a project's prefix: "empty" names no
# `isEmpty`, "value" no `getValue`, nor "object" json-c's `json_object_object`)
_LEFT_OUT = frozenset({"is", "has", "can", "should", "get", "i"})


# Words that relate two things ("mapping between Kotlin types and SQL types"): they name no
# definition, though code has functions so named (SQL's `between`); BM25 still counts them
_RELATIONS = frozenset("""between within without against through across among during whether
inside outside except beyond toward towards despite versus""".split())


def _writes(qualified: str, dotted: tuple[str, ...]) -> bool:
    """Whether a lower-cased qualified name of two parts or more is one the query writes, or
    the two differ only by what comes before (`app.set` and `express.app.set` both name
    `app.set`; `Router.ServeHTTP` names `chi.Router.ServeHTTP`)."""
    if "." not in qualified:
        return False  # `set` named by `res.set` would be every `set`
    return any(qualified == name or qualified.endswith("." + name) or name.endswith("." + qualified)
               for name in dotted)


# How code shortens the words a question spells out, in the names it writes (`mapErr`, `parseCfg`,
# `ReqCtx`): a query's word also names a compound name's part so written. One way only: the long
# word a question uses, not the short one (`err` names no `error_handler`), and only for a name
# of several parts (`err` alone is neverthrow's `err()`, which "map the error" does not name).
_ABBREVIATIONS = {long: tuple(short.split(",")) for long, short in (pair.split(":") for pair in """
error:err errors:errs request:req requests:reqs response:res,resp responses:resps configuration:config,cfg,conf
config:cfg,conf message:msg messages:msgs context:ctx argument:arg arguments:args parameter:param
parameters:params string:str strings:strs number:num value:val values:vals initialize:init
initialization:init directory:dir directories:dirs reference:ref references:refs source:src
destination:dst,dest length:len temporary:tmp,temp connection:conn connections:conns callback:cb
callbacks:cbs attribute:attr attributes:attrs document:doc documents:docs environment:env
previous:prev position:pos index:idx count:cnt buffer:buf character:char,ch characters:chars
boolean:bool integer:int pointer:ptr address:addr allocate:alloc allocation:alloc function:func,fn
functions:funcs,fns expression:expr statement:stmt information:info specification:spec
utilities:utils utility:util maximum:max minimum:min database:db library:lib command:cmd
commands:cmds description:desc sequence:seq iterator:iter object:obj objects:objs option:opt
options:opts synchronize:sync synchronous:sync asynchronous:async authentication:auth
authorization:auth identifier:id execute:exec evaluate:eval element:elem elements:elems image:img
package:pkg packages:pkgs variable:var variables:vars transaction:tx,txn receive:recv
password:pwd,passwd current:cur,curr original:orig repository:repo operation:op operations:ops
generate:gen calculate:calc compare:cmp header:hdr headers:hdrs statistics:stats property:prop
properties:props implementation:impl instance:inst system:sys""".split())}


def _with_abbreviations(tokens: frozenset[str]) -> frozenset[str]:
    """A query's tokens and the short forms code writes them in (`_ABBREVIATIONS`)."""
    return tokens.union(*(_ABBREVIATIONS[token] for token in tokens if token in _ABBREVIATIONS))


def agent_nouns(verb: str) -> tuple[str, ...]:
    """The names code makes of a verb for what does it: `parse` -> `parser`, `format` ->
    `formatter`, `log` -> `logger`, `validate` -> `validator`, `select` -> `selector`. A question
    says what is done ("format SQL expressions"), the code names the doer (`SqlFormatter`), and
    Porter's stemmer keeps the two apart (`format`, `formatt`; `pars`, `parser`). Where English
    could double the last letter or not, both are made (a wrong spelling names nothing); `-or`
    only after the endings that take it (`-ate`, `-ute`, `-ct`, `-it`, `-ss`), so a short form
    makes none of its long word (`err`, `error`)."""
    if len(verb) < 3 or not verb.isalpha():
        return ()
    if verb.endswith("e"):
        return (verb + "r", verb[:-1] + "or") if verb.endswith(("ate", "ute")) else (verb + "r",)
    forms = [verb + "er"]
    if verb.endswith(("ct", "it", "ss")):
        forms.append(verb + "or")  # selector, visitor, processor
    if verb[-1] not in "aeiouwxy" and verb[-2] in "aeiou" and verb[-3] not in "aeiou":
        forms.append(verb + verb[-1] + "er")  # logger, formatter, emitter
    return tuple(forms)


_QUALIFIED_IN_QUERY = re.compile(rf"{IDENTIFIER}(?:(?:\.|::|#|\\){IDENTIFIER})+")


@lru_cache(maxsize=256)
def query_words(query: str) -> tuple[frozenset[str], frozenset[str], tuple[str, ...]]:
    """A query's words, code tokens and the qualified names it writes (lower-cased, with dots),
    worked out once per query rather than once per chunk."""
    written = re.findall(r"[^\W\d]\w*", query)
    # each word without the `_` around it, and a protocol hook as written (`__call__`)
    words = frozenset(w.lower().strip("_") for w in written) | {w.lower() for w in written if w[:2] == "__" == w[-2:]}
    dotted = tuple(dotted_name(name).lower() for name in _QUALIFIED_IN_QUERY.findall(query))
    tokens = frozenset(code_tokens(query))
    return words, _with_abbreviations(tokens.union(*map(agent_nouns, tokens))), dotted
