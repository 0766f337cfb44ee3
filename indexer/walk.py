"""Find the files of a repository worth indexing, honouring ignore rules at every level.

Rules, later ones winning: the built-in excludes, `.git/info/exclude`, then each directory's
`.gitignore` and `.codesearchignore` (same syntax, negations included) from the root down. An
ignored directory is not entered, so (as in git) nothing below it can be re-included. Tools'
artifacts (`ARTIFACTS`: lock files, bundles, source maps) stay out whatever a `.gitignore` says;
only a `.codesearchignore` brings one back.
Symlinked directories are not followed; symlinked files are read if they point at a file.
"""

from __future__ import annotations

import functools
import os
import re
import stat
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pathspec
from codesearch.indexer.notebooks import is_notebook

from codesearch.paths import is_utf8
from codesearch.requests import DEFAULT_MAX_FILE_BYTES

IGNORE_FILES = (".gitignore", ".codesearchignore")
# A notebook's size is mostly its outputs (a plot is base64), which are not indexed: it may be
# this many times --max-file-size (Python Data Science Handbook: 9 of 125 notebooks over 1 MB)
NOTEBOOK_ALLOWANCE = 20
# Files tools write that a repository commits, and no question is about: bundles, source maps,
# dependency lock files. A `.gitignore` that re-includes one (`!/yarn.lock`: formik's keeps its
# root lock file in git, 695 KB of text that took places in answers) says what git tracks, not what
# to search: these rules follow every `.gitignore`, and only a `.codesearchignore` can re-include.
ARTIFACTS = ("*.min.js", "*.min.css", "*.map", "*.lock", "package-lock.json", "npm-shrinkwrap.json",
             "pnpm-lock.yaml", "go.sum")
BUILTIN_EXCLUDES = (
    ".git/", ".hg/", ".svn/", ".codesearch/", "node_modules/", "bower_components/", "vendor/",
    ".venv/", "venv/", ".tox/", ".nox/", "__pycache__/", ".mypy_cache/", ".pytest_cache/",
    ".ruff_cache/", "dist/", "build/", "target/", "out/", ".gradle/", ".idea/", ".vscode/",
    "*.egg-info/", ".next/", ".nuxt/", "coverage/", "_build/", "deps/", ".stack-work/",
    "zig-cache/", ".zig-cache/", "zig-out/", "Pods/", "DerivedData/",
    # sites and caches that site generators and front-end tools write (Jekyll's and Eleventy's
    # `_site/`: immer commits its built readme there, pages of HTML that took places in answers)
    "_site/", ".docusaurus/", ".svelte-kit/", ".angular/", ".turbo/", ".parcel-cache/", ".dart_tool/",
    # the providers and modules `terraform init` downloads
    ".terraform/",
    *ARTIFACTS,
    ".gitignore", ".codesearchignore", ".gitattributes", ".gitmodules",
    ".codesearch-cookie-*",  # the live index's watcher, making sure it has caught up (indexer.watch)
    "*.pyc", "*.so", "*.dylib", "*.dll", "*.exe", "*.o", "*.a", "*.class", "*.jar",
)


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A file to index: its path relative to the root (POSIX separators) and its stat."""

    rel_path: str
    path: str  # absolute, as the OS spells it (a string: a Path per file costs a walk 25 µs)
    size: int
    mtime_ns: int

    @property
    def abs_path(self) -> Path:
        return Path(self.path)


@dataclass
class WalkReport:
    """What the walk skipped and why, and what it indexed with a warning, for the summary line."""

    skipped: Counter[str] = field(default_factory=Counter)
    warned: Counter[str] = field(default_factory=Counter)

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1

    def warn(self, warning: str) -> None:
        self.warned[warning] += 1


def _read_rules(path: str | Path) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return file.read().splitlines()
    except OSError:
        return []


class _RuleSet:
    """One ignore file's rules (or the root's), compiled. pathspec tries each pattern in turn,
    in Python; `any_match`, all of them in one regular expression, tells at C speed that none
    matches, which is the answer for nearly every path. Only a path it matches goes to pathspec,
    which decides by git's rules (the last match wins, negations, directory marks). Compiling
    that expression costs a few milliseconds, so it is built only once a walk has asked about
    SHORTCUT_AFTER paths: a small repository's one-off query does not pay for it."""

    SHORTCUT_AFTER = 256

    def __init__(self, spec: pathspec.GitIgnoreSpec) -> None:
        self.spec = spec
        self._asked = 0
        self._any_match: re.Pattern[str] | None = None
        self._built = False

    @property
    def any_match(self) -> re.Pattern[str] | None:
        """The one expression (built now if need be); None where pathspec's patterns are not of
        the kind it can join."""
        if not self._built:
            self._any_match, self._built = _any_match(self.spec), True
        return self._any_match

    def decides(self, path: str) -> bool | None:
        """True: ignored; False: re-included by a negation; None: no rule here matches."""
        if self._built or self._asked >= self.SHORTCUT_AFTER:
            shortcut = self.any_match
            if shortcut is not None and not shortcut.match(path):
                return None
        else:
            self._asked += 1  # threads may race here: at worst the expression is built twice
        return self.spec.check_file(path).include


def _is_ignored(rules: list[tuple[str, _RuleSet]], rel_path: str, is_dir: bool) -> bool:
    """Apply every rule set from the root down; the deepest one that matches decides."""
    ignored = False
    for base, rule_set in rules:
        if base and not rel_path.startswith(base + "/"):
            continue
        local = rel_path[len(base) + 1 :] if base else rel_path
        decision = rule_set.decides(local + "/" if is_dir else local)
        if decision is not None:
            ignored = decision
    return ignored


def walk_files(
    root: Path,
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    extra_excludes: tuple[str, ...] = (),
    includes: tuple[str, ...] = (),
    report: WalkReport | None = None,
) -> Iterator[FileEntry]:
    """Yield the indexable files under `root`, sorted, counting what is skipped in `report`.

    `includes` (gitignore syntax), when given, keeps only the files that match one of them:
    `src/`, `*.go`, `services/payments/**/*.py`."""
    report = report if report is not None else WalkReport()
    entries = _walk_dir(str(root), "", _root_rules(root, extra_excludes), max_file_bytes, report)
    if includes:
        wanted = _compiled(tuple(includes))
        entries = (entry for entry in entries if wanted.decides(entry.rel_path))
    yield from entries


def built_in_rules(extra_excludes: tuple[str, ...] = ()) -> _RuleSet:
    """The rules that leave paths out before any ignore file is read (the built-in ones and
    `extra_excludes`), compiled: the watcher's first, cheap test of a changed path
    (`.decides(path)` is True where they leave it out)."""
    return _compiled(tuple(r for r in (*BUILTIN_EXCLUDES, *extra_excludes) if r not in IGNORE_FILES))


def ignored_by(root: Path, rel_path: str, extra_excludes: tuple[str, ...] = ()) -> str | None:
    """What makes `walk_files` leave out the file at `rel_path`, by the rules from the root down
    to its folder: the first of its folders that is ignored (`node_modules`), or the path itself;
    None where the walk keeps it. Read now: the watcher asks it of the changed paths the built-in
    rules alone would leave out, which `!build/` may bring back; everything under such a folder
    is left out too, until an ignore file changes."""
    rules = _root_rules(root, extra_excludes)
    folders = rel_path.split("/")[:-1]
    for depth in range(len(folders) + 1):
        rel_dir = "/".join(folders[:depth])
        if rel_dir and _is_ignored(rules, rel_dir, is_dir=True):
            return rel_dir
        directory = os.path.join(root, rel_dir)
        present = {name for name in IGNORE_FILES if os.path.isfile(os.path.join(directory, name))}
        rules = _with_local_rules(directory, rel_dir, rules, present)
    return rel_path if _is_ignored(rules, rel_path, is_dir=False) else None


def _root_rules(root: Path, extra_excludes: tuple[str, ...]) -> list[tuple[str, _RuleSet]]:
    return [("", _compiled((*BUILTIN_EXCLUDES, *_read_rules(root / ".git" / "info" / "exclude"), *ARTIFACTS,
                            *extra_excludes)))]


def _with_local_rules(directory: str, rel_dir: str, rules: list[tuple[str, _RuleSet]],
                      names: Collection[str]) -> list[tuple[str, _RuleSet]]:
    """`rules` and those of the ignore files among a folder's `names` (the artifact rules after a
    `.gitignore`'s: only a `.codesearchignore` re-includes a lock file)."""
    local = [line for name in IGNORE_FILES if name in names
             for line in [*_read_rules(os.path.join(directory, name)), *(ARTIFACTS if name == ".gitignore" else ())]]
    return [*rules, (rel_dir, _compiled(tuple(local)))] if local else rules


@functools.lru_cache(maxsize=4096)
def _compiled(rules: tuple[str, ...]) -> _RuleSet:
    """Rules compiled once per distinct set: a live index walks the same ones on every sync."""
    return _RuleSet(pathspec.GitIgnoreSpec.from_lines(rules))


def _any_match(spec: pathspec.GitIgnoreSpec) -> re.Pattern[str] | None:
    """One expression that matches where any of the spec's patterns does, or None if they are
    not plain regular expressions of the kind pathspec compiles today. Group names are dropped
    (alternatives may not share one), and the patterns that may match at any depth share their
    leading `(?:.+/)?`, so a path's folders are tried once, not once per pattern."""
    anywhere, rooted = [], []
    for pattern in spec.patterns:
        if pattern.include is None:  # a blank line or a comment
            continue
        regex = getattr(pattern, "regex", None)
        if not isinstance(regex, re.Pattern) or regex.flags != re.UNICODE:
            return None
        text = re.sub(r"\(\?P<\w+>", "(", regex.pattern)
        if text.startswith(_ANY_DEPTH):
            anywhere.append(text[len(_ANY_DEPTH):])
        else:
            rooted.append(text)
    alternatives = [f"(?:{text})" for text in rooted]
    if anywhere:
        alternatives.append(_ANY_DEPTH + "(?:" + "|".join(f"(?:{text})" for text in anywhere) + ")")
    try:
        return re.compile("|".join(alternatives)) if alternatives else None
    except re.error:
        return None


_ANY_DEPTH = "^(?:.+/)?"  # how pathspec starts a pattern with no slash before its end


def _walk_dir(
    directory: str,
    rel_dir: str,
    rules: list[tuple[str, _RuleSet]],
    max_file_bytes: int,
    report: WalkReport,
) -> Iterator[FileEntry]:
    """Depth first, each folder's entries in name order: a stack of open folders rather than
    a generator per folder, whose every file would pass up through one `yield from` per level."""
    stack = [_open_dir(directory, rel_dir, rules, report)]
    while stack:
        entries, rel_dir, rules = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        if not is_utf8(entry.name):
            report.skip("name not UTF-8")  # a file or a whole folder: no index, editor or terminal could name it
            continue
        rel_path = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
        try:
            is_link = entry.is_symlink()
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            report.skip("unreadable")
            continue
        if is_dir:
            if not _is_ignored(rules, rel_path, is_dir=True):
                stack.append(_open_dir(entry.path, rel_path, rules, report))
            continue
        if _is_ignored(rules, rel_path, is_dir=False):
            continue
        try:
            st = os.stat(entry.path)  # follows a symlinked file to its target
        except OSError:
            report.skip("broken symlink" if is_link else "unreadable")
            continue
        if stat.S_ISDIR(st.st_mode):
            report.skip("symlinked directory")
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        if st.st_size > max_file_bytes * (NOTEBOOK_ALLOWANCE if is_notebook(entry.name) else 1):
            report.skip("too large")
            continue
        yield FileEntry(rel_path, entry.path, st.st_size, st.st_mtime_ns)


def _open_dir(directory: str, rel_dir: str, rules: list[tuple[str, _RuleSet]],
              report: WalkReport) -> tuple[Iterator[os.DirEntry[str]], str, list[tuple[str, _RuleSet]]]:
    """A folder's entries in name order, with the rules that apply inside it (its own ignore
    files added); no entries if it cannot be listed."""
    try:
        with os.scandir(directory) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError:
        report.skip("unreadable directory")
        return iter(()), rel_dir, rules
    return iter(entries), rel_dir, _with_local_rules(directory, rel_dir, rules, {entry.name for entry in entries})


def looks_binary(data: bytes) -> bool:
    """NUL bytes in the first 8 KiB mean binary, as git decides; so does a PDF's header, which
    Illustrator's `.ai` files also have: their first pages are often text, and the rest is
    compressed streams that decode to thousands of nonsense words (zod's repository holds 8)."""
    return b"\x00" in data[:8192] or data.startswith(b"%PDF-")


def looks_minified(text: str) -> bool:
    """Generated one-line bundles make useless chunks: very long lines on average."""
    if len(text) < 20_000:
        return False
    return len(text) / (text.count("\n") + 1) > 400
