"""Pure parts of search: code-aware tokens, fusion and the ranking signals."""

from __future__ import annotations

from pathlib import Path

import pytest

from codesearch.code_priors import brevity_prior, declaration_prior, delegates, deprecated_prior
from codesearch.errors import QueryError
from codesearch.fusion import reciprocal_rank_fusion
from codesearch.lexical import FOLDER, code_tokens, fts_match_expression, query_terms, split_identifier, weighty_terms
from codesearch.lookups import aliased_type, lookup_name, names_definition
from codesearch.naming import definition_boost, name_prefixes
from codesearch.placeholders import bare_outline, import_block
from codesearch.priors import (
    aside_head,
    barrel_prior,
    generated_head,
    inline_test_prior,
    is_test_path,
    path_match,
    path_prior,
    superseded,
    variant_priors,
)
from codesearch.quoted import places, rendered, verbatim
from codesearch.ranking import asks_for_tests, rank
from codesearch.records import Chunk
from codesearch.requests import check_request
from codesearch.search import keep_chunk, search_lexical, term_coverage
from codesearch.store import Store


def chunk(path: str, symbol: str, kind: str = "function", text: str = "", language: str = "python",
          start: int = 1) -> Chunk:
    return Chunk.build(path=path, language=language, symbol=symbol, qualified_name=symbol, kind=kind,
                       start_line=start, end_line=start + 1, text=text or f"def {symbol}(): pass")


def order(query: str, chunks: dict[int, Chunk], lexical: list[tuple[int, float]], k: int = 10) -> list[str]:
    return [f"{r.chunk.path}:{r.chunk.start_line}" for r in rank(query, chunks, lexical, [], mode="lexical", k=k)]


def test_identifiers_split_on_case_underscores_and_digits_and_stay_whole() -> None:
    assert split_identifier("parseHTTPResponse2") == ["parse", "HTTP", "Response", "2"]
    assert code_tokens("retry_failed_uploads(x)") == ["retry_failed_uploads", "retry", "failed", "uploads", "x"]
    assert code_tokens("getUser") == ["getuser", "get", "user"]
    # a word that starts with digits is cut after them; other characters part words
    assert code_tokens("0x1F 3abc abc3 a-b \ud800z") == ["0", "x1f", "x", "1", "f", "3", "abc", "abc3", "abc", "3",
                                                        "a", "b", "z"]


def test_words_of_every_script_are_tokens_as_fts5_folds_them() -> None:
    import codesearch.lexical as lexical

    assert split_identifier("größeBerechnen") == ["größe", "Berechnen"]
    assert code_tokens("café naïve_x größeBerechnen ΑλφαΒήτα don’t → x") == [
        "cafe", "naive_x", "naive", "x", "großeberechnen", "große", "berechnen", "αλφαβήτα", "αλφα", "βήτα",
        "don", "t", "x"]
    assert code_tokens("e\u0301cole") == code_tokens("\u00e9cole") == ["ecole"]  # decomposed as macOS writes it
    # text written without spaces is also its pairs of characters, so a word inside a sentence is found
    assert code_tokens("用户登录失败") == ["用户登录失败", "用户", "户登", "登录", "录失", "失败"]
    assert set(query_terms("登录失败")) & set(code_tokens("# 用户登录失败时重试")) == {"登录", "录失", "失败"}
    assert code_tokens("파일을 읽다") == ["파일을", "파일", "일을", "읽다"]
    # each token is one FTS5 token, folded already, as the BM25 partitions count them
    tokens = code_tokens("größe नमस्ते दुनिया ファイルを読み込む ＡＢＣ全角 Ⅻ ½ x\u200dy ǅ")
    assert FOLDER.tokens(tokens) == [(t,) for t in tokens] and len(tokens) > 10
    # and every character the tokenizer takes as its own token without asking FTS5 is
    settled = [chr(c) for c in range(0x3000, 0xD800) if lexical._SETTLED.fullmatch(chr(c))]
    assert len(settled) > 38_000 and FOLDER.tokens(settled) == [(c,) for c in settled]


def test_tokens_are_the_same_when_a_full_table_of_runs_is_replaced(monkeypatch) -> None:
    import codesearch.lexical as lexical

    text = "parseConfig load_file parseConfig HTTPServer 0x1F"
    expected = code_tokens(text)
    monkeypatch.setattr(lexical, "KEPT_RUNS", 3)  # fewer than the text's distinct runs
    assert code_tokens(text) == expected
    assert code_tokens("getUser parseConfig") == ["getuser", "get", "user", "parseconfig", "parse", "config"]
    assert set(lexical._known) == {"getUser", "parseConfig"}  # the full table was replaced


def test_query_terms_drop_stopwords_and_quote_for_fts() -> None:
    assert query_terms("where do we retry failed uploads") == ["retry", "failed", "uploads"]
    assert query_terms("how does it work") == ["how", "does", "it", "work"]  # nothing left: keep all
    # "where is it defined" asks where; "define a store" names an API (pinia's `defineStore`,
    # Vue's `defineComponent`, Ruby's `define_method`, C's `#define`)
    assert query_terms("where is the store defined") == ["store"]
    assert query_terms("define a store with getters") == ["define", "store", "getters"]
    # a stopword written as a name is searched for: capitalised in a sentence of lower-case words
    # (FluentValidation's `When` and `Unless`, SQL's `WHERE`), or in backticks; not a question's
    # first word, nor the words of a title written in capitals
    assert query_terms("conditional validation with When and Unless") == ["conditional", "validation", "when", "unless"]
    assert query_terms("Op and SqlExpressionBuilder for composing WHERE conditions") == [
        "op", "sqlexpressionbuilder", "sql", "expression", "builder", "composing", "where", "conditions"]
    assert query_terms("where is `use` registered") == ["use", "registered"]
    assert query_terms("When does the cache expire") == ["cache", "expire"]
    assert query_terms("How Does The Router Work") == ["router"]
    assert fts_match_expression(['a"b', "c"]) == '"a""b" OR "c"'


def test_a_language_is_named_as_people_name_it() -> None:
    swift = chunk("Sources/Cache.swift", "Cache", language="swift")
    objc = chunk("AFNetworking/AFSecurityPolicy.m", "AFSecurityPolicy", language="objc")
    for written in ("objc", "Objective-C", "obj-c"):
        check_request("pinned certificates", "lexical", 5, written)
        assert keep_chunk(objc, written, None) and not keep_chunk(swift, written, None)
    assert keep_chunk(swift, "Swift", None)
    assert keep_chunk(chunk("a.ts", "f", language="typescript"), "ts", None)
    assert keep_chunk(chunk("a.cc", "f", language="cpp"), "C++", None)
    assert keep_chunk(chunk("infra/main.tf", "logs", language="hcl"), "Terraform", None)
    assert keep_chunk(chunk("tools/defs.bzl", "f", language="starlark"), "bazel", None)
    with pytest.raises(QueryError, match="unknown language 'klingon'"):
        check_request("pinned certificates", "lexical", 5, "klingon")


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    fused = reciprocal_rank_fusion([[1, 2, 3], [3, 1, 4]])
    assert max(fused, key=fused.__getitem__) == 1
    assert fused[3] > fused[2] and fused[4] < fused[2]


def test_a_list_that_abstains_neither_costs_nor_earns() -> None:
    # 9 has no vector yet: dense search cannot rank it, so it is scored on the lexical list alone.
    fused = reciprocal_rank_fusion([[9, 1, 2], [1, 2]], abstaining=[(), {9}])
    assert fused[9] == 2 / 61  # as if dense had put it where lexical did
    assert fused[9] > fused[1] > fused[2]
    plain = reciprocal_rank_fusion([[9, 1, 2], [1, 2]])
    assert plain[9] < plain[1]  # without abstaining, a missing vector reads as "dense ranked it last"


def test_a_chunk_waiting_for_its_vector_keeps_its_lexical_rank_in_hybrid() -> None:
    chunks = {i: chunk(f"m{i}.py", f"f{i}") for i in range(1, 6)}
    lexical = [(5, 9.0), (1, 5.0), (2, 4.0)]
    dense = [(1, 0.9), (2, 0.8), (3, 0.7), (4, 0.6)]
    assert rank("q", chunks, lexical, dense, mode="hybrid", k=5)[0].chunk.symbol == "f1"
    ranked = rank("q", chunks, lexical, dense, mode="hybrid", k=5, unembedded={5})
    assert ranked[0].chunk.symbol == "f5"


def test_a_query_that_is_a_symbols_name_is_a_lookup_in_every_mode() -> None:
    chunks = {
        1: chunk("gen/a.py", "handler_number_1", text="def handler_number_1(request):\n    return 1"),
        2: chunk("gen/b.py", "handler_number_1499", text="def handler_number_1499(request):\n    return 1499"),
        3: chunk("gen/c.py", "handler_number_14", text="def handler_number_14(request):\n    return 14"),
    }
    lexical = [(1, 9.0), (3, 8.5), (2, 8.0)]
    dense = [(3, 0.9), (1, 0.8)]  # the definition has no vector yet
    for mode in ("lexical", "dense", "hybrid"):
        ranked = rank("handler_number_1499", chunks, lexical, dense, mode=mode, k=3)
        assert ranked[0].chunk.symbol == "handler_number_1499", mode
        assert ranked[0].score > ranked[1].score
    method = Chunk.build(path="web/router.go", language="go", symbol="ServeHTTP", qualified_name="Router.ServeHTTP",
                         kind="method", start_line=1, end_line=3, text="func (r *Router) ServeHTTP() {}")
    assert names_definition(method, "ServeHTTP") and names_definition(method, " Router.ServeHTTP ")
    assert names_definition(method, "Router::ServeHTTP")
    assert not names_definition(method, "serve http requests") and not names_definition(method, "serve_http")
    assert not names_definition(chunk("a.py", "main", kind="module"), "main")
    # the modules and outer types around a method may be left out of the name written
    nested = Chunk.build(path="lib/sidekiq/api.rb", language="ruby", symbol="latency",
                         qualified_name="Sidekiq.JobRecord.latency", kind="method", start_line=1, end_line=3,
                         text="def latency\n  now - enqueued_at\nend")
    assert names_definition(nested, "JobRecord#latency") and names_definition(nested, "Sidekiq::JobRecord#latency")
    assert not names_definition(nested, "Record#latency") and not names_definition(nested, "Queue#latency")
    # a compound name typed in lower case names it; a plain word does not name its capitalised class
    update = chunk("src/query-creator.ts", "updateTable", kind="method", language="typescript")
    assert names_definition(update, "updatetable") and not names_definition(update, "updateTablet")
    assert names_definition(method, "servehttp")
    assert not names_definition(chunk("src/session.py", "Session", kind="class"), "session")
    # Elixir's and Erlang's arity after the name
    listen = Chunk.build(path="lib/postgrex/notifications.ex", language="elixir", symbol="listen",
                         qualified_name="Postgrex.Notifications.listen", kind="method", start_line=137, end_line=166,
                         text="def listen(pid, channel, opts \\\\ []) do")
    assert names_definition(listen, "listen/3") and names_definition(listen, "Postgrex.Notifications.listen/3")
    assert lookup_name("listen/3") == ("listen", "listen", "listen") and lookup_name("src/listen.ex") is None
    helper = chunk("bin/load", "latency", kind="module", text="latency = JobRecord.new.latency")
    uses = chunk("test/api_test.rb", "test_latency", text="JobRecord#latency is measured")
    ranked = rank("JobRecord#latency", {1: helper, 2: uses, 3: nested}, [(1, 9.0), (2, 8.0), (3, 2.0)], [],
                  mode="lexical", k=3)
    assert ranked[0].chunk.qualified_name == "Sidekiq.JobRecord.latency"


def test_a_name_in_any_script_is_a_lookup() -> None:
    chunks = {
        1: chunk("billing/notes.py", "", kind="module", text="# größe_berechnen: größe in cm, größe der Sendung"),
        2: chunk("billing/rechnung.py", "größe_berechnen", text="def größe_berechnen(länge, breite, höhe): ..."),
        3: chunk("src/変数.py", "変数名を返す", text="def 変数名を返す(): ..."),
        4: chunk("src/other.py", "Größe.Einheit", kind="class", text="class Einheit: ..."),
    }
    lexical = [(1, 9.0), (2, 5.0), (3, 1.0), (4, 1.0)]
    for name, definition in (("größe_berechnen", 2), ("変数名を返す", 3), ("Größe.Einheit", 4)):
        assert names_definition(chunks[definition], name), name
        assert rank(name, chunks, lexical, [], mode="lexical", k=3)[0].chunk == chunks[definition], name


def test_a_lookup_finds_definitions_bm25_leaves_out_and_leads_with_the_file_named_for_them(
        tmp_path: Path, monkeypatch) -> None:
    import codesearch.search as search_module

    store = Store.open(tmp_path / "index", create=True)
    # C#'s partial classes: `SqlMapper` is defined in every file, named in every path, and the
    # main file's definition is long, so BM25 (length-normalised) ranks it last
    files = {f"SqlMapper.Part{n}.cs": "partial class SqlMapper { }" for n in range(4)}
    files["SqlMapper.cs"] = "partial class SqlMapper {\n" + "    int field;\n" * 80 + "}"
    with store.transaction():
        for number, (path, body) in enumerate(files.items()):
            store.replace_file(path, 1, 1, str(number), "csharp",
                               [chunk(path, "SqlMapper", kind="class", text=body, language="csharp")])
    assert len(store.definitions("SqlMapper", 10)) == 5 and store.definitions("sqlmapper", 10) == []
    monkeypatch.setattr(search_module, "CANDIDATES", 2)  # BM25's candidates: two short partial classes
    assert "SqlMapper.cs" not in [store.chunks_by_id([i])[i].path for i, _ in search_lexical(store, "SqlMapper", 2)]
    ranked = search_module.search(store, "SqlMapper", mode="lexical", k=3)
    assert ranked[0].chunk.path == "SqlMapper.cs"  # a candidate, and first: its file is named for it
    monkeypatch.setattr(search_module, "MAX_DEFINITIONS", 3)  # a name defined in more places names none
    assert [r.chunk.path for r in search_module.search(store, "SqlMapper", mode="lexical", k=3)][0] != "SqlMapper.cs"
    # an index made before the symbol index has none until the next `codesearch index`: no scan
    store.connection.execute("DROP INDEX chunks_symbol")
    reader = Store.open(tmp_path / "index")  # long-lived, as the live index's and a server's are
    assert reader.definitions("SqlMapper", 10) == []
    Store.open(tmp_path / "index", create=True)  # `codesearch index` adds the symbol index
    assert len(reader.definitions("SqlMapper", 10)) == 5  # the reader sees it without reopening


def test_a_lookup_of_a_c_typedef_s_name_leads_with_the_struct_it_names(tmp_path: Path) -> None:
    import codesearch.search as search_module

    def c_type(path: str, symbol: str, start: int, text: str, kind: str = "class") -> Chunk:
        return Chunk.build(path=path, language="c", symbol=symbol, qualified_name=symbol, kind=kind,
                           start_line=start, end_line=start + text.count("\n"), text=text)

    # nginx's `typedef struct ngx_http_request_s ngx_http_request_t;` in one header, the struct in
    # another: looked up by the name code uses, the one-line typedef had come first, alone
    store = Store.open(tmp_path / "index", create=True)
    files = {
        "src/http/ngx_http.h": [c_type("src/http/ngx_http.h", "ngx_http_request_t", 16,
                                       "typedef struct ngx_http_request_s     ngx_http_request_t;")],
        "src/http/ngx_http_request.h": [
            c_type("src/http/ngx_http_request.h", "ngx_http_request_s", 385,
                   "struct ngx_http_request_s {\n    uint32_t signature;\n" + "    ngx_uint_t x;\n" * 40 + "};"),
            c_type("src/http/ngx_http_request.h", "ngx_http_posted_request_s", 375,
                   "struct ngx_http_posted_request_s {\n    ngx_http_request_t *request;\n};")],
        "src/http/ngx_http_request.c": [
            c_type("src/http/ngx_http_request.c", "ngx_http_init_request", 20,
                   "void ngx_http_init_request(ngx_http_request_t *r) {\n    r->count = 1;\n}", kind="function")],
    }
    with store.transaction():
        for number, (path, chunks) in enumerate(files.items()):
            store.replace_file(path, 1, 1, str(number), "c", chunks)
    ranked = search_module.search(store, "ngx_http_request_t", mode="lexical", k=3)
    assert [r.chunk.symbol for r in ranked[:2]] == ["ngx_http_request_s", "ngx_http_request_t"]
    # a typedef that names its struct the same, or a type written in full, names no other type
    assert aliased_type(chunk("lua.h", "lua_State", kind="class", text="typedef struct lua_State lua_State;")) == ""
    assert aliased_type(chunk("a.h", "point_t", kind="class", text="typedef struct point { int x; } point_t;")) == ""
    assert aliased_type(chunk("uv.h", "uv_loop_t", kind="class",
                              text="/* the loop */\ntypedef struct uv_loop_s uv_loop_t;")) == "uv_loop_s"


def test_a_definition_marked_deprecated_gives_way_unless_the_query_asks_for_old_code() -> None:
    marked = [
        ("server.go", "go", "// Upgrade upgrades the connection.\n//\n// Deprecated: Use websocket.Upgrader instead.\n"
                            "func Upgrade(w http.ResponseWriter) (*Conn, error) {\n\treturn nil, nil\n}"),
        ("a.ts", "typescript", "/**\n * @deprecated use jotai-family\n */\nexport function atomFamily() {}"),
        ("A.java", "java", "@Deprecated\npublic JsonElement parse(String json) {\n  return null;\n}"),
        ("a.kt", "kotlin", '@Deprecated(\n    message = "Use Op",\n)\nobject SqlExpressionBuilder {\n}'),
        ("a.rs", "rust", '#[deprecated(since = "8.0.0")]\npub fn tuple() {}'),
        ("A.cs", "csharp", '[Obsolete("Use Query")]\npublic static void Run() { }'),
        ("a.swift", "swift", '@available(*, deprecated, message: "Use first")\nfunc first() {}'),
        ("a.py", "python", '@deprecated("Use new_thing")\ndef old_thing():\n    pass'),
    ]
    for path, language, text in marked:
        assert deprecated_prior(chunk(path, "f", text=text, language=language)) < 1.0, path
        assert deprecated_prior(chunk(path, "f", text=text, language=language), ("aside",)) == 1.0, path
    # a member's mark in the body, a deprecation the code emits, and prose about it are not the chunk's
    for text in ("class Conn {\n  @Deprecated\n  void old() {}\n}",
                 "def warn_old(name):\n    warnings.warn(f'{name} is deprecated', DeprecationWarning)",
                 "// Removes the deprecated headers.\nfunc clean() {}"):
        assert deprecated_prior(chunk("a.java", "f", kind="class", text=text)) == 1.0, text
    chunks = {1: chunk("server.go", "Upgrade", text=marked[0][2], language="go"),
              2: Chunk.build(path="handshake.go", language="go", symbol="Upgrade", qualified_name="Upgrader.Upgrade",
                             kind="method", start_line=1, end_line=3,
                             text="func (u *Upgrader) Upgrade(w http.ResponseWriter) *Conn {\n\treturn nil\n}")}
    assert order("upgrade HTTP connection to websocket", chunks, [(1, 10.0), (2, 8.0)])[0] == "handshake.go:1"
    assert order("deprecated upgrade function", chunks, [(1, 10.0), (2, 8.0)])[0] == "server.go:1"


def test_a_lookup_prefers_the_implementation_to_a_mock_of_the_same_name() -> None:
    chunks = {
        1: chunk("src/v4/tests/prototypes.test.ts", "ZodType", kind="class", language="typescript",
                 text="class ZodType {}"),
        2: chunk("src/v4/schemas.ts", "ZodType", kind="class", language="typescript",
                 text="export class ZodType<Output> {\n  parse(input) { return this._parse(input); }\n}"),
    }
    lexical = [(1, 9.0), (2, 1.0)]  # BM25 loves the two-line mock
    assert [r.chunk.path for r in rank("ZodType", chunks, lexical, [], mode="lexical", k=2)] == [
        "src/v4/schemas.ts", "src/v4/tests/prototypes.test.ts"]
    only_mock = {1: chunks[1], 3: chunk("src/use.ts", "useIt", text="const t = new ZodType()")}
    ranked = rank("ZodType", only_mock, [(3, 9.0), (1, 5.0)], [], mode="lexical", k=2)
    assert ranked[0].chunk.symbol == "ZodType"  # where only a test defines it, that is the definition


def test_a_lookup_of_a_definition_split_for_length_leads_with_its_first_piece() -> None:
    def piece(start: int, end: int, symbol: str = "KyOptions") -> Chunk:
        return Chunk.build(path="types/options.ts", language="typescript", symbol=symbol, qualified_name=symbol,
                           kind="class", start_line=start, end_line=end, text=f"{symbol} piece {start}")

    chunks = {1: piece(40, 169), 2: piece(170, 297), 3: piece(298, 389), 4: piece(400, 410)}
    lexical = [(3, 9.0), (4, 8.0), (2, 7.0), (1, 1.0)]  # BM25 likes the last piece best
    ranked = [r.chunk.start_line for r in rank("KyOptions", chunks, lexical, [], mode="lexical", k=4)]
    # the header comes before the pieces after it; 400-410 is a second definition of the name (not
    # joined to 298-389), so it keeps a lookup's full place and its BM25 order
    assert ranked[:2] == [400, 40]
    del chunks[4]
    assert [r.chunk.start_line for r in rank("KyOptions", chunks, lexical, [], mode="lexical", k=3)][0] == 40


def test_a_definition_outranks_a_use_and_tests_rank_below_code() -> None:
    chunks = {
        1: chunk("app/use.py", "caller", text="def caller():\n    return parse_config(path)"),
        2: chunk("app/config.py", "parse_config"),
        3: chunk("tests/test_config.py", "test_parse_config"),
    }
    lexical = [(1, 10.0), (3, 9.0), (2, 8.0)]
    ranked = rank("parse_config", chunks, lexical, [], mode="lexical", k=3)
    assert [r.chunk.symbol for r in ranked] == ["parse_config", "caller", "test_parse_config"]
    assert definition_boost(chunks[2], "where is parse config") > 1.0
    # a predicate is named without its `is`: kotlinx-datetime's `isLeapYear` for "leap year" had
    # been 32nd, below every chunk of `YearMonth.kt`; one word after it says too little
    assert definition_boost(chunk("dates.kt", "isLeapYear"), "leap year") > 1.0
    assert definition_boost(chunk("h.go", "has_type_handler"), "type handler mapping") > 1.0
    assert definition_boost(chunk("s.ts", "isEmpty"), "empty strings") == 1.0
    assert definition_boost(chunk("s.ts", "thisLeapYear"), "leap year") == 1.0
    # and an accessor without its `get`: jsoup's `getElementsByClass` for "find elements by class
    # name" (it had been below `Elements`, `Evaluator.Class` and `Element.className`)
    assert definition_boost(chunk("Element.java", "getElementsByClass"), "find elements by class name") > 1.0
    assert definition_boost(chunk("Node.java", "getValue"), "the value") == 1.0
    assert definition_boost(chunk("Node.java", "budgetElementsByClass"), "elements by class") == 1.0
    # and an interface without its `I`: MediatR's `IPipelineBehavior`
    behavior = chunk("IPipelineBehavior.cs", "IPipelineBehavior")
    assert definition_boost(behavior, "pipeline behavior around handlers") > 1.0
    assert definition_boost(chunk("ISender.cs", "ISender"), "sender") == 1.0
    # a compound name's part written short, as code writes it: neverthrow's `mapErr` for "map the
    # error value"; not the other way, and not a name of one part (its `err()` makes an `Err`)
    assert definition_boost(chunk("result.ts", "mapErr"), "map the error value") > 1.0
    assert definition_boost(chunk("flag.go", "parseBoolArg"), "parse a boolean argument") > 1.0
    assert definition_boost(chunk("result.ts", "err"), "map the error value") == 1.0
    assert definition_boost(chunk("errors.py", "error_handler"), "err handler") == 1.0
    # a verb names the doer code makes of it: ktorm's `SqlFormatter` for "format SQL expressions"
    # (Porter keeps `format` and `formatter` apart, so BM25 had put it 81st); one spelling or another
    assert definition_boost(chunk("SqlFormatter.kt", "SqlFormatter"), "format SQL expressions") > 1.0
    assert definition_boost(chunk("BlockParser.go", "BlockParser"), "parse a block") > 1.0
    assert definition_boost(chunk("Log.kt", "KspMavenLogger"), "log ksp maven messages") > 1.0
    assert definition_boost(chunk("V.java", "SchemaValidator"), "validate the schema") > 1.0
    assert definition_boost(chunk("SqlFormatter.kt", "SqlFormatter"), "SQL expressions") == 1.0
    # a constructor bears its class's name: a sentence that says it names the class
    profile = Chunk.build(path="Profile.cs", language="csharp", symbol="Profile", qualified_name="Profile",
                          kind="class", start_line=10, end_line=200, text="public class Profile {\n}")
    constructor = Chunk.build(path="Profile.cs", language="csharp", symbol="Profile", qualified_name="Profile.Profile",
                              kind="method", start_line=70, end_line=70, text="protected Profile() { }")
    assert definition_boost(profile, "profile classes grouping maps") > 1.0
    assert definition_boost(constructor, "profile classes grouping maps") == 1.0
    assert definition_boost(constructor, "Profile.Profile constructor") > 1.0  # written in full



def test_a_c_project_s_prefix_is_left_out_where_most_candidates_have_it() -> None:
    # nginx names every definition `ngx_...`: "parse HTTP request line" had put
    # `ngx_http_parse_request_line` 44th, below `ngx_http_parse_cookie_lines`
    names = ["ngx_http_parse_request_line", "ngx_http_parse_cookie_lines", "ngx_conf_parse", "ngx_str3_cmp"]
    chunks = {n: chunk(f"src/f{n}.c", name) for n, name in enumerate(names * 6)}
    chunks[99] = chunk("src/other.c", "parse_line_buffer")
    assert name_prefixes(chunks.values()) == {"ngx"}
    assert name_prefixes(list(chunks.values())[:10]) == frozenset()  # too few to tell
    prefixes = name_prefixes(chunks.values())
    request_line = chunk("src/ngx_http_parse.c", "ngx_http_parse_request_line")
    assert definition_boost(request_line, "parse HTTP request line", prefixes=prefixes) > 1.0
    assert definition_boost(request_line, "parse HTTP request line") == 1.0  # no prefix known
    # what is left after the prefix must be two words or more: "object" names no `json_object_object`
    assert definition_boost(chunk("o.h", "json_object_object"), "object members", prefixes=frozenset({"json"})) == 1.0
    # BM25 had put the short cookie function first; the candidates say the prefix is `ngx`
    candidates = {**chunks, 0: request_line, 1: chunk("src/ngx_http_parse.c", "ngx_http_parse_cookie_lines")}
    lexical = [(1, 11.0), (0, 10.0), *((n, 1.0) for n in candidates if n > 1)]
    ranked = rank("parse HTTP request line", candidates, lexical, [], mode="lexical", k=2)
    assert ranked[0].chunk.symbol == "ngx_http_parse_request_line"
    assert is_test_path("src/foo_test.go") and is_test_path("spec/models/user_spec.rb")
    assert is_test_path("test.c") and is_test_path("src/tests.rs")  # hiredis's tests are all in test.c
    assert not is_test_path("src/contest.py") and not is_test_path("src/latest.c")


def test_test_folders_and_test_support_are_tests_in_every_language_s_naming() -> None:
    tests = [
        "Tests/ArgumentParserUnitTests/Snapshots/testBase_Zsh().zsh",  # Swift packages: `Tests/`
        "Tests/AlamofireTests/SessionDelegate.swift",
        "tests/Dapper.Tests/Helpers/Attributes.cs",
        "exposed-r2dbc-tests/src/main/kotlin/Fixtures.kt",
        "src/AdapterTestUtilities/ToxiproxyManagement.php",  # flysystem's shared test base
        "src/Ftp/FtpAdapterTestCase.php",
        "Sources/ArgumentParserTestHelpers/TestHelpers.swift",
        "internal/testutil/server.go",
        "src/test-helpers/render.ts",
        "testdata/config.go",
        "fixtures/users.rb",
        "src/__mocks__/fs.ts",
        "internal/mocks/store.go",
        "install.bats",  # Bats: every `.bats` file is a test
        "conftest.py",
        "test-setup.mjs", "src/setupTests.ts", "vitest.setup.ts",  # Jest's and Vitest's setup (yup's)
        "internal/mock_store.go",
        "store_mock.go",
        "testes/strings.lua",  # Lua's own tests
        "kotlinpoet/src/jvmTest/kotlin/TestFiler.kt",  # Kotlin's and Gradle's source sets
        "okio-assetfilesystem/src/androidTest/java/AssetFileSystemTest.java",
        "src/integrationTest/java/ClientIT.java",
        "binCompatTest/src/main/scala/Compat.scala",
        "lib/src/testFixtures/java/Users.java",
        "codemod/zod-to-valibot/__testfixtures__/object/input.ts",  # jscodeshift's
        "src/__fixtures__/config.js",
        "library/src/methods/flatten/flatten.test-d.ts",  # tsd's and Vitest's type tests
        "packages/remeda/src/groupBy.test-prop.ts",  # property tests
        "dtslint/Decoder.ts", "spec-dtslint/operators/map-spec.ts",  # dtslint's (io-ts', RxJS')
        "test-d/index.ts", "typetests/schema.ts",
        "__performance_tests__/todo.mjs",  # immer's: Jest's kinds of `__tests__`
        "perf-testing/immutability-benchmarks.mjs",
        "ossfuzz/round_trip_stream_fuzzer.c",  # fuzzing harnesses: OSS-Fuzz's, cargo-fuzz's, atheris'
        "oss-fuzz/decompress.c",
        "fuzz/fuzz_targets/parse.rs",
        "tests/fuzzing/fuzz_json.py",
        "src/parser_fuzzer.cc",
        "regress/pane-ops.sh",  # OpenBSD's and tmux's regression tests
        "tests/regression/issue_12.py",
        "core-tests/DependentTestGroup.hs", "test/Test/Tasty/Run.hs",  # Haskell's tests, as every language's
    ]
    assert [path for path in tests if not is_test_path(path)] == []
    code = ["Source/Requests/Session.swift", "src/contest_utils/score.py", "lib/latest/version.rb",
            "src/attestation/verify.go", "pkg/manifests/load.go", "src/protest_helpers/march.py",
            "src/mockingbird.py", "src/testers/pool.py", "src/Testimonials/Card.tsx", "src/jvmMain/kotlin/Util.kt",
            "src/typetest.ts", "src/dtslinter.ts",
            "src/afl-fuzz.c", "src/fuzzy/match.py", "src/regression.py", "lib/regressors/linear.py",
            "setup.py", "src/setup.ts",  # a package's or an app's setup
            # named as tests are, in a production source set: kotlinpoet's specs, JUnit's annotation
            "kotlinpoet/src/jvmMain/kotlin/com/squareup/kotlinpoet/TypeAliasSpec.kt",
            "src/main/java/com/squareup/javapoet/TypeSpec.java", "src/main/java/org/junit/Test.java",
            # Haskell's `Test.` namespace, where testing libraries keep their code
            "core/Test/Tasty/Run.hs", "src/Test/QuickCheck.hs", "src/Test/Hspec/Core/Runner.hs"]
    assert [path for path in code if is_test_path(path)] == []
    # a test folder is a test folder in any source set (a module of test support's own `main`)
    assert is_test_path("exposed-tests/src/main/kotlin/org/jetbrains/exposed/DatabaseTestsBase.kt")
    assert is_test_path("kotlinpoet/src/jvmTest/kotlin/com/squareup/kotlinpoet/TypeAliasSpecTest.kt")
    assert is_test_path("src/test/scala/cats/FooSpec.scala") and is_test_path("src/FooSpec.scala")


def test_a_test_written_beside_the_code_it_tests_ranks_below_that_code() -> None:
    def named(path: str, qualified: str, language: str) -> Chunk:
        return Chunk.build(path=path, language=language, symbol=qualified.rsplit(".", 1)[-1], qualified_name=qualified,
                           kind="function", start_line=1, end_line=9, text=f"{qualified} reads the origin header")

    rust_test = named("src/cors.rs", "tests.allows_any_origin", "rust")
    zig_test = named("src/httpz.zig", '"httpz: CORS wildcard origin"', "zig")
    code = named("src/cors.rs", "Cors.check", "rust")
    # a test module named for what it tests, as pulldown-cmark names them (`mod test_special_string`,
    # `mod simd_test`): its `cowstr_size` had been fourth for "escape HTML special characters"
    named_module = named("src/cors.rs", "test_origin_header.allows_any_origin", "rust")
    nested = named("src/cors.rs", "simd.cors_tests.allows_any_origin", "rust")
    for test in (rust_test, zig_test, named_module, nested):
        assert inline_test_prior(test, ["cors", "origin"]) < inline_test_prior(code, ["cors", "origin"]) == 1.0
        assert inline_test_prior(test, ["cors", "origin", "tests"]) == 1.0  # asked for
    chunks = {1: zig_test, 2: code, 3: rust_test, 4: named_module}
    ranked = rank("which origin does cors allow", chunks, [(1, 9.0), (4, 8.8), (3, 8.5), (2, 7.0)], [],
                  mode="lexical", k=4)
    assert ranked[0].chunk.qualified_name == "Cors.check"
    # a test in a test file is counted once, by its path
    in_test_file = named("tests/cors.rs", "tests.allows_any_origin", "rust")
    assert inline_test_prior(in_test_file, ["cors"]) == 1.0 and path_prior("tests/cors.rs", ["cors"]) < 1.0
    assert inline_test_prior(named("src/latest.rs", "latest.contest", "rust"), ["contest"]) == 1.0
    assert inline_test_prior(named("src/fetch.rs", "Request.test_connection", "rust"), ["connection"]) == 1.0
    # Haskell's QuickCheck properties beside the checks they test; a Python `prop_` is a name like another
    prop = named("src/ShellCheck/Analytics.hs", "prop_checkShebang1", "haskell")
    check = named("src/ShellCheck/Analytics.hs", "checkShebang", "haskell")
    assert inline_test_prior(prop, ["shebang"]) < inline_test_prior(check, ["shebang"]) == 1.0
    assert inline_test_prior(named("src/model.py", "prop_getter", "python"), ["getter"]) == 1.0
    ranked = rank("check the shebang", {1: prop, 2: check}, [(1, 9.0), (2, 7.0)], [], mode="lexical", k=2)
    assert ranked[0].chunk.qualified_name == "checkShebang"


def test_a_qualified_name_written_in_a_sentence_names_its_definition_however_short() -> None:
    set_ = Chunk.build(path="lib/application.js", language="javascript", symbol="set", qualified_name="app.set",
                       kind="function", start_line=1, end_line=9, text="app.set = function set(setting, val) {}")
    assert definition_boost(set_, "set the settings") == 1.0  # `set` alone says too little
    assert definition_boost(set_, "app.set and settings storage") > 1.0
    assert definition_boost(set_, "how does express::app::set store settings") > 1.0
    assert definition_boost(set_, "res.set and headers") == 1.0  # another object's `set`


def test_a_name_written_with_underscores_a_dollar_or_a_bang_is_named_without_them() -> None:
    sections = chunk("indexer/chunker.py", "_sections")
    error = chunk("core/errors.ts", "$ZodError", kind="class", language="typescript")
    assert definition_boost(sections, "split a file into sections") == definition_boost(
        chunk("a.py", "sections"), "split a file into sections") > 1.0
    assert definition_boost(error, "ZodError structure") > definition_boost(error, "error structure") == 1.0
    assert definition_boost(chunk("a.py", "_id"), "the id of a row") == 1.0  # two letters say too little
    assert definition_boost(chunk("base.rb", "route!", language="ruby"), "how a route is dispatched") > 1.0
    private = chunk("src/select-query-builder.ts", "#join", kind="method", language="typescript")
    assert definition_boost(private, "add a join to the query") > 1.0  # JavaScript's private `#join`


def test_a_lookup_whose_head_is_a_package_names_the_definition_it_ends_with() -> None:
    command = chunk("command.go", "Command", kind="class", language="go")
    use = chunk("scripts/build.go", "main", language="go", text="app := &cli.Command{Name: \"build\"}")
    chunks = {1: command, 2: use}
    assert order("cli.Command", chunks, [(2, 9.0), (1, 3.0)]) == ["command.go:1", "scripts/build.go:1"]
    from_str = chunk("src/de.rs", "from_str", language="rust")
    assert order("serde_json::from_str", {1: use, 2: from_str}, [(1, 9.0), (2, 3.0)])[0] == "src/de.rs:1"
    # PHP writes its namespaces with `\`, from the root with one before
    dotenv = chunk("src/Dotenv.php", "Dotenv", kind="class", language="php")
    imports = chunk("src/Validator.php", "", kind="module", language="php", text="use Dotenv\\Dotenv;")
    for name in ("Dotenv\\Dotenv", "\\Dotenv\\Dotenv"):
        assert lookup_name(name) == (name, "Dotenv.Dotenv", "Dotenv")
        assert order(name, {1: imports, 2: dotenv}, [(1, 9.0), (2, 3.0)])[0] == "src/Dotenv.php:1"
    # where the whole name names a definition, the ones that only end with it are not lookups
    set_ = Chunk.build(path="lib/response.js", language="javascript", symbol="set", qualified_name="res.set",
                       kind="function", start_line=1, end_line=9, text="res.set = function set(field, val) {}")
    other = chunk("lib/utils.js", "set", language="javascript")
    assert order("res.set", {1: other, 2: set_}, [(1, 9.0), (2, 3.0)]) == ["lib/response.js:1", "lib/utils.js:1"]


def test_a_type_looked_up_by_name_leads_its_declarations_extensions_and_later_pieces() -> None:
    def type_chunk(path: str, language: str, start: int, end: int, text: str) -> Chunk:
        return Chunk.build(path=path, language=language, symbol="State", qualified_name="State", kind="class",
                           start_line=start, end_line=end, text=text)

    # BM25 favours the short chunks: the first in each list ranks highest before the rule
    cases = [
        [type_chunk("lua.h", "c", 56, 56, "typedef struct State State;"),
         type_chunk("lstate.h", "c", 282, 312, "struct State {\n  lu_byte status;\n  StkId top;\n};")],
        [type_chunk("src/de.rs", "rust", 41, 70, "impl<R> State<R>\nwhere\n    R: Read,\n{\n    fn new() {}\n}"),
         type_chunk("src/de.rs", "rust", 30, 39, "/// A state.\n#[derive(Debug)]\npub struct State<R> {\n}")],
        [type_chunk("Sources/State.swift", "swift", 491, 546, "// MARK: - Private\nextension State {\n}"),
         type_chunk("Sources/State.swift", "swift", 16, 487, "public struct State: Sendable {\n    var y: Int\n}")],
        # an outline too long for one chunk: the later piece starts with a member's head
        [type_chunk("Core/State.swift", "swift", 1126, 1354, "    func upload(_ data: Data) -> Request {\n    }"),
         type_chunk("Core/State.swift", "swift", 27, 1117, "/// Holds it.\nopen class State {\n    func a() {}")],
        # a companion object and an interface merged into a class give way to the class; a
        # Haskell instance to its class
        [type_chunk("src/scopt/OParser.scala", "scala", 258, 300, "object State {\n  def apply() = new State()"),
         type_chunk("src/scopt/OParser.scala", "scala", 85, 250, "/** Parser. */\nclass State(head: Def) {")],
        [type_chunk("src/array.ts", "typescript", 297, 310, "export default interface State<\n  TIn,\n> {"),
         type_chunk("src/array.ts", "typescript", 50, 293, "export default class State<\n  TIn,\n> extends Schema {")],
        [type_chunk("src/State.scala", "scala", 4, 7, "object State {\n  case object One extends State\n}"),
         type_chunk("src/State.scala", "scala", 3, 3, "trait State")],
        [type_chunk("src/Internal.hs", "haskell", 257, 258, "instance State NondetT where\n  lift = NondetT"),
         type_chunk("src/Class.hs", "haskell", 20, 30, "class State t where\n  lift :: m a -> t m a")],
        # attributes on the head's own line (Swift's `@MainActor`, Java's annotations)
        [type_chunk("Sources/State+Ext.swift", "swift", 1, 20, "extension State {\n  func x() {}\n}"),
         type_chunk("Sources/Core.swift", "swift", 10, 90, "/// The state.\n@MainActor public final class State {")],
        [type_chunk("src/StateExt.kt", "kotlin", 1, 20, "fun State.x() {}\n"),
         type_chunk("src/State.kt", "kotlin", 10, 90,
                    "@Deprecated(\n  \"\"\"Moved.\"\"\",\n  level = ERROR,\n)\npublic class State : Adapter() {")],
        # a doc comment whose lines have no `*` before them, which names the type in its prose (jsoup)
        [type_chunk("nodes/State.java", "java", 920, 1965, "\n    public State appendState(String tagName) {\n"),
         type_chunk("nodes/State.java", "java", 43, 917,
                    "/**\n A State consists of a tag name.\n <p>\n Or an interface State.\n */\npublic class State {")],
        # C++ writes its template on the line before the head
        [type_chunk("format.h", "cpp", 3963, 3964, "template <typename T>\nstruct State<T[]> : State<T> {};"),
         type_chunk("ranges.h", "cpp", 773, 790, "// ranges\nclass helper {\n  int x;\n};")],
        # an extension in the file named after the type gives way to the type itself, elsewhere
        [type_chunk("src/state.rs", "rust", 694, 699, "impl Deref for State {\n}"),
         type_chunk("src/lib.rs", "rust", 288, 392, "pub struct State {\n    inner: Own,\n}")],
        [type_chunk("lib/encoder.ex", "elixir", 178, 182, "defimpl State, for: Atom do\nend"),
         type_chunk("lib/encoder.ex", "elixir", 1, 75, "defprotocol State do\nend")],
    ]
    expected = ["lstate.h:282", "src/de.rs:30", "Sources/State.swift:16", "Core/State.swift:27",
                "src/scopt/OParser.scala:85", "src/array.ts:50", "src/State.scala:3", "src/Class.hs:20",
                "Sources/Core.swift:10", "src/State.kt:10", "nodes/State.java:43", "format.h:3963",
                "src/lib.rs:288", "lib/encoder.ex:1"]
    for (first, second), answer in zip(cases, expected, strict=True):
        assert order("State", {1: first, 2: second}, [(1, 9.0), (2, 5.0)], k=2)[0] == answer
    # a class whose outline is cut in pieces, a constructor among the members: the piece with
    # its head leads, not the one the constructor's head is in
    def java(qualified: str, kind: str, start: int, end: int, text: str) -> Chunk:
        return Chunk.build(path="stream/JsonReader.java", language="java", symbol="JsonReader", kind=kind,
                           qualified_name=qualified, start_line=start, end_line=end, text=text)

    pieces = {1: java("JsonReader", "class", 30, 179, "/**\n * Reads a JSON value.\n */"),
              2: java("JsonReader", "class", 180, 478, "public class JsonReader implements Closeable {"),
              3: java("JsonReader", "class", 491, 1891, "  public JsonReader(Reader in) {\n  public void close()"),
              4: java("JsonReader.JsonReader", "method", 313, 316, "  public JsonReader(Reader in) {\n  }")}
    assert order("JsonReader", pieces, [(4, 9.0), (3, 8.0), (1, 7.0), (2, 6.0)], k=1) == ["stream/JsonReader.java:180"]


def test_a_query_that_is_a_file_s_name_leads_with_that_file() -> None:
    def script(path: str, text: str) -> Chunk:
        return Chunk.build(path=path, language="bash", symbol="", qualified_name="", kind="module",
                           start_line=1, end_line=18, text=text)

    version = script("libexec/rbenv-version", "# Summary: Show the current Ruby version\nrbenv-version-name")
    versions = script("libexec/rbenv-versions", "# Summary: List installed Ruby versions\nrbenv-version-name")
    chunks = {1: versions, 2: version}
    assert order("rbenv-version", chunks, [(1, 9.0), (2, 8.0)]) == [
        "libexec/rbenv-version:1", "libexec/rbenv-versions:1"]
    assert order("rbenv version", chunks, [(1, 9.0), (2, 8.0)])[0] == "libexec/rbenv-versions:1"  # words: BM25 decides
    # the end of a path names its file too, and the file reads from its top
    def ruby(path: str, qualified: str, start: int) -> Chunk:
        return Chunk.build(path=path, language="ruby", symbol=qualified.rsplit(".", 1)[-1], qualified_name=qualified,
                           kind="class", start_line=start, end_line=start + 9, text=f"class {qualified}\nend")

    retry_set = ruby("lib/sidekiq/api.rb", "Sidekiq.RetrySet", 916)
    utils = ruby("lib/sidekiq/api.rb", "Sidekiq.ApiUtils", 20)
    web_api = ruby("lib/sidekiq/web/api.rb", "Sidekiq.WebApi", 1)
    chunks = {1: web_api, 2: retry_set, 3: utils}
    lexical = [(1, 9.0), (2, 8.0), (3, 7.0)]
    for query in ("sidekiq/api.rb", "lib/sidekiq/api.rb", "./lib/sidekiq/api.rb"):
        assert order(query, chunks, lexical) == ["lib/sidekiq/api.rb:20", "lib/sidekiq/api.rb:916",
                                                 "lib/sidekiq/web/api.rb:1"], query
    ranked = order("api.rb", chunks, lexical)  # two files of that name: each from its top
    assert sorted(ranked) == sorted(["lib/sidekiq/web/api.rb:1", "lib/sidekiq/api.rb:20", "lib/sidekiq/api.rb:916"])
    assert ranked.index("lib/sidekiq/api.rb:916") == ranked.index("lib/sidekiq/api.rb:20") + 1
    # in a catalog, two repositories' files of one path are two files, each read from its top
    def go(start: int) -> Chunk:
        return Chunk.build(path="cmd/main.go", language="go", symbol=f"f{start}", qualified_name=f"f{start}",
                           kind="function", start_line=start, end_line=start + 3, text=f"func f{start}() {{}}")

    repos = {1 << 32 | 1: go(40), 1 << 32 | 2: go(10), 2 << 32 | 1: go(5), 2 << 32 | 2: go(90)}
    found = rank("cmd/main.go", repos, [(1 << 32 | 1, 9.0), (1 << 32 | 2, 8.0), (2 << 32 | 1, 3.0), (2 << 32 | 2, 2.0)],
                 [], mode="lexical", k=4, file_of=lambda gid: f"{gid >> 32}/{repos[gid].path}")
    assert [r.chunk.start_line for r in found] == [10, 40, 5, 90]


def test_a_class_looked_up_by_name_leads_its_constructors() -> None:
    def java(symbol: str, qualified: str, kind: str, start: int, end: int) -> Chunk:
        return Chunk.build(path="cli/DefaultParser.java", language="java", symbol=symbol, qualified_name=qualified,
                           kind=kind, start_line=start, end_line=end, text=f"public {symbol}() {{}}")

    parser = java("DefaultParser", "DefaultParser", "class", 30, 859)
    constructor = java("DefaultParser", "DefaultParser.DefaultParser", "method", 294, 304)
    other = java("DefaultParser", "DefaultParser.DefaultParser", "method", 245, 266)
    use = chunk("cli/Main.java", "main", language="java", text="new DefaultParser().parse(args)")
    chunks = {1: parser, 2: constructor, 3: other, 4: use}
    # BM25 prefers the short constructors, whose every line says the name
    assert order("DefaultParser", chunks, [(2, 9.0), (3, 8.0), (4, 7.0), (1, 6.0)], k=4) == [
        "cli/DefaultParser.java:30", "cli/DefaultParser.java:294", "cli/DefaultParser.java:245", "cli/Main.java:1"]


def test_a_word_that_relates_two_things_names_no_definition() -> None:
    between = chunk("core/SQLExpressionBuilder.kt", "between", kind="method", language="kotlin")
    column_type = chunk("core/ColumnType.kt", "ColumnType", kind="class", language="kotlin")
    query = "ColumnType mapping between Kotlin types and SQL types"
    assert definition_boost(between, query) == 1.0 < definition_boost(column_type, query)
    assert definition_boost(chunk("lib/hooks.py", "before_sleep"), "before sleep hook") > 1.0  # a name, not a relation
    ranked = rank(query, {1: between, 2: column_type}, [(1, 9.0), (2, 6.0)], [], mode="lexical", k=2)
    assert ranked[0].chunk.symbol == "ColumnType"


def test_a_word_in_most_of_the_index_names_no_definition_unless_written_qualified(tmp_path: Path) -> None:
    atom = chunk("src/vanilla/atom.ts", "atom", language="typescript")
    storage = chunk("src/vanilla/utils/atomWithStorage.ts", "atomWithStorage", language="typescript")
    query = "persist an atom's value in localStorage"
    assert definition_boost(atom, query) > 1.0 == definition_boost(atom, query, common={"atom"})
    fmt_format = chunk("include/fmt/format.h", "format", language="cpp")
    assert definition_boost(fmt_format, "how fmt::format formats strings", common={"fmt", "format"}) > 1.0
    ranked = rank(query, {1: atom, 2: storage}, [(2, 1.0), (1, 0.9)], [], mode="lexical", k=2)
    assert ranked[0].chunk.symbol == "atom"  # without the counts, `atom` is named
    ranked = rank(query, {1: atom, 2: storage}, [(2, 1.0), (1, 0.9)], [], mode="lexical", k=2, common={"atom"})
    assert ranked[0].chunk.symbol == "atomWithStorage"

    # through `search`: the counts are the index's own
    import codesearch.search as search_module

    store = Store.open(tmp_path / "index", create=True)
    with store.transaction():
        store.replace_file("atom.ts", 1, 1, "a", "typescript", [chunk(
            "atom.ts", "atom", language="typescript", text="export function atom(read) { return { read } }")])
        store.replace_file("storage.ts", 1, 1, "s", "typescript", [chunk(
            "storage.ts", "atomWithStorage", language="typescript",
            text="export function atomWithStorage(key, value) {\n  // persist the atom in localStorage\n"
                 "  const base = atom(value)\n  localStorage.setItem(key, base)\n}")])
        for n in range(3):
            store.replace_file(f"u{n}.ts", 1, 1, str(n), "typescript", [chunk(
                f"u{n}.ts", f"useAtom{n}", language="typescript", text=f"export const useAtom{n} = atom({n})")])
    assert search_module.common_words(store, query) == {"atom"}
    assert search_module.search(store, query, mode="lexical", k=1)[0].chunk.symbol == "atomWithStorage"
    assert search_module.search(store, "atom", mode="lexical", k=1)[0].chunk.symbol == "atom"  # a lookup still
    store.close()


def test_a_protocol_hook_is_named_only_where_the_query_writes_it_whole() -> None:
    hook = chunk("tenacity/stop.py", "__call__", kind="method")
    helper = chunk("tenacity/__init__.py", "_post_stop_check_actions", kind="method",
                   text="def _post_stop_check_actions(self):\n    self.before_sleep(retry_state)  # call the hook")
    assert definition_boost(hook, "call a hook before sleeping between attempts") == 1.0
    assert definition_boost(hook, "how __call__ decides to stop") > 1.0
    assert definition_boost(chunk("lib/plug/builder.ex", "__using__", language="elixir"), "using a plug") == 1.0
    assert definition_boost(chunk("lib/rack/app.rb", "call", language="ruby"), "call the app") > 1.0  # a plain name
    ranked = rank("call a hook before sleeping", {1: hook, 2: helper}, [(2, 9.0), (1, 8.0)], [], mode="lexical", k=2)
    assert ranked[0].chunk.symbol == "_post_stop_check_actions"


def test_a_method_declared_without_a_body_gives_way_to_its_implementation() -> None:
    doc = "    /**\n     * Build the URL for a named route.\n     * @param string $routeName\n     */\n"
    declared = chunk("Interfaces/RouteParserInterface.php", "urlFor", kind="method", language="php",
                     text=doc + "    public function urlFor(string $routeName): string;")
    body = "    public function urlFor(string $routeName): string\n    {\n        return $this->base;\n    }"
    implemented = chunk("Routing/RouteParser.php", "urlFor", kind="method", language="php", text=body)
    assert declaration_prior(declared) < declaration_prior(implemented) == 1.0
    ranked = rank("build a url for a named route", {1: declared, 2: implemented}, [(1, 9.0), (2, 7.0)], [],
                  mode="lexical", k=2)
    assert [r.chunk.path for r in ranked] == ["Routing/RouteParser.php", "Interfaces/RouteParserInterface.php"]
    arrow = chunk("src/math.ts", "double", language="typescript", text="export const double = (x: number) =>\n  x * 2;")
    python = chunk("app/base.py", "run", kind="method", text='def run(self):\n    raise NotImplementedError;')
    assert declaration_prior(arrow) == declaration_prior(python) == 1.0  # a body without braces
    # Dart: an abstract method ends with `;`, as a getter written with `=>` does
    abstract = chunk("lib/src/storage.dart", "write", kind="method", language="dart",
                     text="  /// Persists the value.\n  Future<void> write(String key, dynamic value);")
    getter = chunk("lib/src/body.dart", "isEmpty", kind="method", language="dart",
                   text="  bool get isEmpty => _body.contentLength == 0;")
    assert declaration_prior(abstract) < declaration_prior(getter) == 1.0
    # Python: a typing overload, and a Protocol's method whose body is `...`, give way to the code
    overload = chunk("src/click/decorators.py", "command", language="python",
                     text="@t.overload\ndef command(\n    name: str | None,\n) -> t.Callable[[F], Command]: ...")
    protocol = chunk("src/io.py", "read", kind="method", language="python",
                     text='    def read(self, n: int) -> bytes:\n        """Read n bytes."""\n        ...')
    implemented = chunk("src/click/decorators.py", "command", language="python",
                        text="def command(name=None, cls=None, **attrs):\n    return decorator(name)")
    ellipsis_inside = chunk("src/a.py", "first", language="python", text="def first(x):\n    return x[...]")
    assert declaration_prior(overload) == declaration_prior(protocol) < 1.0
    assert declaration_prior(implemented) == declaration_prior(ellipsis_inside) == 1.0


def test_a_signature_without_a_body_in_kotlin_swift_or_scala_gives_way_to_its_implementation() -> None:
    doc = "  /**\n   * Discards all bytes in this buffer. {@link Buffer}\n   */\n"
    expected = chunk("okio/src/commonMain/kotlin/okio/Buffer.kt", "clear", kind="method", language="kotlin",
                     text=doc + "  expect fun clear()")
    actual = chunk("okio/src/jvmMain/kotlin/okio/Buffer.kt", "clear", kind="method", language="kotlin",
                   text="  actual fun clear() = skip(size)")
    assert declaration_prior(expected) < declaration_prior(actual) == 1.0
    ranked = rank("discard all bytes in the buffer", {1: expected, 2: actual}, [(1, 9.0), (2, 7.0)], [],
                  mode="lexical", k=2)
    assert [r.chunk.path for r in ranked][0] == "okio/src/jvmMain/kotlin/okio/Buffer.kt"
    declared = {
        "kotlin": ["  @Throws(IOException::class)\n  fun readByte(): Byte", "  suspend fun <T> await(): T"],
        "swift": ["  /// The next element.\n  mutating func next() -> Element?", "  init?(argument: String)"],
        "scala": ["  def size: Int"],
    }
    bodies = {
        "kotlin": ["  override fun sqlType(): String = \"INT\"", "  fun sqlType(): String {\n    return \"INT\"\n  }",
                   "    commonSubstring(beginIndex, endIndex)"],  # the last lines of a long body cut in pieces
        "swift": ["  func next() -> Element? {\n    nil\n  }"],
        "scala": ["  def size: Int = 3"],
    }
    for language, texts in declared.items():
        for text in texts:
            assert declaration_prior(chunk("a", "f", kind="method", language=language, text=text)) < 1.0, text
    for language, texts in bodies.items():
        for text in texts:
            assert declaration_prior(chunk("a", "f", kind="method", language=language, text=text)) == 1.0, text


def test_a_header_s_run_of_prototypes_gives_way_to_the_definitions() -> None:
    prototypes = ("/* Render a cJSON entity to text for transfer/storage. */\n"
                  "CJSON_PUBLIC(char *) cJSON_Print(const cJSON *item);\n"
                  "/* Delete a cJSON entity and all subentities. */\n"
                  "CJSON_PUBLIC(void) cJSON_Delete(cJSON *item);\n"
                  "#define cJSON_ArrayForEach(element, array) for (;;)\n"
                  "CJSON_PUBLIC(cJSON *) cJSON_ParseWithLength(const char *value,\n"
                  "                                            size_t buffer_length);\n"
                  "CJSON_PUBLIC(int) cJSON_GetArraySize(const cJSON *array) __attribute__((pure));")
    header = Chunk.build(path="cJSON.h", language="c", symbol="", qualified_name="", kind="module",
                         start_line=84, end_line=95, text=prototypes)
    body = "CJSON_PUBLIC(void) cJSON_Delete(cJSON *item)\n{\n    global_hooks.deallocate(item);\n}"
    definition = Chunk.build(path="cJSON.c", language="c", symbol="cJSON_Delete", qualified_name="cJSON_Delete",
                             kind="function", start_line=252, end_line=276, text=body)
    assert declaration_prior(header) < declaration_prior(definition) == 1.0
    ranked = rank("delete a cJSON entity", {1: header, 2: definition}, [(1, 9.0), (2, 7.0)], [], mode="lexical", k=2)
    assert [r.chunk.path for r in ranked] == ["cJSON.c", "cJSON.h"]
    # in a header, not prototypes: a struct, variables set by calls; and prototypes outside a header
    for path, text in [("cJSON.h", "typedef struct cJSON {\n    int type;\n} cJSON;\nextern int depth;\n"),
                       ("table.h", "static int a = f(1);\nstatic int b = g(2);\nstatic int c = h(3);\n"),
                       ("cJSON.c", prototypes)]:
        other = Chunk.build(path=path, language="c", symbol="", qualified_name="", kind="module", start_line=1,
                            end_line=5, text=text)
        assert declaration_prior(other) == 1.0, path


def test_queries_about_tests_keep_tests_up() -> None:
    chunks = {1: chunk("app/a.py", "alpha"), 2: chunk("tests/test_a.py", "beta")}
    lexical = [(2, 10.0), (1, 9.0)]
    assert rank("tests for parsing", chunks, lexical, [], mode="lexical", k=2)[0].chunk.path == "tests/test_a.py"
    assert rank("parsing", chunks, lexical, [], mode="lexical", k=2)[0].chunk.path == "app/a.py"
    # unless the word is what the code names: kotlinpoet's `TypeAliasSpec`, lazy.nvim's `Spec`
    specs = {1: chunk("src/main/kotlin/TypeAliasSpec.kt", "TypeAliasSpec", language="kotlin"),
             2: chunk("src/test/kotlin/TypeAliasSpecTest.kt", "TypeAliasSpecTest.aliases", language="kotlin")}
    assert rank("type alias spec", specs, lexical, [], mode="lexical", k=2)[0].chunk is specs[1]
    assert not asks_for_tests(["type", "alias", "spec"], specs.values())
    assert asks_for_tests(["plugin", "specs"], [chunk("lua/plugin.lua", "Plugin", language="lua")])
    assert not asks_for_tests(["plugin", "specs"], [chunk("lua/plugin.lua", "Spec", language="lua")])
    assert asks_for_tests(["type", "alias", "spec"], [specs[2]])  # a test's own name names no code


def test_hybrid_uses_both_lists_and_dense_mode_only_vectors() -> None:
    chunks = {i: chunk(f"m{i}.py", f"f{i}") for i in range(1, 5)}
    hybrid = rank("q", chunks, [(1, 5.0), (2, 4.0)], [(2, 0.9), (3, 0.8)], mode="hybrid", k=4)
    assert hybrid[0].chunk.symbol == "f2"
    dense = rank("q", chunks, [(1, 5.0)], [(3, 0.9), (4, 0.5)], mode="dense", k=4)
    assert [r.chunk.symbol for r in dense] == ["f3", "f4"]


def test_in_hybrid_a_chunk_holding_more_of_the_query_gains_unless_the_query_names_another() -> None:
    # Fusion tied 1 and 2 (each first in one list); only 2's code holds the query's words.
    chunks = {1: chunk("a.py", "alpha", text="def alpha():\n    return compute()\n" * 3),
              2: chunk("b.py", "beta", text="def beta():\n    retry_upload()\n" * 3)}
    lexical, dense = [(1, 5.0), (2, 4.0)], [(2, 0.9), (1, 0.8)]
    tied = rank("retry failed uploads", chunks, lexical, dense, mode="hybrid", k=2)
    assert tied[0].score == tied[1].score
    covered = rank("retry failed uploads", chunks, lexical, dense, mode="hybrid", k=2, coverage={2: 2 / 3})
    assert [r.chunk.symbol for r in covered] == ["beta", "alpha"]
    # a definition the query names keeps its own boost and takes no coverage on top
    named = rank("alpha retry", chunks, lexical, dense, mode="hybrid", k=2, coverage={1: 1.0, 2: 0.5})
    assert named[0].chunk.symbol == "alpha"
    assert named[0].score == rank("alpha retry", chunks, lexical, dense, mode="hybrid", k=2,
                                  coverage={2: 0.5})[0].score


def test_coverage_counts_stemmed_terms_in_a_chunks_code_not_its_path(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "index", create=True)
    files = {  # `upload` is in most paths: BM25 gives it no weight, and coverage leaves it out
        "upload/retry.py": "def retry_upload(parts):\n    return send(parts)\n",
        "upload/parse.py": "def parse_parts(text):\n    return text.split()\n",
        "upload/other.py": "def other():\n    return 1\n",
        "parsing/more.py": "def more():\n    return 2\n",  # `parsing` in its path only
    }
    with store.transaction():
        for number, (path, body) in enumerate(files.items()):
            store.replace_file(path, 1, 1, str(number), "python", [chunk(path, body.split("(")[0][4:], text=body)])
    chunks = store.chunks_by_id(range(1, 10))
    ids = {c.path: i for i, c in chunks.items()}
    # `retrying` and `parsing` stem as BM25 matches them
    found = term_coverage(store, "retrying parsing upload", chunks)
    assert found[ids["upload/retry.py"]] == 0.5  # retry, in its code
    assert found[ids["upload/parse.py"]] == 0.5  # parse
    assert found[ids["upload/other.py"]] == 0.0
    assert found[ids["parsing/more.py"]] == 0.0  # a path is not the chunk's code
    # a word no candidate holds tells none apart, so it does not count
    assert term_coverage(store, "retrying unheardof", chunks)[ids["upload/retry.py"]] == 1.0
    # an unsaved buffer's chunk is counted as an indexed one, with words the index lacks
    buffer = chunk("upload/new.py", "quarantine", text="def quarantine():\n    return retry_upload(parse_parts(x))\n")
    found = term_coverage(store, "quarantine retrying parsing", {**chunks, -1: buffer})
    assert found[-1] == 1.0 and found[ids["upload/retry.py"]] == 1 / 3
    store.close()


def test_reweight_idf_scores_an_index_on_the_collections_statistics() -> None:
    from codesearch.fusion import bm25_idf, reweight_idf

    # A term in 1 of 2 chunks of a small index, but in 1 of 1,000 chunks of the whole collection.
    local, overall = bm25_idf(2, 1), bm25_idf(1000, 1)
    assert local == 1e-6 and overall > 6
    scores = {"ledger": {7: 2.0 * local}, "entries": {7: 1.5 * local, 8: 1.0 * local}}
    rescored = reweight_idf(scores, {"ledger": local, "entries": local},
                            {"ledger": overall, "entries": bm25_idf(1000, 500)})
    assert abs(rescored[7] - (2.0 * overall + 1.5 * bm25_idf(1000, 500))) < 1e-9
    assert rescored[7] > rescored[8] > 0


def test_examples_shims_generated_code_barrels_and_stubs_give_way_to_the_implementation() -> None:
    implementation = 1.0
    for aside in ("examples/basic/app.py", "docs/conf.py", "src/compat/legacy_api.py", "vendor/lib/x.go",
                  "api/service_pb2.py", "lua/community/_generated.lua", "apis/zz_generated.deepcopy.go",
                  "src/schema.generated.ts", "tests/test_app.py", "types/app.d.ts",
                  "src/attr/__init__.pyi",  # Python's type stubs beside the code (attrs)
                  # Swift's and .NET's capitalised folders, and benchmarks
                  "Examples/math/Math.swift", "Documentation/Guide.swift", "benches/parse.rs",
                  "benchmarks/object.ts", "src/Button.stories.tsx", "src/sort.bench.ts",
                  # vendored and contributed code beside the implementation
                  "third-party/json/json.hpp", "deps/lua/src/lapi.c", "contrib/puff/puff.c",
                  "include/spdlog/fmt/bundled/format.h", "os/zip/src/os/shaded_org_apache_tools_zip/Zip.java",
                  "src/main/java/com/example/shaded/guava/Lists.java",
                  # a release unpacked whole, in a folder of its name and version (yaml-cpp's googletest)
                  "test/googletest-1.16.0/googletest/src/gtest.cc", "src/lua-5.4.6/lapi.c",
                  # a project's site (valibot's, retrofit's `website/`)
                  "website/src/routes/api/(methods)/flatten/index.tsx",
                  # code a project keeps for old users (stb's `deprecated/stb_image.c`)
                  "deprecated/stb_image.c",
                  # or in a file of its own (h3's `_deprecated.ts`, `lib/legacy.js`)
                  "src/_deprecated.ts", "lib/legacy.js", "src/utils-deprecated.ts",
                  # compatibility shims in a file of their own (click's, hiredis's, json-c's)
                  "src/click/_compat.py", "sockcompat.c", "math_compat.h", "src/compat.ts",
                  # benchmarks in a `bench/` folder or a file of their own
                  "bench/openapi_parameter_collections.exs", "bin/multi_queue_bench", "examples/bench_functions.c",
                  "src/Benchmark/FlatteningMapper.cs", "src/Polly.Core.Benchmarks/RetryBenchmark.cs",
                  "src/parse_benchmark.py",
                  # a demo app to try the library in (Vite's and Nuxt's `playground/`)
                  "packages/playground/src/stores/counter.ts",
                  # Xcode's documentation catalogs, playgrounds and project files
                  "Sources/Logging/Docs.docc/UnderstandingLoggers.md", "Example/Playground.playground/Contents.swift",
                  "SwiftyJSON.xcodeproj/project.pbxproj", "iOS Example.xcodeproj/project.pbxproj",
                  # GitHub's issue templates and workflows
                  ".github/ISSUE_TEMPLATE/config.yml", ".github/workflows/test.yml"):
        assert path_prior(aside, ["parse", "config"]) < implementation, aside
    assert path_prior("src/app/config.py", ["parse", "config"]) == implementation
    assert path_prior("src/router/mod.rs", ["router"]) == implementation  # Rust's mod.rs holds real code
    # a versioned folder of the project's own is no release of another's
    for code in ("api-2.0/handlers.go", "src/v1.2.3/parse.go", "migrations/2024-01-15/up.sql"):
        assert path_prior(code, ["parse", "config"]) == implementation, code
    # a JavaScript project's tool settings, one per package of a monorepo, unless the query asks
    # and what a hidden folder holds, a tool's settings and scripts (a VitePress sidebar names every guide)
    for tooling in ("packages/query-sync-storage-persister/tsdown.config.js", "vite.config.ts", "eslint.config.mjs",
                    "packages/core/.eslintrc.cjs", "jest.config.cjs", "Gruntfile.js", ".storybook/preview.tsx",
                    "packages/site/.vitepress/theme/index.ts", ".husky/pre-commit.sh", ".devcontainer/setup.py",
                    "scripts/release.js", "scripts/benchmark.tsx", "script/bootstrap.rb"):
        assert path_prior(tooling, ["persist", "storage"]) < implementation, tooling
        assert path_prior(tooling, ["eslint", "config"]) == implementation, tooling
    for code in ("src/config.ts", "lib/core/mergeConfig.js", "src/config/index.ts", "src/scripting/eval.ts"):
        assert path_prior(code, ["persist", "storage"]) == implementation, code
    # a barrel's re-exports give way; a function in one (hono's `middleware/cors/index.ts`) does not
    for barrel in ("src/__init__.py", "src/index.ts", "lib/index.js"):
        assert barrel_prior(chunk(barrel, "", kind="module"), ["parse", "config"]) < implementation, barrel
        assert barrel_prior(chunk(barrel, "parse_config"), ["parse", "config"]) == implementation, barrel
    assert barrel_prior(chunk("src/index.ts", "", kind="module"), ["index", "exports"]) == implementation
    # unless the query asks for that kind of file
    assert path_prior("examples/basic/app.py", ["example", "app"]) == implementation
    assert path_prior("tests/test_app.py", ["tests", "app"]) == implementation
    assert path_prior("benches/parse.rs", ["benchmark", "parse"]) == implementation
    assert path_prior("website/src/routes/index.tsx", ["website", "routes"]) == implementation
    assert path_prior("src/attr/__init__.pyi", ["stubs", "define"]) == implementation
    assert path_prior(".github/workflows/test.yml", ["ci", "workflow", "tests"]) == path_prior(
        "Makefile", ["ci", "workflow", "tests"])
    assert path_prior("src/websites/registry.py", ["parse", "config"]) == implementation
    assert path_prior("src/deprecation.ts", ["parse", "config"]) == implementation  # what deprecates, not old code
    for code in ("src/incompat.rs", "lib/compatible.py", "src/compatibility.ts"):  # about compatibility
        assert path_prior(code, ["parse", "config"]) == implementation, code
    for code in ("src/workbench.ts", "lib/benchmarking_tools/run.py", "src/bench.c"):  # lz4's `-b` is a feature
        assert path_prior(code, ["parse", "config"]) == implementation, code
    assert path_prior("src/_deprecated.ts", ["deprecated", "config"]) == implementation
    chunks = {1: chunk("examples/server.py", "serve"), 2: chunk("src/server.py", "serve")}
    assert order("serve requests", chunks, [(1, 10.0), (2, 8.0)])[0] == "src/server.py:1"


def test_code_in_a_version_folder_a_newer_one_replaces_gives_way_unless_the_query_names_it() -> None:
    assert superseded(["src/v3/types.ts", "src/v4/core/schemas.ts", "src/v4/mini/schemas.ts"]) == ("src/v3/",)
    assert superseded(["api/v1/users.go", "api/v2/users.go", "api/v10/users.go"]) == ("api/v1/", "api/v2/")
    assert superseded(["a/v1/x.go", "b/v2/x.go"]) == ()  # versions of different folders
    assert superseded(["src/v3/types.ts", "src/v3beta/x.ts", "lib/dev1/y.ts"]) == ()
    chunks = {1: chunk("src/v3/core.ts", "formatIssue", language="typescript"),
              2: chunk("src/v4/core.ts", "formatIssue", language="typescript")}
    lexical = [(1, 10.0), (2, 8.0)]
    assert order("how issues are formatted", chunks, lexical)[0] == "src/v4/core.ts:1"
    assert order("how v3 formats issues", chunks, lexical)[0] == "src/v3/core.ts:1"
    assert order("how legacy code formats issues", chunks, lexical)[0] == "src/v3/core.ts:1"
    # a catalog search tells repositories apart: one's v1/ is not replaced by another's v2/
    catalog = {1: chunk("api/v1/users.go", "ListUsers", language="go"),
               2: chunk("api/v2/users.go", "ListUsersPaged", language="go")}
    ranked = rank("list users", catalog, [(1, 10.0), (2, 8.0)], [], mode="lexical", k=2,
                  file_of=lambda item: f"{item}/{catalog[item].path}")
    assert ranked[0].chunk.path == "api/v1/users.go"


def test_windows_code_beside_code_for_other_platforms_gives_way_unless_the_query_names_windows() -> None:
    files = ["src/unix/tcp.c", "src/win/tcp.c", "poll_windows.go", "poll_linux.go", "src/timer.c"]
    assert variant_priors(files, ["tcp", "connect"]) == {"src/win/tcp.c": 0.5, "poll_windows.go": 0.5}
    assert variant_priors(files, ["windows", "tcp"]) == {}
    assert variant_priors(["src/win/tcp.c", "src/timer.c"], ["tcp"]) == {}  # no other platform's code
    assert variant_priors(["src/winding.c", "src/unix/tcp.c", "darwin_test.go"], ["tcp"]) == {}
    chunks = {1: chunk("src/win/tcp.c", "uv_tcp_connect", language="c"),
              2: chunk("src/unix/tcp.c", "uv_tcp_connect", language="c")}
    lexical = [(1, 10.0), (2, 8.0)]
    assert order("tcp connect implementation", chunks, lexical)[0] == "src/unix/tcp.c:1"
    assert order("tcp connect on windows", chunks, lexical)[0] == "src/win/tcp.c:1"


def test_ports_to_rare_systems_beside_mainstream_ones_give_way_unless_the_query_names_one() -> None:
    # libuv's `uv_interface_addresses` is in six ports; z/OS's, Solaris' and IBM i's had led
    # "network interface address enumeration", Linux's and the BSDs' below them
    files = ["src/unix/os390.c", "src/unix/sunos.c", "src/unix/aix-common.c", "src/unix/linux.c",
             "src/unix/bsd-ifaddrs.c", "syscall_solaris.go", "zsyscall_aix_ppc64.go", "src/timer.c"]
    rare = {"src/unix/os390.c": 0.5, "src/unix/sunos.c": 0.5, "src/unix/aix-common.c": 0.5,
            "syscall_solaris.go": 0.5, "zsyscall_aix_ppc64.go": 0.5}
    assert variant_priors(files, ["network", "interface"]) == rare
    assert variant_priors(files, ["aix", "interface"]) == {}  # the query names one
    assert variant_priors(["src/unix/aix.c", "src/timer.c"], ["interface"]) == {}  # no mainstream port beside
    assert variant_priors(["src/haikus.c", "src/chaix.c", "src/unix/linux.c"], ["poem"]) == {}  # names, not ports


def test_prose_ranks_below_code_unless_the_query_asks_for_docs() -> None:
    chunks = {1: chunk("README.md", "", kind="block", language="text", text="Install nvm, then nvm install 18"),
              2: chunk("nvm.sh", "nvm_install", language="bash")}
    lexical = [(1, 10.0), (2, 7.0)]
    assert order("how nvm installs a version", chunks, lexical)[0] == "nvm.sh:1"
    assert order("readme install instructions", chunks, lexical)[0] == "README.md:1"
    # "JSON" and "text" are what code reads and writes (a JSON library's every question holds them)
    assert order("how nvm reads the version from JSON text", chunks, lexical)[0] == "nvm.sh:1"


def test_a_changelog_ranks_below_the_code_it_describes_unless_the_query_asks_for_history() -> None:
    chunks = {1: chunk("CHANGES", "", kind="block", language="text",
                       text="* json_dumps: encode values as JSON text with indentation"),
              2: chunk("src/dump.c", "dump_indent", language="c")}
    lexical = [(1, 10.0), (2, 4.0)]  # a changelog names every feature: BM25 likes it
    assert order("encode values with indentation", chunks, lexical)[0] == "src/dump.c:1"
    assert order("changelog of the indentation option", chunks, lexical)[0] == "CHANGES:1"
    assert path_prior("History.md", ["parse"], "text") < path_prior("GUIDE.md", ["parse"], "text")
    assert path_prior("src/history.py", ["parse"], "python") == 1.0  # code about history is code


def test_a_file_named_for_the_question_is_lifted() -> None:
    assert path_match("middleware/timeout.go", ["request", "timeout", "middleware"]) == 2 / 3
    assert path_match("src/dependencies/resolve.py", ["dependency"]) == 1.0  # a shared stem
    assert path_match("src/net.go", ["network"]) == 0.0  # a three-letter prefix is not enough
    assert path_match("src/a.go", []) == 0.0
    chunks = {1: chunk("middleware/throttle.go", "Throttle", language="go"),
              2: chunk("middleware/timeout.go", "Timeout", language="go")}
    assert order("request timeout enforcement", chunks, [(1, 10.0), (2, 8.0)])[0] == "middleware/timeout.go:1"


def test_ten_results_cover_more_files_and_a_file_of_many_matches_leads() -> None:
    # one file with four matching chunks, four other files with one each, all scored alike
    chunks = {i: chunk("pkg/engine.py", f"step{i}", start=10 * i) for i in range(1, 5)}
    chunks.update({i: chunk(f"pkg/other{i}.py", f"solo{i}") for i in range(5, 9)})
    lexical = [(i, 10.0 - 0.1 * i) for i in range(1, 9)]
    ranked = order("run the steps", chunks, lexical, k=5)
    assert ranked[0] == "pkg/engine.py:10"
    assert sum(path.startswith("pkg/engine.py") for path in ranked) == 2  # its last two give way


def test_a_few_line_helper_gives_way_to_the_code_that_does_the_work() -> None:
    helper = Chunk.build(path="indexer/languages.py", language="python", symbol="_any", qualified_name="_any",
                         kind="function", start_line=47, end_line=48,
                         text="def _any(*types: str) -> Rules:\n    return dict.fromkeys(types)")
    worker = Chunk.build(path="indexer/walk.py", language="python", symbol="_is_ignored", qualified_name="_is_ignored",
                         kind="function", start_line=61, end_line=71,
                         text="def _is_ignored(rules, rel_path):\n" + "    matched = rules.match(rel_path)\n" * 10)
    chunks = {1: helper, 2: worker}
    # BM25 favours the short chunk that mentions `Rules`; the prior lets the real work lead
    ranked = rank("where are gitignore rules applied", chunks, [(1, 10.0), (2, 8.0)], [], mode="lexical", k=2)
    assert [r.chunk.symbol for r in ranked] == ["_is_ignored", "_any"]
    # named, exactly or by its words, the helper keeps its place
    assert rank("_any", chunks, [(2, 10.0), (1, 8.0)], [], mode="lexical", k=2)[0].chunk.symbol == "_any"
    short = chunk("src/q.py", "quarantine_corrupt_upload")
    assert definition_boost(short, "quarantine corrupt upload") > 1.0
    named = rank("quarantine corrupt upload", {1: short, 2: worker}, [(1, 10.0), (2, 9.0)], [], mode="lexical", k=2)
    assert named[0].chunk.symbol == "quarantine_corrupt_upload"


def test_an_extension_with_nothing_in_it_names_nothing_and_gives_way() -> None:
    # swift-argument-parser's `extension FlagInversion: Sendable {}` had led "flag with inversion",
    # above the type itself: BM25 favours the one line that holds the name
    marker = chunk("Flag.swift", "FlagInversion", "class", "extension FlagInversion: Sendable {}", "swift", 169)
    declared = Chunk.build(path="Flag.swift", language="swift", symbol="FlagInversion", qualified_name="FlagInversion",
                       kind="class", start_line=134, end_line=167,
                       text="/// The options for converting a Boolean flag into a true/false pair.\n"
                            "public struct FlagInversion: Hashable {\n" + "  ...\n" * 30 + "}")
    ranked = rank("flag with inversion", {1: marker, 2: declared}, [(1, 10.0), (2, 7.0)], [], mode="lexical", k=2)
    assert [r.chunk.start_line for r in ranked] == [134, 169]
    assert definition_boost(marker, "flag inversion") == 1.0 and brevity_prior(marker) < 1.0
    for text in ("impl std::error::Error for PathError {}", "unsafe impl<T> Send for Own<T> where T: ?Sized {}",
                 "#[doc(hidden)]\nimpl Sealed for PathError {}"):
        assert brevity_prior(chunk("error.rs", "PathError", "class", text, "rust")) < 1.0, text
    # Haskell's instance without a `where`: the class's defaults (tasty's `instance Exception ...`)
    assert brevity_prior(chunk("Utils.hs", "Exception", "class", "instance Exception SignalException", "haskell")) < 1.0
    full = "instance LayoutClass Full a where\n    pureLayout _ r s = [(focus s, r)]"
    assert brevity_prior(chunk("Layout.hs", "LayoutClass", "class", full, "haskell")) == 1.0
    # an extension with members, and a type declared empty, are definitions
    for text, language in (("extension FlagInversion: Codable {\n  init() {}\n}", "swift"),
                           ("struct FlagInversion {}", "swift"), ("class Marker {}", "kotlin")):
        found = chunk("f", "FlagInversion", "class", text, language)
        assert definition_boost(found, "flag inversion") > 1.0 and brevity_prior(found) == 1.0, text


def test_terms_in_more_than_half_the_chunks_are_not_asked_for() -> None:
    frequency = {"zod": 90, "parse": 10, "schema": 50, "nowhere": 0}
    assert weighty_terms(["zod", "parse", "schema", "nowhere"], 100, frequency) == ["parse", "schema"]
    assert weighty_terms(["zod"], 100, frequency) == ["zod"]  # nothing else: ask for what there is


def test_leaving_out_a_common_term_changes_no_score_and_new_chunks_are_counted(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "index", create=True)
    with store.transaction():
        for number in range(30):  # `zod` in every path; `parse` in twelve files, `schema` in one
            name = "parse_schema" if number == 0 else f"parse_{number}" if number < 12 else f"other_{number}"
            body = f"def {name}(value):\n    return value\n"
            path = f"zod/module_{number}.py"
            store.replace_file(path, 1, 1, str(number), "python",
                               [chunk(path, name, text=body)])
    rows, frequency = store.document_frequencies(["zod", "parse", "schema"])
    assert rows == 30 and frequency == {"zod": 30, "parse": 12, "schema": 1}
    every_term = store.lexical_search(["zod", "parse", "schema"], 50)
    weighty = search_lexical(store, "zod parse schema")
    assert [i for i, _ in weighty] == [i for i, _ in every_term[: len(weighty)]]
    assert all(abs(s - dict(every_term)[i]) < 1e-4 for i, s in weighty)
    assert len(weighty) == 12  # the chunks that matched only `zod` scored (almost) nothing
    # where the rare terms alone find less than a page, the common ones fill it, after them
    short = search_lexical(store, "zod schema", fill=True)
    assert len(short) == 30 and store.chunks_by_id([short[0][0]])[short[0][0]].symbol == "parse_schema"
    assert len(search_lexical(store, "zod schema")) == 1  # hybrid's: the vectors fill the page
    with store.transaction():
        store.replace_file("lib/parse.py", 1, 1, "x", "python", [chunk("lib/parse.py", "parse")])
    rows, frequency = store.document_frequencies(["parse"])
    assert rows == 31 and frequency["parse"] == 13
    store.close()


def test_a_thin_wrapper_gives_its_place_to_the_code_it_hands_its_work_to() -> None:
    def go(qualified: str, start: int, end: int, text: str, path: str = "viper.go") -> Chunk:
        return Chunk.build(path=path, language="go", symbol=qualified.rsplit(".", 1)[-1], qualified_name=qualified,
                           kind="method" if "." in qualified else "function", start_line=start, end_line=end,
                           text=text)

    # Go's package-level function for the global instance's method: BM25 favours the short one
    wrapper = go("WatchConfig", 278, 279, "// WatchConfig starts watching a config file.\n"
                                          "func WatchConfig() { v.WatchConfig() }")
    method = go("Viper.WatchConfig", 281, 353, "func (v *Viper) WatchConfig() {\n" + "\twatch(v)\n" * 70 + "}")
    remote = go("Viper.watchRemote", 258, 275, "func (v *Viper) watchRemote() error {\n}", path="remote.go")
    chunks = {1: wrapper, 2: method, 3: remote}
    assert delegates(chunks) == {1: 2}
    assert order("watch the config file", chunks, [(1, 9.0), (3, 5.0), (2, 4.0)]) == [
        "viper.go:281", "remote.go:258", "viper.go:278"]
    # a worker that is in `chunks` but no candidate (read for a lookup or a quote) leaves the
    # wrapper where it is
    assert order("watch the config file", chunks, [(1, 9.0), (3, 5.0)]) == ["viper.go:278", "remote.go:258"]
    # a name with `Impl` after it (zustand's `createStore`), and a Java overload filling in an argument
    create = chunk("src/vanilla.ts", "createStore", language="typescript",
                   text="export const createStore = ((init) => init ? createStoreImpl(init) : createStoreImpl)")
    impl = Chunk.build(path="src/vanilla.ts", language="typescript", symbol="createStoreImpl",
                       qualified_name="createStoreImpl", kind="function", start_line=60, end_line=97,
                       text="const createStoreImpl = (createState) => {\n  let state\n}")
    assert delegates({1: create, 2: impl}) == {1: 2}
    # not a method of the same name in another file, which is another type's, nor one the
    # short function does not call: its name written once is its own head
    other = go("Client.WatchConfig", 10, 90, "func (c *Client) WatchConfig() {\n}", path="client.go")
    stub = go("Stub.WatchConfig", 5, 5, "func (s *Stub) WatchConfig() {}")
    assert delegates({1: wrapper, 2: other}) == {} and delegates({1: stub, 2: method}) == {}
    # a method that calls its name on another object calls another type's: the parent's
    # constructor, a delegate's callback, another specialisation's `format`
    def method_of(qualified: str, start: int, end: int, text: str, language: str) -> Chunk:
        return Chunk.build(path="src/x", language=language, symbol=qualified.rsplit(".", 1)[-1], kind="method",
                           qualified_name=qualified, start_line=start, end_line=end, text=text)

    for language, short, long in [
        ("python", "def __init__(self, ctx):\n    super().__init__(ctx.get_help())", "def __init__(self, m):\n"),
        ("swift", "func urlSession(_ s: URLSession) {\n    monitor?.urlSession(s)\n}",
         "func urlSession(_ s: S, t: T) {"),
        ("cpp", "auto format(const BitRef& v, Ctx& ctx) const {\n  return formatter<bool>::format(v, ctx);\n}",
         "auto format(const path& p, Ctx& ctx) const {"),
    ]:
        name = short.split("(", 1)[0].split()[-1]
        assert delegates({1: method_of(f"A.{name}", 1, 3, short, language),
                          2: method_of(f"B.{name}", 10, 40, long, language)}) == {}, language
    # an overload that fills in an argument for the one that does the work
    fills = method_of("UpdateBuilder.update", 116, 119, "fun update(column: C, value: () -> E) {\n"
                      "    update(column, value())\n}", "kotlin")
    works = method_of("UpdateBuilder.update", 106, 114, "fun update(column: C, value: E) {\n", "kotlin")
    assert delegates({1: fills, 2: works}) == {1: 2}


def test_an_outline_of_one_member_s_head_gives_its_place_to_the_code_inside_it() -> None:
    def ruby(qualified: str, kind: str, text: str, start: int, end: int, path: str = "lib/grape/auth/dsl.rb") -> Chunk:
        return Chunk.build(path=path, language="ruby", symbol=qualified.rsplit(".", 1)[-1], qualified_name=qualified,
                           kind=kind, start_line=start, end_line=end, text=text)

    # `module Middleware` around `module Auth` (reopened in every file of the folder), and the
    # method that does what the question asks, inside both
    wrapper = ruby("Grape.Middleware", "class", "  module Middleware\n    module Auth\n  end", 4, 51)
    auth = ruby("Grape.Middleware.Auth", "class", "    module Auth\n      module DSL\n    end", 5, 50)
    body = "def http_basic(**options)\n  options[:realm] ||= 'API Authorization'\n  auth(:http_basic, **options)\nend"
    basic = ruby("Grape.Middleware.Auth.DSL.http_basic", "method", body, 15, 23)
    other = ruby("Grape.Middleware.Stack.use", "method", "def use(*args)\n  @others << args\n  self\nend", 20, 23,
                 "lib/grape/stack.rb")
    lone = ruby("Grape.Middleware", "class", "  module Middleware\n    class Filter\n  end", 4, 18,
                "lib/grape/filter.rb")
    chunks = {1: wrapper, 2: auth, 3: other, 4: basic, 5: lone}
    lexical = [(1, 9.0), (2, 8.5), (3, 8.0), (4, 3.0), (5, 2.0)]
    ranked = [r.chunk for r in rank("basic authentication middleware", chunks, lexical, [], mode="lexical", k=5)]
    assert ranked[0] is basic and wrapper not in ranked and auth not in ranked
    assert ranked.index(other) == 1 and lone in ranked  # nothing of its file inside it: it stays
    # named: the outline is the definition asked for
    looked_up = rank("Grape::Middleware::Auth", chunks, lexical, [], mode="lexical", k=5)
    assert looked_up[0].chunk is auth
    assert all(bare_outline(c) for c in (wrapper, auth, lone)) and not any(bare_outline(c) for c in (basic, other))
    outline = "      module DSL\n        def auth\n        def http_basic\n      end"
    full = ruby("Grape.Middleware.Auth.DSL", "class", outline, 6, 49)
    assert not bare_outline(full)


def test_a_lookup_of_a_name_no_definition_has_finds_the_code_that_assigns_it() -> None:
    def body(path: str, kind: str, qualified: str, text: str, language: str = "ruby") -> Chunk:
        return Chunk.build(path=path, language=language, symbol=qualified.rsplit(".", 1)[-1], kind=kind,
                           qualified_name=qualified, start_line=1, end_line=9, text=text)

    alias = body("lib/sidekiq/worker_compatibility_alias.rb", "class", "Sidekiq",
                 "module Sidekiq\n  # Sidekiq::Job is the new name\n  Worker = Job\nend")
    api = body("lib/sidekiq/api.rb", "class", "Sidekiq", "module Sidekiq\n  class Workers\n    # each Worker\n  end")
    chunks = {1: api, 2: alias}
    for query in ("Sidekiq::Worker", "Worker"):
        assert order(query, chunks, [(1, 9.0), (2, 5.0)])[0] == "lib/sidekiq/worker_compatibility_alias.rb:1", query
    # Python's and TypeScript's top-level aliases and constants
    errors = body("src/json/errors.py", "module", "", "import json\n\nJSONDecodeError = json.JSONDecodeError\n",
                  "python")
    use = body("src/json/load.py", "function", "load", "def load(s):\n    raise JSONDecodeError(s)", "python")
    assert order("JSONDecodeError", {1: use, 2: errors}, [(1, 9.0), (2, 5.0)])[0] == "src/json/errors.py:1"
    exported = body("src/index.ts", "module", "", "export const ZodAny: ZodType = core.any;", "typescript")
    assert order("ZodAny", {1: use, 2: exported}, [(1, 9.0), (2, 5.0)])[0] == "src/index.ts:1"
    # not a comparison, and not a plain word, which is a question about code rather than a name
    compares = body("src/check.py", "module", "", "if JSONDecodeError == other:\n    pass", "python")
    assert order("JSONDecodeError", {1: use, 2: compares}, [(1, 9.0), (2, 5.0)])[0] == "src/json/load.py:1"
    session = body("src/globals.py", "module", "", "session = LocalProxy(_cv_request)", "python")
    assert order("session", {1: use, 2: session}, [(1, 9.0), (2, 5.0)])[0] == "src/json/load.py:1"
    # a crate's alias of a type with parameters, beside extensions of the type it stands for
    # (anyhow's `impl Context for Result<T, E>` is named `Result` too), leads them
    alias = body("src/lib.rs", "module", "", "/// `Result<T, Error>`\npub type Result<T, E = Error> = "
                 "core::result::Result<T, E>;", "rust")
    impl = body("src/context.rs", "class", "Result", "impl<T, E> Context<T, E> for Result<T, E>\nwhere\n{\n}", "rust")
    assert order("Result", {1: impl, 2: alias}, [(1, 9.0), (2, 5.0)])[0] == "src/lib.rs:1"
    own = body("src/result.rs", "class", "Result", "pub enum Result<T> {\n    Ok(T),\n}", "rust")
    assert order("Result", {1: impl, 2: alias, 3: own}, [(1, 9.0), (2, 5.0), (3, 1.0)])[0] == "src/result.rs:1"
    generic = body("src/types.ts", "module", "", "export type Infer<T extends Schema> = T['_output'];", "typescript")
    assert order("Infer", {1: use, 2: generic}, [(1, 9.0), (2, 5.0)])[0] == "src/types.ts:1"
    lines = body("src/parser.ts", "module", "", "export type ExtractType<\n  DB,\n  DV = unknown,\n> = DB[DV]",
                 "typescript")  # its parameters on lines of their own, one with a default
    assert order("ExtractType", {1: use, 2: lines}, [(1, 9.0), (2, 5.0)])[0] == "src/parser.ts:1"
    called = body("src/run.ts", "module", "", "ExtractType<A>(x);\nconst y = a;", "typescript")  # a call
    assert order("ExtractType", {1: use, 2: called}, [(1, 9.0), (2, 5.0)])[0] == "src/json/load.py:1"
    # a constant declared with its modifiers and type in a class's outline, C's `#define`, a build
    # file's variable, Swift's `internal typealias Request = Alamofire.Request` beside its extension
    def first(query: str, chunks: dict[int, Chunk]) -> str:
        return rank(query, chunks, [(1, 9.0), (2, 5.0)], [], mode="lexical", k=1)[0].chunk.qualified_name

    reader = body("gson/stream/JsonReader.java", "class", "JsonReader",
                  "public class JsonReader implements Closeable {\n  private static final int PEEKED_NONE = 0;", "java")
    peeks = body("gson/stream/JsonReader.java", "method", "JsonReader.peek",
                 "int peek() {\n  if (p == PEEKED_NONE) {\n    p = PEEKED_NONE;\n  }", "java")
    assert first("PEEKED_NONE", {1: peeks, 2: reader}) == "JsonReader"
    defines = body("lib/xxhash.c", "module", "xxhash", "#include <stdint.h>\n#define PRIME32_1 0x9E3779B1U", "c")
    rounds = body("lib/xxhash.c", "function", "XXH32_round", "acc += input * PRIME32_1;", "c")
    assert first("PRIME32_1", {1: rounds, 2: defines}) == "xxhash"
    make = body("programs/Makefile", "block", "Makefile", "THREAD_MSG := ==> building with threading support", "text")
    threads = body("programs/threadpool.c", "function", "TPool_create", "/* see THREAD_MSG */", "c")
    assert first("THREAD_MSG", {1: threads, 2: make}) == "Makefile"
    aliased = body("Sources/Moya/Moya+Alamofire.swift", "module", "Alamofire",
                   "import Alamofire\n\ninternal typealias Request = Alamofire.Request", "swift")
    extension = body("Sources/Moya/Moya+Alamofire.swift", "class", "Request", "extension Request: RequestType {\n}",
                     "swift")
    assert first("Request", {1: extension, 2: aliased}) == "Alamofire"


def test_a_lookup_of_a_name_defined_in_a_dependency_finds_where_the_project_re_exports_it() -> None:
    def module(path: str, text: str, language: str) -> Chunk:
        return Chunk.build(path=path, language=language, symbol="", kind="module", qualified_name="",
                           start_line=1, end_line=9, text=text)

    # axum's `FromRequest` is defined in axum-core; axum's `extract/mod.rs` makes it part of axum
    reexport = module("src/extract/mod.rs", "pub use axum_core::extract::{\n    FromRef, FromRequest,\n};", "rust")
    imports = module("src/json.rs", "use axum_core::extract::FromRequest;\nuse http::Request;", "rust")
    assert order("FromRequest", {1: imports, 2: reexport}, [(1, 9.0), (2, 5.0)])[0] == "src/extract/mod.rs:1"
    barrel = module("src/index.ts", "export { Store, StoreGeneric } from './types'", "typescript")
    uses = module("src/store.ts", "import { Store } from './types'\nconst s: Store = make()", "typescript")
    assert order("Store", {1: uses, 2: barrel}, [(1, 9.0), (2, 5.0)])[0] == "src/index.ts:1"
    # Python's re-exports are a package's `__init__.py`; elsewhere the same line is an import
    package = module("pkg/__init__.py", "from .core import (\n    Session,\n)", "python")
    user = module("pkg/api.py", "from .core import Session\n\ndef get(): return Session()", "python")
    assert order("Session", {1: user, 2: package}, [(1, 9.0), (2, 5.0)])[0] == "pkg/__init__.py:1"
    elsewhere = module("pkg/client.py", "from .core import Session\nSESSION = 1", "python")
    assert order("Session", {1: user, 2: elsewhere}, [(1, 9.0), (2, 5.0)])[0] == "pkg/api.py:1"


def test_a_type_looked_up_by_its_name_leads_the_functions_named_as_it_is() -> None:
    def named(path: str, qualified: str, kind: str, start: int, end: int, text: str, language: str) -> Chunk:
        return Chunk.build(path=path, language=language, symbol=qualified.rsplit(".", 1)[-1], kind=kind,
                           qualified_name=qualified, start_line=start, end_line=end, text=text)

    # Go: a method returning the interface it is named after; BM25 favours the short method
    interface = named("encoding.go", "Encoder", "class", 14, 18, "type Encoder interface {\n\tEncode(v any)\n}", "go")
    method = named("encoding.go", "Registry.Encoder", "method", 129, 139,
                   "func (r *Registry) Encoder(format string) (Encoder, error) {\n}", "go")
    assert order("Encoder", {1: method, 2: interface}, [(1, 9.0), (2, 5.0)])[0] == "encoding.go:14"
    # C++: a constructor defined in another file than its class, and a conversion operator
    validator = named("include/CLI/Validators.hpp", "CLI.Validator", "class", 54, 155, "class Validator {", "cpp")
    constructor = named("include/CLI/impl/Validators_inl.hpp", "CLI.Validator.Validator", "function", 31, 40,
                        "CLI11_INLINE Validator::Validator(std::string validator_desc) {}", "cpp")
    chunks = {1: constructor, 2: validator}
    assert order("Validator", chunks, [(1, 9.0), (2, 5.0)])[0] == "include/CLI/Validators.hpp:54"
    # a constructor in the class's own file still follows its class, above the class's other files
    params = named("DynamicParameters.cs", "Dapper.DynamicParameters", "class", 11, 499,
                   "public partial class DynamicParameters {", "csharp")
    built = named("DynamicParameters.cs", "Dapper.DynamicParameters.DynamicParameters", "method", 24, 30,
                  "public DynamicParameters() {}", "csharp")
    part = named("DynamicParameters.ParamInfo.cs", "Dapper.DynamicParameters", "class", 6, 23,
                 "public partial class DynamicParameters {\n    private sealed class ParamInfo\n}", "csharp")
    assert order("DynamicParameters", {1: built, 2: part, 3: params}, [(1, 9.0), (2, 8.0), (3, 5.0)]) == [
        "DynamicParameters.cs:11", "DynamicParameters.cs:24", "DynamicParameters.ParamInfo.cs:6"]


def test_a_pasted_error_message_leads_with_the_code_that_holds_it_however_bm25_ranks_it(
        tmp_path: Path, monkeypatch) -> None:
    import codesearch.search as search_module

    store = Store.open(tmp_path / "index", create=True)
    raising = ("def _before_value(self):\n" + "    self._check_state()\n" * 30
               + '    raise ValueError("Did not expect a name")\n')
    files = {
        # the method `name` is what the message's last word names, and short: BM25 and the
        # definition boost put it first
        "writer.py": [chunk("writer.py", "name", text="def name(self, name):\n    self.name = name"),
                      chunk("writer.py", "_before_value", text=raising, start=10)],
        # the same words, stemmed alike, but not as written: FTS5's phrase finds it, the text does not
        "reader.py": [chunk("reader.py", "peek", text='def peek(self):\n    log("did not expected a name")')],
        # wrapped across lines, in another case
        "docs.py": [chunk("docs.py", "expect", text='def expect(self):\n    """Raises: did not\n'
                                                    '        EXPECT a name."""')],
        # a page of documentation that says it as a heading, shorter than any code that does: prose
        # ranks as prose, not as the code that prints the message
        "TROUBLESHOOTING.md": [chunk("TROUBLESHOOTING.md", "", kind="block", language="text",
                                    text="## Did not expect a name\nA value was written where a name belongs.")],
        # a comment that says it: a message is printed from a string, not from a comment
        "app.py": [chunk("app.py", "on_name", text="def on_name(self):\n    # did not expect a name here\n"
                                                    "    return self.name")],
        # a README that shows a question as an example: a question is typed, not pasted
        "README.md": [chunk("README.md", "", kind="block", language="text",
                            text='Try `codesearch query "how is a name checked before a value"`.')],
    }
    with store.transaction():
        for number, (path, chunks) in enumerate(files.items()):
            store.replace_file(path, 1, 1, str(number), "python", chunks)

    def first(query: str) -> list[str]:
        return [r.chunk.symbol for r in search_module.search(store, query, mode="lexical", k=4)]

    assert verbatim(" `expect a name` ") == ("expect a name",) and verbatim('"format string"') == ("format string",)
    assert verbatim("expect name") == ()  # keywords
    assert verbatim("basic HTTP authentication") == ()  # three words also describe code: chi's README says it
    assert verbatim("how is a name checked before a value") == () and verbatim("what's the user's name") == ()
    assert verbatim("where is 'Did not expect a name' raised") == ("Did not expect a name",)  # what it quotes
    monkeypatch.setattr(search_module, "CANDIDATES", 1)  # BM25's one candidate: not the long `_before_value`
    assert [store.chunks_by_id([i])[i].symbol for i, _ in search_lexical(store, "Did not expect a name", 1)] != [
        "_before_value"]
    for query in ("Did not expect a name", "'Did not expect a name'", "did not expect a name",
                  'where is "Did not expect a name" raised'):
        assert set(first(query)[:2]) == {"_before_value", "expect"}, query  # not `peek`: stems alike
    assert first("how is a name checked before a value")[0] != ""  # not the README (its chunk has no symbol)
    monkeypatch.setattr(search_module, "MAX_PHRASE_HOLDERS", 2)  # words written in more places: none brought
    assert "_before_value" not in first("Did not expect a name")
    monkeypatch.setattr(search_module, "CANDIDATES", 300)  # BM25's best candidates are read for it
    assert set(first("Did not expect a name")[:2]) == {"_before_value", "expect"}
    store.close()


def test_a_message_pasted_as_the_program_printed_it_finds_the_literal_it_was_made_from() -> None:
    chunks = {
        1: chunk("limits.py", "Process.target", text='raise RuntimeError(f"Maximum request limit of {self.limit} '
                                                     'exceeded. Terminating process.")'),
        2: chunk("config.go", "readConfig", language="go",
                 text='return fmt.Errorf("config type could not be determined for %s", path)'),
        3: chunk("JsonElement.java", "getAsJsonNull", language="java",
                 text='throw new IllegalStateException("Not a JSON Null: " + this);'),
        4: chunk("zip.kt", "readEntry", language="kotlin",
                 text='throw IOException("bad zip: expected ${a} but was $b")'),
        5: chunk("errors.go", "notFound", language="go", text='fmt.Errorf("not found: %s", name)'),
        6: chunk("config.go", "load", language="go", text='fmt.Errorf("config file not found: %s", name)'),
        7: chunk("check.py", "check", text='raise TypeError("%s is not a %s" % (value, kind))'),
        8: chunk("buffer.h", "grow", language="cpp", text="/// Grows the `basic_memory_buffer` in place."),
        9: chunk("parse.c", "parse", language="c", text='report_error("invalid format string");'),
        12: chunk("docs/.vitepress/config/en.ts", "", kind="module", language="typescript",
                  text="{ text: 'Hot Module Replacement', link: '/cookbook/hot-module-replacement.html' },"),
        13: chunk("headers.py", "check", text='raise ValueError("invalid header value")'),
    }
    every = list(chunks)
    for query, holder in (("Maximum request limit of 42 exceeded. Terminating process.", 1),
                          ("config type could not be determined for /etc/app.toml", 2),
                          ("java.lang.IllegalStateException: Not a JSON Null: {}", 3),
                          ("bad zip: expected 512 but was 0", 4),
                          ("Error: config file not found: app.toml", 6)):  # the longest literal, not `not found:`
        assert rendered(query, chunks, every) == {holder}, query
    assert rendered("why is not a list accepted here", chunks, every) == set()  # stopwords tell nothing
    assert rendered("where is the basic_memory_buffer grown", chunks, every) == set()  # one identifier's parts
    assert rendered("invalid format strings in printf", chunks, every) == set()  # whole words only
    # three words alone are a label as often as a message (a docs site's menu): a query that goes on
    # in plain words describes, one whose other words are an error's name or values was pasted
    assert rendered("hot module replacement of a store", chunks, every) == set()
    assert rendered("Hot Module Replacement", chunks, every) == {12}
    assert rendered("ValueError: invalid header value X-Trace", chunks, every) == {13}
    assert rendered("Maximum request limit of 42 exceeded. Terminating process.", chunks, [2, 3]) == set()
    # in `rank`: the chunk it was made from leads, however BM25 ranked it
    query = "Maximum request limit of 42 exceeded. Terminating process."
    ranked = rank(query, chunks, [(7, 1.0), (5, 0.9), (1, 0.2)], [], mode="lexical", k=3)
    assert ranked[0].chunk.symbol == "Process.target"
    # and beside a document and a test that quote the printed message whole, which lead too, in
    # their own order: the code first
    chunks[10] = chunk("docs/errors.md", "", kind="block", language="text", text=f"If you see `{query}`, raise it.")
    chunks[11] = chunk("tests/test_limits.py", "test_limit", text=f"assert str(error) == {query!r}")
    ranked = rank(query, chunks, [(10, 1.0), (11, 0.95), (7, 0.9), (1, 0.2)], [], mode="lexical", k=4, phrased=[10, 11])
    assert [r.chunk.path for r in ranked[:3]] == ["limits.py", "docs/errors.md", "tests/test_limits.py"]


def test_a_place_as_tools_print_it_leads_with_the_code_at_that_line(tmp_path: Path) -> None:
    from dataclasses import replace

    import codesearch.search as search_module

    assert places("src/lib.rs:12:5: error[E0308]: mismatched types") == [("src/lib.rs", 12)]
    assert places('File "/srv/app/views.py", line 42, in handle') == [("/srv/app/views.py", 42)]
    assert places("at com.example.Foo.bar(Foo.java:7)") == [("com/example/Foo.java", 7)]
    assert places(r"at Foo.Bar() in C:\src\Foo.cs:line 9") == [(r"C:\src\Foo.cs", 9)]
    assert places("foo.cpp(42): error C2065") == [("foo.cpp", 42)]
    assert places("how does version 3.2 connect to localhost:8080") == []

    store = Store.open(tmp_path / "index", create=True)
    handler = "def handle(request):\n" + "    step(request)\n" * 8
    files = {"src/app/views.py": [chunk("src/app/views.py", "handle", text=handler, start=10)],
             "src/app/other.py": [chunk("src/app/other.py", "views", text="def views(): return handle(views)")],
             "main/java/com/example/Foo.java": [chunk("main/java/com/example/Foo.java", "Foo.bar", language="java",
                                                      text="void bar() {\n" + "  baz();\n" * 8 + "}", start=5)],
             "test/Foo.java": [chunk("test/Foo.java", "FooTest.bar", language="java",
                                     text="void bar() {\n" + "  check();\n" * 8 + "}", start=5)]}
    with store.transaction():
        for number, (path, chunks) in enumerate(files.items()):
            store.replace_file(path, 1, 1, str(number), chunks[0].language,
                               [replace(c, end_line=c.start_line + 9) for c in chunks])  # ten lines each

    def first(query: str) -> str:
        found = search_module.search(store, query, mode="lexical", k=3)
        return f"{found[0].chunk.path}:{found[0].chunk.symbol}" if found else ""

    assert first("views.py") == "src/app/views.py:handle"  # a file's name, as before
    for query in ("src/app/views.py:12", "views.py:12:3: W0612 unused variable",
                  'File "/home/ci/build/repo/src/app/views.py", line 15, in handle'):
        assert first(query) == "src/app/views.py:handle", query
    assert first("at com.example.Foo.bar(Foo.java:7)") == "main/java/com/example/Foo.java:Foo.bar"  # its package
    # no chunk at that line, no such file: nothing is pinned, and BM25 decides
    assert search_module.located(store, "views.py:99") == [] and search_module.located(store, "nowhere.py:12") == []
    store.close()


def test_a_long_option_leads_with_the_code_that_defines_it_alone_or_in_a_question(tmp_path: Path) -> None:
    import codesearch.search as search_module

    assert verbatim("--no-refresh") == ("--no-refresh",)
    assert verbatim("where is --no-refresh handled")[-1] == "--no-refresh"
    assert verbatim("-x or -v") == () and verbatim("--") == ()  # short options tell nothing

    store = Store.open(tmp_path / "index", create=True)
    files = {  # `refresh` names a definition and is in most chunks' words; the option is in one
        "cli.py": [chunk("cli.py", "query_command", text='@click.option("--no-refresh", is_flag=True)\n'
                                                         "def query_command(no_refresh):\n    search(no_refresh)")],
        "index.py": [chunk("index.py", "refresh", text="def refresh(index):\n    # no refresh when nothing changed\n"
                                                       "    index.sync()")],
        "other.py": [chunk("other.py", "reload", text='parser.add_argument("--no-refresh-all")')],
    }
    with store.transaction():
        for number, (path, chunks) in enumerate(files.items()):
            store.replace_file(path, 1, 1, str(number), "python", chunks)
    for query in ("--no-refresh", "where is --no-refresh handled"):
        assert search_module.search(store, query, mode="lexical", k=2)[0].chunk.symbol == "query_command", query
    assert search_module.search(store, "--no-refresh-all", mode="lexical", k=2)[0].chunk.symbol == "reload"
    store.close()


def test_an_option_whose_word_is_everywhere_is_found_as_written(tmp_path: Path) -> None:
    import codesearch.search as search_module

    store = Store.open(tmp_path / "index", create=True)
    settings = "\n".join(f"    parser.add_argument('--setting-{n}', help='setting {n}')" for n in range(80))
    main = chunk("server.py", "main", text=f"def main():\n{settings}\n    parser.add_argument('--port', type=int)\n"
                                            "    serve(parser.parse_args())")
    with store.transaction():  # `port` is in every chunk's words, most of them short; `--port` in one long one
        store.replace_file("server.py", 1, 1, "main", "python", [main])
        for n in range(search_module.MAX_PHRASE_HOLDERS + 10):
            store.replace_file(f"net/port_{n}.py", 1, 1, str(n), "python",
                               [chunk(f"net/port_{n}.py", f"open_port_{n}", text=f"def open_port_{n}(port):\n"
                                                                                 "    return connect(port)")])
    assert search_module.search(store, "--port", mode="lexical", k=3)[0].chunk.symbol == "main"
    store.close()


def test_a_file_s_imports_give_their_place_to_its_code() -> None:
    def module(path: str, language: str, text: str, start: int = 1) -> Chunk:
        return Chunk.build(path=path, language=language, symbol="", qualified_name="", kind="module",
                           start_line=start, end_line=start + text.count("\n"), text=text)

    blocks = {
        "csharp": "using System.Threading;\nusing MediatR.Pipeline;\nnamespace MediatR.Examples;",
        "go": 'package main\nimport (\n\t"net/http"\n\t"github.com/go-chi/chi/v5"\n)',
        "rust": "//! HTTP body utilities.\n#[doc(no_inline)]\npub use bytes::Bytes;\nuse crate::{\n    Router,\n};",
        "java": "/*\n * Copyright (C) 2008 Google Inc.\n */\npackage com.google.gson;\nimport java.util.List;",
        "python": '# the package\nfrom .app import Flask as Flask\nimport json',
        "ruby": "# frozen_string_literal: true\nrequire 'logger'",
        "php": "<?php declare(strict_types=1);\nnamespace Monolog;\nuse Monolog\\Level;",
        "c": '#ifndef UV_H\n#define UV_H\n#include <stdio.h>\n#include "uv/errno.h"',
        "typescript": 'import type {\n  Style,\n} from "../jsx";\nexport * from "./types.js";',
        "haskell": "module Text.Parsec.Char (char) where\nimport Data.Char",
        "lua": 'local Job = require "plenary.job"\nlocal M = require("plenary.path")',
        "zig": 'const std = @import("std");',
        "dart": "library shelf;\nimport 'dart:io';\nexport 'src/cascade.dart' show Cascade;\npart 'src/body.dart';",
        # mostly imports: a type alias and a cache declared under them are not what the file does
        "tsx": "import type { Router } from '../../router'\nimport {\n  METHOD_NAME_ALL,\n  UnsupportedPathError,\n"
               "} from '../../router'\nimport { checkOptionalParameter } from '../../utils/url'\n"
               "import { match, emptyParam } from './matcher'\nimport { Trie } from './trie'\n"
               "type HandlerWithMetadata<T> = [T, string]\n"
               "let wildcardRegExpCache: Record<string, RegExp> = createNullObject()",
    }
    for language, text in blocks.items():
        assert import_block(module(f"x.{language}", language, text)), language
    # or a head that says nothing, which only its path's words find
    for language, text in [("ruby", "# frozen_string_literal: true"), ("javascript", "// @ts-check"),
                           ("javascript", "'use strict';\n/* eslint-disable no-console */"), ("c", "#endif /* X_H */"),
                           ("python", "#!/usr/bin/env python\n# -*- coding: utf-8 -*-")]:
        assert import_block(module(f"head.{language}", language, text)), text
    # code among the imports, a macro with a value, a module docstring: the chunk says something of its own
    for language, text in {"c": "#include <stdio.h>\n#define QUEUE_NEXT(q) (*(q))",
                           "go": "package main\nvar Version = \"1.0\"",
                           "python": '"""The app."""\nimport json',
                           "ruby": "users = []\nuser_count = 0",  # `use` begins them, as a word it does not
                           "typescript": 'import { a } from "./a";\nexport const b = a + 1;',
                           "elixir": "# This file defines the Plug.Exception protocol",  # a comment in words
                           "cpp": "#define LIMIT 10"}.items():
        assert not import_block(module(f"y.{language}", language, text)), language

    behavior = "src/Pipeline/RequestPreProcessorBehavior.cs"
    usings = module(behavior, "csharp", blocks["csharp"])
    body = ("public class RequestPreProcessorBehavior<TRequest, TResponse> : IPipelineBehavior<TRequest, TResponse>\n"
            "{\n    private readonly IEnumerable<IRequestPreProcessor<TRequest>> _preProcessors;\n}")
    code = Chunk.build(path=behavior, language="csharp", symbol="RequestPreProcessorBehavior",
                       qualified_name="RequestPreProcessorBehavior", kind="class", start_line=7, end_line=10, text=body)
    other = Chunk.build(path="src/Mediator.cs", language="csharp", symbol="Send", qualified_name="Mediator.Send",
                        kind="method", start_line=50, end_line=60, text="public Task Send(object request) { }")
    chunks = {1: usings, 2: other, 3: code}
    ranked = [r.chunk for r in rank("pipeline behavior around a request", chunks, [(1, 9.0), (2, 8.0), (3, 3.0)], [],
                                    mode="lexical", k=3)]
    # was the `using` lines first: the file keeps its place, with its code
    assert ranked == [code, other]
    alone = [r.chunk for r in rank("pipeline behavior", {1: usings, 2: other}, [(1, 9.0), (2, 8.0)], [],
                                   mode="lexical", k=3)]
    assert alone[0] is usings  # no code of its file found: the imports are all the search has of it


def test_a_file_whose_head_says_it_was_vendored_ranks_as_vendored_code(tmp_path: Path) -> None:
    from codesearch.indexer.chunker import chunk_source

    import codesearch.search as search_module

    # hiredis vendors a float parser as `ffc.h` beside its own sources: its `ffc_report_parse_error`
    # had answered questions about reply errors above the reader's own error function
    ffc = ("// SPDX-License-Identifier: MIT\n//\n// ffc - single-header float parser (a C port of fast_float).\n"
           "// Vendored into hiredis under the MIT License.\n\n#include <stddef.h>\n\n"
           "static void ffc_report_parse_error(const char *s) {\n  /* report a parse error */\n}\n")
    read = ("#include \"read.h\"\n\nstatic void __redisReaderSetError(redisReader *r, int type, const char *str) {\n"
            "  /* a protocol error in a reply: report it */\n  r->err = type;\n}\n")
    store = Store.open(tmp_path / "index", create=True)
    with store.transaction():
        for number, (path, text) in enumerate({"ffc.h": ffc, "read.c": read}.items()):
            store.replace_file(path, 1, 1, str(number), "c", chunk_source(text, path, "c"))
    found = [r.chunk.symbol for r in search_module.search(store, "report an error", mode="lexical", k=3)]
    assert found.index("__redisReaderSetError") < found.index("ffc_report_parse_error"), found
    asked = [r.chunk.symbol for r in search_module.search(store, "vendored parse error", mode="lexical", k=3)]
    assert asked[0] == "ffc_report_parse_error", asked  # unless the query asks for vendored code


def test_a_file_whose_head_says_a_tool_wrote_it_ranks_as_generated_code(tmp_path: Path) -> None:
    import codesearch.search as search_module

    # the marks generators write, in their own words
    for head in ("// Code generated by protoc-gen-go. DO NOT EDIT.\n\npackage pb",
                 "# Generated by the protocol buffer compiler.  DO NOT EDIT!",
                 "/* A Bison parser, made by GNU Bison 3.8.2.  */",
                 '#line 2 "src/lexer.c"\n\n#define  YY_INT_ALIGNED short int\n\n'
                 "/* A lexical scanner generated by flex */",
                 "// <auto-generated>\n//     This code was generated by a tool.", "# @generated by sqlc"):
        assert generated_head(head), head
    for head in ('"""Tools that generate code."""', "// DO NOT EDIT without asking the team", "int main(void) {}",
                 "\n" * 10 + "// Code generated by hand. DO NOT EDIT."):  # past the head's ten lines
        assert not generated_head(head), head
    # a file copied in from another project says so, where no `vendor/` folder does
    for head in ("// ffc - a C port of fast_float.\n// Vendored into hiredis under the MIT License",
                 "# This file is vendored from pypa/packaging 24.0", "/* A vendored copy of miniz 3.0 */"):
        assert aside_head(head) and not generated_head(head), head
    for head in ('"""Resolve vendored packages before the build."""', "// vendored: see tools/sync.sh",
                 "// Code generated by protoc-gen-go. DO NOT EDIT."):
        assert aside_head(head) == generated_head(head), head  # a tool's own code about vendoring

    store = Store.open(tmp_path / "index", create=True)
    parser = "/* A Bison parser, made by GNU Bison 3.8.2.  */\n\n#define YYBISON 30802"
    files = {  # jq's committed parser: its tables hold every token's name, `try` and `catch` among them
        "src/parser.c": [chunk("src/parser.c", "", kind="module", language="c", text=parser),
                         chunk("src/parser.c", "yytokentype", kind="class", language="c", start=139,
                               text="enum yytokentype {\n  TRY = 290,\n  CATCH = 291,\n  TRY_CATCH = 292\n};")],
        "src/compile.c": [chunk("src/compile.c", "gen_try", language="c", start=1017,
                                text="block gen_try(block exp, block handler) {\n  /* try exp catch handler */\n"
                                     "  return gen_op_target(FORK_OPT, exp, handler);\n}")],
    }
    with store.transaction():
        for number, (path, chunks) in enumerate(files.items()):
            store.replace_file(path, 1, 1, str(number), "c", chunks)

    def first(query: str) -> list[str]:
        return [r.chunk.symbol for r in search_module.search(store, query, mode="lexical", k=2)]

    assert first("try catch")[0] == "gen_try"  # was the parser's token table
    assert first("generated parser try catch")[0] == "yytokentype"  # unless the query asks for it
    # code like a function: the project's own before what a tool wrote (the parser's actions call it)
    with store.transaction():
        store.replace_file("src/parser.c", 3, 3, "3", "c", [files["src/parser.c"][0], chunk(
            "src/parser.c", "yyparse", language="c", start=2400,
            text="case 42:\n  { (yyval.blk) = gen_try((yyvsp[-2].blk), gen_op_target(FORK_OPT, exp, handler)); }")])
        store.replace_file("src/execute.c", 1, 1, "4", "c", [chunk(
            "src/execute.c", "raise_to_handler", language="c", start=40,
            text="static void raise_to_handler(block exp, block handler) {\n  /* try exp catch handler */\n"
                 "  gen_op_target(FORK, exp, handler);\n}")])
    gen_try = store.chunks_by_id(store.definitions("gen_try", 1))
    assert [r.chunk.symbol for r in search_module.related(store, *gen_try.values(), k=2)] == [
        "raise_to_handler", "yyparse"]
    with store.transaction():  # the answer is the file's as it is now
        store.replace_file("src/parser.c", 2, 2, "2", "c",
                           [chunk("src/parser.c", "yytokentype", kind="class", language="c", start=139,
                                  text="enum yytokentype {\n  TRY = 290,\n  CATCH = 291,\n  TRY_CATCH = 292\n};")])
    assert first("try catch")[0] == "yytokentype"
    store.close()


def test_a_c_header_s_declarations_follow_the_source_file_that_defines_them() -> None:
    # C documents a function where it declares it: json-c's `json_visit.h` holds the long comment
    # on `json_c_visit`, whose words find it, and `json_visit.c` the code
    doc = "/**\n * Visit each object in the JSON tree, calling userfunc for each one.\n */\n"
    header = Chunk.build(path="json_visit.h", language="c", symbol="", qualified_name="", kind="module",
                         start_line=1, end_line=8, text=doc + "int json_c_visit(json_object *jso, void *userarg);")
    source = chunk("json_visit.c", "json_c_visit", language="c",
                   text="int json_c_visit(json_object *jso, void *userarg)\n{\n\treturn _json_c_visit(jso);\n}")
    other = chunk("json_object.c", "json_object_put", language="c", text="int json_object_put(json_object *jso) {}")
    struct = Chunk.build(path="linkhash.h", language="c", symbol="lh_table", qualified_name="lh_table", kind="class",
                         start_line=1, end_line=4, text="struct lh_table\n{\n\tint size;\n};")
    chunks = {1: header, 2: other, 3: source, 4: struct}
    ranked = order("visit each object in the tree", chunks, [(1, 9.0), (2, 7.0), (3, 5.0), (4, 4.0)])
    assert ranked[:3] == ["json_visit.c:1", "json_visit.h:1", "json_object.c:1"]
    # a header's struct is its definition, and a header with no source of its name keeps its place
    assert order("lh_table size", {4: struct, 2: other}, [(4, 9.0), (2, 5.0)])[0] == "linkhash.h:1"
    alone = {1: header, 2: other}
    assert order("visit each object in the tree", alone, [(1, 9.0), (2, 7.0)])[0] == "json_visit.h:1"
