"""A backfill's progress as one line every NEWSDESK_BACKFILL_PROGRESS_SECONDS: pages, articles
stored, the oldest publication date reached, and an estimate of the time left.

Off unless NEWSDESK_BACKFILL_PROGRESS is set (`newsdesk backfill` sets it). The line goes to
stderr and to the crawl's log. The estimate: the backfill walks back in time from the newest
date it met towards --since; the stretch of days it covered in this process, over the time it
took, gives the pace, and the days left between the date reached and --since the time left.
The backfill spider (crawler/spiders/backfill.py) publishes the dates in its stats.
"""

from __future__ import annotations

import logging
import sys
import time
from datetime import datetime
from typing import Any, Mapping

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

logger = logging.getLogger(__name__)


def _date(stats: Mapping[str, Any], key: str) -> datetime | None:
    value = stats.get(key)
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {round(rest / 60):02d} min"


def progress_line(name: str, stats: Mapping[str, Any], pace: float | None) -> str:
    """One progress line from a backfill crawler's stats; `pace` is seconds of crawl per
    second of publication time walked back (None while unknown)."""
    since, reached = _date(stats, "newsdesk/backfill/since"), _date(stats, "newsdesk/backfill/reached")
    pages = int(stats.get("newsdesk/list_pages", 0)) + int(stats.get("newsdesk/sitemaps", 0))
    stored = int(stats.get("newsdesk/articles/new", 0)) + int(stats.get("newsdesk/articles/updated", 0))
    known = int(stats.get("newsdesk/backfill/skipped_stored", 0))
    line = (f"backfill {name} {stats.get('newsdesk/backfill/window', '')}: {pages} list pages, "
            f"{int(stats.get('downloader/response_count', 0))} pages fetched, {stored} articles stored, "
            f"{known} already stored")
    if reached is not None:
        line += f", reached {reached:%Y-%m-%d %H:%M}"
        if since is not None and pace is not None:
            left = max(0.0, (reached - since).total_seconds()) * pace
            line += f", about {_duration(left)} left"
    return line


class BackfillProgress:
    def __init__(self, crawler: Crawler, every: float) -> None:
        self.crawler = crawler
        self.every = every
        self.loop: task.LoopingCall | None = None
        self.first: tuple[float, datetime] | None = None  # (monotonic, reached) when first known

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "BackfillProgress":
        if not crawler.settings.getbool("NEWSDESK_BACKFILL_PROGRESS"):
            raise NotConfigured
        ext = cls(crawler, crawler.settings.getfloat("NEWSDESK_BACKFILL_PROGRESS_SECONDS", 10.0))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def pace(self, stats: Mapping[str, Any]) -> float | None:
        reached = _date(stats, "newsdesk/backfill/reached")
        if reached is None:
            return None
        now = time.monotonic()
        if self.first is None:
            self.first = (now, reached)
            return None
        walked = (self.first[1] - reached).total_seconds()
        return (now - self.first[0]) / walked if walked > 0 else None

    def report(self) -> None:
        stats = self.crawler.stats.get_stats()
        line = progress_line(self.crawler.spider.name if self.crawler.spider else "?", stats, self.pace(stats))
        print(line, file=sys.stderr, flush=True)
        logger.info(line)

    def spider_opened(self, spider: Any) -> None:
        self.loop = task.LoopingCall(self.report)
        self.loop.start(self.every, now=False)

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
