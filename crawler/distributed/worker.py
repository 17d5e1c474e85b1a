"""What makes a crawl a worker: heartbeat, acknowledgements, orphan rescue, closing when idle.

- Heartbeat: a key per worker with a TTL (NEWSDESK_WORKER_HEARTBEAT_SECONDS x 3), renewed
  while the crawl runs; its absence is how others know the worker is gone.
- Acknowledgements: a popped request stays parked until its effects are durable. Scrapy keeps
  a request in the engine slot's `inprogress` set from download start until its callback's
  output has been processed (items through every pipeline, new requests pushed to Redis). Its
  items are then in the store pipeline's buffer; the pipeline counts items buffered and items
  written (a watermark, batches complete in order), so the token is acknowledged once the
  written count reaches the buffered count taken when the request left the engine.
- Orphans: every check, parked requests of workers without a heartbeat go back to the queue.
- Idle: a worker does not start requests of its own (the scheduler seeds them); it keeps
  waiting while the outlet's queue or processing hash has anything (another worker may still
  add requests) and closes after NEWSDESK_WORKER_MAX_IDLE_SECONDS of both being empty.
- At close, its stats are added to the outlet's current round in `runs`.
"""

from __future__ import annotations

import logging
import time
from typing import Any, AsyncIterator

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured
from twisted.internet.task import LoopingCall

from crawler.distributed.keys import heartbeat_prefix, keys_for, prefix_of
from crawler.distributed.queue import ReliablePriorityQueue, worker_id
from crawler.store import database_name, get_client, resolve_uri, store_env
from crawler.store.runs import RunStore

log = logging.getLogger(__name__)


class NoStartRequestsMiddleware:
    """Workers take every request from Redis: the spider's own start requests are not made."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "NoStartRequestsMiddleware":
        if not crawler.settings.getbool("NEWSDESK_DISTRIBUTED"):
            raise NotConfigured
        return cls()

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        if False:  # an async generator that yields nothing  # pragma: no cover
            yield None
        return


class WorkerExtension:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.beat = settings.getfloat("NEWSDESK_WORKER_HEARTBEAT_SECONDS", 5.0)
        self.max_idle = settings.getfloat("NEWSDESK_WORKER_MAX_IDLE_SECONDS", 30.0)
        self.prefix = prefix_of(settings)
        self.heartbeat_key = heartbeat_prefix(self.prefix) + worker_id()
        self.idle_since: float | None = None
        self._loop: Any = None
        self.acked = 0
        self.requeued = 0
        self._store: Any = None
        self._leaving: list[tuple[int, str]] = []  # (store watermark needed, token), in order

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "WorkerExtension":
        if not crawler.settings.getbool("NEWSDESK_DISTRIBUTED"):
            raise NotConfigured
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened, weak=False)
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle, weak=False)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed, weak=False)
        return ext

    # -- helpers ------------------------------------------------------------------------------
    @property
    def queue(self) -> ReliablePriorityQueue:
        queue = self.crawler.engine._slot.scheduler.queue  # type: ignore[union-attr]
        if not isinstance(queue, ReliablePriorityQueue):
            raise RuntimeError("distributed mode needs SCHEDULER_QUEUE_CLASS = ReliablePriorityQueue")
        return queue

    def _inprogress(self) -> set[Any]:
        slot = self.crawler.engine._slot  # type: ignore[union-attr]
        return slot.inprogress if slot is not None else set()

    # -- the periodic check ----------------------------------------------------------------------
    def spider_opened(self, spider: Any) -> None:
        self.spider = spider
        self._heartbeat()
        self._loop = LoopingCall(self.check)
        self._loop.start(min(1.0, self.beat), now=False)
        log.info("worker %s: taking %s requests from Redis", worker_id(), spider.name)

    def _heartbeat(self) -> None:
        self.queue.server.set(self.heartbeat_key, b"1", ex=max(1, int(self.beat * 3)))

    def check(self) -> None:
        """Heartbeat, acknowledge finished requests, rescue orphans (on the reactor thread)."""
        try:
            self._heartbeat()
            self._ack_finished()
            rescued = self.queue.requeue_orphans()
            if rescued:
                self.requeued += rescued
                self.crawler.stats.inc_value("newsdesk/distributed/requeued_orphans", rescued)
                log.warning("put %d request(s) of a vanished worker back in the queue", rescued)
        except Exception as error:  # noqa: BLE001 - Redis away: the next check tries again
            self.crawler.stats.inc_value("newsdesk/distributed/redis_errors")
            log.error("worker check failed (Redis unavailable?): %s", error)

    def _store_pipeline(self) -> Any:
        """The store pipeline (its durability watermark), or None when storing is off."""
        if self._store is None:
            manager = self.crawler.engine.scraper.itemproc  # type: ignore[union-attr]
            self._store = next((m for m in manager.middlewares if hasattr(m, "durable") and hasattr(m, "buffered")), False)
        return self._store or None

    def _ack_finished(self) -> None:
        queue = self.queue
        inprogress = self._inprogress()
        store = self._store_pipeline()
        for token, request in list(queue.inflight.items()):
            if request not in inprogress:
                del queue.inflight[token]
                self._leaving.append((store.buffered if store else 0, token))
                log.debug("left the engine: %s %s (store buffered %d)", token, request.url, store.buffered if store else 0)
        durable = store.durable if store else 0
        while self._leaving and self._leaving[0][0] <= durable:
            queue.ack(self._leaving[0][1])  # if Redis fails here, the token stays for the next check
            log.debug("acked %s (needed store durable %d, is %d)", self._leaving[0][1], self._leaving[0][0], durable)
            self._leaving.pop(0)
            self.acked += 1

    # -- closing ----------------------------------------------------------------------------------
    def spider_idle(self, spider: Any) -> None:
        self.check()
        queue = self.queue
        busy = len(queue) + queue.in_processing()
        now = time.monotonic()
        if busy:
            self.idle_since = None
            raise DontCloseSpider
        if self.idle_since is None:
            self.idle_since = now
        if now - self.idle_since < self.max_idle:
            raise DontCloseSpider
        log.info("worker %s: %s queue empty for %.0f s; closing", worker_id(), spider.name, now - self.idle_since)

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        try:
            self._ack_finished()
            self.queue.server.delete(self.heartbeat_key)
            self.crawler.stats.set_value("newsdesk/distributed/acked", self.acked)
            self._record(spider, reason)
        except Exception as error:  # noqa: BLE001
            log.error("worker close: %s", error)

    def _record(self, spider: Any, reason: str) -> None:
        raw = self.queue.server.get(keys_for(self.crawler.settings, spider.name).round)
        if not raw:
            return
        run_id = raw.decode() if isinstance(raw, bytes) else str(raw)
        stats = dict(self.crawler.stats.get_stats())
        stats.setdefault("finish_reason", reason)
        env = store_env(self.crawler.settings)
        client = get_client(resolve_uri(env, start_embedded=False), serverSelectionTimeoutMS=5000)
        try:
            RunStore(client[database_name(env)]).add_worker_stats(run_id, worker_id(), stats)
        finally:
            client.close()
