"""crawler.status: the schedule view (`newsdesk schedule list`) and the health view (the
dashboard) are computed in one place and agree on every fact they share."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from scrapy.settings import Settings

from crawler import status
from crawler.monitoring.conditions import Condition
from crawler.store import AlertStore, LeaseStore, RunStore, ScheduleStore
from crawler.store.schedules import JOBS_COLLECTION

from .conftest import seed

MONITORING_OFF = Settings({"NEWSDESK_RUNS_KEEP_DAYS": 30, "NEWSDESK_HEALTH_ENABLED": False})
MONITORING_ON = Settings({"NEWSDESK_RUNS_KEEP_DAYS": 30, "NEWSDESK_HEALTH_ENABLED": True})


def _run_at(runs: RunStore, outlet: str, started: datetime, *, close: bool = True) -> str:
    run_id = runs.open(outlet, "schedule", owner="test@host")
    if close:
        runs.close(run_id, returncode=0, stats={"finish_reason": "finished"})
    runs.collection.update_one({"_id": run_id}, {"$set": {"started": started}})
    return run_id


def test_schedule_and_health_views_agree(mongo_db: Any) -> None:
    seeded = seed(mongo_db)
    now = seeded.now
    runs = RunStore(mongo_db)
    week_old = _run_at(runs, "imaeil", now - timedelta(days=7))
    _run_at(runs, "kwangju", now - timedelta(days=40))  # older than the 30 days runs are kept here
    crawling = _run_at(runs, "daejonilbo", now - timedelta(minutes=5), close=False)
    ScheduleStore(mongo_db).pause("busan", by="test")
    ScheduleStore(mongo_db).request_run("cctoday", by="test")
    leases = LeaseStore(mongo_db)
    leases.acquire("crawl:daejonilbo", "scheduler@x")
    leases.acquire("scheduler:scheduler@x", "scheduler@x")
    next_run = (now + timedelta(minutes=10)).timestamp()
    mongo_db[JOBS_COLLECTION].insert_one({"_id": "crawl:joongdo", "next_run_time": next_run})

    listing = status.outlet_status(mongo_db, now=now, settings=MONITORING_OFF)
    board = status.health(mongo_db, now=now, settings=MONITORING_OFF)
    assert listing.schedulers == board.schedulers == status.live_schedulers(mongo_db) == ["scheduler@x"]
    rows = {row.outlet: row for row in listing.outlets}
    judged = {row.outlet: row for row in board.outlets}
    assert set(rows) == set(judged) and len(rows) >= 27
    shared = ("schedule", "schedule_source", "state", "next_run", "run_now_requested", "crawling_under")
    for name, row in rows.items():
        assert [getattr(row, f) for f in shared] == [getattr(judged[name], f) for f in shared], name
        assert (row.last_run or {}).get("_id") == (judged[name].last_run or {}).get("_id"), name

    assert rows["joongdo"].last_run["_id"] == seeded.runs["ok"] and rows["joongdo"].state == "scheduled"
    assert rows["joongdo"].next_run == datetime.fromtimestamp(next_run, timezone.utc)
    assert judged["joongdo"].verdict == "ok" and judged["joongdo"].new_24h == 4 and judged["joongdo"].runs_24h == 1
    assert rows["imaeil"].last_run["_id"] == week_old and judged["imaeil"].verdict == "overdue"
    assert rows["busan"].state == "paused" and judged["busan"].verdict == "paused"
    assert rows["cctoday"].run_now_requested and not rows["joongdo"].run_now_requested
    assert rows["daejonilbo"].state == "crawling" and rows["daejonilbo"].crawling_under == "scheduler@x"
    assert rows["daejonilbo"].last_run["_id"] == crawling and judged["daejonilbo"].verdict == "running"
    assert rows["kwangju"].last_run is None
    assert (judged["kwangju"].verdict, judged["kwangju"].reason) == ("no runs", "no run in the last 30 days")
    assert judged["kwnews"].verdict == "failing" and judged["kwnews"].failed_24h == 1
    assert board.outlets[0].outlet == "kwnews"  # worst first
    assert [r["_id"] for r in board.recent_failures] == [seeded.runs["bad"]]
    assert listing.outlets[0].verdict == ""  # the schedule view judges nothing

    kept_forever = status.outlet_status(mongo_db, now=now, settings=Settings({"NEWSDESK_RUNS_KEEP_DAYS": 0}))
    assert next(r for r in kept_forever.outlets if r.outlet == "kwangju").last_run is not None


def test_open_alerts_decide_the_verdict_while_monitoring_is_on(mongo_db: Any) -> None:
    seeded = seed(mongo_db)
    AlertStore(mongo_db).open("joongdo", Condition("silent", True, cause="no new article for 20 h"), seeded.now)
    off = status.health(mongo_db, now=seeded.now, settings=MONITORING_OFF)
    assert not off.monitoring and {r.outlet: r.verdict for r in off.outlets}["joongdo"] == "ok"
    on = status.health(mongo_db, now=seeded.now, settings=MONITORING_ON)
    row = on.outlets[0]
    assert on.monitoring and row.outlet == "joongdo" and row.verdict == "unhealthy"
    assert row.reason == "silent: no new article for 20 h" and [a["condition"] for a in row.alerts] == ["silent"]
    assert on.counts["unhealthy"] == 1 and on.counts["failing"] == 1
