"""Seed an outlet's round: its start requests into Redis, for workers to take.

The scheduler calls this instead of starting a crawl process. The spider's own `start()`
makes the requests (feeds, list pages, sitemaps), so what a worker crawls is exactly what a
local crawl would; they are serialized the way scrapy-redis serializes every request.

A round starts with a fresh dupefilter (articles already stored are skipped by the spider's
incremental lookups, which also let corrections within the revisit window through; a
dupefilter kept forever would block those). If the previous round is still being worked on,
its queue and dupefilter are kept and the new seeds join it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader
from scrapy_redis.connection import get_redis_from_settings

from crawler.distributed.keys import keys_for
from crawler.distributed.queue import ReliablePriorityQueue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SeedResult:
    outlet: str
    seeded: int
    joined_running_round: bool


def redis_client(settings: Settings) -> Any:
    return get_redis_from_settings(settings)


def start_requests(outlet: str, settings: Settings, spider_args: dict[str, str] | None = None) -> tuple[Any, list[Any]]:
    """The outlet spider (unbound to a crawl) and the requests its start() makes."""
    spidercls = SpiderLoader.from_settings(settings).load(outlet)
    spider = spidercls(**(spider_args or {}))

    async def collect() -> list[Any]:
        return [request async for request in spider.start()]

    return spider, asyncio.run(collect())


def seed_outlet(
    outlet: str,
    settings: Settings,
    *,
    run_id: str,
    server: Any = None,
    spider_args: dict[str, str] | None = None,
) -> SeedResult:
    server = server or redis_client(settings)
    keys = keys_for(settings, outlet)
    spider, requests = start_requests(outlet, settings, spider_args)
    queue = ReliablePriorityQueue(server, spider, keys.queue)
    running = len(queue) + queue.in_processing() > 0
    if not running:
        server.delete(keys.dupefilter)
    server.set(keys.round, run_id)
    for request in requests:
        # seeds are fetched every round: past the dupefilter, like scrapy-redis's own seeds
        queue.push(request.replace(dont_filter=True))
    log.info("seeded %s with %d request(s)%s", outlet, len(requests), " (joining a running round)" if running else "")
    return SeedResult(outlet, len(requests), running)


def outlet_backlog(settings: Settings, outlet: str, server: Any = None) -> tuple[int, int]:
    """(queued, being processed) requests of an outlet."""
    server = server or redis_client(settings)
    keys = keys_for(settings, outlet)
    return int(server.zcard(keys.queue)), int(server.hlen(keys.processing))
