"""Pure parts of search: code-aware tokens, fusion and the ranking signals."""

from __future__ import annotations

from codesearch.lexical import code_tokens, fts_match_expression, query_terms, split_identifier
from codesearch.ranking import definition_boost, is_test_path, rank, reciprocal_rank_fusion
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
