"""Write a crawl's final stats to a JSON file (NEWSDESK_STATS_FILE) when the spider closes.

Crawls run in subprocesses (Twisted's reactor cannot restart), so this file is how the
scheduler learns what a crawl did without parsing its log.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.jsonformat import dumps


def write_stats(path: Path, stats: dict[str, Any]) -> None:
    """Atomically write a crawl's stats as JSON (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(dumps(stats, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def latest_stats(outlet: str, logs: Path) -> dict[str, Any] | None:
    """The newest stats file of an outlet's crawls (scheduled or from the CLI), or None."""
    folder = logs / outlet
    for path in sorted(folder.glob("*.stats.json"), reverse=True):
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    return None


class StatsFileExtension:
    def __init__(self, crawler: Crawler, path: Path) -> None:
        self.crawler = crawler
        self.path = path

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "StatsFileExtension":
        path = crawler.settings.get("NEWSDESK_STATS_FILE")
        if not path:
            raise NotConfigured
        ext = cls(crawler, Path(path))
        # after CoreStats has written finish_reason/finish_time
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed, weak=False)
        return ext

    def spider_closed(self, spider: Any, reason: str) -> None:
        stats = dict(self.crawler.stats.get_stats())
        stats.setdefault("finish_reason", reason)
        write_stats(self.path, stats)
