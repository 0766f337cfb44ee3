"""Ignore rules (nested, negated, .codesearchignore, built-in), and files that must be skipped."""

from __future__ import annotations

import os
from pathlib import Path

import pathspec
from codesearch.indexer.walk import BUILTIN_EXCLUDES, WalkReport, _compiled, walk_files


def write(root: Path, rel: str, content: str | bytes = "x = 1\n") -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())


def paths(root: Path, **kw) -> list[str]:
    return [e.rel_path for e in walk_files(root, **kw)]


def test_nested_gitignores_with_negation_and_codesearchignore(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "*.log\nsecret/\n")
    write(tmp_path, "app.py")
    write(tmp_path, "debug.log")
    write(tmp_path, "secret/key.py")
    write(tmp_path, "pkg/.gitignore", "!keep.log\ngenerated_*.py\n")
    write(tmp_path, "pkg/keep.log")
    write(tmp_path, "pkg/other.log")
    write(tmp_path, "pkg/generated_api.py")
    write(tmp_path, "pkg/real.py")
    write(tmp_path, "other/generated_api.py")  # the nested rule applies only under pkg/
    write(tmp_path, ".codesearchignore", "docs/\n")
    write(tmp_path, "docs/guide.md")
    found = paths(tmp_path)
    assert "app.py" in found and "pkg/real.py" in found and "pkg/keep.log" in found
    assert "other/generated_api.py" in found
    for ignored in ("debug.log", "secret/key.py", "pkg/other.log", "pkg/generated_api.py", "docs/guide.md"):
        assert ignored not in found


def test_builtin_excludes_and_an_override(tmp_path: Path) -> None:
    for rel in ("node_modules/lib/index.js", ".git/config", ".venv/lib/site.py", "dist/app.js",
                "target/debug/main.rs", "src/main.rs", "build/tool.py", "_site/readme/index.html",
                "web/.svelte-kit/output/server.js", "infra/.terraform/modules/vpc/main.tf"):
        write(tmp_path, rel)
    assert paths(tmp_path) == ["src/main.rs"]
    write(tmp_path, ".codesearchignore", "!build/\n")
    assert paths(tmp_path) == ["build/tool.py", "src/main.rs"]


def test_a_gitignore_that_keeps_a_lock_file_in_git_does_not_make_it_searched(tmp_path: Path) -> None:
    # formik's `.gitignore` ignores nested lock files and keeps its root one (`!/yarn.lock`): git
    # tracks it; a search has nothing to find in it
    write(tmp_path, ".gitignore", "yarn.lock\n!/yarn.lock\n!/go.sum\n!/dist/app.min.js\n")
    for rel in ("yarn.lock", "go.sum", "package-lock.json", "src/app.js", "src/app.min.js"):
        write(tmp_path, rel)
    write(tmp_path, "pkg/.gitignore", "!Cargo.lock\n")
    write(tmp_path, "pkg/Cargo.lock")
    assert paths(tmp_path) == ["src/app.js"]
    # the project's own ignore file can still ask for one
    write(tmp_path, ".codesearchignore", "!/yarn.lock\n")
    assert paths(tmp_path) == ["src/app.js", "yarn.lock"]


def test_large_files_and_symlinks_are_skipped_and_counted(tmp_path: Path) -> None:
    write(tmp_path, "big.py", "x" * 5000)
    write(tmp_path, "small.py")
    os.symlink(tmp_path, tmp_path / "loop")  # a directory link back to the root
    os.symlink(tmp_path / "missing.py", tmp_path / "dangling.py")
    os.symlink(tmp_path / "small.py", tmp_path / "alias.py")
    report = WalkReport()
    found = paths(tmp_path, max_file_bytes=1000, report=report)
    assert found == ["alias.py", "small.py"]
    assert report.skipped == {"too large": 1, "symlinked directory": 1, "broken symlink": 1}
    # a notebook is mostly its outputs, which are not indexed: it may be larger
    write(tmp_path, "plots.ipynb", "x" * 5000)
    write(tmp_path, "huge.ipynb", "x" * 50_000)
    assert paths(tmp_path, max_file_bytes=1000) == ["alias.py", "plots.ipynb", "small.py"]


def test_extra_excludes(tmp_path: Path) -> None:
    write(tmp_path, "a.py")
    write(tmp_path, "b_test.py")
    assert paths(tmp_path, extra_excludes=("*_test.py",)) == ["a.py"]


def test_the_one_expression_shortcut_decides_exactly_as_pathspec() -> None:
    # the walk asks one combined expression first and pathspec only where it matches: every
    # decision must be pathspec's own, negations, anchors, directory marks and ** included
    rules = (*BUILTIN_EXCLUDES, "# a comment", "", "/top.txt", "docs/**/*.md", "!docs/keep.md", "logs/",
             "!logs/important/", "*.tmp", "!special.tmp", "a[bc]d?.txt", "build-*/", r"\#hash", "src/**/gen/")
    paths = ["top.txt", "sub/top.txt", "docs/a.md", "docs/x/y/b.md", "docs/keep.md", "logs/", "logs/a.log",
             "logs/important/", "x.tmp", "dir/special.tmp", "abd1.txt", "acdz.txt", "aed1.txt", "build-3/",
             "build-3", "#hash", "src/a/gen/", "src/gen/", "lib/gen/", ".git/", "a/.git/", "node_modules/",
             "x/node_modules/", "app.min.js", "app.js", "package-lock.json", "a/package-lock.json", "README.md",
             "src/main.py", "__pycache__/", "m.pyc", "dist/", "distance.py", "vendor/", "a/vendor/lib.go"]
    shortcut, spec = _compiled(rules), pathspec.GitIgnoreSpec.from_lines(rules)
    assert shortcut.any_match is not None
    assert [shortcut.decides(path) for path in paths] == [spec.check_file(path).include for path in paths]
    assert shortcut.decides("src/main.py") is None and shortcut.decides("docs/keep.md") is False
