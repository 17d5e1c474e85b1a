"""The FastAPI application: JSON API under /api, HTML pages, one CSS file, nothing else.

Read-only by construction: only GET (and HEAD) routes exist and the guard below refuses any
other method and any request body before routing. Pages are Jinja2 templates with
autoescape on; crawled text is never marked safe (search highlights arrive as segments the
template escapes and wraps in <mark>). The Content-Security-Policy allows styles from this
server and nothing else: no script runs on these pages, and charts are inline SVG drawn on
the server. Nothing is loaded from the internet: the API reference at /api/docs is rendered
here from the OpenAPI document instead of FastAPI's CDN-hosted Swagger UI.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import re
from collections.abc import Iterable
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crawler.store import Database, aware
from crawler.web import api, html
from crawler.web.params import ParamError
from crawler.web.render import Renderer
from crawler.web.volume import VolumeCache

log = logging.getLogger(__name__)

MAX_QUERY_STRING = 2048  # bytes; the longest legitimate one (30 outlets) is far shorter
MAX_PATH = 1024
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the dashboard on this machine."""
    host = host.strip().strip("[]")
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def loopback_hosts(bound: str) -> list[str]:
    """Host header values a loopback-bound dashboard answers: refusing others stops a web page
    from reading the dashboard through a DNS name rebound to 127.0.0.1."""
    return sorted({"localhost", "127.0.0.1", "::1", bound.strip().strip("[]").lower()})


# A Host header as RFC 9110 has it: a DNS name or IPv4 address, or an IPv6 address in
# brackets, then an optional port of digits. Anything else (userinfo like
# 127.0.0.1:80@evil.com, a path, spaces, an unbracketed IPv6 address) is refused, not guessed at.
_HOST_HEADER = re.compile(r"(?:\[(?P<ipv6>[0-9a-f:.]+)\]|(?P<name>[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?))(?::(?P<port>[0-9]{1,5}))?")


def _host_of(header: str) -> str | None:
    """The host of a Host header value, lower case and without brackets, or None if the value
    is not strictly host[:port]."""
    match = _HOST_HEADER.fullmatch(header.strip().lower())
    if match is None:
        return None
    if match["port"] is not None and int(match["port"]) > 65535:
        return None
    if match["ipv6"] is not None:
        try:
            ipaddress.IPv6Address(match["ipv6"])
        except ValueError:
            return None
        return match["ipv6"]
    return match["name"]


class ReadOnlyGuard:
    """ASGI middleware: GET/HEAD only, no body, bounded URL, known Host; security headers on
    every response (errors included)."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: Iterable[str] | None = None) -> None:
        self.app = app
        self.allowed_hosts = {h.lower() for h in allowed_hosts} if allowed_hosts else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in dict(SECURITY_HEADERS)]
                message = {**message, "headers": headers + SECURITY_HEADERS}
            await send(message)

        head = scope["method"] == "HEAD"

        async def send_head(message: Message) -> None:
            """HEAD: the GET response's status and headers (Content-Length included), no body."""
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send_with_headers(message)

        refusal = self._refusal(scope)
        if refusal is not None:
            status, text, extra = refusal
            response = JSONResponse({"detail": text}, status_code=status, headers=extra)
            await response(scope, receive, send_head if head else send_with_headers)
            return
        if head:
            # Routes are declared for GET only; HEAD runs the GET route and drops its body, so
            # every page and API route answers HEAD exactly as it answers GET.
            await self.app({**scope, "method": "GET"}, receive, send_head)
            return
        await self.app(scope, receive, send_with_headers)

    def _refusal(self, scope: Scope) -> tuple[int, str, dict[str, str]] | None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if "host" in headers and _host_of(headers["host"]) is None:
            return 400, "malformed Host header: expected host[:port] (an IPv6 address in brackets)", {}
        if self.allowed_hosts is not None and _host_of(headers.get("host", "")) not in self.allowed_hosts:
            return 400, "unexpected Host header: this dashboard answers on its loopback address only", {}
        if scope["method"] not in ("GET", "HEAD"):
            return 405, "read-only: only GET and HEAD", {"Allow": "GET, HEAD"}
        if headers.get("transfer-encoding") or headers.get("content-length", "0").strip() not in ("", "0"):
            return 413, "read-only: requests carry no body", {}
        if len(scope.get("query_string", b"")) > MAX_QUERY_STRING:
            return 414, f"query string longer than {MAX_QUERY_STRING} bytes", {}
        if len(scope.get("raw_path") or scope.get("path", "").encode()) > MAX_PATH:
            return 414, f"path longer than {MAX_PATH} bytes", {}
        return None


def _static_version() -> str:
    """A short hash of the CSS, appended to its URL so browsers never keep a stale copy."""
    digest = hashlib.sha256()
    for name in ("style.css",):
        digest.update(resources.files("crawler.web").joinpath("static", name).read_bytes())
    return digest.hexdigest()[:10]


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") or request.url.path == "/api/docs"


def create_app(
    db: Database[Any],
    *,
    allowed_hosts: Iterable[str] | None = None,
    volume_cache: VolumeCache | None = None,
) -> FastAPI:
    """The dashboard over `db` (read only). `allowed_hosts`: Host header values to answer
    (None answers any: tests, or a dashboard behind a proxy)."""
    app = FastAPI(
        title="newsdesk",
        summary="Read-only API over the crawled Korean regional news: search, articles, stories, volume, runs, health.",
        description=(
            "Datetimes are ISO 8601 in Korea time (+09:00); date parameters are Korea-time calendar days "
            "(YYYY-MM-DD, `until` included). Lists are newest first and page with `before` (the previous "
            "page's `next`). Every list is bounded by an indexed time range."
        ),
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.db = aware(db)
    app.state.volume_cache = volume_cache if volume_cache is not None else VolumeCache()
    app.state.renderer = Renderer(static_version=_static_version())
    app.mount("/static", StaticFiles(packages=[("crawler.web", "static")]), name="static")
    app.include_router(api.router)
    app.include_router(html.router)
    app.add_middleware(ReadOnlyGuard, allowed_hosts=allowed_hosts)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Any:
        errors = jsonable_encoder(exc.errors(), exclude={"url", "ctx"})
        return _error(request, 422, errors)

    @app.exception_handler(ParamError)
    async def bad_param(request: Request, exc: ParamError) -> Any:
        return _error(request, 422, exc.detail())

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Any:
        return _error(request, exc.status_code, exc.detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Any:
        log.exception("dashboard request %s failed", request.url.path)
        return _error(request, 500, f"internal error ({type(exc).__name__}); the server log has the details")

    def _error(request: Request, status: int, detail: Any, headers: dict[str, str] | None = None) -> Any:
        if not _wants_html(request):
            return JSONResponse({"detail": detail}, status_code=status, headers=headers)
        renderer: Renderer = request.app.state.renderer
        messages = _messages(detail)
        return renderer.page(request, "error.html", status=status, title=f"{status}", messages=messages)

    return app


def _messages(detail: Any) -> list[str]:
    """Validation errors as sentences: `since: Input should be a valid date ...`."""
    if isinstance(detail, list):
        out = []
        for error in detail:
            if isinstance(error, dict):
                where = ".".join(str(p) for p in error.get("loc", [])[1:]) or "request"
                out.append(f"{where}: {error.get('msg', 'invalid')}")
            else:
                out.append(str(error))
        return out
    return [str(detail)]
