"""Finding, asking and starting the warm local query server (`codesearch daemon`).

The client side, standard library only, so `codesearch query` reaches a running server before
it imports anything heavy. Like dmypy: the server lives in a per-user directory (mode 0700; its
socket 0600, so another user's connection is refused by the kernel), answers one request per
connection, and stamps every answer with its build. A client that finds no server, a
server of another build, or one that does not answer within `CONNECT_SECONDS` answers the query
itself (the caller's business) and starts a fresh server for the next one.

Files in the runtime directory: `daemon.sock` (the socket), `daemon.lock` (held by the live
server, so two starting servers end up as one and a killed server's lock is free at once),
`daemon.json` (pid and build of the server holding the lock) and `daemon.log`.
"""

from __future__ import annotations

import _socket  # not socket: its wrapper imports enum and selectors, 6 ms of a 50 ms query
import marshal  # not json, which imports re (and enum): 15 ms more
import os
import stat
import sys
import time

from codesearch.errors import CodesearchError
from codesearch.processes import process_alive

TYPE_CHECKING = False  # not typing.TYPE_CHECKING, whose import costs 5 ms
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

# Imported by `codesearch query`'s first step (codesearch.quick), so this module imports no more
# than os and two built-in modules: paths are strings, and pathlib, typing, tempfile, socket and
# json stay out. Messages are `marshal`led dicts of plain values, each framed by its length: the
# socket only lets this user in, and that user runs this code anyway, so marshal's lack of
# defence against hostile bytes costs nothing, and reading a frame needs no parser.

RUNTIME_ENV = "CODESEARCH_RUNTIME_DIR"
NO_DAEMON_ENV = "CODESEARCH_NO_DAEMON"
CONNECT_SECONDS = 1.0
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
MARSHAL_VERSION = 4  # read by every Python 3 since 3.4: a client and a server may run different ones
LENGTH_BYTES = 8
SOCKET_NAME, LOCK_NAME, INFO_NAME, LOG_NAME = "daemon.sock", "daemon.lock", "daemon.json", "daemon.log"
STARTING_NAME = "daemon.starting"  # the pid of the server last started, before it can say so itself


class DaemonUnavailable(CodesearchError):
    """No usable server: none is running, it is of another build, or it did not answer in time.

    `then` says what the client does after answering by itself: "start" a server (there is
    none), "replace" it (another build, or hung), "nothing" (the server asked it to), or "warn"
    (nothing, and the user should hear why: the runtime directory is not private)."""

    def __init__(self, message: str, then: str = "start") -> None:
        super().__init__(message)
        self.then = then


def daemon_disabled() -> bool:
    """Whether the environment turns the server off (CODESEARCH_NO_DAEMON=1), or the OS has no Unix sockets."""
    from codesearch.requests import flag_value

    return bool(flag_value(os.environ.get(NO_DAEMON_ENV, ""))) or not hasattr(_socket, "AF_UNIX")


def runtime_dir(create: bool = True) -> str:
    """The per-user directory of the server: $CODESEARCH_RUNTIME_DIR, $XDG_RUNTIME_DIR/codesearch,
    or codesearch-UID in the temp directory. Created 0700; refused if another user can enter it."""
    chosen = os.environ.get(RUNTIME_ENV)
    if chosen:
        directory = chosen
    elif os.environ.get("XDG_RUNTIME_DIR"):
        directory = os.path.join(os.environ["XDG_RUNTIME_DIR"], "codesearch")
    else:  # the temporary directory as tempfile names it on Unix (its import costs 7 ms)
        temporary = next((os.environ[name] for name in ("TMPDIR", "TEMP", "TMP") if os.environ.get(name)), "/tmp")
        directory = os.path.join(temporary, f"codesearch-{os.getuid()}")
    if create:
        os.makedirs(directory, mode=0o700, exist_ok=True)
    try:
        info = os.lstat(directory)
    except FileNotFoundError:
        return directory
    if info.st_uid != os.getuid() or info.st_mode & 0o077 or not stat.S_ISDIR(info.st_mode):
        raise DaemonUnavailable(f"{directory} is not a private directory of this user, so the local query "
                                f"server is off; remove it or set {RUNTIME_ENV} to another place", "warn")
    return directory


def build_stamp() -> str:
    """What a server and a client must share: the count, total size and newest change of the
    package's source files. An upgrade or an edit of an editable install changes it; reading it
    costs a stat per file (importlib.metadata's version lookup alone would cost more)."""
    package = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    checkout = os.path.dirname(package)
    folders = [package]
    if os.path.exists(os.path.join(checkout, "pyproject.toml")):  # a source checkout: the other packages are beside it
        folders += [os.path.join(checkout, name) for name in ("indexer", "model", "lsp")]
    count = size = newest = 0
    while folders:
        with os.scandir(folders.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False) and entry.name != "__pycache__":
                    folders.append(entry.path)
                elif entry.name.endswith(".py"):
                    info = entry.stat()
                    count, size, newest = count + 1, size + info.st_size, max(newest, info.st_mtime_ns)
    return f"{count}-{size}-{newest}"


def ask(request: dict[str, Any], *, timeout: float | None = None, check_build: bool = True,
        directory: str | None = None) -> dict[str, Any]:
    """Send one request to the running server and return its answer. The server acknowledges a
    request at once and answers when it is done; DaemonUnavailable when there is no server, it is
    of another build, or it does not acknowledge within CONNECT_SECONDS (or answer within `timeout`)."""
    if _known_unavailable is not None:
        raise _known_unavailable
    path = os.path.join(directory or runtime_dir(create=False), SOCKET_NAME)
    if not os.path.exists(path):
        raise DaemonUnavailable("no server is running")
    stamp = build_stamp()
    connection = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        connection.settimeout(CONNECT_SECONDS)
        connection.connect(path)
        connection.sendall(encode_message({**request, "build": stamp}))
        acknowledged = _answer(connection)
        if check_build and acknowledged.get("build") != stamp:
            raise DaemonUnavailable(f"the server is of another build ({acknowledged.get('build')}, this is "
                                    f"{stamp})", "replace")
        connection.settimeout(timeout)
        return _answer(connection)
    except (ConnectionRefusedError, FileNotFoundError):
        raise DaemonUnavailable("the server's socket is stale (no server behind it)") from None
    except TimeoutError:
        raise DaemonUnavailable("the server did not answer in time", "replace") from None
    except OSError as error:
        raise DaemonUnavailable(f"the server could not be asked: {error}", "replace") from None
    finally:
        connection.close()


def ask_answer(request: dict[str, Any]) -> dict[str, Any]:
    """A search request's answer from the server: DaemonUnavailable when the client must answer
    by itself, CodesearchError when the server found the request wrong."""
    answer = ask(request)
    if "local" in answer:
        raise DaemonUnavailable(str(answer["local"]), "nothing")
    if "error" in answer:
        raise CodesearchError(str(answer["error"]))
    return answer


def remember_unavailable(reason: DaemonUnavailable) -> None:
    """Make every later `ask` in this process fail at once for `reason`: the quick first step of
    `codesearch query` found no usable server, so the full command need not wait for it again."""
    global _known_unavailable
    _known_unavailable = reason


_known_unavailable: DaemonUnavailable | None = None


def encode_message(message: dict[str, Any]) -> bytes:
    """One message on the wire: its length, then the marshalled dict."""
    payload = marshal.dumps(message, MARSHAL_VERSION)
    return len(payload).to_bytes(LENGTH_BYTES, "big") + payload


def decode_message(read: Callable[[int], bytes], limit: int = MAX_MESSAGE_BYTES) -> dict[str, Any]:
    """The message `read(n)` (up to n bytes, fewer only at the end) gives; ValueError when the
    bytes are not one (cut short, too long, not a marshalled dict: another build's protocol)."""
    head = read(LENGTH_BYTES)
    size = int.from_bytes(head, "big")
    if len(head) < LENGTH_BYTES or size > limit:
        raise ValueError("not a codesearch message")
    payload = read(size)
    if len(payload) < size:
        raise ValueError("the message was cut short")
    try:
        message = marshal.loads(payload)
    except (EOFError, TypeError, ValueError):
        raise ValueError("not a codesearch message") from None
    if not isinstance(message, dict):
        raise ValueError("not a codesearch message")
    return message


def _answer(connection: Any) -> dict[str, Any]:
    def read(size: int) -> bytes:
        parts, got = [], 0
        while got < size:
            part = connection.recv(min(size - got, 1 << 20))
            if not part:
                break
            parts.append(part)
            got += len(part)
        return b"".join(parts)

    try:
        return decode_message(read)
    except ValueError as error:
        raise DaemonUnavailable(f"the server's answer could not be read ({error})", "replace") from None


def server_pid(name: str = INFO_NAME) -> int | None:
    """The pid `daemon.json` names (written by the server holding the lock), or another file of
    the runtime directory in the same form (STARTING_NAME), if it names one."""
    import json

    try:
        with open(os.path.join(runtime_dir(create=False), name)) as file:
            info = json.load(file)
    except (OSError, ValueError):
        return None
    pid = info.get("pid") if isinstance(info, dict) else None
    return pid if isinstance(pid, int) and pid > 0 else None


def start_server(*, warm: dict[str, Any] | None = None, then: str = "start", idle_seconds: float | None = None) -> None:
    """Start a server in the background, detached from this process and its terminal, after ending
    the current one when `then` is "replace"; "nothing" starts nothing. `warm` is a search request
    the new server answers first, so the repository and the encoder are ready for the next query.
    If a server is already starting or running, the new one finds the lock taken and exits."""
    if then in ("nothing", "warn"):
        return
    import json
    import subprocess

    if then == "replace":
        _end_current()
    directory = runtime_dir()
    command = [sys.executable, "-m", "codesearch.service.daemon"]
    if idle_seconds is not None:
        command += ["--idle", str(idle_seconds)]
    if warm is not None:
        command += ["--warm", json.dumps(warm)]
    with open(os.path.join(directory, LOG_NAME), "ab") as log:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                   start_new_session=True, close_fds=True, cwd="/")
    with open(os.path.join(directory, STARTING_NAME), "w") as starting:  # for a `daemon stop` that comes
        json.dump({"pid": process.pid}, starting)  # before the server holds its lock and writes daemon.json


def _end_current() -> None:
    """End a server that is of another build or hung: SIGTERM, then SIGKILL if it lingers."""
    pid = server_pid()
    if pid and _is_our_server(pid):
        _end(pid)


def stop_server(wait_seconds: float = 10.0) -> bool:
    """Ask the server to exit; True if one was running. One that does not answer (hung, or just
    started and not listening yet) is ended by its pid."""
    pid = server_pid()
    try:
        ask({"op": "stop"}, timeout=wait_seconds, check_build=False)
    except DaemonUnavailable:
        silent = {found for found in (pid, server_pid(STARTING_NAME)) if found and _is_our_server(found)}
        for found in silent:
            _end(found)
        return bool(silent)
    if pid:
        _wait_gone(pid, wait_seconds)
    return True


def _is_our_server(pid: int) -> bool:
    """Whether `pid` is a codesearch server of this user (pids are reused)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            command = file.read()
    except OSError:
        try:
            os.kill(pid, 0)  # no /proc (macOS): trust daemon.json, written by the lock holder
        except OSError:
            return False
        return True
    return b"codesearch.service.daemon" in command


def _end(pid: int) -> None:
    import signal

    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return
    if not _wait_gone(pid, 3.0):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            return
        _wait_gone(pid, 3.0)


def _wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not process_alive(pid):
            return True
        time.sleep(0.02)
    return False
