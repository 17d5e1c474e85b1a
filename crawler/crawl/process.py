"""Run crawls in this process (CLI `crawl` and `demo`): one CrawlerProcess, many outlets.

Only for one-shot commands: the reactor runs once per process. The long-running scheduler
uses crawler.runners.local (a subprocess per crawl) instead. Like a scheduled crawl, each
outlet crawled here holds its lease (an outlet a scheduler is crawling right now is skipped,
not crawled twice) and becomes a run in `runs` (trigger "manual"), so health and history see
every crawl however it was started.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Mapping

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.utils.defer import deferred_from_coro

from crawler.config import project_settings
from crawler.crawl.extensions.progress import BOARD
from crawler.crawl.extensions.stats_file import write_stats
from crawler.monitoring import after_run
from crawler.store import database_name, get_client, resolve_uri, store_env
from crawler.store.leases import LeaseKeeper, LeaseStore, lease_name, make_owner
from crawler.store.runs import RunStore


@dataclass
class CrawlOutcome:
    outlet: str
    stats: dict[str, Any]
    run_id: str | None = None


class _RunBook:
    """Leases and run documents for the outlets of one in-process crawl."""

    def __init__(self, settings: Settings, log_file: Path | None) -> None:
        env = store_env(settings)
        self.client = get_client(resolve_uri(env))
        db = self.client[database_name(env)]
        self.leases = LeaseStore(db, ttl=timedelta(seconds=settings.getfloat("NEWSDESK_LEASE_TTL_SECONDS", 90)))
        self.runs = RunStore(db)
        self.runs.ensure_indexes()
        self.owner = make_owner("crawl")
        self.settings = settings
        self.log_file = log_file
        self.keepers: dict[str, Any] = {}
        self.run_ids: dict[str, str] = {}

    def begin(self, outlet: str, on_lost: Any) -> str | None:
        """Lease and open a run for `outlet`; the holder's name if someone else is crawling it."""
        lease = self.leases.acquire(lease_name(outlet), self.owner, info={"trigger": "manual"})
        if lease is None:
            return (self.leases.holder(lease_name(outlet)) or {}).get("owner", "another process")
        if lease.previous_owner:
            self.runs.abandon_open_runs(outlet, lease.previous_owner)
        keeper = LeaseKeeper(self.leases, lease, on_lost=on_lost)
        keeper.__enter__()
        self.keepers[outlet] = keeper
        self.run_ids[outlet] = self.runs.open(
            outlet, "manual", owner=self.owner, log_path=str(self.log_file) if self.log_file else None,
            dispatcher="in-process",
        )
        return None

    def end(self, outlet: str, stats: dict[str, Any] | None, error: str | None = None) -> None:
        keeper = self.keepers.pop(outlet, None)
        run_id = self.run_ids.get(outlet)
        run = None
        if run_id is not None:
            if stats:
                self.runs.record_stats(run_id, stats)
            run = self.runs.close(run_id, returncode=0 if error is None else None, error=error,
                                  lease_lost=bool(keeper and keeper.lost.is_set()))
        if keeper is not None:
            keeper.__exit__(None, None, None)
        if run is not None and error is None:  # an interrupted crawl says nothing about the outlet
            after_run(self.runs.collection.database, run, self.settings)  # health and alerts; never raises

    def close(self) -> None:
        self.client.close()


def crawl_outlets(
    outlets: list[str],
    *,
    base_urls: Mapping[str, str] | None = None,
    max_articles: int | None = None,
    settings_overrides: Mapping[str, Any] | None = None,
    log_file: Path | None = None,
    stats_dir: Path | None = None,
    record_runs: bool = True,
) -> list[CrawlOutcome]:
    """Crawl `outlets` concurrently and return each one's final stats (skipped ones last)."""
    overrides = dict(settings_overrides or {})
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        overrides.setdefault("LOG_FILE", str(log_file))
    settings = project_settings(overrides)
    process = CrawlerProcess(settings)
    book = _RunBook(settings, log_file) if record_runs else None
    crawlers = []
    skipped: list[CrawlOutcome] = []
    for name in outlets:
        crawler = process.create_crawler(name)
        if book is not None:
            holder = book.begin(name, on_lost=lambda c=crawler: _close_from_thread(c, "lease_lost"))
            if holder is not None:
                skipped.append(CrawlOutcome(name, {"finish_reason": f"skipped: already crawling under {holder}"}))
                continue
        kwargs: dict[str, Any] = {}
        if base_urls and name in base_urls:
            kwargs["base_url"] = base_urls[name]
        if max_articles is not None:
            kwargs["max_articles"] = max_articles
        process.crawl(crawler, **kwargs)
        crawlers.append((name, crawler))
    error: str | None = "interrupted"
    try:
        if crawlers:
            process.start()
        error = None
    finally:
        BOARD.stop()
        if book is not None:
            for name, crawler in crawlers:
                book.end(name, dict(crawler.stats.get_stats()), error)
            book.close()
    outcomes = [
        CrawlOutcome(name, dict(crawler.stats.get_stats()), book.run_ids.get(name) if book else None)
        for name, crawler in crawlers
    ]
    if stats_dir is not None:
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
        for outcome in outcomes:
            write_stats(stats_dir / outcome.outlet / f"{stamp}.stats.json", outcome.stats)
    return outcomes + skipped


def _close_from_thread(crawler: Any, reason: str) -> None:
    """Close one crawler's spider from a non-reactor thread (its lease was lost)."""
    # imported when first used: importing it installs a reactor, and CrawlerProcess installs its own first
    from twisted.internet import reactor

    def close() -> None:
        if crawler.engine is not None and crawler.engine.spider is not None:
            deferred_from_coro(crawler.engine.close_spider_async(reason=reason))

    reactor.callFromThread(close)  # type: ignore[attr-defined]
