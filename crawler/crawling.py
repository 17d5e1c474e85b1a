"""Run crawls in this process (CLI `crawl` and `demo`): one CrawlerProcess, many outlets.

Only for one-shot commands: the reactor runs once per process. The long-running scheduler
uses crawler.scheduling.runner (a subprocess per crawl) instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.utils.project import get_project_settings

from crawler.progress import BOARD
from crawler.runstats import write_stats


@dataclass
class CrawlOutcome:
    outlet: str
    stats: dict[str, Any]


def project_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "settings")
    settings = get_project_settings()
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


def crawl_outlets(
    outlets: list[str],
    *,
    base_urls: Mapping[str, str] | None = None,
    max_articles: int | None = None,
    settings_overrides: Mapping[str, Any] | None = None,
    log_file: Path | None = None,
    stats_dir: Path | None = None,
) -> list[CrawlOutcome]:
    """Crawl `outlets` concurrently and return each one's final stats."""
    overrides = dict(settings_overrides or {})
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        overrides.setdefault("LOG_FILE", str(log_file))
    process = CrawlerProcess(project_settings(overrides))
    crawlers = []
    for name in outlets:
        crawler = process.create_crawler(name)
        kwargs: dict[str, Any] = {}
        if base_urls and name in base_urls:
            kwargs["base_url"] = base_urls[name]
        if max_articles is not None:
            kwargs["max_articles"] = max_articles
        process.crawl(crawler, **kwargs)
        crawlers.append((name, crawler))
    try:
        process.start()
    finally:
        BOARD.stop()
    outcomes = [CrawlOutcome(name, dict(crawler.stats.get_stats())) for name, crawler in crawlers]
    if stats_dir is not None:
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
        for outcome in outcomes:
            write_stats(stats_dir / outcome.outlet / f"{stamp}.stats.json", outcome.stats)
    return outcomes
