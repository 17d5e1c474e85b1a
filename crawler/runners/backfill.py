"""Backfills of outlets, together in this process: each leased, recorded as a run, resumable.

`newsdesk backfill` runs here. The steps per outlet, as a scheduled crawl's
(crawler/runners/crawl_job.py): take the outlet's lease, open a run (trigger "backfill"),
crawl, close the run, give the lease back. What differs:

- The checkpoint (crawler/crawl/backfill_state.py) lives in
  `<data dir>/jobs/backfill/<outlet>-<since>-<until>/`. A backfill of the same outlet and
  window resumes from it after Ctrl-C, a kill -9 or a crash (one whose window ends today
  resumes the unfinished one from the same day on, whichever day that ended);
  `restart=True` drops it first. It is removed once the backfill is complete.
- A file lock in that folder keeps a second backfill of the same outlet and window on this
  machine from running at the same time (the lock dies with its process, kill -9 included).
- The lease's owner is named after the machine, the outlet and the window, not the process:
  a backfill resumed after a kill -9 on the same machine takes its own lease back at once,
  where anyone else waits for it to expire, and marks the killed run `abandoned`.
- A scheduled or manual crawl holding the lease makes the backfill refuse (`LeaseHeld`), or
  wait for it with `wait=True`; while the backfill holds it, the scheduler skips the outlet.
- Runs of backfills are not judged by the per-run health checks and alerts: an old article
  stored today says nothing about whether the outlet publishes today.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import socket
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Mapping

from scrapy.crawler import CrawlerProcess
from scrapy.utils.defer import deferred_from_coro

from crawler.config import project_settings
from crawler.crawl.backfill_state import Checkpoint, Window, job_folder, unfinished_window
from crawler.spiders.backfill import BackfillSpider
from crawler.store import data_dir, database_name, get_client, resolve_uri, store_env
from crawler.store.leases import LeaseKeeper, LeaseStore, lease_name
from crawler.store.runs import RunStore

logger = logging.getLogger(__name__)

TRIGGER = "backfill"


class BackfillRefused(RuntimeError):
    """The backfill could not start; the message says why in one line."""


class LeaseHeld(BackfillRefused):
    def __init__(self, outlet: str, holder: Mapping[str, Any]) -> None:
        self.holder = dict(holder)
        trigger = holder.get("trigger") or "a crawl"
        super().__init__(
            f"{outlet} is being crawled right now ({trigger}, by {holder.get('owner', 'another process')}); "
            f"try again when it ends, or pass --wait to wait for it")


@dataclass
class BackfillOutcome:
    outlet: str
    window: Window
    stats: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None
    complete: bool = False
    resumed: bool = False
    owed: int = 0  # articles of unsettled pages (failed for now): the next run asks again
    unread: int = 0  # sources stopped at a page the site did not give (the next run reads on)
    folder: Path | None = None


def backfill_owner(outlet: str, window: Window) -> str:
    """The lease owner of a backfill: the same for every attempt of it on this machine."""
    return f"backfill@{socket.gethostname()}:{outlet}:{window.key}"


def scrapy_settings(settings: Any) -> dict[str, Any]:
    """The crawl settings a backfill replaces with its own, politer BACKFILL_* values."""
    return {
        "CONCURRENT_REQUESTS_PER_DOMAIN": settings.getint("NEWSDESK_BACKFILL_CONCURRENT_REQUESTS_PER_DOMAIN", 2),
        "DOWNLOAD_DELAY": settings.getfloat("NEWSDESK_BACKFILL_DOWNLOAD_DELAY", 1.0),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": settings.getfloat("NEWSDESK_BACKFILL_AUTOTHROTTLE_TARGET_CONCURRENCY", 1.0),
        "NEWSDESK_STORE_BATCH_SIZE": settings.getint("NEWSDESK_BACKFILL_STORE_BATCH_SIZE", 10),
        "SCRAPER_SLOT_MAX_ACTIVE_SIZE": settings.getint("NEWSDESK_BACKFILL_SCRAPER_MAX_ACTIVE_SIZE", 1_000_000),
        "NEWSDESK_PROGRESS": False,  # the live table of `newsdesk crawl`; a backfill prints lines
    }


class _Lock:
    """An exclusive lock on `folder/lock` for this process (released by the kernel when the
    process dies, kill -9 included)."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "lock"
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)

    def acquire(self) -> bool:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        os.ftruncate(self.fd, 0)
        os.write(self.fd, str(os.getpid()).encode())
        return True

    def holder(self) -> str:
        try:
            return self.path.read_text().strip() or "?"
        except OSError:
            return "?"

    def release(self) -> None:
        os.close(self.fd)


class _Job:
    """One outlet's backfill in this process: its folder lock, lease and run."""

    def __init__(self, outlet: str, window: Window) -> None:
        self.outlet = outlet
        self.window = window
        self.folder = job_folder(data_dir(), outlet, window)
        self.lock: _Lock | None = None
        self.keeper: LeaseKeeper | None = None
        self.run_id: str | None = None
        self.resumed = False
        self.crawler: Any = None
        self.lease: Any = None
        self.leases: LeaseStore | None = None

    def lock_folder(self, restart: bool) -> None:
        lock = _Lock(self.folder)
        if not lock.acquire():
            holder = lock.holder()
            lock.release()
            raise BackfillRefused(f"a backfill of {self.outlet} {self.window} is already running on this machine "
                                  f"(pid {holder})")
        if restart:
            for path in self.folder.iterdir():
                if path.name != "lock":
                    shutil.rmtree(path) if path.is_dir() else path.unlink()
        self.lock = lock
        self.resumed = (self.folder / "state.json").is_file()

    def take_lease(self, leases: LeaseStore, runs: RunStore, *, wait: bool,
                   on_wait: Callable[[str, Mapping[str, Any]], None] | None) -> Any:
        owner = backfill_owner(self.outlet, self.window)
        info = {"trigger": TRIGGER, "host": socket.gethostname(), "pid": os.getpid(), "window": str(self.window)}
        lease = leases.acquire(lease_name(self.outlet), owner, info=info)
        waited = False
        while lease is None:
            holder = leases.holder(lease_name(self.outlet)) or {}
            if not wait:
                raise LeaseHeld(self.outlet, holder)
            if not waited and on_wait is not None:
                on_wait(self.outlet, holder)
            waited = True
            time.sleep(min(5.0, leases.ttl.total_seconds() / 3))
            lease = leases.acquire(lease_name(self.outlet), owner, info=info)
        self.lease, self.leases = lease, leases
        # this same backfill, killed earlier on this machine, left its run open under our name
        runs.abandon_open_runs(self.outlet, owner)
        if lease.previous_owner:
            runs.abandon_open_runs(self.outlet, lease.previous_owner)
        return lease

    def release(self) -> None:
        if self.keeper is not None:
            self.keeper.__exit__(None, None, None)  # stops the heartbeat and gives the lease back
        elif self.lease is not None and self.leases is not None:  # another outlet refused before the crawl
            self.leases.release(self.lease.name, self.lease.owner)
        self.keeper = self.lease = None
        if self.lock is not None:
            self.lock.release()
            self.lock = None
            if self.folder.is_dir() and [p.name for p in self.folder.iterdir()] == ["lock"]:
                shutil.rmtree(self.folder, ignore_errors=True)  # nothing was saved: nothing to resume


def run_backfills(
    outlets: list[str],
    window: Window,
    *,
    base_url: str | None = None,
    restart: bool = False,
    wait: bool = False,
    until_given: bool = True,
    settings_overrides: Mapping[str, Any] | None = None,
    log_file: Path | None = None,
    on_wait: Callable[[str, Mapping[str, Any]], None] | None = None,
) -> list[BackfillOutcome]:
    """Backfill `outlets` over `window` together in this process (module docstring).
    Without `until_given` (the window ends today), an outlet with an unfinished backfill from
    the same day on continues it, with the end it had. BackfillRefused, before anything is
    crawled, when one of them cannot start."""
    overrides = dict(settings_overrides or {})
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        overrides.setdefault("LOG_FILE", str(log_file))
    base = project_settings(overrides)
    settings = project_settings({**scrapy_settings(base), "NEWSDESK_BACKFILL_PROGRESS": True, **overrides})
    jobs = [_Job(outlet, window if until_given or restart else
                 (unfinished_window(data_dir(), outlet, window.since) or window)) for outlet in outlets]
    env = store_env(settings)
    client = get_client(resolve_uri(env))
    outcomes: list[BackfillOutcome] = []
    try:
        db = client[database_name(env)]
        leases = LeaseStore(db, ttl=timedelta(seconds=settings.getfloat("NEWSDESK_LEASE_TTL_SECONDS", 90)))
        runs = RunStore(db)
        runs.ensure_indexes()
        for job in jobs:
            job.lock_folder(restart)
        leased = [(job, job.take_lease(leases, runs, wait=wait, on_wait=on_wait)) for job in jobs]
        process = CrawlerProcess(settings)
        for job, lease in leased:
            job.crawler = crawler = process.create_crawler(BackfillSpider.for_outlet(job.outlet))
            job.keeper = LeaseKeeper(leases, lease, on_lost=lambda c=crawler: _close_from_thread(c, "lease_lost"))
            job.keeper.__enter__()
            job.run_id = runs.open(job.outlet, TRIGGER, owner=lease.owner, log_path=str(log_file) if log_file else None,
                                   dispatcher="in-process", note=str(job.window) + (" (resumed)" if job.resumed else ""))
            kwargs: dict[str, Any] = {"since": job.window.since.isoformat(), "until": job.window.until.isoformat(),
                                      "jobdir": str(job.folder)}
            if base_url:
                kwargs["base_url"] = base_url
            process.crawl(crawler, **kwargs)
        error: str | None = "interrupted"
        try:
            process.start()
            error = None
        finally:
            for job in jobs:
                outcomes.append(_close(job, runs, error))
    finally:
        for job in jobs:
            job.release()
        client.close()
    for outcome in outcomes:
        if outcome.complete and outcome.folder is not None:
            shutil.rmtree(outcome.folder, ignore_errors=True)
    return outcomes


def _close(job: _Job, runs: RunStore, error: str | None) -> BackfillOutcome:
    stats = dict(job.crawler.stats.get_stats()) if job.crawler is not None else {}
    if job.run_id is not None:
        if stats:
            runs.record_stats(job.run_id, stats)
        runs.close(job.run_id, returncode=0 if error is None else None, error=error,
                   lease_lost=bool(job.keeper and job.keeper.lost.is_set()))
    state = job.folder / "state.json"
    checkpoint = Checkpoint.open(job.folder, job.outlet, job.window) if state.is_file() else None
    complete = bool(checkpoint and checkpoint.complete and stats.get("finish_reason") == "finished")
    owed = sum(len(p["urls"]) for p in checkpoint.pages.values()) if checkpoint else 0
    unread = sum(1 for s in checkpoint.sources.values() if s.get("failed") and not s["done"]) if checkpoint else 0
    return BackfillOutcome(job.outlet, job.window, stats, job.run_id, complete=complete, resumed=job.resumed,
                           owed=owed, unread=unread, folder=job.folder)


def _close_from_thread(crawler: Any, reason: str) -> None:
    """Close the backfill's spider from the lease keeper's thread (its lease was lost)."""
    from twisted.internet import reactor  # imported when used: CrawlerProcess installs its reactor first

    def close() -> None:
        if crawler.engine is not None and crawler.engine.spider is not None:
            deferred_from_coro(crawler.engine.close_spider_async(reason=reason))

    reactor.callFromThread(close)  # type: ignore[attr-defined]
