"""The scheduler: persistent jobs, operators' changes across restarts, misfires, leases.

Crawls are replaced by a dispatcher that records calls, so these tests check scheduling, not
crawling (tests/scheduling/test_run_processes.py runs real `newsdesk run` processes).
"""

from __future__ import annotations

import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import apscheduler.triggers.interval as interval_module
import pytest
from apscheduler.events import (
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
)

from crawler.outlets import get_outlet
from crawler.runners.local import CrawlResult, CrawlRunner
from crawler.scheduling.scheduler import NewsdeskScheduler, job_id
from crawler.store.leases import LeaseStore
from crawler.store.runs import FINISHED, SKIPPED, RunStore
from crawler.store.schedules import JOBS_COLLECTION, ScheduleStore


class RecordingDispatcher:
    """Pretends to crawl: records (outlet, settings) and reports a clean finish."""

    dispatcher = "fake"

    def __init__(self, tmp: Path, seconds: float = 0.0) -> None:
        self.tmp = tmp
        self.seconds = seconds
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()

    def paths(self, outlet: str) -> tuple[Path, Path]:
        return self.tmp / f"{outlet}.log", self.tmp / f"{outlet}.stats.json"

    def run(self, outlet, *, settings, cancel, paths) -> CrawlResult:
        with self.lock:
            self.calls.append((outlet, dict(settings)))
        started = time.time()
        cancel.wait(self.seconds)
        stats = {"finish_reason": "finished", "newsdesk/articles/new": 1}
        return CrawlResult(outlet, 0, started, time.time(), paths[0], paths[1], stats=stats)

    def stop_all(self) -> None:
        pass

    def outlets(self) -> list[str]:
        with self.lock:
            return [outlet for outlet, _ in self.calls]


@pytest.fixture
def make_scheduler(mongo_db, mongo_uri, tmp_path):
    made: list[NewsdeskScheduler] = []

    def make(outlets=("joongdo", "kwnews"), dispatcher=None, **kwargs) -> NewsdeskScheduler:
        scheduler = NewsdeskScheduler(
            [get_outlet(name) for name in outlets],
            dispatcher or RecordingDispatcher(tmp_path),
            uri=mongo_uri,
            db_name=mongo_db.name,
            db=mongo_db,
            **{"first_run_spread_seconds": 3600, "sync_seconds": 3600, **kwargs},
        )
        made.append(scheduler)
        return scheduler

    yield make
    for scheduler in made:
        try:
            scheduler.shutdown()
        except Exception:  # noqa: BLE001 - already shut down
            pass


def _jobs(scheduler: NewsdeskScheduler) -> dict:
    return {job.id: job for job in scheduler.aps.get_jobs(jobstore="default")}


def test_jobs_come_from_specs_and_persist_in_the_database(make_scheduler, mongo_db):
    first = make_scheduler()
    first.start(paused=True)
    jobs = _jobs(first)
    assert set(jobs) == {"crawl:joongdo", "crawl:kwnews"}
    job = jobs["crawl:joongdo"]
    spec = get_outlet("joongdo")
    assert job.max_instances == 1 and job.coalesce is True
    assert job.trigger.interval.total_seconds() == spec.every_minutes * 60
    assert 0 < job.trigger.jitter <= spec.every_minutes * 15
    assert job.misfire_grace_time == spec.every_minutes * 60
    assert job.args == ("joongdo",)
    next_run = jobs["crawl:kwnews"].next_run_time
    assert next_run > datetime.now(timezone.utc)  # joongdo's first run is now, kwnews's later (spread)
    first.shutdown()
    assert mongo_db[JOBS_COLLECTION].count_documents({}) == 2

    second = make_scheduler()
    restarted = datetime.now(timezone.utc)
    second.start(paused=True)
    jobs = _jobs(second)
    assert jobs["crawl:kwnews"].next_run_time == next_run  # not reset by the restart
    assert restarted <= jobs["crawl:joongdo"].next_run_time <= datetime.now(timezone.utc)  # missed: due at the restart


def test_operator_changes_survive_restarts_and_the_spec_sync(make_scheduler, mongo_db):
    schedules = ScheduleStore(mongo_db)
    first = make_scheduler()
    first.start(paused=True)
    schedules.pause("joongdo", by="ops")
    schedules.set_cron("kwnews", "*/20 6-23 * * *", by="ops")
    changes = first.sync()
    assert "joongdo: paused" in changes
    assert any(c.startswith("kwnews: now cron */20 6-23 * * *") for c in changes)
    assert first.sync() == []  # nothing left to change
    first.shutdown()

    second = make_scheduler()  # a restart: specs say every N minutes for both
    second.start(paused=True)
    jobs = _jobs(second)
    assert jobs["crawl:joongdo"].next_run_time is None
    assert jobs["crawl:kwnews"].name == "cron */20 6-23 * * *"
    assert str(jobs["crawl:kwnews"].trigger.timezone) == "Asia/Seoul"

    schedules.resume("joongdo", by="ops")
    schedules.reset("kwnews", by="ops")
    second.sync()
    jobs = _jobs(second)
    assert jobs["crawl:joongdo"].next_run_time is not None
    assert jobs["crawl:kwnews"].name == f"every {get_outlet('kwnews').every_minutes}m"


def test_the_schedule_is_the_outlets_it_was_started_with(make_scheduler):
    first = make_scheduler(outlets=("joongdo", "kwnews"))
    first.start(paused=True)
    first.shutdown()
    second = make_scheduler(outlets=("joongdo",))
    second.start(paused=True)
    assert set(_jobs(second)) == {"crawl:joongdo"}


def test_a_missed_backlog_runs_once(make_scheduler, mongo_db, tmp_path):
    """Down for ten periods: the restarted scheduler crawls once, not ten times."""
    ScheduleStore(mongo_db).set_interval("joongdo", 60, by="test")
    first = make_scheduler(outlets=("joongdo",))
    first.start(paused=True)
    first.aps.modify_job(job_id("joongdo"), jobstore="default",
                         next_run_time=datetime.now(timezone.utc) - timedelta(minutes=10))
    first.shutdown()

    dispatcher = RecordingDispatcher(tmp_path)
    second = make_scheduler(outlets=("joongdo",), dispatcher=dispatcher)
    second.start()
    deadline = time.monotonic() + 20
    while not dispatcher.calls and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.5)  # room for any further (wrong) backlog runs to show up
    assert dispatcher.outlets() == ["joongdo"]
    next_run = _jobs(second)[job_id("joongdo")].next_run_time
    assert next_run > datetime.now(timezone.utc)


def test_a_missed_backlog_runs_at_the_restart_and_the_next_run_a_period_later(make_scheduler, mongo_db, tmp_path,
                                                                              monkeypatch):
    """Left to APScheduler, the catch-up run stood for the last run time the trigger gave before
    the restart, and the next run came one period after that time: any time from a second to a
    period after the catch-up, so a restarted scheduler could crawl an outlet twice in a row
    (test_a_missed_backlog_runs_once failed so, about once in 300 runs). Here APScheduler's
    jitter is always 0, so those run times fall 30 s before the restart and 30 s after it: the
    next run must still be a whole period after the restart, and the catch-up must not be
    skipped as missed."""
    monkeypatch.setattr(interval_module, "random", SimpleNamespace(uniform=lambda low, high: low))
    ScheduleStore(mongo_db).set_interval("joongdo", 60, by="test")
    first = make_scheduler(outlets=("joongdo",))
    first.start(paused=True)
    first.aps.modify_job(job_id("joongdo"), jobstore="default",
                         next_run_time=datetime.now(timezone.utc) - timedelta(seconds=630))
    first.shutdown()

    dispatcher = RecordingDispatcher(tmp_path)
    second = make_scheduler(outlets=("joongdo",), dispatcher=dispatcher)
    events: list[int] = []
    restarted = datetime.now(timezone.utc)
    second.start(paused=True)
    second.aps.add_listener(lambda event: events.append(event.code) if event.job_id == job_id("joongdo") else None,
                            EVENT_JOB_SUBMITTED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
    second.aps.resume()
    deadline = time.monotonic() + 30
    while not dispatcher.calls:
        assert time.monotonic() < deadline, events
        time.sleep(0.05)
    next_run = _jobs(second)[job_id("joongdo")].next_run_time
    second.shutdown()  # joins APScheduler's thread and the crawl's: every event is recorded now
    assert next_run >= restarted + timedelta(seconds=60), (next_run, restarted)
    assert events == [EVENT_JOB_SUBMITTED]
    assert dispatcher.outlets() == ["joongdo"]


def test_run_now_request_runs_once_and_is_recorded(make_scheduler, mongo_db, tmp_path):
    dispatcher = RecordingDispatcher(tmp_path)
    scheduler = make_scheduler(dispatcher=dispatcher)
    scheduler.start()
    ScheduleStore(mongo_db).request_run("kwnews", by="ops")
    assert scheduler.sync() == ["kwnews: run now (asked by ops)"]
    assert scheduler.sync() == []  # claimed once
    deadline = time.monotonic() + 20
    runs = RunStore(mongo_db)
    while not runs.find(outlet="kwnews") or runs.find(outlet="kwnews")[0]["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    (run,) = runs.find(outlet="kwnews")
    assert run["trigger"] == "manual" and run["status"] == FINISHED
    assert run["articles"]["new"] == 1 and run["dispatcher"] == "fake"
    assert [c for c in dispatcher.calls if c[0] == "kwnews"] == [("kwnews", {"NEWSDESK_RUN_ID": run["_id"]})]


def test_an_outlet_crawling_elsewhere_is_not_crawled_again(make_scheduler, mongo_db, tmp_path):
    LeaseStore(mongo_db).acquire("crawl:joongdo", "other-scheduler")
    dispatcher = RecordingDispatcher(tmp_path)
    scheduler = make_scheduler(dispatcher=dispatcher)
    assert scheduler.crawl("joongdo", "schedule") is None
    assert scheduler.crawl("joongdo", "manual") is None
    assert dispatcher.calls == []
    (skipped,) = RunStore(mongo_db).find(outlet="joongdo")
    assert skipped["status"] == SKIPPED and "other-scheduler" in skipped["note"]
    assert scheduler.crawl("kwnews", "schedule")["status"] == FINISHED
    assert LeaseStore(mongo_db).holder("crawl:kwnews") is None  # released after the crawl


def test_a_dead_schedulers_lease_is_taken_over_and_its_run_abandoned(make_scheduler, mongo_db, tmp_path):
    runs = RunStore(mongo_db)
    dead_run = runs.open("joongdo", "schedule", owner="dead")
    LeaseStore(mongo_db, ttl=timedelta(seconds=1)).acquire("crawl:joongdo", "dead")
    scheduler = make_scheduler(lease_ttl=timedelta(seconds=5))
    assert scheduler.crawl("joongdo", "schedule") is None  # still live
    time.sleep(1.2)
    assert scheduler.crawl("joongdo", "schedule")["status"] == FINISHED
    assert runs.get(dead_run)["status"] == "abandoned"


def test_one_scheduler_per_process(make_scheduler):
    first = make_scheduler()
    first.start(paused=True)
    with pytest.raises(RuntimeError, match="already running"):
        make_scheduler().start(paused=True)


class SleepyRunner(CrawlRunner):
    """A 'crawl' that never ends, to check the time limit (the command is all that differs)."""

    def command(self, outlet, log_path, stats_path, settings=None):
        return [sys.executable, "-c", "import time; time.sleep(60)"]


def test_time_limit_stops_a_hanging_crawl(tmp_path):
    runner = SleepyRunner(time_limit=1.0, grace=2.0, env={"NEWSDESK_DATA_DIR": str(tmp_path)})
    started = time.monotonic()
    result = runner.run("joongdo")
    assert result.timed_out and not result.ok
    assert time.monotonic() - started < 30
    assert result.log_path.parent == tmp_path / "logs" / "joongdo"


def test_cancel_stops_a_crawl(tmp_path):
    runner = SleepyRunner(time_limit=60, grace=2.0, env={"NEWSDESK_DATA_DIR": str(tmp_path)})
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    result = runner.run("joongdo", cancel=cancel)
    assert result.cancelled and not result.timed_out and not result.ok


def test_stop_all_refuses_new_crawls(tmp_path):
    runner = CrawlRunner(env={"NEWSDESK_DATA_DIR": str(tmp_path)})
    runner.stop_all()
    with pytest.raises(RuntimeError, match="shutting down"):
        runner.run("joongdo")


def test_shutdown_waits_for_running_crawls_to_close_their_runs(make_scheduler, mongo_db, tmp_path):
    dispatcher = RecordingDispatcher(tmp_path, seconds=30)  # a crawl that runs until cancelled
    stop = threading.Event()
    dispatcher.run = (lambda original: lambda outlet, **kw: original(outlet, **{**kw, "cancel": stop}))(dispatcher.run)
    scheduler = make_scheduler(dispatcher=dispatcher)
    scheduler.start()
    ScheduleStore(mongo_db).request_run("kwnews", by="ops")
    scheduler.sync()
    runs = RunStore(mongo_db)
    deadline = time.monotonic() + 20
    while not runs.find(outlet="kwnews"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    scheduler.shutdown(stop.set)
    (run,) = runs.find(outlet="kwnews")
    assert run["status"] != "running"  # closed before shutdown returned


def test_scheduler_drains_the_search_queue_periodically(make_scheduler, mongo_db):
    """What a crawl killed before its end left queued is indexed by the scheduler's job."""
    from crawler.search import pending
    from crawler.store import ArticleStore

    url = "https://news.example/queued"
    ArticleStore(mongo_db).upsert_many([{"canonical_url": url, "url": url, "outlet": "joongdo", "title": "대전 소식",
                                         "body": "대전 시내 소식이다.", "content_hash": "h"}])
    scheduler = make_scheduler(search_index_seconds=120)
    scheduler.start(paused=True)
    job = scheduler.aps.get_job("newsdesk:search-index", jobstore="local")
    assert job is not None and job.trigger.interval.total_seconds() == 120
    assert scheduler.index_search() == 1 and pending(mongo_db) == 0
