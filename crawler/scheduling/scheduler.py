"""The scheduler behind `newsdesk run`: one APScheduler job per outlet, crawls in subprocesses.

Each outlet gets an interval job from its spec (`every_minutes`), with jitter so outlets do not
all fire together, `max_instances=1` so an outlet never crawls twice at once, and `coalesce`
with a misfire grace time so a scheduler that was busy or suspended runs a late job once rather
than a backlog. (Persistent job stores, leases and run history are separate work.)
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from crawler.outlets import OutletSpec
from crawler.scheduling.runner import CrawlResult, CrawlRunner

logger = logging.getLogger(__name__)


def describe(result: CrawlResult) -> str:
    s = result.stats
    state = "timed out" if result.timed_out else ("ok" if result.ok else f"exit {result.returncode}")
    return (
        f"crawl {result.outlet}: {state} in {result.duration:.0f} s; "
        f"pages {s.get('downloader/response_count', 0)}, new {s.get('newsdesk/articles/new', 0)}, "
        f"updated {s.get('newsdesk/articles/updated', 0)}, unchanged {s.get('newsdesk/articles/unchanged', 0)}; "
        f"log {result.log_path}"
    )


def build_scheduler(
    outlets: Iterable[OutletSpec],
    runner: CrawlRunner,
    *,
    jitter_seconds: int = 120,
    first_run_spread_seconds: int = 60,
    on_result: Callable[[CrawlResult], None] | None = None,
) -> BackgroundScheduler:
    """A scheduler with one crawl job per outlet; the first runs are spread over a minute."""
    scheduler = BackgroundScheduler(timezone="Asia/Seoul", job_defaults={"max_instances": 1, "coalesce": True})
    outlets = list(outlets)
    now = datetime.now(timezone.utc)

    def crawl(outlet: str) -> None:
        try:
            result = runner.run(outlet)
        except RuntimeError as exc:  # shutting down
            logger.info("crawl %s not started: %s", outlet, exc)
            return
        logger.info(describe(result))
        if on_result is not None:
            on_result(result)

    for index, spec in enumerate(outlets):
        interval = spec.every_minutes * 60
        scheduler.add_job(
            crawl,
            IntervalTrigger(seconds=interval, jitter=min(jitter_seconds, interval // 4)),
            args=[spec.name],
            id=f"crawl:{spec.name}",
            name=f"crawl {spec.name} every {spec.every_minutes} min",
            misfire_grace_time=max(60, interval // 2),
            next_run_time=now + timedelta(seconds=(first_run_spread_seconds * index) / max(1, len(outlets))),
            replace_existing=True,
        )
    return scheduler


def run_forever(scheduler: BackgroundScheduler, runner: CrawlRunner) -> None:
    """Run until SIGINT/SIGTERM, then stop scheduling, stop running crawls, and return."""
    stop = threading.Event()

    def handle(signum: int, _frame: object) -> None:
        logger.info("received %s; stopping", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    scheduler.start()
    try:
        while not stop.wait(1.0):
            pass
    finally:
        scheduler.shutdown(wait=False)
        runner.stop_all()
        for sig, old in previous.items():
            signal.signal(sig, old)
