"""The scheduler behind `newsdesk run`: persistent jobs, operator changes, no double runs.

- Jobs live in APScheduler's MongoDB job store (collection ``scheduler_jobs`` of newsdesk's
  database), one per outlet, so next run times survive a restart: a scheduler that was down
  runs a missed crawl once, at its start, and the next one a period later, not a backlog
  (`_catch_up`; coalesce and a misfire grace of one period for runs late while it runs).
- What each job's schedule should be is worked out at start and every `sync_seconds` from the
  outlet specs plus the operators' changes (crawler.store.schedules), so `newsdesk schedule
  ...` typed anywhere reaches a running scheduler within one sync, and a restart or an upgrade
  never overwrites an operator's pause or interval. The job's name records its trigger
  ("every 30m", "cron */20 6-23 * * *"): a different name means the trigger must change.
- Every crawl goes through CrawlService: an outlet lease in MongoDB, so two schedulers on one
  database never crawl the same outlet at once, and a run document in ``runs``.
- One database holds one schedule: `newsdesk run OUTLET...` makes the schedule exactly those
  outlets (operators' changes to the others are kept and come back with them).
- Every `search_index_seconds` it drains the search queue (crawler.search.queue): crawls index
  what they stored when they end, so this only catches what killed crawls left queued.

Jobs in a persistent store must name their function by import path, so the job function is
the module-level `scheduled_crawl`, which hands over to the scheduler running in this process
(one per process).
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.mongodb import MongoDBJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED

from crawler.outlets import OutletSpec
from crawler.runners.crawl_job import CrawlService, Dispatcher
from crawler.scheduling.schedule import TIMEZONE, Schedule, desired_schedules
from crawler.search.queue import drain
from crawler.store import Database, StoreError, get_client
from crawler.store.leases import SCHEDULER_LEASE_PREFIX, LeaseStore, make_owner
from crawler.store.runs import RunStore
from crawler.store.schedules import JOB_PREFIX, JOBS_COLLECTION, ScheduleStore
from crawler.store.stories import StoryMergeStore

logger = logging.getLogger(__name__)

# Story merges of this last stretch are carried out again at every upkeep (apply_story_merges).
STORY_MERGES_REAPPLIED = timedelta(days=1)

_active: "NewsdeskScheduler | None" = None
_active_lock = threading.Lock()


def scheduled_crawl(outlet: str) -> None:
    """The job function stored in MongoDB (by import path): crawl through this process's scheduler."""
    scheduler = _active
    if scheduler is None:
        logger.warning("crawl %s fired with no scheduler running in this process; ignored", outlet)
        return
    scheduler.crawl(outlet, "schedule")


def job_id(outlet: str) -> str:
    return f"{JOB_PREFIX}{outlet}"


class _BackgroundScheduler(BackgroundScheduler):
    """APScheduler's BackgroundScheduler, minus one last look at the job stores after shutdown.

    Its thread wakes once more when shut down and looks for due jobs before it sees the state
    (APScheduler 3.x checks only for "paused" there), by then with its executors stopped and the
    job store's client closed: every shutdown logged "Error getting due jobs from job store
    'default': Cannot use MongoClient after close". Harmless, but it read like a cause of
    whatever else went wrong in the same test; and were the client still open, a job found due
    there would be moved to its next run time without running (the executor refuses it)."""

    def _process_jobs(self) -> float | None:
        if self.state == STATE_STOPPED:
            return None
        return super()._process_jobs()  # type: ignore[no-any-return]


class NewsdeskScheduler:
    def __init__(
        self,
        specs: Iterable[OutletSpec],
        dispatcher: Dispatcher,
        *,
        uri: str,
        db_name: str,
        db: Database[Any],
        owner: str | None = None,
        max_concurrent_crawls: int = 4,
        sync_seconds: float = 20.0,
        max_jitter: int = 120,
        first_run_spread_seconds: int = 60,
        lease_ttl: timedelta = timedelta(seconds=90),
        runs_keep_days: float = 90.0,
        search_index_seconds: float = 300.0,
    ) -> None:
        self.specs = {spec.name: spec for spec in specs}
        self.db = db
        self.owner = owner or make_owner("scheduler")
        self.sync_seconds = sync_seconds
        self.max_jitter = max_jitter
        self.first_run_spread_seconds = first_run_spread_seconds
        self.runs_keep_days = runs_keep_days
        self.search_index_seconds = search_index_seconds
        self.schedules = ScheduleStore(db)
        self.runs = RunStore(db)
        self.leases = LeaseStore(db, ttl=lease_ttl)
        self.presence = LeaseStore(db, ttl=timedelta(seconds=max(60.0, 3 * sync_seconds)))
        self.service = CrawlService(db, dispatcher, owner=self.owner, leases=self.leases)
        self.dispatcher = dispatcher
        # The job store closes the client it is given on shutdown: it gets its own.
        self._jobstore_client = get_client(uri)
        self.aps = _BackgroundScheduler(
            timezone=TIMEZONE,
            jobstores={
                "default": MongoDBJobStore(database=db_name, collection=JOBS_COLLECTION, client=self._jobstore_client),
                "local": MemoryJobStore(),
            },
            executors={
                "default": ThreadPoolExecutor(max_workers=max_concurrent_crawls),
                "control": ThreadPoolExecutor(max_workers=1),
                "search": ThreadPoolExecutor(max_workers=1),  # a long drain must not hold up sync
            },
            job_defaults={"max_instances": 1, "coalesce": True},
        )
        self._last_purge: datetime | None = None
        self._crawling = 0
        self._crawling_changed = threading.Condition()

    # -- lifecycle ------------------------------------------------------------------------
    def start(self, *, paused: bool = False) -> None:
        global _active
        with _active_lock:
            if _active is not None:
                raise RuntimeError("a newsdesk scheduler is already running in this process")
            _active = self
        try:
            for store in (self.runs, self.leases, self.schedules, StoryMergeStore(self.db)):
                store.ensure_indexes()
            self.aps.start(paused=True)
            self.sync()
            self._catch_up()
            self.aps.add_job(
                self.sync, "interval", seconds=self.sync_seconds, id="newsdesk:sync",
                jobstore="local", executor="control", misfire_grace_time=None,
            )
            if self.search_index_seconds > 0:
                self.aps.add_job(
                    self.index_search, "interval", seconds=self.search_index_seconds, id="newsdesk:search-index",
                    jobstore="local", executor="search", misfire_grace_time=None,
                )
                self.aps.add_job(
                    self.apply_story_merges, "interval", seconds=self.search_index_seconds, id="newsdesk:story-merges",
                    jobstore="local", executor="search", misfire_grace_time=None,
                )
            if not paused:
                self.aps.resume()
        except BaseException:
            self._release_active()
            raise

    def shutdown(self, stop_crawls: Callable[[], None] | None = None, *, wait: float = 120.0) -> None:
        """Stop scheduling; with `stop_crawls`, stop the running crawls too and wait (up to
        `wait` seconds) until their runs are closed, so none is left "running" in history."""
        try:
            self.aps.shutdown(wait=False)
            if stop_crawls is not None:
                stop_crawls()
                with self._crawling_changed:
                    if not self._crawling_changed.wait_for(lambda: self._crawling == 0, timeout=wait):
                        logger.warning("%d crawl(s) still closing after %.0f s; leaving them", self._crawling, wait)
        finally:
            try:
                self.presence.release(self._presence_name, self.owner)
            except StoreError:
                pass
            self._release_active()

    def _catch_up(self) -> None:
        """Crawls that fell due while no scheduler ran are due now, once; the next one period on.

        Left to APScheduler, a job overdue at start runs for the last time its trigger gave before
        now (coalesce), and its next run is one period (plus jitter) after *that* time: anything
        from the next second to a period later, so a restarted scheduler could crawl an outlet
        twice in a row (test_a_missed_backlog_runs_once failed so, about one run in 300), and
        when the jitter put that last time more than a period back (one restart in five), the
        misfire grace skipped the catch-up and the crawl came with the next run instead. Done
        before this scheduler resumes, so it is not processing the jobs it moves (another
        scheduler on the same database may be: the lease keeps their runs apart, as ever)."""
        now = datetime.now(timezone.utc)
        try:
            jobs = self.aps.get_jobs(jobstore="default")
        except StoreError as exc:  # APScheduler's own retries take over: as before, a late run may come twice
            logger.error("schedule: missed runs not caught up (database unavailable?): %s", exc)
            return
        for job in jobs:
            if job.next_run_time is not None and job.next_run_time < now:
                try:
                    self.aps.modify_job(job.id, jobstore="default", next_run_time=now)
                except JobLookupError:  # removed meanwhile by another scheduler
                    continue
                except StoreError as exc:
                    logger.error("schedule: %s not caught up (database unavailable?): %s", job.id, exc)
                    return
                logger.info("schedule: %s missed its run at %s while no scheduler ran; runs now",
                            job.id.removeprefix(JOB_PREFIX), job.next_run_time.isoformat(timespec="seconds"))

    def _release_active(self) -> None:
        global _active
        with _active_lock:
            if _active is self:
                _active = None

    @property
    def _presence_name(self) -> str:
        return f"{SCHEDULER_LEASE_PREFIX}{self.owner}"

    # -- crawling -------------------------------------------------------------------------
    def crawl(self, outlet: str, trigger: str) -> dict[str, Any] | None:
        with self._crawling_changed:
            self._crawling += 1
        try:
            return self.service.crawl(outlet, trigger)
        except RuntimeError as exc:  # the runner is shutting down
            logger.info("crawl %s not started: %s", outlet, exc)
        except StoreError as exc:
            logger.error("crawl %s not started: the database is unavailable (%s)", outlet, exc)
        finally:
            with self._crawling_changed:
                self._crawling -= 1
                self._crawling_changed.notify_all()
        return None

    # -- search ---------------------------------------------------------------------------
    def index_search(self) -> int:
        """Drain the search queue: what crawls killed before their end left unindexed (each
        crawl drains it when it ends). Articles indexed; errors are logged, the next run retries."""
        try:
            result = drain(self.db)
        except StoreError as exc:
            logger.error("search index: drain failed (database unavailable?): %s", exc)
            return 0
        if result.indexed:
            logger.info("search index: %d articles indexed in %.1f s", result.indexed, result.seconds)
        return result.indexed

    # -- stories --------------------------------------------------------------------------
    def apply_story_merges(self) -> int:
        """Carry out again the story merges of the last day (crawler.store.stories): copies a
        crawl wrote under an id after it was merged, or a merge whose crawl was killed before
        it moved the copies. Copies moved; errors are logged, the next run retries."""
        try:
            moved = StoryMergeStore(self.db).apply_since(datetime.now(timezone.utc) - STORY_MERGES_REAPPLIED)
        except StoreError as exc:
            logger.error("story merges: not applied (database unavailable?): %s", exc)
            return 0
        if moved:
            logger.info("story merges: %d copies moved to the story they were merged into", moved)
        return moved

    # -- sync -----------------------------------------------------------------------------
    def desired(self) -> dict[str, Schedule]:
        return desired_schedules(self.specs.values(), self.schedules.overrides())

    def sync(self) -> list[str]:
        """Make the job store match specs + operators' changes; start claimed run-now requests.

        Returns what changed, one line each (logged too). Database errors are logged and the
        next sync tries again: a scheduler must outlive a database restart.
        """
        try:
            self.presence.acquire(self._presence_name, self.owner, info={"sync_seconds": self.sync_seconds})
            changes = self._sync_jobs()
            changes += self._start_requested_runs()
            self._purge_runs()
        except StoreError as exc:
            logger.error("schedule sync failed (database unavailable?): %s", exc)
            return []
        for change in changes:
            logger.info("schedule: %s", change)
        return changes

    def _sync_jobs(self) -> list[str]:
        desired = self.desired()
        jobs = {job.id: job for job in self.aps.get_jobs(jobstore="default")}
        changes: list[str] = []
        now = datetime.now(timezone.utc)
        for index, (outlet, schedule) in enumerate(desired.items()):
            job = jobs.pop(job_id(outlet), None)
            if job is None:
                first = now + timedelta(seconds=self.first_run_spread_seconds * index / max(1, len(desired)))
                try:
                    self.aps.add_job(
                        scheduled_crawl, schedule.trigger(self.max_jitter), args=[outlet], id=job_id(outlet),
                        name=schedule.describe(), jobstore="default", misfire_grace_time=schedule.misfire_grace(),
                        next_run_time=None if schedule.paused else first,
                    )
                except ConflictingIdError:  # another scheduler added it a moment ago
                    continue
                changes.append(f"{outlet}: added, {schedule.describe()}{' (paused)' if schedule.paused else ''}")
                continue
            try:
                changes += self._update_job(job, schedule)
            except JobLookupError:  # removed meanwhile by another scheduler
                continue
        for stale in jobs.values():
            try:
                self.aps.remove_job(stale.id, jobstore="default")
                changes.append(f"{stale.id.removeprefix(JOB_PREFIX)}: removed (not in this schedule)")
            except JobLookupError:
                pass
        return changes

    def _update_job(self, job: Any, schedule: Schedule) -> list[str]:
        changes: list[str] = []
        outlet = schedule.outlet
        if job.name != schedule.describe():
            trigger = schedule.trigger(self.max_jitter)
            self.aps.modify_job(job.id, jobstore="default", name=schedule.describe(),
                                misfire_grace_time=schedule.misfire_grace(), trigger=trigger)
            if not schedule.paused:
                self.aps.reschedule_job(job.id, jobstore="default", trigger=trigger)
            changes.append(f"{outlet}: now {schedule.describe()} (was {job.name})")
            job = self.aps.get_job(job.id, jobstore="default")
        if schedule.paused and job.next_run_time is not None:
            self.aps.pause_job(job.id, jobstore="default")
            changes.append(f"{outlet}: paused")
        elif not schedule.paused and job.next_run_time is None:
            self.aps.resume_job(job.id, jobstore="default")
            changes.append(f"{outlet}: resumed")
        return changes

    def _start_requested_runs(self) -> list[str]:
        changes = []
        for request in self.schedules.pending_runs():
            outlet = request["_id"]
            if outlet not in self.specs:
                continue  # another scheduler's outlet, or unknown: leave it for them
            if not self.schedules.claim_run(outlet, request["run_now"]):
                continue  # another scheduler took it
            self.aps.add_job(
                self.crawl, "date", args=[outlet, "manual"], jobstore="local",
                id=f"run-now:{outlet}:{request['run_now'].timestamp():.0f}", misfire_grace_time=None,
                name=f"run-now {outlet}",
            )
            changes.append(f"{outlet}: run now (asked by {request.get('run_now_by', '?')})")
        return changes

    def _purge_runs(self) -> None:
        now = datetime.now(timezone.utc)
        if self._last_purge is not None and now - self._last_purge < timedelta(hours=1):
            return
        self._last_purge = now
        removed = self.runs.purge(self.runs_keep_days)
        if removed:
            logger.info("runs: removed %d run(s) older than %g days", removed, self.runs_keep_days)


def run_forever(scheduler: NewsdeskScheduler, stop_all: Any) -> None:
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
        scheduler.shutdown(stop_all)
        for sig, old in previous.items():
            signal.signal(sig, old)
