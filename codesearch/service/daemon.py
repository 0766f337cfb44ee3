"""The warm local query server behind `codesearch query`: `python -m codesearch.service.daemon`.

It keeps what a query process would otherwise load and throw away: the encoder, each
repository's live index (SQLite connection, FAISS index, file watcher) and Python's imports.
It answers through `QueryService`, which searches the same `LiveIndex` the language server
uses, so the terminal, the editor and this server rank alike. One message each way, one
request per connection (a dict, `marshal`led and framed by its length: `service.local`):

    {"op": "search", "root" or "cwd" and "path", "query", "k", "mode", "lang"?, "glob"?, "refresh",
     options..., "render"?: {"json", "max_tokens", "color"}}
        -> {"results": [...], "notes": [...], "output"?: text to print, "notes_after"?: [...]}
    {"op": "status"} -> {"pid", "build", "started", "idle_seconds", "indexes": [...]}
    {"op": "stop"}   -> {"stopping": true}

Every answer carries the server's `build`; an error is {"error": message}; {"local": reason}
asks the client to answer by itself (a catalog shard, which only its job writes).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socketserver
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from codesearch.errors import CodesearchError
from codesearch.locks import take
from codesearch.service.local import (
    INFO_NAME,
    LOCK_NAME,
    LOG_NAME,
    SOCKET_NAME,
    build_stamp,
    decode_message,
    encode_message,
    runtime_dir,
)

if TYPE_CHECKING:
    from codesearch.service.queries import QueryService

IDLE_SECONDS = 15 * 60
LOCK_WAIT_SECONDS = 5.0  # a replaced server may take a moment to let go of the lock
MAX_REQUEST_BYTES = 1 << 20


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: Path, service: QueryService, idle_seconds: float) -> None:
        self.service, self.build, self.idle_seconds = service, build_stamp(), idle_seconds
        self.started = time.time()
        self.answered = 0  # searches answered for clients (not the warm-up)
        self.last_request = time.monotonic()
        old_mask = os.umask(0o177)  # the socket is born 0600: only this user may connect
        try:
            super().__init__(str(path), _Handler)
        finally:
            os.umask(old_mask)

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        from codesearch.service.queries import AnswerLocally

        self.last_request = time.monotonic()
        op = request.get("op")
        try:
            if op == "search":
                if request.get("build") != self.build:
                    return {"error": "this server is of another build"}  # the client replaces it
                return self.service.search(request)
            if op == "status":
                return {"pid": os.getpid(), "started": self.started, "idle_seconds": self.idle_seconds,
                        "answered": self.answered, "indexes": self.service.status()}
            if op == "stop":
                threading.Thread(target=self.shutdown, daemon=True).start()
                return {"stopping": True}
            return {"error": f"unknown op {op!r}"}
        except AnswerLocally as reason:
            return {"local": str(reason)}
        except CodesearchError as error:
            return {"error": str(error)}
        except Exception as error:  # a request we did not foresee: say so, keep serving the others
            _log(f"error answering {op!r}: {error!r}\n{traceback.format_exc()}")
            return {"error": f"the local server failed on this request ({error!r}); see {LOG_NAME} in "
                             f"{runtime_dir()}, or use --no-daemon"}
        finally:
            self.last_request = time.monotonic()

    def watch_idle(self) -> None:
        while True:
            time.sleep(min(5.0, max(0.05, self.idle_seconds / 4)))
            if time.monotonic() - self.last_request > self.idle_seconds:
                _log(f"idle for {self.idle_seconds:g} s; exiting")
                self.shutdown()
                return


class _Handler(socketserver.StreamRequestHandler):
    """One request: read it, acknowledge at once (the client's sign of life), then answer."""

    server: _Server

    def handle(self) -> None:
        if cast(io.BufferedReader, self.rfile).peek(1)[:1] == b"{":
            # a client of an earlier build, which spoke JSON lines: our build in its words, so it
            # replaces this server as it would a server of any other build
            self.wfile.write(json.dumps({"build": self.server.build}).encode() + b"\n")
            return
        try:
            request = decode_message(self.rfile.read, MAX_REQUEST_BYTES)
        except ValueError as error:
            self._send({})
            self._send({"error": f"the request could not be read: {error}"})
            return
        self._send({})
        answer = self.server.answer(request)
        if "results" in answer:
            self.server.answered += 1
        self._send(answer)

    def _send(self, message: dict[str, Any]) -> None:
        message["build"] = self.server.build
        self.wfile.write(encode_message(message))
        self.wfile.flush()


def _log(message: str) -> None:
    print(time.strftime("%H:%M:%S"), message, file=sys.stderr, flush=True)


def serve(idle_seconds: float = IDLE_SECONDS, warm: dict[str, Any] | None = None) -> int:
    """Run the server until it is stopped, idle for `idle_seconds`, or sent SIGTERM. Returns 0,
    or 1 if another server holds the lock (it is running or starting). The lock is taken before
    anything heavy is imported, so a start that loses the race costs next to nothing."""
    directory = Path(runtime_dir())
    lock = open(directory / LOCK_NAME, "a+")  # noqa: SIM115 - held for the life of the process
    if not take(lock.fileno(), LOCK_WAIT_SECONDS):
        _log("another codesearch server is running; exiting")
        return 1
    from codesearch.service.queries import QueryService

    socket_path = directory / SOCKET_NAME
    socket_path.unlink(missing_ok=True)  # a killed server's socket: nobody answers behind it
    service = QueryService()
    server = _Server(socket_path, service, idle_seconds)
    info = directory / INFO_NAME
    info.write_text(json.dumps({"pid": os.getpid(), "build": server.build, "started": server.started}))
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    threading.Thread(target=server.watch_idle, daemon=True).start()
    if warm:
        threading.Thread(target=_warm_up, args=(server, warm), daemon=True).start()
    _log(f"serving on {socket_path} (pid {os.getpid()}, build {server.build})")
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        socket_path.unlink(missing_ok=True)
        info.unlink(missing_ok=True)
        server.server_close()
        service.close()
        lock.close()  # releases the lock: the next server may start
    return 0


def _warm_up(server: _Server, request: dict[str, Any]) -> None:
    """Answer the query that started us, for nobody: opens the index and loads the encoder."""
    answer = server.answer({**request, "build": server.build, "k": 1})
    where = request.get("root") or request.get("path") or request.get("cwd")
    _log(f"warmed up on {where}" + (f": {answer['error']}" if "error" in answer else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codesearch.service.daemon",
                                     description="The warm local query server behind `codesearch query`.")
    parser.add_argument("--idle", type=float, default=float(os.environ.get("CODESEARCH_DAEMON_IDLE", IDLE_SECONDS)),
                        help="exit after this many seconds without a request (default 900)")
    parser.add_argument("--warm", type=json.loads, default=None, help="a search request to answer first (JSON)")
    arguments = parser.parse_args(argv)
    return serve(arguments.idle, arguments.warm)


if __name__ == "__main__":
    sys.exit(main())
