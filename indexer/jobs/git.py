"""Git for indexing jobs: resolve a ref to a commit, and materialise that commit's tree.

Each URL is cloned once (bare) into the job's cache; later runs fetch into that clone only when
the commit is not already there, and the tree is written out with `git archive` into a scratch
folder that the chunking stage walks and then removes. Git never prompts: a repository that
needs credentials the environment does not have fails with git's own message.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from filelock import FileLock

from codesearch.errors import CodesearchError

GIT_TIMEOUT_SECONDS = 900
_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
_ENV = {"GIT_TERMINAL_PROMPT": "0", "GCM_INTERACTIVE": "never", "GIT_ASKPASS": "", "SSH_ASKPASS": ""}


class RepoError(CodesearchError):
    """A repository cannot be fetched or its ref does not exist."""


def _git(*args: str, cwd: Path | None = None, timeout: float = GIT_TIMEOUT_SECONDS) -> str:
    env = {**os.environ, **_ENV}
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    try:
        done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise RepoError("git is not installed; indexing jobs need the git command") from None
    except subprocess.TimeoutExpired:
        raise RepoError(f"git {args[0]} took longer than {timeout:.0f} s") from None
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        first_error = [line for line in lines if line.startswith(("fatal:", "error:"))]
        message = (first_error or lines[-1:] or [f"git {args[0]} failed with exit code {done.returncode}"])[0]
        raise RepoError(message)
    return done.stdout


def resolve_ref(url: str, ref: str | None) -> str:
    """The commit `ref` (default: HEAD) names in the repository at `url`, asked of the remote
    without fetching anything; a full commit id is taken as it is."""
    if ref and _FULL_SHA.match(ref.lower()):
        return ref.lower()
    wanted = ref or "HEAD"
    listing = _git("ls-remote", "--", url, wanted, timeout=120)
    refs: dict[str, str] = {}
    for line in listing.splitlines():
        commit, _, name = line.partition("\t")
        if name:
            refs[name] = commit
    for name in (f"refs/tags/{wanted}^{{}}", f"refs/tags/{wanted}", f"refs/heads/{wanted}", wanted):
        if name in refs:
            return refs[name]
    if refs:
        return next(iter(refs.values()))
    raise RepoError(f"ref {wanted!r} not found in {url}")


def clone_path(cache: Path, url: str) -> Path:
    """Where the bare clone of `url` lives in the cache."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", url.rstrip("/").rsplit("/", 1)[-1])[:40] or "repo"
    return cache / "git" / f"{slug}-{hashlib.sha1(url.encode()).hexdigest()[:12]}.git"


def ensure_commit(cache: Path, url: str, ref: str | None, commit: str) -> Path:
    """The bare clone of `url` holding `commit`: cloned on first use, fetched only when needed."""
    clone = clone_path(cache, url)
    clone.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(clone) + ".lock"):
        if not (clone / "HEAD").exists():
            scratch = Path(tempfile.mkdtemp(prefix=clone.name + ".", dir=clone.parent))
            try:
                _git("clone", "--bare", "--quiet", "--", url, str(scratch))
                os.replace(scratch, clone)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
        if not _has_commit(clone, commit):
            _git("fetch", "--quiet", "--", url, ref or "HEAD", cwd=clone)
        if not _has_commit(clone, commit):
            _git("fetch", "--quiet", "--", url, commit, cwd=clone)
        if not _has_commit(clone, commit):
            raise RepoError(f"commit {commit} is not in {url}")
    return clone


def _has_commit(clone: Path, commit: str) -> bool:
    try:
        _git("cat-file", "-e", f"{commit}^{{commit}}", cwd=clone, timeout=60)
    except RepoError:
        return False
    return True


def _inside(member: tarfile.TarInfo, destination: str) -> tarfile.TarInfo | None:
    """Tar's "data" filter, skipping (not failing on) members such as links out of the tree."""
    try:
        return tarfile.data_filter(member, destination)
    except tarfile.FilterError:
        return None


def anchored_folders(includes: tuple[str, ...]) -> list[str]:
    """The folders that hold every file `includes` can match, when each pattern is anchored
    (`/src/app/`, `services/payments/*.go`): only those need to be written out. Empty when any
    pattern can match anywhere (`*.py`, `src/`: in gitignore syntax they match at any depth)."""
    folders = []
    for pattern in includes:
        body = pattern.lstrip("/")
        if pattern.startswith("!") or ("/" not in body.rstrip("/") and not pattern.startswith("/")):
            return []
        literal = []
        for part in body.rstrip("/").split("/"):
            if any(c in part for c in "*?[\\"):
                break
            literal.append(part)
        if body.endswith("/") or len(literal) < len(body.rstrip("/").split("/")):
            folder = "/".join(literal)
        else:
            folder = "/".join(literal[:-1])  # a file pattern: its folder
        if not folder:
            return []
        folders.append(folder)
    return folders


def materialise(clone: Path, commit: str, into: Path, folders: list[str] | None = None) -> None:
    """Write the tree of `commit` (only `folders` of it, when given) into the empty folder `into`."""
    env = {**os.environ, **_ENV}
    paths = ["--", *folders] if folders else []
    with subprocess.Popen(["git", "archive", "--format=tar", commit, *paths], cwd=clone, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None
        with tarfile.open(fileobj=process.stdout, mode="r|") as archive:
            archive.extractall(into, filter=_inside)
        error = process.stderr.read().decode(errors="replace").strip() if process.stderr else ""
    if process.returncode != 0:
        raise RepoError(error.splitlines()[-1] if error else f"git archive {commit} failed")
