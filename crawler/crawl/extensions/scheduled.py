"""Scrapy extensions a scheduled crawl runs with: report to its run, and die with its scheduler.

RunRecorder writes the crawl's final stats onto its document in `runs` (NEWSDESK_RUN_ID), from
the crawl process itself, so a crawl dispatched to a scrapyd host reports exactly like a local
one. ParentWatchdog closes the crawl when the scheduler that started it is gone
(NEWSDESK_PARENT_PID): the scheduler's lease on the outlet expires after a kill -9, and a
crawl still running then would overlap the next scheduler's.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro
from twisted.internet.task import LoopingCall

from crawler.store import database_name, get_client, resolve_uri, store_env
from crawler.store.runs import RunStore

log = logging.getLogger(__name__)


class RunRecorder:
    def __init__(self, crawler: Crawler, run_id: str) -> None:
        self.crawler = crawler
        self.run_id = run_id

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "RunRecorder":
        run_id = crawler.settings.get("NEWSDESK_RUN_ID")
        if not run_id:
            raise NotConfigured
        ext = cls(crawler, str(run_id))
        # engine_stopped comes after every spider_closed handler (monitors included) has run.
        crawler.signals.connect(ext.engine_stopped, signal=signals.engine_stopped, weak=False)
        return ext

    def engine_stopped(self) -> None:
        stats = dict(self.crawler.stats.get_stats())
        env = store_env(self.crawler.settings)
        try:
            client = get_client(resolve_uri(env, start_embedded=False), serverSelectionTimeoutMS=5000)
            try:
                if not RunStore(client[database_name(env)]).record_stats(self.run_id, stats):
                    log.warning("run %s: no such run document; stats not recorded", self.run_id)
            finally:
                client.close()
        except Exception as error:  # noqa: BLE001 - the scheduler still records the stats file
            log.error("run %s: could not record stats in the database: %s", self.run_id, error)


class ParentWatchdog:
    """Every few seconds: is the scheduler that started us still our parent? If not, close."""

    def __init__(self, crawler: Crawler, parent_pid: int, every: float) -> None:
        self.crawler = crawler
        self.parent_pid = parent_pid
        self.every = every
        self._loop: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ParentWatchdog":
        raw = crawler.settings.get("NEWSDESK_PARENT_PID") or os.environ.get("NEWSDESK_PARENT_PID")
        if not raw:
            raise NotConfigured
        ext = cls(crawler, int(raw), crawler.settings.getfloat("NEWSDESK_PARENT_CHECK_SECONDS", 2.0))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened, weak=False)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed, weak=False)
        return ext

    def spider_opened(self, spider: Any) -> None:
        self._loop = LoopingCall(self.check, spider)
        self._loop.start(self.every, now=True)

    def check(self, spider: Any) -> None:
        if os.getppid() == self.parent_pid:
            return
        log.error("the scheduler (pid %d) that started this crawl is gone; closing", self.parent_pid)
        self.crawler.stats.set_value("newsdesk/parent_gone", 1)
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self.crawler.engine is not None:
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="parent_gone"))

    def spider_closed(self, spider: Any) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
