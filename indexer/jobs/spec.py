"""The job SPEC: which repositories to index, with what model, into which output directory.

    output = "/srv/codesearch"          # catalog, shards and caches (shared storage on a cluster)
    model = "small"                     # optional: preset, hub id or directory
    [options]                           # optional, all of them
    encoders = 2                        # encoder actors (default: one per GPU, else one per node)
    batch_size = 64                     # chunks per encode call
    max_file_size = 1000000
    device = "cuda"                     # default: the best the node has
    dtype = "auto"
    grace_minutes = 60                  # how long a replaced shard stays for readers
    embed = true                        # false: chunks and BM25 only (a lexical catalog)
    [[repo]]
    name = "flask"
    url = "https://github.com/pallets/flask.git"   # or a local git checkout
    ref = "main"                        # branch, tag or commit; default: the remote's HEAD
    include = ["src/"]                  # gitignore patterns; default: everything
    exclude = ["tests/"]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codesearch.encoding import DEFAULT_MODEL, DTYPES
from codesearch.errors import CodesearchError
from codesearch.tomlfile import read_toml

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")


class SpecError(CodesearchError):
    """The SPEC file is missing, not TOML, or has a bad value."""


@dataclass(frozen=True)
class RepoSpec:
    """One repository of a job."""

    name: str
    url: str
    ref: str | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class JobOptions:
    """How the job runs; every field has a default."""

    encoders: int | None = None
    batch_size: int = 64
    max_file_size: int = 1_000_000
    device: str | None = None
    dtype: str = "auto"
    grace_minutes: float = 60.0
    embed: bool = True


@dataclass(frozen=True)
class JobSpec:
    """A whole SPEC file."""

    output: Path
    model: str
    repos: tuple[RepoSpec, ...]
    options: JobOptions = field(default_factory=JobOptions)

    @classmethod
    def load(cls, path: Path) -> JobSpec:
        """Read and check a SPEC file; relative paths in it are relative to the file."""
        return cls.parse(read_toml(path, "SPEC file", SpecError), base=path.resolve().parent)

    @classmethod
    def parse(cls, raw: dict[str, Any], *, base: Path) -> JobSpec:
        """The SPEC from parsed TOML, or a SpecError naming the bad key."""
        _only(raw, {"output", "model", "options", "repo"}, "the SPEC")
        output = raw.get("output")
        if not isinstance(output, str) or not output:
            raise SpecError('the SPEC needs `output = "DIRECTORY"` (where the catalog and shards go)')
        model = raw.get("model", DEFAULT_MODEL)
        if not isinstance(model, str) or not model:
            raise SpecError("`model` must be a preset, a hub id or a directory")
        repos_raw = raw.get("repo")
        if not isinstance(repos_raw, list) or not repos_raw:
            raise SpecError("the SPEC lists no repositories; add one [[repo]] table with name and url per repository")
        repos = tuple(_repo(entry, n, base) for n, entry in enumerate(repos_raw, 1))
        names = [r.name for r in repos]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise SpecError(f"repository names must be unique; repeated: {', '.join(duplicates)}")
        options = _options(raw.get("options", {}))
        model_path = base / model
        if model.startswith((".", "/")) and model_path.is_dir():
            model = str(model_path.resolve())
        return cls(_resolve(base, output), model, repos, options)


def _only(table: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise SpecError(f"unknown key(s) in {where}: {', '.join(unknown)} (known: {', '.join(sorted(allowed))})")


def _resolve(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def _patterns(entry: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SpecError(f"`{key}` of {where} must be a list of gitignore patterns")
    return tuple(value)


def _repo(entry: Any, number: int, base: Path) -> RepoSpec:
    where = f"[[repo]] number {number}"
    if not isinstance(entry, dict):
        raise SpecError(f"{where} must be a table with name and url")
    _only(entry, {"name", "url", "ref", "include", "exclude"}, where)
    name, url, ref = entry.get("name"), entry.get("url"), entry.get("ref")
    if not isinstance(name, str) or not _NAME.match(name):
        raise SpecError(f"{where} needs a `name` of letters, digits, '.', '_', '-' or '/' (got {name!r})")
    if not isinstance(url, str) or not url:
        raise SpecError(f"repository {name!r} needs a `url`: a git URL or a local checkout")
    if ref is not None and (not isinstance(ref, str) or not ref.strip()):
        raise SpecError(f"`ref` of repository {name!r} must be a branch, tag or commit")
    if "://" not in url and not re.match(r"^[\w.-]+@[\w.-]+:", url):  # a local path
        url = str(_resolve(base, url))
    return RepoSpec(name, url, ref, _patterns(entry, "include", name), _patterns(entry, "exclude", name))


def _options(raw: Any) -> JobOptions:
    if not isinstance(raw, dict):
        raise SpecError("[options] must be a table")
    _only(raw, {"encoders", "batch_size", "max_file_size", "device", "dtype", "grace_minutes", "embed"}, "[options]")
    if not isinstance(raw.get("embed", True), bool):
        raise SpecError("options.embed must be true or false")
    for key in ("encoders", "batch_size", "max_file_size"):
        if key in raw and (not isinstance(raw[key], int) or isinstance(raw[key], bool) or raw[key] < 1):
            raise SpecError(f"options.{key} must be a whole number of at least 1")
    if "grace_minutes" in raw and (not isinstance(raw["grace_minutes"], (int, float)) or raw["grace_minutes"] < 0):
        raise SpecError("options.grace_minutes must be a number of minutes, 0 or more")
    if raw.get("dtype", "auto") not in DTYPES:
        raise SpecError(f"options.dtype must be one of {', '.join(DTYPES)}")
    if raw.get("device") not in (None, "cpu", "cuda", "mps"):
        raise SpecError("options.device must be cpu, cuda or mps")
    return JobOptions(**raw)
