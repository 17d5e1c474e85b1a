"""Live crawl progress for people at a terminal, and the end-of-crawl summary.

The extension is off unless NEWSDESK_PROGRESS is set (the `newsdesk crawl` and `demo`
commands set it); `scrapy crawl` keeps Scrapy's own log lines. One board is shared by every
crawler in the process, so `newsdesk crawl a b c` shows one table with a row per outlet.
"""

from __future__ import annotations

from typing import Any, Mapping

from rich.console import Console
from rich.live import Live
from rich.table import Table
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task


def summarize(stats: Mapping[str, Any]) -> dict[str, Any]:
    """The figures an operator wants after a crawl, from a crawler's stats."""
    dropped = {
        key.removeprefix("newsdesk/dropped/"): value
        for key, value in stats.items()
        if key.startswith("newsdesk/dropped/")
    }
    errors = {
        "parse": stats.get("newsdesk/parse_errors", 0),
        "store": stats.get("newsdesk/store/errors", 0) + stats.get("newsdesk/store/deadlettered", 0),
        "download": stats.get("downloader/exception_count", 0),
        "http": sum(v for k, v in stats.items() if k.startswith("downloader/response_status_count/") and k.rsplit("/", 1)[-1][:1] in "45"),
        "log_errors": stats.get("log_count/ERROR", 0),
    }
    return {
        "pages_fetched": stats.get("downloader/response_count", 0),
        "list_pages": stats.get("newsdesk/list_pages", 0),
        "articles_parsed": stats.get("newsdesk/articles_parsed", 0),
        "new": stats.get("newsdesk/articles/new", 0),
        "updated": stats.get("newsdesk/articles/updated", 0),
        "unchanged": stats.get("newsdesk/articles/unchanged", 0),
        "dropped": dropped,
        "errors": {k: v for k, v in errors.items() if v},
        "finish_reason": stats.get("finish_reason"),
    }


class _Board:
    """One live table for every crawler in this process."""

    def __init__(self) -> None:
        self.crawlers: dict[str, Crawler] = {}
        self.live: Live | None = None
        self.loop: task.LoopingCall | None = None

    def add(self, name: str, crawler: Crawler) -> None:
        self.crawlers[name] = crawler
        if self.live is None:
            self.live = Live(self.render(), console=Console(stderr=True), refresh_per_second=4, transient=False)
            self.live.start()
            self.loop = task.LoopingCall(self.refresh)
            self.loop.start(0.5, now=False)

    def remove(self, name: str) -> None:
        self.refresh()
        if name in self.crawlers and all(
            c.stats.get_value("finish_reason") for c in self.crawlers.values()
        ):
            self.stop()

    def stop(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.live is not None:
            self.live.update(self.render())
            self.live.stop()
        self.live = None
        self.loop = None
        self.crawlers = {}

    def refresh(self) -> None:
        if self.live is not None:
            self.live.update(self.render())

    def render(self) -> Table:
        table = Table(title="newsdesk crawl", expand=False)
        for column in ("outlet", "pages", "parsed", "new", "updated", "unchanged", "dropped", "errors", "state"):
            table.add_column(column, justify="left" if column in ("outlet", "state") else "right")
        for name, crawler in self.crawlers.items():
            s = summarize(crawler.stats.get_stats())
            table.add_row(
                name,
                str(s["pages_fetched"]),
                str(s["articles_parsed"]),
                str(s["new"]),
                str(s["updated"]),
                str(s["unchanged"]),
                str(sum(s["dropped"].values())),
                str(sum(s["errors"].values())),
                s["finish_reason"] or "running",
            )
        return table


BOARD = _Board()


class ProgressExtension:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ProgressExtension":
        if not crawler.settings.getbool("NEWSDESK_PROGRESS"):
            raise NotConfigured
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Any) -> None:
        BOARD.add(spider.name, self.crawler)

    def spider_closed(self, spider: Any, reason: str) -> None:
        BOARD.remove(spider.name)
