"""A query's word typed wrong is read as the word the code holds (`codesearch.spelling`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import run_cli

from codesearch import spelling
from codesearch.overlay import Overlay, OverlayFile
from codesearch.records import Chunk
from codesearch.search import respelled, search
from codesearch.store import Store


def chunk(path: str, symbol: str, text: str) -> Chunk:
    return Chunk.build(path=path, language="python", symbol=symbol, qualified_name=symbol, kind="function",
                       start_line=1, end_line=text.count("\n") + 1, text=text)


def test_edits_are_the_four_kinds_of_typo_once_each() -> None:
    found = spelling.edits("recieve")
    assert "receive" in found  # two letters swapped
    assert "recive" in found and "reciever" in found and "reclive" not in found  # one left out, one added
    assert "relieve" in found and "believe" not in found  # one replaced; `believe` is two away
    assert len(found) == len(set(found)) and "recieve" not in found
    assert all(abs(len(e) - len("recieve")) <= 1 for e in found)


def test_only_long_words_no_chunk_holds_that_no_dictionary_knows_may_be_typos() -> None:
    frequency = {"parse": 4, "recieve": 0, "caller": 0, "conifg": 0, "parseconifg": 0, "v2api": 0, "tcp": 0}
    english = spelling.english_words([t for t, n in frequency.items() if not n])
    assert "caller" in english and "recieve" not in english and "conifg" not in english
    assert spelling.typos(list(frequency), frequency, english) == ["parseconifg", "recieve", "conifg"]


def test_the_nearest_word_is_one_the_code_writes_held_by_the_most_chunks() -> None:
    candidates = ["serialize", "serialle", "serializer", "serialise"]
    stems = ["serial", "serial", "serialize", "serialis"]

    def written(counts: dict[str, int]) -> Callable[[list[str]], dict[str, int]]:
        return lambda spellings: {s: counts.get(s, 0) for s in spellings}

    held = {"serial": 9, "serialize": 2}
    # `serial` is held by the most chunks; of its two spellings, the code writes `serialize`
    assert spelling.nearest(candidates, stems, held, written({"serialize": 3, "serializer": 1})) == "serialize"
    # no chunk writes either (`serial` is there as `serialization`): the next stem's spelling
    assert spelling.nearest(candidates, stems, held, written({"serializer": 1})) == "serializer"
    assert spelling.nearest(candidates, stems, held, written({})) is None
    assert spelling.nearest(candidates, stems, {}, written({"serialize": 3})) is None
    # an English spelling of a stem the code holds counts though the chunks read do not write it
    # (`manages`, where they say `manage`), and a stem alone is no word (`attackments` is `attack`)
    assert spelling.nearest(["manages", "manaxes"], ["manag", "manax"], {"manag": 4, "manax": 9}, written({}),
                            english={"manages"}) == "manages"
    assert spelling.nearest(["attackments"], ["attack"], {"attack": 3}, written({}), english=set()) is None
    assert spelling.nearest(["seri", "serial"], ["seri", "serial"], {"seri": 9, "serial": 1}, written({"seri": 5}),
                            english={"serial"}) == "serial"  # a fix is as long as a word that may be typed wrong


def test_a_respelled_word_keeps_the_case_it_was_typed_in() -> None:
    assert spelling.respell("how parseConifg reads Conifg", "conifg", "config") == "how parseConfig reads Config"
    assert spelling.respell("RECIEVE or recieve", "recieve", "receive") == "RECEIVE or receive"
    assert spelling.respell("Hte end", "hte", "the") == "The end"
    assert spelling.respell("the middlware stack", "middlware", "middleware") == "the middleware stack"
    # a word inside another is not that word: only whole words and an identifier's parts are
    assert spelling.respell("how the ession owns its URLSession", "ession", "session") == \
        "how the session owns its URLSession"
    assert spelling.respell("dynamicParameters", "ynamic", "dynamic") == "dynamicParameters"


def _store_of(tmp_path: Path, files: dict[str, Chunk]) -> Store:
    """An index of one chunk a file."""
    store = Store.open(tmp_path / "index", create=True)
    with store.transaction():
        for number, (path, found) in enumerate(files.items()):
            store.replace_file(path, 1, 1, str(number), "python", [found])
    return store


def _store(tmp_path: Path) -> Store:
    return _store_of(tmp_path, {
        "inbox.py": chunk("inbox.py", "receive_messages",
                          "def receive_messages(queue):\n    # receive the messages waiting in the queue\n"
                          "    return queue.receive()"),
        "config.py": chunk("config.py", "parseConfig", "def parseConfig(path):\n    return load_config(path)"),
        "calls.py": chunk("calls.py", "called", "def called(mock):\n    return mock.called"),
        "send.py": chunk("send.py", "send_messages", "def send_messages(queue, messages):\n    queue.send(messages)"),
        "params.py": chunk("params.py", "dynamicParameters", "def dynamicParameters(names):\n    return names"),
    })


def test_a_query_with_a_typo_is_answered_as_the_word_the_code_holds(tmp_path: Path) -> None:
    store = _store(tmp_path)
    assert respelled(store, "recieve messages") == ("receive messages", (("recieve", "receive"),))
    assert search(store, "recieve messages", mode="lexical", k=1)[0].chunk.symbol == "receive_messages"
    # an identifier's part: the name is looked up as it is meant, its definition first
    assert respelled(store, "parseConifg")[0] == "parseConfig"
    assert search(store, "parseConifg", mode="lexical", k=1)[0].chunk.symbol == "parseConfig"
    assert respelled(store, "ynamicParameters")[0] == "dynamicParameters"  # its part `ynamic` is fixed with it
    # words the code holds, English words it does not (`caller`), short words, names with digits
    for query in ("receive messages", "who is the caller", "recv messages", "handler_number_1499"):
        assert respelled(store, query) == (query, ()), query
    # a quoted word is searched as it is written
    assert respelled(store, 'where is "recieve" written') == ('where is "recieve" written', ())
    # a word an unsaved buffer holds is no typo: it is written there
    buffer = "def recieve_all(queue):\n    return queue"
    overlay = Overlay({"draft.py": OverlayFile("draft.py", buffer, (chunk("draft.py", "recieve_all", buffer),))})
    assert respelled(store, "recieve messages", overlay)[1] == ()
    store.close()


def test_british_and_american_spellings_are_variants_of_each_other() -> None:
    pairs = [("tokeniser", "tokenizer"), ("normalisation", "normalization"), ("analyse", "analyze"),
             ("behaviour", "behavior"), ("colours", "colors"), ("favourite", "favorite"), ("cancelled", "canceled"),
             ("modelling", "modeling"), ("licence", "license"), ("catalogue", "catalog"), ("judgement", "judgment")]
    for british, american in pairs:
        assert spelling.variants(british) == [american] and spelling.variants(american) == [british]
    # a rule may make a word no one writes (the code is asked before one is searched); short words
    # and words of no rule have none
    assert spelling.variants("promise") == ["promize"]
    for word in ("raise", "size", "called", "filled", "handler", "response", "dense", "colour_"):
        assert spelling.variants(word) == [], word


def _regional_store(tmp_path: Path) -> Store:
    return _store_of(tmp_path, {
        "tokeniser.py": chunk("tokeniser.py", "TokeniserState",
                              "class TokeniserState:\n    # the tokeniser's state: a tokeniser reads one character\n"
                              "    def read(self, tokeniser):\n        return tokeniser.advance()"),
        "notes.py": chunk("notes.py", "notes", "# unlike a tokenizer, this reads whole lines\ndef notes(text):\n"
                          "    return text.splitlines()"),
        "paint.py": chunk("paint.py", "paint", "def paint(color):\n    # color, as given\n    return color.rgb"),
        "theme.py": chunk("theme.py", "theme", "def theme(color):\n    return {'colour': color, 'color': color}"),
        "scores.py": chunk("scores.py", "scaled", "def scaled(scores):\n    # normalised by the best, a normalisation\n"
                           "    return normalised(scores)"),
        "text.py": chunk("text.py", "folded", "def folded(text):\n    return unicodedata.normalize('NFC', text)"),
    })


def test_a_word_the_code_spells_the_other_way_is_searched_as_the_code_spells_it(tmp_path: Path) -> None:
    store = _regional_store(tmp_path)
    # the code writes `tokeniser` more than `tokenizer` (one comment): the query is answered for it,
    # and the definition its name spells leads
    assert respelled(store, "TokenizerState of the tokenizer") == \
        ("TokeniserState of the tokeniser", (("tokenizer", "tokeniser"),))
    assert search(store, "tokenizer state", mode="lexical", k=1)[0].chunk.symbol == "TokeniserState"
    # the code writes `color` more than `colour`: the word is searched as it is, both ways
    assert respelled(store, "paint a colour") == ("paint a color", (("colour", "color"),))
    assert respelled(store, "paint a color") == ("paint a color", ())
    # each spelling counted in all its forms: the code writes `normalised` and `normalisation`,
    # and calls a library's `normalize` once
    assert respelled(store, "normalize scores") == ("normalise scores", (("normalize", "normalise"),))
    # a spelling no chunk holds is never searched (`promize`), and a quoted word is meant as written
    assert respelled(store, "keep a promise") == ("keep a promise", ())
    assert respelled(store, 'the "tokenizer" comment') == ('the "tokenizer" comment', ())
    store.close()


def test_the_note_tells_a_typo_from_the_code_s_own_spelling() -> None:
    assert spelling.note([("recieve", "receive")]) == \
        "no chunk holds this word; searched `recieve` as `receive` (quote a word to search it as written)"
    assert spelling.note([("tokenizer", "tokeniser")]) == \
        "searched `tokenizer` as `tokeniser`, as the code spells it (quote a word to search it as written)"
    assert spelling.note([("recieve", "receive"), ("colours", "colors"), ("behaviour", "behavior")]) == (
        "no chunk holds this word; searched `recieve` as `receive`; searched `colours` as `colors`, "
        "`behaviour` as `behavior`, as the code spells them (quote a word to search it as written)")


def test_the_terminal_says_which_word_it_read_as_another(repo: Path, cli_env: dict[str, str]) -> None:
    answer = run_cli(["query", "retry the uplaods that faild", "--mode", "lexical", "-k", "3"], env=cli_env, cwd=repo)
    assert "retry_failed_uploads" in answer.stdout.splitlines()[0]
    assert "searched `uplaods` as `uploads`, `faild` as `failed`" in answer.stderr
    quoted = run_cli(["query", 'retry the "uplaods"', "--mode", "lexical", "-k", "3"], env=cli_env, cwd=repo)
    assert "searched" not in quoted.stderr


def test_a_benchmark_query_typed_wrong_is_one_typo_from_it_in_a_long_word() -> None:
    import random

    rng = random.Random(7)
    for query in ("how are routes registered", "ZodError", "request context handling"):
        typed = spelling.typed_wrong(query, rng)
        changed = [(a, b) for a, b in zip(query.split(), typed.split(), strict=True) if a != b]
        assert len(changed) == 1 and len(changed[0][0]) >= spelling.MIN_LETTERS, typed
        assert changed[0][1].lower() in spelling.edits(changed[0][0].lower())
        assert not spelling.english_words([changed[0][1].lower()])
    assert spelling.typed_wrong("a bit of it", rng) == "a bit of it"
    assert spelling.typed_wrong("request context", random.Random(3)) == spelling.typed_wrong("request context",
                                                                                             random.Random(3))
