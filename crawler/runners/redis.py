"""The scheduler's side of distributed mode: seed a round, wait for workers to drain it.

Same interface as the local CrawlRunner, so the scheduler keeps its lease and run record:
`run()` seeds the outlet's start requests into Redis, then waits until the outlet's queue and
processing hash have both stayed empty for `settle` seconds (the round is done), or until the
time limit or a lost lease, when the round's remaining requests are dropped. Workers add
their stats to the run themselves when they close.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Mapping

from scrapy.settings import Settings

from crawler.distributed.keys import keys_for
from crawler.distributed.seed import outlet_backlog, redis_client, seed_outlet
from crawler.runners.local import CrawlResult

log = logging.getLogger(__name__)


class RedisDispatcher:
    dispatcher = "redis"

    def __init__(
        self,
        settings: Settings,
        *,
        time_limit: float = 25 * 60,
        spider_args: Mapping[str, str] | None = None,
        poll: float = 1.0,
        settle: float = 3.0,
        server: Any = None,
    ) -> None:
        self.settings = settings
        self.time_limit = time_limit
        self.spider_args = dict(spider_args or {})
        self.poll = poll
        self.settle = settle
        self.server = server or redis_client(settings)
        self._stopping = threading.Event()

    def paths(self, outlet: str) -> tuple[str, str]:
        keys = keys_for(self.settings, outlet)
        return f"worker logs (round queue {keys.queue})", keys.queue

    def run(
        self,
        outlet: str,
        *,
        settings: Mapping[str, str] | None = None,
        cancel: threading.Event | None = None,
        paths: tuple[str, str] | None = None,
    ) -> CrawlResult:
        if self._stopping.is_set():
            raise RuntimeError("dispatcher is shutting down; not starting new crawls")
        run_id = (settings or {}).get("NEWSDESK_RUN_ID", "")
        started = time.time()
        seeded = seed_outlet(outlet, self.settings, run_id=run_id, server=self.server, spider_args=self.spider_args)
        deadline = time.monotonic() + self.time_limit
        empty_since: float | None = None
        timed_out = cancelled = False
        warned = False
        while True:
            queued, processing = outlet_backlog(self.settings, outlet, self.server)
            now = time.monotonic()
            if queued + processing == 0:
                empty_since = empty_since or now
                if now - empty_since >= self.settle:
                    break
            else:
                empty_since = None
                if not warned and now - (deadline - self.time_limit) > 60 and processing == 0:
                    log.warning("crawl %s: %d request(s) queued and no worker has taken any for a minute; "
                                "is a `newsdesk worker` running?", outlet, queued)
                    warned = True
            if (cancel is not None and cancel.is_set()) or self._stopping.is_set():
                cancelled = True
            elif now >= deadline:
                timed_out = True
            if cancelled or timed_out:
                self._drop_round(outlet)
                break
            time.sleep(self.poll)
        stats = {
            "finish_reason": "finished" if not (cancelled or timed_out) else ("timeout" if timed_out else "cancelled"),
            "newsdesk/distributed/seeded": seeded.seeded,
        }
        return CrawlResult(outlet, 0, started, time.time(), paths[0] if paths else "", "", timed_out, cancelled, stats)  # type: ignore[arg-type]

    def _drop_round(self, outlet: str) -> None:
        keys = keys_for(self.settings, outlet)
        dropped = self.server.zcard(keys.queue)
        self.server.delete(keys.queue)
        log.warning("crawl %s: round stopped; %d queued request(s) dropped", outlet, dropped)

    def stop_all(self) -> None:
        self._stopping.set()
