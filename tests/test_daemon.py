"""The warm local query server behind `codesearch query`, driven through the installed command.

Each test gets its own runtime directory (socket, lock, log), so servers never meet across
tests; every wait is for a state (a server answering, a process gone), never for time alone.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import EXECUTABLE, json_lines, run_cli

from codesearch.service.local import decode_message

pytestmark = pytest.mark.slow

QUERY = ["query", "--mode", "lexical", "--json", "-k", "5", "retry failed uploads"]
FAKE_SERVER = r"""
import fcntl, json, marshal, os, signal, socket, sys
runtime, build, mode = sys.argv[1], sys.argv[2], sys.argv[3]
lock = open(os.path.join(runtime, "daemon.lock"), "a+")
fcntl.flock(lock, fcntl.LOCK_EX)
path = os.path.join(runtime, "daemon.sock")
if os.path.exists(path):
    os.unlink(path)
server = socket.socket(socket.AF_UNIX)
server.bind(path)
server.listen()
with open(os.path.join(runtime, "daemon.json"), "w") as info:
    json.dump({"pid": os.getpid(), "build": build, "started": 0}, info)
def terminated(*_):
    open(os.path.join(runtime, "fake-terminated"), "w").close()
    sys.exit(0)
signal.signal(signal.SIGTERM, terminated)
print("ready", flush=True)
while True:
    connection, _ = server.accept()
    connection.recv(65536)
    if mode == "other":  # this protocol, another build
        answer = marshal.dumps({"build": build})
        connection.sendall(len(answer).to_bytes(8, "big") + answer)
    elif mode == "json":  # an earlier build, which spoke JSON lines
        connection.sendall(json.dumps({"build": build}).encode() + b"\n")
    # mode "hung": never answers
"""


def wait_for(condition: Callable[[], object], timeout: float = 60.0, what: str = "") -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.05)


@pytest.fixture
def runtime() -> Iterator[Path]:
    # a short path: a Unix socket's path must stay under ~100 bytes
    directory = Path(tempfile.mkdtemp(prefix="cs-rt-"))
    yield directory
    for pid in server_pids(directory):
        os.kill(pid, signal.SIGKILL)
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def env(cli_env: dict[str, str], runtime: Path) -> dict[str, str]:
    environment = {k: v for k, v in cli_env.items() if k != "CODESEARCH_NO_DAEMON"}
    return {**environment, "CODESEARCH_RUNTIME_DIR": str(runtime), "HF_HUB_OFFLINE": "1"}


def status(env: dict[str, str]) -> dict[str, object]:
    return json.loads(run_cli(["daemon", "status", "--json"], env=env).stdout)


def running(env: dict[str, str]) -> dict[str, object] | None:
    answer = status(env)
    return answer if answer["running"] else None


def server_pids(runtime: Path) -> list[int]:
    """Live (not zombie) server processes started for this runtime directory."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            environment = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if b"codesearch.service.daemon" in command and f"CODESEARCH_RUNTIME_DIR={runtime}".encode() in environment \
                and state != "Z":
            found.append(int(entry.name))
    return found


def raw_exchange(runtime: Path, request: bytes) -> bytes:
    """Send `request` to the server as it is, and everything it answers before it hangs up."""
    with socket.socket(socket.AF_UNIX) as connection:
        connection.settimeout(30)
        connection.connect(str(runtime / "daemon.sock"))
        connection.sendall(request)
        connection.shutdown(socket.SHUT_WR)
        return b"".join(iter(lambda: connection.recv(65536), b""))


def decode_all(data: bytes) -> list[dict[str, object]]:
    """The length-framed messages in `data`."""
    messages, stream = [], io.BytesIO(data)
    while stream.tell() < len(data):
        messages.append(decode_message(stream.read))
    return messages


def warmed(env: dict[str, str], root: Path) -> Callable[[], object]:
    """A condition: the server runs and has the repository open and synced."""
    def check() -> object:
        answer = running(env)
        indexes = answer["indexes"] if answer else []
        return answer if any(i["root"] == str(root) and i["state"] == "idle" for i in indexes) else None  # type: ignore[union-attr]
    return check


def test_the_first_query_starts_the_server_and_the_next_is_answered_by_it(repo: Path, env: dict[str, str],
                                                                            runtime: Path) -> None:
    assert not running(env)
    first = run_cli(QUERY, env=env, cwd=repo).stdout
    assert json_lines(first)[0]["symbol"] == "retry_failed_uploads"
    server = wait_for(warmed(env, repo), what="the server to start and open the repository")
    assert server["answered"] == 0  # type: ignore[index]
    assert stat.S_IMODE(runtime.stat().st_mode) == 0o700
    assert stat.S_IMODE((runtime / "daemon.sock").stat().st_mode) == 0o600  # no other user may connect
    second = run_cli(QUERY, env=env, cwd=repo).stdout
    again = running(env)
    assert again and again["answered"] == 1 and again["pid"] == server["pid"]  # type: ignore[index]
    assert second == first
    # answered by the server, the query imported neither click nor the rest of the command line
    traced = run_cli(QUERY, env={**env, "PYTHONPROFILEIMPORTTIME": "1"}, cwd=repo)
    imported = {line.rsplit("|", 1)[-1].strip() for line in traced.stderr.splitlines()
                if line.startswith("import time")}
    assert "codesearch.quick" in imported and not imported & {"click", "codesearch.cli"}
    assert traced.stdout == first
    assert run_cli([*QUERY, "--no-daemon"], env=env, cwd=repo).stdout == first
    # a client of an earlier build (JSON lines) hears this server's build, so it replaces the server;
    # bytes that are no request get an error, and the server goes on serving
    assert json.loads(raw_exchange(runtime, b'{"op": "status"}\n'))["build"] == server["build"]  # type: ignore[index]
    garbage = raw_exchange(runtime, (5).to_bytes(8, "big") + b"\xffjunk")
    acknowledged, answer = decode_all(garbage)
    assert acknowledged == {"build": server["build"]} and "could not be read" in answer["error"]  # type: ignore[index]
    text = run_cli(QUERY[:3] + QUERY[4:], env=env, cwd=repo).stdout  # the text output, through the server
    assert text == run_cli([*QUERY[:3], *QUERY[4:], "--no-daemon"], env=env, cwd=repo).stdout
    # an edit on disk is in the server's answer, as it would be in a fresh process's
    (repo / "src" / "payments" / "quarantine.py").write_text("def quarantine_failed_upload(upload):\n    pass\n")
    found = json_lines(run_cli(["query", "--mode", "lexical", "--json", "quarantine_failed_upload"], env=env,
                               cwd=repo).stdout)
    assert found[0]["symbol"] == "quarantine_failed_upload"
    # a word typed wrong: the server reads it as the code's, and the terminal says so
    typed = run_cli(["query", "--mode", "lexical", "--json", "quarantine_failed_uplaod"], env=env, cwd=repo)
    assert json_lines(typed.stdout)[0]["symbol"] == "quarantine_failed_upload"
    assert "searched `uplaod` as `upload`" in typed.stderr and running(env)["answered"] > 1  # type: ignore[index]
    assert run_cli(["daemon", "stop"], env=env).stdout.strip() == "stopped"
    wait_for(lambda: not server_pids(runtime), what="the server to exit")
    assert not (runtime / "daemon.sock").exists()


def test_hybrid_results_are_the_same_with_and_without_the_server(repo: Path, env: dict[str, str],
                                                                 tiny_model: Path) -> None:
    run_cli(["index", str(repo), "--model", str(tiny_model)], env=env)
    ask = ["query", "--json", "-k", "8", "charge the invoice total with tax"]
    alone = json_lines(run_cli([*ask, "--no-daemon"], env=env, cwd=repo).stdout)
    run_cli(ask, env=env, cwd=repo)  # answered here; starts the server, which loads the model
    wait_for(lambda: (s := warmed(env, repo)()) and s["indexes"][0]["encoder"] == "ready",  # type: ignore[index]
             what="the server's encoder")
    served = json_lines(run_cli(ask, env=env, cwd=repo).stdout)
    assert running(env)["answered"] == 1  # type: ignore[index]
    assert [(r["path"], r["start_line"], r["symbol"]) for r in served] == \
        [(r["path"], r["start_line"], r["symbol"]) for r in alone]
    assert all(abs(a["score"] - b["score"]) < 1e-4 for a, b in zip(served, alone, strict=True))  # type: ignore[operator]


def test_no_daemon_neither_asks_nor_starts_a_server(repo: Path, env: dict[str, str], runtime: Path) -> None:
    alone = run_cli([*QUERY, "--no-daemon"], env={**env, "PYTHONPROFILEIMPORTTIME": "1"}, cwd=repo)
    assert json_lines(alone.stdout)[0]["symbol"] == "retry_failed_uploads"
    # a lexical query answered in its own process needs neither click nor the encoder's libraries
    imported = {line.rsplit("|", 1)[-1].strip() for line in alone.stderr.splitlines()
                if line.startswith("import time")}
    assert "codesearch.search" in imported and not imported & {"click", "codesearch.cli", "torch", "numpy"}
    run_cli(QUERY, env={**env, "CODESEARCH_NO_DAEMON": "1"}, cwd=repo)
    # the command starts a server (and opens its log) before it exits, or never
    assert not (runtime / "daemon.log").exists() and not server_pids(runtime)


def test_an_idle_server_exits(repo: Path, env: dict[str, str], runtime: Path) -> None:
    run_cli(["daemon", "start", "--idle", "1"], env=env)
    wait_for(lambda: running(env), what="the server to start")
    wait_for(lambda: not server_pids(runtime), what="the idle server to exit")
    assert not running(env) and not (runtime / "daemon.sock").exists()


def test_a_killed_servers_stale_socket_is_replaced(repo: Path, env: dict[str, str], runtime: Path) -> None:
    run_cli(["daemon", "start"], env=env)
    old = wait_for(lambda: running(env), what="the server to start")["pid"]  # type: ignore[index]
    os.kill(old, signal.SIGKILL)
    wait_for(lambda: old not in server_pids(runtime), what="the server to die")
    assert (runtime / "daemon.sock").exists()  # left behind, with nobody listening
    assert json_lines(run_cli(QUERY, env=env, cwd=repo).stdout)[0]["symbol"] == "retry_failed_uploads"
    new = wait_for(lambda: running(env), what="a new server")["pid"]  # type: ignore[index]
    assert new != old


def test_stop_right_after_the_first_query_ends_the_server_it_started(repo: Path, env: dict[str, str],
                                                                      runtime: Path) -> None:
    run_cli(QUERY, env=env, cwd=repo)  # answered here; a server is coming up in the background
    # it may not hold its lock or listen yet: stop must find it all the same, not leave it running
    assert run_cli(["daemon", "stop"], env=env).stdout.strip() == "stopped"
    wait_for(lambda: not server_pids(runtime), what="the server to exit")


def test_concurrent_starts_end_with_one_server(repo: Path, env: dict[str, str], runtime: Path) -> None:
    run_cli(["index", str(repo), "--no-embed"], env=env)
    starts = [subprocess.Popen([str(EXECUTABLE), *QUERY], env=env, cwd=repo, stdout=subprocess.PIPE, text=True)
              for _ in range(4)]
    outputs = [process.communicate(timeout=300)[0] for process in starts]
    assert all(json_lines(out)[0]["symbol"] == "retry_failed_uploads" for out in outputs)
    server = wait_for(lambda: running(env), what="a server")
    wait_for(lambda: len(server_pids(runtime)) == 1, what="the losing starts to exit")  # they wait 5 s for the lock
    assert server_pids(runtime) == [server["pid"]]  # type: ignore[index]


@pytest.mark.parametrize("behaviour", ["other", "json", "hung"])
def test_a_server_of_another_build_or_that_does_not_answer_is_bypassed_and_replaced(
        repo: Path, env: dict[str, str], runtime: Path, behaviour: str) -> None:
    fake = subprocess.Popen([sys.executable, "-c", FAKE_SERVER, str(runtime), "0.0.1+old", behaviour,
                             "codesearch.service.daemon"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert fake.stdout is not None and fake.stdout.readline().strip() == "ready"
        started = time.monotonic()
        out = run_cli(QUERY, env=env, cwd=repo).stdout
        assert json_lines(out)[0]["symbol"] == "retry_failed_uploads"  # answered here
        fake.wait(timeout=30)  # ended by the client (SIGTERM, or SIGKILL when it ignores that)
        server = wait_for(lambda: running(env), what="the replacement server")
        assert server["pid"] != fake.pid and server["build"] != "0.0.1+old"  # type: ignore[index]
        if behaviour != "hung":
            assert (runtime / "fake-terminated").exists()
        assert time.monotonic() - started < 120
    finally:
        fake.kill()


def test_a_runtime_directory_others_can_enter_is_refused(repo: Path, env: dict[str, str], runtime: Path) -> None:
    runtime.chmod(0o777)
    result = run_cli(QUERY, env=env, cwd=repo)
    assert json_lines(result.stdout)[0]["symbol"] == "retry_failed_uploads"  # answered here, all the same
    assert "not a private directory" in result.stderr and not server_pids(runtime)


def test_an_index_found_damaged_while_answering_is_closed_said_so_and_opened_again(repo: Path, monkeypatch) -> None:
    import sqlite3

    from codesearch.errors import IndexDamaged
    from codesearch.live import LiveIndex
    from codesearch.service.queries import QueryService

    def damaged_pages(*args, **kwargs):
        raise sqlite3.DatabaseError("database disk image is malformed")

    service = QueryService()
    request = {"root": str(repo), "query": "retry failed uploads", "mode": "lexical", "k": 3}
    try:
        assert service.search(request)["results"][0]["path"] == "src/payments/retry.py"
        with monkeypatch.context() as patch:
            patch.setattr(LiveIndex, "search_with_fixes", damaged_pages)
            with pytest.raises(IndexDamaged, match="is damaged .*codesearch index --rebuild"):
                service.search(request)
            assert service.status() == []  # closed and forgotten: the next request opens it again
        assert service.search(request)["results"][0]["path"] == "src/payments/retry.py"
    finally:
        service.close()
