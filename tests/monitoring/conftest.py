"""Shared by the monitoring tests: simulated run histories (run documents as RunStore and the
post-run hook leave them) and a webhook receiver on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

NOW = datetime(2026, 11, 25, 6, 0, tzinfo=timezone.utc)  # 15:00 in Korea
GOOD_COVERAGE = {"title": 1.0, "body": 1.0, "published": 1.0, "authors": 0.9}


class History:
    """Appends runs of one outlet, oldest first, each `every` after the previous one."""

    def __init__(self, outlet: str = "joongdo", start: datetime | None = None, every: timedelta = timedelta(hours=1)):
        self.outlet = outlet
        self.clock = start or NOW - timedelta(days=15)
        self.every = every
        self.runs: list[dict[str, Any]] = []

    def add(
        self,
        *,
        status: str = "finished",
        new: int = 2,
        items: int = 6,
        listed: int = 30,
        coverage: dict[str, float] | None = None,
        fallback: float = 0.0,
        pages: int = 40,
        statuses: dict[str, int] | None = None,
        error: str | None = None,
        with_checks: bool = True,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        started = at or self.clock
        self.clock = started + self.every
        run: dict[str, Any] = {
            "_id": f"{self.outlet}-{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}",
            "outlet": self.outlet,
            "trigger": "schedule",
            "status": status,
            "started": started,
            "ended": started + timedelta(minutes=2),
            "log_path": f"/var/log/newsdesk/{self.outlet}-{started:%H%M}.log",
            "pages": pages,
            "articles": {"new": new, "updated": 0, "unchanged": 0},
            "http_status": statuses if statuses is not None else {"200": pages},
        }
        if error or status != "finished":
            run["error"] = error or f"crawl closed with reason {status!r}"
        if with_checks:
            run["checks"] = {
                "results": {}, "failed": [], "listed": listed, "items": items, "parsed": items,
                "coverage": dict(coverage or GOOD_COVERAGE), "fallback_share": fallback,
                "responses": pages, "statuses": run["http_status"],
            }
        self.runs.append(run)
        return run

    def repeat(self, count: int, **kwargs: Any) -> None:
        for _ in range(count):
            self.add(**kwargs)


@pytest.fixture
def history() -> History:
    return History()


@pytest.fixture
def new_history() -> type[History]:
    return History


@pytest.fixture
def now() -> datetime:
    return NOW


class Receiver:
    """Answers POSTs: the first `fail` with 500, then 200; keeps (path, JSON body)."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.received: list[tuple[str, dict]] = []
        self.hits = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                receiver.hits += 1
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.hits <= receiver.fail:
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.received.append((self.path, json.loads(body)))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_receiver() -> type[Receiver]:
    """A webhook endpoint on 127.0.0.1 (use as a context manager)."""
    return Receiver
