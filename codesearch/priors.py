"""Where a chunk's file is, as evidence it is the answer. Pure functions on paths.

Tests, examples, docs, compatibility shims, vendored and generated code, type stubs and prose rank
below the implementation unless the query asks for them (`path_prior`); so do a barrel's top-level
code (`barrel_prior`), tests written beside the code (`inline_test_prior`), code in a version
folder a newer one replaces and code for Windows beside code for other platforms
(`variant_priors`). A file whose name or folder the query names is lifted (`path_match`).
`ranking.rank` applies them; its hot loop calls the cached forms (`file_prior`, `asked_kinds`,
`barrel_factor`, `inline_test_factor`, `path_names`, `prefixes`, `path_hits`).
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Collection
from functools import lru_cache

from codesearch.lexical import code_tokens
from codesearch.records import Chunk

TEST_PENALTY = 0.3
ASIDE_PENALTY = 0.5
STUB_PENALTY = 0.7
PROSE_PENALTY = 0.5
PROSE = "text"  # indexer.languages.TEXT: files no grammar fits

# The path patterns below are searched in "/" + path: a folder at the start is "/name/" like any
# other, and a pattern that starts with a plain character lets `re` skip to where it could match
# (`(^|/)` made each search try every position: 2-3x slower).
_TEST_FOLDER = re.compile(
    # folders: `tests/`, Lua's `testes/`, Swift's and .NET's `Tests/`, `UnitTests/`, `Dapper.Tests/`,
    # Gradle's and Kotlin's source sets (`androidTest/`, `jvmTest/`, `integrationTest/`),
    # `e2e-tests/`, and test support: `testutil/`, `AdapterTestUtilities/`, `TestHelpers/`,
    # Gradle's `testFixtures/`, Go's `testdata/`, `fixtures/`, `__fixtures__/`, jscodeshift's
    # `__testfixtures__/`, Jest's kinds of `__tests__/` (`__performance_tests__/`), `perf-testing/`,
    # mocks (Jest's `__mocks__/`), fuzzing harnesses (`fuzz/`, OSS-Fuzz's `ossfuzz/`, `fuzzing/`),
    # regression tests (OpenBSD's and tmux's `regress/`, `regression/`), TypeScript's type tests
    # (dtslint's `dtslint/`, RxJS's `spec-dtslint/`, tsd's `test-d/`, `typetests/`)
    r"/(?:[\w-]*dtslint|test-d|typetests?|"
    r"[Tt]ests?|testes|__\w*tests?__|__(?:test)?fixtures__|[Ss]pecs?|[Tt]esting|testdata|fixtures?|__mocks__|mocks?|"
    r"(?:oss-?)?fuzz(?:ing|ers?)?|regress(?:ions?)?|"
    r"[\w.]*[a-z.]Tests?|[\w.-]*[-_][Tt]est(?:s|ing)?|"
    r"(?:[\w.-]*[-_.])?[Tt]est[-_]?(?:[Uu]til(?:s|ities)?|[Hh]elpers?|[Ss]upport|[Ff]ixtures)|"
    r"[\w.-]*[a-z]Test(?:Util(?:s|ities)?|Helpers?|Support))(?:/|$)"
)
_TEST_FILE = re.compile(
    # files: `test_x.py`, `x_test.go`, `x.test.ts`, type tests (`x.test-d.ts`), property tests
    # (remeda's `x.test-prop.ts`), `XTests.swift`, `XTestCase.php`, `x_spec.rb`, Bats' `x.bats`,
    # pytest's `conftest.py`, Jest's and Vitest's setup (`setupTests.ts`, `test-setup.mjs`,
    # `vitest.setup.ts`), mocks (`mock_store.go`, `store_mock.go`), fuzzing
    # harnesses (`parser_fuzzer.cc`, `fuzz_json.py`)
    r"/test_[^/]*$|_fuzzer\.[a-z]+$|/fuzz_[^/]*$|/tests?\.[a-z]+$|_test\.[a-z]+$|\.(?:test|spec)(?:-[a-z]+)?\.[a-z]+$|"
    r"(?:Tests?|Spec|TestCase|TestBase|TestHelpers?|TestUtils?)\.[a-z]+$|_spec\.rb$|\.bats$|/conftest\.py$|"
    r"/(?:setup-?[Tt]ests?|tests?-setup|(?:jest|vitest)\.setup)\.[cm]?[jt]sx?$|"
    r"/mock_[^/]*$|_mocks?\.[a-z]+$"
)


# Code beside the implementation: examples, docs, compatibility shims, vendored code (`vendor/`,
# `third_party/`, `deps/`, a release unpacked in a folder of its name and version, spdlog's copy
# of fmt in `fmt/bundled/`, a Java library's copy under a package of its own, os-lib's
# `shaded_org_apache_tools_zip/`), contributed extras (zlib's `contrib/`) and generated code.
_ASIDE_PATH = re.compile(
    r"/(?:_?[Ee]xamples?|[Ss]amples?|[Dd]emos?|[Pp]laygrounds?|[Dd]ocs?|docs?_src|[Dd]ocumentation|compat|_compat|"
    r"legacy|deprecated|"
    r"[Vv]endor|vendored|bundled|shaded|shaded_\w+|third[-_]?party|3rdparty|external|deps|contrib|generated|gen|"
    r"[A-Za-z][\w+]*-\d+\.\d+\.\d+[\w.-]*|"  # a release unpacked whole (yaml-cpp's `test/googletest-1.16.0/`)
    r"[Bb]ench|[Bb]enches|[Bb]enchmarks?|[\w.]+\.Benchmarks?|"  # .NET's `Benchmark/`, `Polly.Benchmarks/`
    r"website|\.github|"  # a project's site (Docusaurus, Jekyll), GitHub's templates and CI
    r"[\w .-]+\.(?:docc|playground|xcodeproj|xcworkspace))(?:/|$)|"  # Xcode's docs, playgrounds and projects
    r"(?:\.min\.js|_pb2\.py|\.pb\.go|[/._-]generated(?:\.[a-z]+)+|\.stories\.[jt]sx?|"  # Storybook's stories
    r"(?:/_?|[_-])(?:deprecated|legacy)\.[a-z]+|"  # old APIs kept in a file of their own (h3's `_deprecated.ts`)
    r"[/\w-](?<!in)compat\.[a-z]+|"  # shims in a file of their own: click's `_compat.py`, hiredis's `sockcompat.c`
    # benchmark scripts: `multi_queue_bench.c`, `bench_parse.py`, Vitest's `sort.bench.ts` (not lz4's
    # `bench.c`, the `-b` its command line offers)
    r"[._-]bench(?:mark)?s?(?:\.[a-z]+)?|/bench(?:mark)?s?_[^/]*)$"
)
# How a JavaScript project's tools are set up, not what the project does: `vite.config.ts`,
# `eslint.config.js`, `jest.config.cjs`, `.eslintrc.js`, `Gruntfile.js`, `gulpfile.js`. A monorepo
# has one per package, short, under the package's name, so a question whose words name the
# package (`query-sync-storage-persister/tsdown.config.js` for "persist query cache to storage")
# found them first. The project's own configuration code (`src/config.ts`) is not one. Tooling too:
# - what a hidden folder holds, a tool's settings and scripts (`.vitepress/config/en.ts`, whose
#   sidebar names every guide, had led pinia's "hot module replacement of a store"; `.storybook/`,
#   `.husky/`, `.devcontainer/`, `.mvn/`; `.github/` ranks as a project's site, `_ASIDE_PATH`);
# - a project's `scripts/` (Ruby's `script/`): release, build and benchmark scripts beside the
#   code it ships (formik's `scripts/benchmark.tsx`).
_TOOLING_PATH = re.compile(
    r"[\w-]\.config\.[cm]?[jt]sx?$|/\.?eslintrc(?:\.[cm]?js)?$|/(?:Gruntfile|gulpfile)\.[cm]?[jt]s$|"
    r"/\.(?!github/)\w[\w.-]*/|/scripts?/")
# Files that declare what is defined elsewhere (type stubs), and files whose top-level code mostly
# re-exports it (barrels: their module chunks give way; a function or class in one is code like
# any other, and in many a JavaScript project `middleware/cors/index.ts` is the implementation).
_STUB_PATH = re.compile(r"\.d\.ts$|\.pyi$")  # TypeScript's declarations, Python's type stubs
# A project's history in prose (`CHANGES`, `CHANGELOG.md`, `History.md`): it names every feature
# once, and so matches many questions about code, which it never answers.
_HISTORY_PATH = re.compile(r"/(?:changes|changelog|change_log|history|news|release[-_]?notes|releases)(?:\.[a-z]+)?$",
                           re.IGNORECASE)
_BARREL_PATH = re.compile(r"/(?:__init__\.py|index\.[jt]sx?|package-info\.java)$")
# Ports to systems few questions are about: beside the code for Linux, macOS or a BSD they hold
# the same functions again (libuv's `uv_interface_addresses` in six; `variant_priors`)
_RARE_SYSTEMS = ("aix", "os390", "zos", "sunos", "solaris", "illumos", "ibmi", "os400", "haiku", "qnx", "hurd",
                 "cygwin", "plan9")
ASKS_FOR = {
    "test": frozenset({"test", "tests", "testing", "spec", "specs", "fixture", "fixtures", "mock", "fuzz", "fuzzer",
                       "fuzzers", "fuzzing", "regress", "regression", "regressions"}),
    "aside": frozenset({"example", "examples", "sample", "demo", "playground", "doc", "docs", "compat", "legacy",
                        "compatibility", "vendor", "vendored", "shaded", "generated", "deprecated", "bench",
                        "benchmark", "benchmarks", "contrib", "contributed", "external", "deps", "bundled", "website",
                        "github",
                        "ci", "workflow", "workflows"}),
    "prose": frozenset({"readme", "doc", "docs", "documentation", "guide", "changelog", "markdown", "yaml",
                        "yml", "toml", "ci", "workflow", "config", "configuration"}),
    "tooling": frozenset({"config", "configs", "configuration", "configure", "build", "bundle", "bundler",
                          "bundling", "lint", "linter", "linting", "eslint", "tooling", "script", "scripts"}),
    "stub": frozenset({"init", "index", "export", "exports", "reexport", "declaration", "declarations",
                       "mod", "module", "package", "stub", "stubs", "pyi"}),
    "windows": frozenset({"win", "windows", "win32", "winapi", "msvc", "iocp"}),
    "rare": frozenset({*_RARE_SYSTEMS, "mvs", "ibm"}),
    "history": frozenset({"changelog", "changelogs", "history", "releases"}),
}


def path_prior(path: str, terms: Collection[str], language: str = "") -> float:
    """How much a file's place says about its chunks being the answer, as a multiplier: tests,
    examples, docs, compatibility shims and generated code, then type stubs, rank below the
    implementation, unless the query's `terms` ask for that kind of file."""
    return file_prior(path, language, asked_kinds(tuple(terms)))


def barrel_prior(chunk: Chunk, terms: Collection[str]) -> float:
    """A re-export barrel's top-level code (`__init__.py`, `index.ts`) ranks below the code it
    re-exports, unless the query asks for exports; the barrel's own functions and classes do not."""
    return barrel_factor(chunk.path, chunk.kind, asked_kinds(tuple(terms)))


def inline_test_prior(chunk: Chunk, terms: Collection[str]) -> float:
    """A test written beside the code it tests ranks as a test file's would, unless the query
    asks for tests: Rust's `mod tests { ... }` (`tests.it_parses`; also a module named
    `test_special_string` or `simd_test`, as pulldown-cmark names them), Zig's `test "parses" { ... }`
    (named by its string) and Haskell's QuickCheck properties (`prop_checkReturn1 = verify ...`,
    ShellCheck keeps 1,700 beside its checks) live in the implementation's own file, where the
    path says nothing."""
    return inline_test_factor(chunk.path, chunk.qualified_name, asked_kinds(tuple(terms)), chunk.language)


def inline_test_factor(path: str, qualified_name: str, asked: tuple[str, ...], language: str) -> float:
    """`inline_test_prior` with the kinds the query asks for worked out once (`asked_kinds`)."""
    if "test" in asked:
        return 1.0
    inline = (qualified_name.startswith('"') or _TEST_SCOPE.search(qualified_name) is not None
              or (language == "haskell" and qualified_name.startswith(PROPERTY)))
    return TEST_PENALTY if inline and not is_test_path(path) else 1.0  # a test file's prior counted it


_TEST_SCOPE = re.compile(r"(?:^|\.)(?:tests?|test_\w+|\w+_tests?)\.")
PROPERTY = "prop_"  # QuickCheck's convention for a property's name


def barrel_factor(path: str, kind: str, asked: tuple[str, ...]) -> float:
    """`barrel_prior` with the kinds the query asks for worked out once (`asked_kinds`)."""
    return STUB_PENALTY if kind == "module" and "stub" not in asked and is_barrel(path) else 1.0


@lru_cache(maxsize=1 << 14)
def is_barrel(path: str) -> bool:
    """Whether a file mostly re-exports what others define: `__init__.py`, `index.ts`."""
    return bool(_BARREL_PATH.search("/" + path))


# The caches below that hold an entry per path or symbol hold tuples of strings, never sets, lists
# or dicts: the garbage collector stops tracking such tuples, where a frozenset per entry made each
# full collection of a long-running server walk every entry (170 ms, every few dozen queries, on
# a 340,000-chunk index).


@lru_cache(maxsize=256)
def asked_kinds(terms: tuple[str, ...]) -> tuple[str, ...]:
    """The kinds of file (`ASKS_FOR`'s keys) a query's terms ask for, worked out once per query."""
    return tuple(kind for kind, words in ASKS_FOR.items() if words.intersection(terms))


@lru_cache(maxsize=1 << 14)
def file_prior(path: str, language: str, asked: tuple[str, ...], aside: bool = False) -> float:
    """`path_prior` with the kinds the query asks for worked out once (`asked_kinds`), kept per
    path: `rank` asks it of every candidate's file. `aside`: the file's head says a tool wrote it or
    another project did (`aside_head`), which ranks it as the generated or vendored code that its
    path names."""
    prior = 1.0
    rooted = "/" + path
    if "test" not in asked and _looks_like_test(rooted):
        prior *= TEST_PENALTY
    if "aside" not in asked and (aside or _ASIDE_PATH.search(rooted)):
        prior *= ASIDE_PENALTY
    if "tooling" not in asked and _TOOLING_PATH.search(rooted):
        prior *= ASIDE_PENALTY
    if "stub" not in asked and _STUB_PATH.search(rooted):
        prior *= STUB_PENALTY
    if language == PROSE:
        if "prose" not in asked:
            prior *= PROSE_PENALTY
        if "history" not in asked and _HISTORY_PATH.search(rooted):  # not `history.py`: code is code
            prior *= ASIDE_PENALTY
    return prior


# What a tool writes at the head of a file it generated: Go's convention (`// Code generated by
# protoc-gen-go. DO NOT EDIT.`), which protoc, Thrift and most generators also follow in their own
# words, `@generated` (Meta's, Rust's and JavaScript's tools), .NET's `<auto-generated>`, and
# Bison's and Flex's parsers (a C project's committed `parser.c` and `lexer.c`).
_GENERATED_MARK = re.compile(r"@generated\b|<auto-generated\b|A Bison parser, made by GNU Bison|"
                             r"lexical scanner generated by flex", re.IGNORECASE)
_GENERATED = re.compile(r"\bgenerated\b", re.IGNORECASE)
_DO_NOT_EDIT = re.compile(r"\bdo not (?:edit|modify)\b", re.IGNORECASE)
GENERATED_HEAD_LINES = 10


def generated_head(head: str) -> bool:
    """Whether a file's first lines (GENERATED_HEAD_LINES of them are read) say a tool wrote it:
    they say "generated" and "do not edit", or a generator's own mark."""
    return _generated(_head_lines(head))


def _generated(lines: str) -> bool:
    return bool(_GENERATED_MARK.search(lines) or (_GENERATED.search(lines) and _DO_NOT_EDIT.search(lines)))


# What a file copied in from another project says of itself ("Vendored into hiredis under the MIT
# License", "vendored from upstream", "a vendored copy of"): code a `vendor/` folder would hold,
# where no folder says so (hiredis's `ffc.h`, a float parser beside its own sources at the root).
# Said of the file, not of a subject: "resolves vendored packages" is a tool's own code.
_VENDORED_MARK = re.compile(r"\bvendored\s+(?:in|into|to|from)\b|\bvendored\s+(?:copy|version)\s+of\b|"
                            r"\b(?:file|header|module|library)\s+is\s+vendored\b", re.IGNORECASE)


def aside_head(head: str) -> bool:
    """Whether a file's first lines say it is not the project's own code: a tool wrote it
    (`generated_head`), or it was copied in from another project. Either ranks as the code that
    `vendor/` and `generated/` folders hold."""
    lines = _head_lines(head)
    return _generated(lines) or bool(_VENDORED_MARK.search(lines))


def _head_lines(head: str) -> str:
    return "\n".join(head.split("\n", GENERATED_HEAD_LINES)[:GENERATED_HEAD_LINES])


_VERSION_FOLDER = re.compile(r"/v(\d+)/")


def superseded(paths: Collection[str]) -> tuple[str, ...]:
    """The version folders among `paths` that a newer sibling replaces: `src/v3/` when there is
    also a `src/v4/` (or `api/v1/` beside `api/v2/`). A repository that keeps its old version
    beside the new one keeps it for compatibility; the question is nearly always about the new."""
    if not _VERSION_FOLDER.search("/" + "\n/".join(paths)):  # one search: most candidates have none
        return ()
    versions: dict[str, set[int]] = defaultdict(set)
    for path in paths:
        for parent, number in _version_folders(path):
            versions[parent].add(number)
    return tuple(sorted(f"{parent}v{number}/" for parent, numbers in versions.items()
                        for number in numbers if number < max(numbers)))


@lru_cache(maxsize=1 << 14)
def _version_folders(path: str) -> tuple[tuple[str, int], ...]:
    """The version folders in a path: `src/v3/types.ts` has ("src/", 3)."""
    return tuple((path[:match.start()], int(match.group(1))) for match in _VERSION_FOLDER.finditer("/" + path))


# Code for one platform where the candidates hold code for others: `src/win/` beside `src/unix/`,
# `poll_windows.go` beside `poll_unix.go`. A question that does not name Windows is nearly always
# about the code most platforms run.
_WINDOWS = re.compile(r"/(?:win|win32|windows)(?:/|$)|[_-](?:win|win32|windows)\.[a-z]+$", re.MULTILINE)
_POSIX = re.compile(r"/(?:unix|posix|linux|darwin|macos|bsd)(?:/|$)|[_-](?:unix|posix|linux|darwin)\.[a-z]+$",
                    re.MULTILINE)


def _files_for(systems: tuple[str, ...]) -> re.Pattern[str]:
    """The paths of code for one of these systems: a folder named for it, or a file (libuv's
    `src/unix/os390.c`, `aix-common.c`; Go's `syscall_solaris.go`, `zsyscall_aix_ppc64.go`)."""
    named = "|".join(systems)
    return re.compile(rf"/(?:{named})(?:/|$)|[/_-](?:{named})(?:[-_][\w-]*)?\.[a-z]+$", re.MULTILINE)


_RARE_PLATFORM = _files_for(_RARE_SYSTEMS)
_MAINSTREAM = _files_for(("linux", "darwin", "macos", "bsd", "freebsd", "openbsd", "netbsd"))


# Each kind of platform code a query may ask for (`ASKS_FOR`), how its files are named, and how
# the files of the platforms it stands beside are: it gives way only where those are candidates too
_PLATFORM_VARIANTS = (("windows", _WINDOWS, _POSIX), ("rare", _RARE_PLATFORM, _MAINSTREAM))


def variant_priors(files: Collection[str], terms: Collection[str]) -> dict[str, float]:
    """Multipliers for the files among a query's candidates that are variants the question is
    rarely about: code in a version folder a newer one replaces (`superseded`), unless the query
    names that version or asks for legacy code, code for Windows beside code for other
    platforms, unless the query names Windows, and ports to rare systems (z/OS, AIX, Solaris)
    beside the code for Linux, macOS or a BSD, unless the query names one. Worked out on the
    candidates, once their files are known; files not listed keep their score."""
    factors: dict[str, float] = {}
    asked = asked_kinds(tuple(terms))
    if "aside" not in asked:
        old = tuple(folder for folder in superseded(files) if folder.rstrip("/").rsplit("/", 1)[-1] not in terms)
        factors.update((file, ASIDE_PENALTY) for file in files if old and file.startswith(old))
    rooted = "/" + "\n/".join(files)  # one search each tells whether any file is for a platform
    for kind, variant, beside in _PLATFORM_VARIANTS:
        if kind in asked or not variant.search(rooted) or not beside.search(rooted):
            continue
        ports = {file for file in files if variant.search("/" + file)}
        if any(beside.search("/" + file) for file in files if file not in ports):
            for file in ports:
                factors[file] = factors.get(file, 1.0) * ASIDE_PENALTY
    return factors


def path_match(path: str, terms: Collection[str]) -> float:
    """The share of a query's terms that name the file or its folder (`router` in
    `src/router.go`, `dependency` in `dependencies/`): a file named for the question is often its
    answer. Words match when one is a prefix of the other (four letters at least) or, for long
    words, when they differ only in the last two letters, so plurals and stems count."""
    return path_hits(path_names(path), prefixes(tuple(terms))) / len(terms) if terms else 0.0


@lru_cache(maxsize=256)
def prefixes(words: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Words by their first four letters, the only ones `_same_stem` can match."""
    grouped: dict[str, list[str]] = {}
    for word in words:
        grouped.setdefault(word[:4], []).append(word)
    return {prefix: tuple(alike) for prefix, alike in grouped.items()}


def path_hits(names: tuple[tuple[str, tuple[str, ...]], ...], terms: dict[str, tuple[str, ...]]) -> int:
    """How many terms match one of a path's names, both grouped by `prefixes`. A path has a
    few names, and most share their first four letters with no term, so the loop runs over them."""
    hits = 0
    for prefix, alike in names:
        for term in terms.get(prefix, ()):
            if any(_same_stem(term, name) for name in alike):
                hits += 1
    return hits


@lru_cache(maxsize=1 << 14)
def path_names(path: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The tokens of a file's name (without extensions) and of its folder's, by `prefixes`."""
    parts = path.lower().rsplit("/", 2)[-2:]
    tokens = tuple(dict.fromkeys(code_tokens(" ".join(part.split(".", 1)[0] for part in parts))))
    return tuple(prefixes.__wrapped__(tokens).items())  # not kept in `prefixes`'s cache of queries


def _same_stem(a: str, b: str) -> bool:
    """`route` ~ `router`, `dependency` ~ `dependencies`; `net` is not `network`."""
    if a == b:
        return True
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) < 4 or long[:4] != short[:4]:  # most pairs stop here, cheaply
        return False
    if long.startswith(short):
        return True
    shared = len(os.path.commonprefix([short, long]))
    return len(short) >= 7 and shared >= len(short) - 2


@lru_cache(maxsize=1 << 14)
def is_test_path(path: str) -> bool:
    """Whether a path looks like a test file by the usual conventions of many languages."""
    return _looks_like_test("/" + path)


def _looks_like_test(rooted: str) -> bool:
    """`_TEST_FOLDER` and `_TEST_FILE` on a path with a `/` before it. Each of their patterns
    holds `est`, `pec`, `ixture`, `mock`, `fuzz`, `regress`, `dtslint` or `.bats`: most paths hold
    none, and skip the search (a third of its cost)."""
    if not ("est" in rooted or "pec" in rooted or "ixture" in rooted or "mock" in rooted or "fuzz" in rooted
            or "regress" in rooted or "dtslint" in rooted or ".bats" in rooted):
        return False
    if _TEST_FOLDER.search(_HASKELL_TEST_NAMESPACE.sub("/", rooted) if rooted.endswith((".hs", ".lhs")) else rooted):
        return True
    # a file named as tests are, in a production source set, is production code: kotlinpoet's
    # `src/jvmMain/.../TypeSpec.kt`, JUnit's `src/main/java/org/junit/Test.java`
    return _TEST_FILE.search(rooted) is not None and _MAIN_SOURCE_SET.search(rooted) is None


# Haskell's `Test.` module namespace, a folder of that name: where testing libraries keep their
# code (tasty's `core/Test/Tasty/Run.hs`, QuickCheck's `src/Test/QuickCheck.hs`, HUnit's, hspec's);
# a project's own tests are in `test/` or `tests/`
_HASKELL_TEST_NAMESPACE = re.compile(r"/Test/(?=(?:[A-Z]\w*/)*[A-Z][\w']*\.l?hs$)")


# Gradle's and Maven's production source sets: `src/main/`, Kotlin Multiplatform's `jvmMain/`
_MAIN_SOURCE_SET = re.compile(r"/src/main/|/[a-z][A-Za-z0-9]*Main/")
