"""Indexing jobs: the SPEC, the catalog, and whole jobs on a local Ray with the tiny ModernBERT."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from catalogs import git, make_org
from codesearch.indexer.jobs.git import anchored_folders
from codesearch.indexer.jobs.spec import JobSpec, SpecError
from conftest import EXECUTABLE, json_lines, run_cli

from codesearch.catalog.catalog import Catalog, ShardEntry, collect_garbage, publish
from codesearch.store import Store


def write_spec(path: Path, output: Path, model: Path, repos: dict[str, str], extra: str = "") -> Path:
    lines = [f'output = "{output}"', f'model = "{model}"', extra]
    for name, url in repos.items():
        lines += ["[[repo]]", f'name = "{name}"', f'url = "{url}"']
    path.write_text("\n".join(lines) + "\n")
    return path


# --- the SPEC and the catalog (fast) ---------------------------------------------------------

@pytest.mark.parametrize(("text", "message"), [
    ("output = ", "not valid TOML"),
    ('model = "small"\n[[repo]]\nname = "a"\nurl = "x"', "needs `output"),
    ('output = "o"', "lists no repositories"),
    ('output = "o"\n[[repo]]\nname = "a"\nurl = "x"\n[[repo]]\nname = "a"\nurl = "y"', "repeated: a"),
    ('output = "o"\n[[repo]]\nname = "a"\nurl = "x"\nbranch = "main"', "unknown key(s) in [[repo]] number 1: branch"),
    ('output = "o"\n[[repo]]\nname = "a b"\nurl = "x"', "needs a `name`"),
    ('output = "o"\n[[repo]]\nname = "a"', "needs a `url`"),
    ('output = "o"\n[options]\nencoders = 0\n[[repo]]\nname = "a"\nurl = "x"', "options.encoders"),
    ('output = "o"\n[options]\ndtype = "fp4"\n[[repo]]\nname = "a"\nurl = "x"', "options.dtype"),
])
def test_spec_mistakes_are_named(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "spec.toml").write_text(text)
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        JobSpec.load(tmp_path / "spec.toml")


def test_spec_resolves_paths_against_its_file(tmp_path: Path) -> None:
    (tmp_path / "spec.toml").write_text(
        'output = "out"\n[options]\nembed = false\n[[repo]]\nname = "org/a"\nurl = "../a"\nref = "v1"\n'
        'include = ["/src/"]\n[[repo]]\nname = "b"\nurl = "git@example.com:org/b.git"\n')
    spec = JobSpec.load(tmp_path / "spec.toml")
    assert spec.output == tmp_path / "out" and spec.model == "base" and spec.options.embed is False
    assert spec.repos[0].url == str((tmp_path / ".." / "a").resolve()) and spec.repos[0].ref == "v1"
    assert spec.repos[0].include == ("/src/",) and spec.repos[1].url == "git@example.com:org/b.git"
    with pytest.raises(SpecError, match="no such SPEC"):
        JobSpec.load(tmp_path / "missing.toml")


def test_only_anchored_includes_narrow_what_is_written_out() -> None:
    assert anchored_folders(("/src/app/", "services/pay/*.go")) == ["src/app", "services/pay"]
    assert anchored_folders(("src/",)) == []  # gitignore: a bare folder name matches at any depth
    assert anchored_folders(("/lib/", "*.py")) == []
    assert anchored_folders(()) == []


def test_publish_replaces_the_catalog_whole_and_old_shards_go_after_the_grace(tmp_path: Path) -> None:
    for name in ("a-1", "a-2", "b-1", "stray"):
        (tmp_path / "shards" / name).mkdir(parents=True)
        (tmp_path / "shards" / name / "index.sqlite3").write_text("x")
    publish(tmp_path, lambda c: c.with_repo(ShardEntry("a", "shards/a-1", "1")).with_repo(
        ShardEntry("b", "shards/b-1", "1")))
    first = (tmp_path / "catalog.json").read_text()
    publish(tmp_path, lambda c: c.with_repo(ShardEntry("a", "shards/a-2", "2")))
    catalog = Catalog.load(tmp_path)
    assert catalog.generation == 2 and catalog.repos["a"].commit == "2" and catalog.repos["b"].shard == "shards/b-1"
    assert [p for p, _ in catalog.retired] == ["shards/a-1"]
    assert json.loads(first)["generation"] == 1  # the file was replaced, never edited in place
    assert not list(tmp_path.glob(".catalog.json.*.tmp"))
    assert collect_garbage(tmp_path, grace_seconds=3600) == []  # readers of the old catalog may still need it
    assert (tmp_path / "shards" / "a-1").exists() and (tmp_path / "shards" / "stray").exists()
    removed = collect_garbage(tmp_path, grace_seconds=0)
    assert sorted(removed) == ["shards/a-1", "shards/stray"]
    assert not (tmp_path / "shards" / "a-1").exists() and (tmp_path / "shards" / "a-2").exists()
    assert Catalog.load(tmp_path).retired == ()


# --- whole jobs (slow: a local Ray) ----------------------------------------------------------

def _report(path: Path) -> dict[str, dict[str, object]]:
    return {r["name"]: r for r in json.loads(path.read_text())["repos"]}


def _hashes(shard: Path) -> set[str]:
    store = Store.open(shard)
    try:
        return {c.content_hash for c in store.missing_vectors("nothing")}
    finally:
        store.close()


@pytest.mark.slow
def test_a_job_indexes_skips_unchanged_and_embeds_only_changed_chunks(tmp_path: Path, tiny_model: Path,
                                                                     cli_env: dict[str, str]) -> None:
    repos = make_org(tmp_path / "org")
    out = tmp_path / "out"
    spec = write_spec(tmp_path / "spec.toml", out, tiny_model, {n: str(p) for n, p in repos.items()})
    run_cli(["job", "run", str(spec), "--report", str(tmp_path / "r1.json")], env=cli_env)
    first = _report(tmp_path / "r1.json")
    assert {r["status"] for r in first.values()} == {"indexed"}
    catalog = Catalog.load(out)
    for name, root in repos.items():
        entry = catalog.repos[name]
        assert entry.commit == git(root, "rev-parse", "HEAD") and entry.chunks == entry.vectors > 0
        assert first[name]["new_vectors"] == len(_hashes(catalog.shard_dir(entry)))
    # A shard is an index: the single-repository commands open it as it is.
    shard = catalog.shard_dir(catalog.repos["payments"])
    hits = json_lines(run_cli(["query", "retry the uploads that failed", "--index-dir", str(shard), "--json"],
                              env=cli_env, cwd=tmp_path).stdout)
    assert hits[0]["symbol"] == "retry_failed_uploads"
    # The catalog: one ranking over every repository, results naming repository and commit.
    hits = json_lines(run_cli(["query", "--catalog", str(out), "--json", "session expired"], env=cli_env).stdout)
    assert hits[0]["repo"] == "web" and hits[0]["commit"] == catalog.repos["web"].commit
    only = json_lines(run_cli(["query", "--catalog", str(out), "--repo", "pay*", "--json", "--mode", "lexical",
                               "cache session retry"], env=cli_env).stdout)
    assert only and {h["repo"] for h in only} == {"payments"}

    run_cli(["job", "run", str(spec), "--report", str(tmp_path / "r2.json")], env=cli_env)
    assert {r["status"] for r in _report(tmp_path / "r2.json").values()} == {"unchanged"}
    assert Catalog.load(out).repos == catalog.repos

    retry = repos["payments"] / "src" / "payments" / "retry.py"
    retry.write_text(retry.read_text().replace("attempts=5", "attempts=7"))
    git(repos["payments"], "commit", "-qam", "more attempts")
    run_cli(["job", "run", str(spec), "--report", str(tmp_path / "r3.json")], env=cli_env)
    third = _report(tmp_path / "r3.json")
    assert third["payments"]["status"] == "indexed"
    assert third["web"]["status"] == third["tools"]["status"] == "unchanged"
    after = Catalog.load(out)
    old_hashes = set().union(*(_hashes(catalog.shard_dir(e)) for e in catalog.repos.values()))
    changed = _hashes(after.shard_dir(after.repos["payments"])) - old_hashes
    assert 0 < len(changed) < after.repos["payments"].chunks
    assert third["payments"]["new_vectors"] == len(changed)
    assert after.repos["payments"].commit == git(repos["payments"], "rev-parse", "HEAD")
    assert shard.exists()  # the replaced shard stays through the grace period for readers


def _descendants(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of every process below `pid` (Ray's processes are the job's children)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], {pid}
    while frontier:
        children = {child for child, parent in parents.items() if parent in frontier}
        for child in children:
            try:
                command = (Path("/proc") / str(child) / "cmdline").read_bytes().replace(b"\0", b" ")
                found.append((child, command.decode(errors="replace")))
            except OSError:
                pass
        frontier = children
    return found


@pytest.mark.slow
def test_a_killed_encoder_is_restarted_and_a_bad_url_fails_alone(tmp_path: Path, tiny_model: Path,
                                                                  cli_env: dict[str, str]) -> None:
    repos = {n: str(p) for n, p in make_org(tmp_path / "org").items()}
    repos["missing"] = str(tmp_path / "no-such-repository")
    out = tmp_path / "out"
    spec = write_spec(tmp_path / "spec.toml", out, tiny_model, repos, "[options]\nbatch_size = 4")
    job = subprocess.Popen([str(EXECUTABLE), "job", "run", str(spec), "--report", str(tmp_path / "r.json")],
                           env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = None
    deadline = time.monotonic() + 240
    while killed is None and job.poll() is None and time.monotonic() < deadline:
        actors = [pid for pid, command in _descendants(job.pid) if command.startswith("ray::EncodeActor")]
        if actors:
            os.kill(actors[0], signal.SIGKILL)
            killed = actors[0]
        time.sleep(0.05)
    _, stderr = job.communicate(timeout=300)
    assert killed is not None, f"no encoder actor to kill appeared:\n{stderr}"
    assert job.returncode == 1, stderr  # one repository failed
    report = _report(tmp_path / "r.json")
    assert report["missing"]["status"] == "failed" and "no-such-repository" in str(report["missing"]["error"])
    assert all(report[n]["status"] == "indexed" for n in ("payments", "web", "tools")), report
    catalog = Catalog.load(out)
    assert sorted(catalog.repos) == ["payments", "tools", "web"]
    assert all(e.vectors == e.chunks > 0 for e in catalog.repos.values())
    assert "missing: " in stderr
