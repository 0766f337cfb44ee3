"""Pure parts of search: code-aware tokens, fusion and the ranking signals."""

from __future__ import annotations

from codesearch.lexical import code_tokens, fts_match_expression, query_terms, split_identifier
from codesearch.ranking import definition_boost, is_test_path, names_definition, rank, reciprocal_rank_fusion
from codesearch.records import Chunk


def chunk(path: str, symbol: str, kind: str = "function", text: str = "") -> Chunk:
    return Chunk.build(path=path, language="python", symbol=symbol, qualified_name=symbol, kind=kind,
                       start_line=1, end_line=2, text=text or f"def {symbol}(): pass")


def test_identifiers_split_on_case_underscores_and_digits_and_stay_whole() -> None:
    assert split_identifier("parseHTTPResponse2") == ["parse", "HTTP", "Response", "2"]
    assert code_tokens("retry_failed_uploads(x)") == ["retry_failed_uploads", "retry", "failed", "uploads", "x"]
    assert code_tokens("getUser") == ["getuser", "get", "user"]


def test_query_terms_drop_stopwords_and_quote_for_fts() -> None:
    assert query_terms("where do we retry failed uploads") == ["retry", "failed", "uploads"]
    assert query_terms("how does it work") == ["how", "does", "it", "work"]  # nothing left: keep all
    assert fts_match_expression(['a"b', "c"]) == '"a""b" OR "c"'


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
    assert not names_definition(method, "serve http requests") and not names_definition(method, "servehttp")
    assert not names_definition(chunk("a.py", "main", kind="module"), "main")


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
    assert is_test_path("src/foo_test.go") and is_test_path("spec/models/user_spec.rb")
    assert not is_test_path("src/contest.py")


def test_queries_about_tests_keep_tests_up() -> None:
    chunks = {1: chunk("app/a.py", "alpha"), 2: chunk("tests/test_a.py", "beta")}
    lexical = [(2, 10.0), (1, 9.0)]
    assert rank("tests for parsing", chunks, lexical, [], mode="lexical", k=2)[0].chunk.path == "tests/test_a.py"
    assert rank("parsing", chunks, lexical, [], mode="lexical", k=2)[0].chunk.path == "app/a.py"


def test_hybrid_uses_both_lists_and_dense_mode_only_vectors() -> None:
    chunks = {i: chunk(f"m{i}.py", f"f{i}") for i in range(1, 5)}
    hybrid = rank("q", chunks, [(1, 5.0), (2, 4.0)], [(2, 0.9), (3, 0.8)], mode="hybrid", k=4)
    assert hybrid[0].chunk.symbol == "f2"
    dense = rank("q", chunks, [(1, 5.0)], [(3, 0.9), (4, 0.5)], mode="dense", k=4)
    assert [r.chunk.symbol for r in dense] == ["f3", "f4"]


def test_reweight_idf_scores_an_index_on_the_collections_statistics() -> None:
    from codesearch.ranking import bm25_idf, reweight_idf

    # A term in 1 of 2 chunks of a small index, but in 1 of 1,000 chunks of the whole collection.
    local, overall = bm25_idf(2, 1), bm25_idf(1000, 1)
    assert local == 1e-6 and overall > 6
    scores = {"ledger": {7: 2.0 * local}, "entries": {7: 1.5 * local, 8: 1.0 * local}}
    rescored = reweight_idf(scores, {"ledger": local, "entries": local},
                            {"ledger": overall, "entries": bm25_idf(1000, 500)})
    assert abs(rescored[7] - (2.0 * overall + 1.5 * bm25_idf(1000, 500))) < 1e-9
    assert rescored[7] > rescored[8] > 0
