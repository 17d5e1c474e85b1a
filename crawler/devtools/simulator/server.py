"""The simulator's HTTP servers: one port per outlet on 127.0.0.1, faults from a switchboard.

A crawl points an outlet's spider at its port (`base_url`, as for the saved sites), so the
outlets' paths never collide. Threaded stdlib servers: enough for fault tests and the live
CLI; the throughput benchmark serves static files with nginx instead (crawler.devtools.simulator.static)
so the server does not compete with the crawler for the two cores.

Simulated time: `Simulator.clock` starts at 0 and moves only when told (`advance`) unless
`speed` is set (simulated seconds per real second), so tests never depend on timing.
"""

from __future__ import annotations

import io
import socket
import struct
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit

from crawler.outlets import OutletSpec, get_outlet, registry
from crawler.devtools.simulator.corpus import News, NewsConfig
from crawler.devtools.simulator.faults import Fault, Switchboard
from crawler.devtools.simulator.site import LOOP_PARAM, Page, SimulatedOutlet

# Outlets in the order the simulator picks them: one of every saved family first.
PREFERRED = ("joongdo", "jnilbo", "kwnews", "imaeil", "busan", "kookje", "kwangju", "daejonilbo", "incheonilbo")


def pick_outlets(count: int) -> list[str]:
    names = list(PREFERRED) + sorted(set(registry()) - set(PREFERRED))
    if not 1 <= count <= len(names):
        raise ValueError(f"--outlets {count}: expected 1 to {len(names)} (the configured outlets)")
    return names[:count]


class Clock:
    def __init__(self, speed: float = 0.0) -> None:
        self.speed = speed
        self._offset = 0.0
        self._t0 = time.monotonic()
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._offset + (time.monotonic() - self._t0) * self.speed

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return  # a crawler that hung up (timeouts, resets): nothing went wrong here
        super().handle_error(request, client_address)


class OutletServer:
    """A ThreadingHTTPServer for one simulated outlet."""

    def __init__(self, site: SimulatedOutlet, clock: Clock, board: Switchboard, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.site = site
        self.clock = clock
        self.board = board
        self.requests: Counter = Counter()  # path -> requests answered (any status)
        self.served: Counter = Counter()  # (kind, status) -> responses
        self._lock = threading.Lock()
        self._in_flight = 0
        self.server = _QuietServer((host, port), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, name=f"simulator-{site.spec.name}", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "OutletServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def article_fetches(self) -> Counter:
        """Article index -> successful (200) fetches."""
        with self._lock:
            return Counter({k: v for k, v in self._ok_articles.items()})

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no request is being answered (a slow answer to a crawler that was killed
        still finishes, and counts, after the kill); True when idle within `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._in_flight:
                    return True
            time.sleep(0.01)
        return False

    _ok_articles: Counter

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self
        owner._ok_articles = Counter()

        class Handler(BaseHTTPRequestHandler):
            server_version = "newsdesk-simulator"
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                with owner._lock:
                    owner._in_flight += 1
                try:
                    owner._answer(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the crawler gave up (a timeout fault): nothing to answer
                finally:
                    with owner._lock:
                        owner._in_flight -= 1

            def log_message(self, format: str, *args: object) -> None:  # keep test output clean
                return

        return Handler

    # -- answering ---------------------------------------------------------------------------
    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path
        site, name = self.site, self.site.spec.name
        with self._lock:
            self.requests[path] += 1
        now = self.clock.now()
        route = site.route(path)
        if route is None:
            return self._send(handler, "missing", Page(404, b"not found", "text/plain"))
        kind, number = route
        if kind == "robots":
            fault = self.board.for_request(name, path, ("robots",))
            return self._send(handler, kind, site.robots(disallow_articles=fault is not None))
        fault = None
        if kind == "article":
            clean = _without_loop(path)
            fault = self.board.for_request(name, clean, tuple(k for k in _ARTICLE_KINDS))
        if fault is not None and fault.kind in ("slow", "timeout"):
            time.sleep(fault.delay if fault.kind == "slow" else fault.hang)
        if fault is not None and fault.kind == "reset":
            return _reset(handler)
        if fault is not None and fault.kind == "5xx":
            status = (500, 502, 503, 504)[sum(path.encode()) % 4]
            return self._send(handler, kind, Page(status, b"<html><body>server error</body></html>", "text/html"))
        if fault is not None and fault.kind == "429":
            page = Page(429, b"<html><body>too many requests</body></html>", "text/html",
                        (("Retry-After", str(fault.retry_after)),))
            return self._send(handler, kind, page)
        if fault is not None and fault.kind == "redirect":
            loop = int(dict(parse_qsl(urlsplit(path).query)).get(LOOP_PARAM, "0")) + 1
            clean = _without_loop(path)
            location = clean + ("&" if "?" in clean else "?") + urlencode({LOOP_PARAM: loop})
            return self._send(handler, kind, Page(302, b"", "text/html", (("Location", location),)))
        found = site.page(path, now)
        if found is None:
            return self._send(handler, "missing", Page(404, b"not found", "text/plain"))
        _, _, page = found
        if fault is not None:
            page = _spoil(page, fault, site)
        if kind == "article" and page.status == 200:
            with self._lock:
                self._ok_articles[number] += 1
        self._send(handler, kind, page)

    def _send(self, handler: BaseHTTPRequestHandler, kind: str, page: Page) -> None:
        with self._lock:
            self.served[(kind, page.status)] += 1
        handler.send_response(page.status)
        handler.send_header("Content-Type", page.content_type)
        handler.send_header("Content-Length", str(len(page.body)))
        for name, value in page.headers:
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(page.body)


_ARTICLE_KINDS = ("5xx", "429", "slow", "timeout", "reset", "truncated", "malformed", "charset", "redirect",
                  "oversized", "empty")


def _without_loop(path: str) -> str:
    parts = urlsplit(path)
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != LOOP_PARAM]
    return parts.path + ("?" + urlencode(pairs) if pairs else "")


def _reset(handler: BaseHTTPRequestHandler) -> None:
    """Close with a TCP RST and no answer (SO_LINGER 0)."""
    sock = handler.connection
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.close_connection = True
    sock.close()
    handler.wfile = io.BytesIO()  # whatever http.server still writes goes nowhere


def _spoil(page: Page, fault: Fault, site: SimulatedOutlet) -> Page:
    body = page.body
    if fault.kind == "truncated":
        return Page(200, body[: len(body) * 2 // 5], page.content_type)
    if fault.kind == "empty":
        return Page(200, b"", page.content_type)
    if fault.kind == "malformed":
        soup = body
        for tag in (b"</div>", b"</p>", b"</li>", b"</ul>", b"</span>", b"</a>"):
            soup = soup.replace(tag, b"")
        soup = soup.replace(b"<body", b"<div <p class='x <table><td><body", 1)
        return Page(200, soup, page.content_type)
    if fault.kind == "charset":
        wrong = "utf-8" if site.pages.encoding == "cp949" else "euc-kr"
        return Page(200, body, f"text/html; charset={wrong}")
    if fault.kind == "oversized":
        padding = b"<!-- " + b"x" * max(0, fault.size - len(body)) + b" -->"
        return Page(200, body.replace(b"</body>", padding + b"</body>", 1), page.content_type)
    return page


class Simulator:
    """N outlets x M articles on 127.0.0.1, one port each; use as a context manager."""

    def __init__(
        self,
        outlets: Iterable[str] | int,
        config: NewsConfig | None = None,
        *,
        faults: dict[str, list[Fault]] | None = None,
        page_size: int = 20,
        rss_items: int | None = None,
        list_depth: int | None = None,
        list_dates: bool = True,
        speed: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        names = pick_outlets(outlets) if isinstance(outlets, int) else list(outlets)
        self.specs: list[OutletSpec] = [get_outlet(n) for n in names]
        self.news = News(config or NewsConfig())
        self.clock = Clock(speed)
        self.board = Switchboard(dict(faults or {}))
        self.sites = {s.name: SimulatedOutlet(s, self.news, page_size=page_size, rss_items=rss_items,
                                              list_depth=list_depth, list_dates=list_dates) for s in self.specs}
        self.servers: dict[str, OutletServer] = {}
        for offset, spec in enumerate(self.specs):
            self.servers[spec.name] = OutletServer(self.sites[spec.name], self.clock, self.board, host,
                                                   port + offset if port else 0)

    @property
    def base_urls(self) -> dict[str, str]:
        return {name: server.base_url for name, server in self.servers.items()}

    def start(self) -> "Simulator":
        for server in self.servers.values():
            server.start()
        return self

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()

    def __enter__(self) -> "Simulator":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def visible(self) -> int:
        """Articles each outlet shows now."""
        return self.news.visible(self.clock.now())
