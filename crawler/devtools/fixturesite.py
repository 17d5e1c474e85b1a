"""Serve saved outlet pages on 127.0.0.1 at their real paths: the offline copy of the sites.

`newsdesk demo` and the end-to-end tests crawl these instead of the internet. Each outlet's
folder under tests/fixtures/<outlet>/ has a site.json route table ("/web/view.php?key=..." ->
file). Queries are matched order-insensitively, as a server would, so the spider's paging
URLs need not reproduce the saved query order. One server (port) per outlet, because the
spider's `base_url` replaces the whole host.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import crawler

DEFAULT_FIXTURES = Path(crawler.__file__).resolve().parent.parent / "tests" / "fixtures"


def route_key(path_and_query: str) -> str:
    parts = urlsplit(path_and_query)
    query = sorted(parse_qsl(parts.query, keep_blank_values=True))
    return parts.path + ("?" + "&".join(f"{k}={v}" for k, v in query) if query else "")


@dataclass
class SiteSpec:
    outlet: str
    folder: Path
    routes: dict[str, Path]
    charset: str | None = "utf-8"  # None: send no charset at all, as some old servers do
    start_paths: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, folder: Path) -> "SiteSpec":
        manifest = folder / "site.json"
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read site manifest {manifest}: {exc}") from exc
        routes: dict[str, Path] = {}
        for path, name in data["routes"].items():
            file = (folder / name).resolve()
            if folder.resolve() not in file.parents or not file.is_file():
                raise ValueError(f"{manifest}: route {path!r} names {name!r}, not a file in {folder}")
            routes[route_key(path)] = file
        return cls(
            outlet=data["outlet"],
            folder=folder,
            routes=routes,
            charset=data.get("charset", "utf-8"),  # an explicit null means "no charset header"
            start_paths=list(data.get("start_paths", [])),
        )


def find_sites(root: Path = DEFAULT_FIXTURES) -> list[SiteSpec]:
    """Every outlet folder under `root` that has a site.json."""
    return [SiteSpec.load(p.parent) for p in sorted(root.glob("*/site.json"))]


class _QuietServer(ThreadingHTTPServer):
    """A client that goes away mid-answer (a crawler killed on purpose, a cancelled request) is
    no error of the site's: it is not printed."""

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class FixtureSite:
    """A local web server for one outlet's saved pages; use as a context manager."""

    def __init__(self, site: SiteSpec, host: str = "127.0.0.1", port: int = 0, delay: float = 0.0) -> None:
        self.site = site
        self.delay = delay  # seconds before each response: a slow site, for crawls that take a while
        self.requests: list[str] = []
        handler = self._handler()
        self.server = _QuietServer((host, port), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name=f"fixturesite-{site.outlet}", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FixtureSite":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "FixtureSite":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self.site
        log = self.requests
        owner = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "newsdesk-fixturesite"

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                log.append(self.path)
                if owner.delay:
                    time.sleep(owner.delay)
                file = site.routes.get(route_key(self.path))
                if file is None:
                    self.send_error(404, "not in the saved site")
                    return
                body = file.read_bytes()
                kind = "text/plain" if file.suffix == ".txt" else "application/xml" if file.suffix in (".xml", ".rss") else "text/html"
                self.send_response(200)
                self.send_header("Content-Type", f"{kind}; charset={site.charset}" if site.charset else kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # keep test output clean
                return

        return Handler
