"""`codesearch serve`: the team search server, an HTTP JSON API over a catalog or one index.

    POST /search   {"query", "k"?, "repos"?, "lang"?, "glob"?, "mode"?}  -> {"results": [...]}
    POST /related  {"repo", "path", "line", "k"?, "repos"?}               -> {"results": [...]}
    GET  /repos    -> {"repos": [{"repo", "commit", "files", "chunks", "vectors", "updated_at"}]}
    GET  /health   -> {"status": "ok", "version"}                  (the only one without a token)

Request bodies are typed models that refuse unknown fields, so a bad request is a 422 with
the reason; bodies over `MAX_BODY_BYTES` are a 413. Handlers are plain functions run on the
server's thread pool, so a slow query never holds up another. The server keeps no state of its
own beyond caches: several replicas can serve one output directory behind a load balancer.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from codesearch import spelling
from codesearch.catalog.shards import ALL, CatalogSearcher
from codesearch.errors import CodesearchError, IndexMissing, QueryError
from codesearch.records import SearchResult
from codesearch.service.tokens import TokenTable

MAX_BODY_BYTES = 64 * 1024
MAX_K = 100


class SearchBody(BaseModel):
    """POST /search."""

    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1, max_length=2000)
    k: int = Field(10, ge=1, le=MAX_K)
    repos: list[str] | None = Field(None, max_length=1000)
    lang: str | None = Field(None, max_length=40)
    glob: str | None = Field(None, max_length=400)
    mode: Literal["hybrid", "dense", "lexical"] = "hybrid"


class RelatedBody(BaseModel):
    """POST /related: code like the definition at repo:path:line."""

    model_config = ConfigDict(extra="forbid")
    repo: str = Field(min_length=1, max_length=400)
    path: str = Field(min_length=1, max_length=4000)
    line: int = Field(ge=1)
    k: int = Field(10, ge=1, le=MAX_K)
    repos: list[str] | None = Field(None, max_length=1000)


class _BodyLimit:
    """413 for a body over the limit, whether it says its length or streams it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _too_large(self.limit)(scope, receive, send)
            return
        seen, refused = 0, False

        async def limited() -> Message:
            nonlocal seen, refused
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit and not refused:
                refused = True  # answer now; the app sees the client go away and its answer is dropped
                await _too_large(self.limit)(scope, receive, send)
                return {"type": "http.disconnect"}
            return message

        async def quiet(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, limited, quiet)


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse({"detail": f"request body over {limit:,} bytes"}, status_code=413)


def create_app(searcher: CatalogSearcher, tokens: TokenTable | None = None,
               max_body: int = MAX_BODY_BYTES) -> FastAPI:
    """The API over `searcher`; with `tokens`, every endpoint but /health needs a bearer token."""
    app = FastAPI(title="codesearch", version=version("codesearch"), docs_url=None, redoc_url=None)

    def scope_of(request: Request) -> tuple[str, ...]:
        if tokens is None:
            return ALL
        kind, _, secret = request.headers.get("authorization", "").partition(" ")
        patterns = tokens.scope(secret.strip()) if kind.lower() == "bearer" and secret.strip() else None
        if patterns is None:
            raise HTTPException(401, "a valid token is needed: Authorization: Bearer SECRET",
                                headers={"WWW-Authenticate": "Bearer"})
        return patterns

    @app.exception_handler(CodesearchError)
    def user_error(request: Request, error: CodesearchError) -> JSONResponse:
        status = 400 if isinstance(error, QueryError) else 503 if isinstance(error, IndexMissing) else 500
        return JSONResponse({"detail": str(error)}, status_code=status)

    @app.get("/health")
    def health() -> dict[str, Any]:
        searcher.catalog()
        return {"status": "ok", "version": version("codesearch")}

    @app.get("/repos")
    def repos(scope: tuple[str, ...] = Depends(scope_of)) -> dict[str, Any]:
        return {"repos": searcher.repos(scope)}

    @app.post("/search")
    def search(body: SearchBody, scope: tuple[str, ...] = Depends(scope_of)) -> dict[str, Any]:
        results, fixes = searcher.search_with_fixes(body.query, k=body.k, mode=body.mode, language=body.lang,
                                                    glob=body.glob, repos=body.repos, scope=scope)
        return {"results": [_shape(r) for r in results], "notes": [spelling.note(fixes)] if fixes else []}

    @app.post("/related")
    def related(body: RelatedBody, scope: tuple[str, ...] = Depends(scope_of)) -> dict[str, Any]:
        results = searcher.related(body.repo, body.path, body.line, k=body.k, repos=body.repos, scope=scope)
        return {"results": [_shape(r) for r in results]}

    app.add_middleware(_BodyLimit, limit=max_body)
    return app


def _shape(result: SearchResult) -> dict[str, Any]:
    shaped = result.to_json()
    return {"repo": result.repo, "commit": result.commit, **shaped}
