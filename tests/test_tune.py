"""`codesearch tune`: pairs mined from a repository, a LoRA run on the tiny ModernBERT, the
adapter merged into the fast path, the keep-only-if-better rule and `--reset`."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from codesearch.indexer.chunker import chunk_file, chunk_source
from codesearch.model import tuning as training
from conftest import json_lines, run_cli

from codesearch.encoding import TUNE_FILE, load_encoder
from codesearch.indexing import IndexOptions, open_index, update_index
from codesearch.pairs import Pair, mine, split_doc
from codesearch.tuning import TUNED_DIR, held_out_files, tune

FIXTURES = Path(__file__).parent / "fixtures" / "languages"
VERBS = ["parse", "load", "render", "merge", "retry", "flush", "encode", "verify", "resize", "schedule"]
NOUNS = ["config", "invoice", "upload", "token", "session", "buffer", "ledger", "thumbnail", "cursor", "payload"]


@pytest.mark.parametrize("file,doc", [
    ("sample.py", "Upload one file, retrying failed uploads."),
    ("sample.go", "Get looks a key up."),
    ("sample.js", "Parse a configuration file into an object."),
    ("sample.c", "Grow the buffer to hold at least n bytes."),
    ("Sample.java", "Sum of line items including tax."),
    ("sample.lua", "Read a whole file."),
])
def test_doc_comments_pair_with_their_code_without_them(file: str, doc: str) -> None:
    mined = mine(chunk_file(FIXTURES / file, file))
    pair = next(p for p in mined.pairs if p.kind == "doc")
    assert pair.query == doc
    assert doc not in pair.code and pair.code.count("\n") >= 2  # the comment is gone, the code is there


def test_pairs_of_every_kind_and_the_leaks_dropped(tmp_path: Path) -> None:
    source = '''
def parse_config(path):
    """Read the settings file and return them as a dictionary."""
    with open(path) as file:
        return dict(line.split("=", 1) for line in file)


def load_invoice(number):
    """Fetch an invoice by its number from the ledger."""
    text = "Fetch an invoice by its number from the ledger."
    return text


def render_page(page):
    return page


def test_parse_config_reads_pairs(tmp_path):
    settings = parse_config(tmp_path / "app.cfg")
    assert settings["debug"] == "1"
'''
    chunks = chunk_source(source, "app/settings.py", "python")
    mined = mine(chunks)
    by_kind = {kind: [p for p in mined.pairs if p.kind == kind] for kind in ("doc", "name", "test")}
    assert [p.query for p in by_kind["doc"]] == ["Read the settings file and return them as a dictionary."]
    assert "Read the settings" not in by_kind["doc"][0].code and "def parse_config" in by_kind["doc"][0].code
    # load_invoice repeats its docstring in its body: a pair that gives the answer away
    assert mined.found["doc"] == 2 and mined.leaked["doc"] == 1
    assert sorted(p.query for p in by_kind["name"]) == ["load invoice", "parse config"]
    assert mined.leaked["name"] == 1  # render_page's body is only its return: the name alone would match
    [test] = by_kind["test"]
    assert test.query == "parse config reads pairs" and "def parse_config" in test.code


def test_a_commit_subject_pairs_with_the_functions_it_changed(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True,
                       env={"GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@b", "GIT_COMMITTER_NAME": "a",
                            "GIT_COMMITTER_EMAIL": "a@b", "PATH": "/usr/bin:/bin"})

    body = "def {0}(items):\n    total = 0\n    for item in items:\n        total += item\n    return total{1}\n\n\n"
    (tmp_path / "totals.py").write_text(body.format("sum_items", "") + body.format("count_items", ""))
    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "first version")
    (tmp_path / "totals.py").write_text(body.format("sum_items", "") + body.format("count_items", " + 1"))
    git("commit", "-qam", "Count the trailing item in the totals (#42)")
    chunks = chunk_file(tmp_path / "totals.py", "totals.py")
    commits = [p for p in mine(chunks, tmp_path).pairs if p.kind == "commit"]
    assert [(p.query, p.code.split("\n")[0]) for p in commits] == [
        ("Count the trailing item in the totals", "python function count_items")]


def test_split_doc_leaves_code_without_a_doc_alone() -> None:
    [chunk] = [c for c in chunk_source("def f(x):\n    return x + 1\n", "m.py", "python") if c.kind == "function"]
    assert split_doc(chunk) == ("", chunk.text)


def _write_repository(root: Path) -> None:
    """Forty files of documented functions with compound names: pairs to spare on both sides."""
    for number in range(40):
        lines = []
        for offset in range(4):
            verb, noun = VERBS[(number + offset) % 10], NOUNS[(number * 3 + offset) % 10]
            lines.append(f"def {verb}_{noun}_{number}_{offset}(value, options):\n"
                         f'    """{verb.title()} the {noun} of one request and report what changed."""\n'
                         f"    {noun} = options.get('{noun}', value)\n"
                         f"    result = {verb}({noun}, strict=True)\n"
                         f"    return result\n\n")
        (root / f"module_{number}.py").write_text("\n".join(lines))


@pytest.fixture
def tuned_repo(tmp_path: Path, tiny_model: Path) -> IndexOptions:
    root = tmp_path / "repo"
    root.mkdir()
    _write_repository(root)
    options = IndexOptions.create(root, model=str(tiny_model))
    index = open_index(options, create=True)
    with index.writing(1.0):
        update_index(index, options, embed=True)
    index.close()
    return IndexOptions.create(root)


@pytest.mark.slow
def test_training_lowers_the_loss_and_the_merged_fast_path_gives_the_adapters_vectors(tiny_model: Path) -> None:
    encoder = load_encoder(str(tiny_model))
    queries = [f"{verb} the {noun}" for verb in VERBS[:4] for noun in NOUNS[:4]]
    codes = [f"def {q.replace(' the ', '_')}(x):\n    return {q.split()[-1]}(x)" for q in queries]
    trained = training.train(encoder, queries, codes, [None] * len(codes), max_steps=40, batch_size=16)
    assert trained.steps == 40
    assert np.mean(trained.losses[-5:]) < np.mean(trained.losses[:5]) - 0.05
    texts = codes[:6]
    with torch.no_grad():
        prefixed = [encoder.document_prefix + t for t in texts]
        through_peft = training._embed(encoder, trained.model, prefixed).cpu().numpy()
    merged = training.merged(encoder, trained, full=False)
    assert merged.fast is not None  # ModernBERT: the packed fast path, not the padded model
    through_fast_path = merged.encode_documents(texts)
    cosines = (through_peft * through_fast_path).sum(axis=1)
    assert cosines.min() >= 0.999, cosines


@pytest.mark.slow
@pytest.mark.parametrize("full", [False, True])
def test_soften_keeps_that_share_of_what_training_changed(tiny_model: Path, full: bool) -> None:
    encoder = load_encoder(str(tiny_model))
    queries = [f"{verb} the {noun}" for verb in VERBS[:4] for noun in NOUNS[:4]]
    codes = [f"def {q.replace(' the ', '_')}(x):\n    return x" for q in queries]
    trained = training.train(encoder, queries, codes, [None] * len(codes), full=full, max_steps=3)

    def weights(model: object) -> dict[str, torch.Tensor]:
        merged = model if full else model.merge_and_unload()  # type: ignore[attr-defined]
        return {k: v.detach().clone().float() for k, v in merged.state_dict().items() if v.is_floating_point()}

    base = {k: v.detach().clone().float() for k, v in encoder.model.state_dict().items() if v.is_floating_point()}
    learned = weights(copy.deepcopy(trained.model))
    training.soften(encoder, trained, 0.5, full=full)
    softened = weights(trained.model)
    moved = [k for k in base if not torch.allclose(learned[k], base[k])]
    assert moved  # training changed something, so the test can tell
    for name in base:
        assert torch.allclose(softened[name] - base[name], 0.5 * (learned[name] - base[name]), atol=1e-6), name


@pytest.mark.slow
def test_a_kept_tune_becomes_the_index_model_and_reset_goes_back(tuned_repo: IndexOptions, tiny_model: Path,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 cli_env: dict[str, str]) -> None:
    real = training.evaluate
    calls: list[float] = []

    def better_after(*args: object, **kw: object) -> training.Scores:
        scores = real(*args, **kw)  # type: ignore[arg-type]
        calls.append(scores.mrr)
        return scores if len(calls) == 1 else training.Scores(min(1.0, calls[0] + 0.1), 1.0, scores.queries)

    monkeypatch.setattr(training, "evaluate", better_after)
    mined_negatives: list[object] = []
    monkeypatch.setattr("codesearch.tuning._hard_negative", lambda *args: mined_negatives.append(args))
    base = str(tiny_model.resolve())
    report = tune(tuned_repo, max_steps=4, say=lambda _: None)
    assert not mined_negatives  # BM25 hard negatives only when asked for
    assert report.kept and report.steps == 4 and report.train_pairs >= 32 and report.held_out_pairs >= 16
    tuned = Path(report.model_id)
    assert tuned.parent == tuned_repo.index_dir / TUNED_DIR
    assert (tuned / "adapter_model.safetensors").is_file()
    record = json.loads((tuned / TUNE_FILE).read_text())
    assert record["base"] == base and record["method"] == "lora" and record["steps"] == 4
    assert record["merge_weight"] == training.MERGE_WEIGHT and record["hard_negatives"] is False
    # the terminal: no flag needed; index embeds with the tuned model, status says so, query answers
    root = str(tuned_repo.root)
    run_cli(["index", root], env=cli_env)
    status = json.loads(run_cli(["status", root, "--json"], env=cli_env).stdout)
    assert status["model"] == report.model_id and status["with_vectors"] == status["chunks"]
    assert status["tuned"]["base"] == base
    assert "tuned        from" in run_cli(["status", root], env=cli_env).stdout
    hits = json_lines(run_cli(["query", "--json", "--path", root, "parse the config"], env=cli_env).stdout)
    assert hits
    # the tuned model loads through the user's path: the base with the adapter merged, fast
    assert load_encoder(report.model_id).fast is not None
    reset = run_cli(["tune", root, "--reset"], env=cli_env)
    assert base in reset.stdout
    status = json.loads(run_cli(["status", root, "--json"], env=cli_env).stdout)
    assert status["model"] == base and status["tuned"] is None
    assert status["with_vectors"] == status["chunks"]  # the base model's vectors were kept
    assert not (tuned_repo.index_dir / TUNED_DIR).exists()
    assert "not tuned" in run_cli(["tune", root, "--reset"], env=cli_env).stdout


@pytest.mark.slow
def test_a_tune_that_is_not_better_changes_nothing(tuned_repo: IndexOptions, tiny_model: Path,
                                                   cli_env: dict[str, str]) -> None:
    # no training step: the same model, so not better
    result = run_cli(["tune", str(tuned_repo.root), "--max-steps", "0"], env=cli_env)
    assert "not better" in result.stdout and "nothing changed" in result.stdout
    status = json.loads(run_cli(["status", str(tuned_repo.root), "--json"], env=cli_env).stdout)
    assert status["model"] == str(tiny_model.resolve()) and status["tuned"] is None
    assert not any((tuned_repo.index_dir / TUNED_DIR).glob("*[!.]*"))  # no adapter left, not even staged


@pytest.mark.slow
def test_hard_negatives_when_asked_are_bm25_hits_from_other_files(tuned_repo: IndexOptions,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[list[str], list[str | None]]] = []
    real_train = training.train

    def spy(encoder: object, queries: list[str], codes: list[str], negatives: list[str | None],
            **kw: object) -> training.Trained:
        seen.append((list(codes), list(negatives)))
        return real_train(encoder, queries, codes, negatives, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(training, "train", spy)
    report = tune(tuned_repo, max_steps=0, hard_negatives=True, say=lambda _: None)
    codes, negatives = seen[0]
    assert len(negatives) == report.train_pairs
    found = [(code, n) for code, n in zip(codes, negatives, strict=True) if n]
    assert len(found) >= report.train_pairs // 2  # the repository's functions share words: BM25 finds others
    assert all("def " in n and code not in n for code, n in found)  # another function, not the answer


@pytest.mark.slow
def test_too_few_pairs_is_a_clear_error(repo: Path, tiny_model: Path, cli_env: dict[str, str]) -> None:
    run_cli(["index", str(repo), "--model", str(tiny_model)], env=cli_env)
    result = run_cli(["tune", str(repo)], env=cli_env, check=False)
    assert result.returncode == 1 and "too few to tune on" in result.stderr
    missing = run_cli(["tune", str(repo / "nowhere")], env=cli_env, check=False)
    assert missing.returncode != 0 and "no such path" in missing.stderr


def test_the_held_out_split_is_by_file_stable_and_a_fifth_of_the_pairs() -> None:
    pairs = [Pair("name", f"query {n}", f"code {n}", f"src/file_{n % 37}.py") for n in range(400)]
    held = held_out_files(pairs)
    assert held == held_out_files(list(reversed(pairs)))
    share = sum(p.path in held for p in pairs) / len(pairs)
    assert 0.2 <= share < 0.25  # whole files, so a little over a fifth
    few = [Pair("name", "q", "c", "a.py")] * 9 + [Pair("name", "q", "c", "b.py")]
    assert len(held_out_files(few)) == 1  # never every file: something is left to train on
    big = [Pair("name", "q", "c", "big.py")] * 90 + [Pair("name", "q", "c", f"small_{n}.py") for n in range(30)]
    held = held_out_files(big)
    assert "big.py" not in held and 0.2 <= sum(p.path in held for p in big) / len(big) <= 0.4


def test_a_doc_comment_in_any_script_is_a_query() -> None:
    source = ('def sendungsvolumen(länge, breite, höhe):\n    """Υπολογίζει το μέγεθος της αποστολής."""\n'
              '    volumen = länge * breite\n    volumen = volumen * höhe\n    return volumen\n')
    pairs = [p for p in mine(chunk_source(source, "versand.py", "python")).pairs if p.kind == "doc"]
    assert [p.query for p in pairs] == ["Υπολογίζει το μέγεθος της αποστολής."]  # no ASCII letter in it
