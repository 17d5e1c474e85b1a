"""Leases (one holder, takeover after expiry) and run history documents."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from crawler.store.leases import LeaseKeeper, LeaseStore
from crawler.store.runs import ABANDONED, FAILED, FINISHED, LEASE_LOST, RUNNING, TIMEOUT, RunStore, summarize


def test_a_live_lease_has_one_holder(mongo_db):
    leases = LeaseStore(mongo_db, ttl=timedelta(seconds=30))
    first = leases.acquire("crawl:joongdo", "a")
    assert first is not None and first.previous_owner is None
    assert leases.acquire("crawl:joongdo", "b") is None
    assert leases.acquire("crawl:joongdo", "a") is not None  # re-entrant for its owner
    assert leases.holder("crawl:joongdo")["owner"] == "a"
    assert leases.acquire("crawl:kwnews", "b") is not None  # other names are independent
    assert not leases.release("crawl:joongdo", "b")
    assert leases.release("crawl:joongdo", "a")
    assert leases.acquire("crawl:joongdo", "b") is not None


def test_an_expired_lease_is_taken_over_and_its_owner_told(mongo_db):
    leases = LeaseStore(mongo_db, ttl=timedelta(seconds=1))
    assert leases.acquire("crawl:joongdo", "dead") is not None
    assert leases.acquire("crawl:joongdo", "b") is None
    time.sleep(1.2)
    taken = leases.acquire("crawl:joongdo", "b")
    assert taken is not None and taken.previous_owner == "dead"
    assert not leases.renew("crawl:joongdo", "dead")
    assert leases.renew("crawl:joongdo", "b")


def test_keeper_renews_and_reports_a_lost_lease(mongo_db):
    leases = LeaseStore(mongo_db, ttl=timedelta(seconds=2))
    lease = leases.acquire("crawl:joongdo", "a")
    with LeaseKeeper(leases, lease, every=0.2) as keeper:
        time.sleep(2.5)  # longer than the TTL: only the heartbeat keeps it
        assert leases.holder("crawl:joongdo")["owner"] == "a"
        assert not keeper.lost.is_set()
        mongo_db["leases"].update_one({"_id": "crawl:joongdo"}, {"$set": {"owner": "thief"}})
        assert keeper.lost.wait(5)
    assert leases.holder("crawl:joongdo")["owner"] == "thief"  # release never frees someone else's


def test_bad_ttl_is_refused(mongo_db):
    with pytest.raises(ValueError, match="positive"):
        LeaseStore(mongo_db, ttl=timedelta(0))


STATS = {
    "finish_reason": "finished",
    "downloader/response_count": 12,
    "downloader/response_status_count/200": 11,
    "downloader/response_status_count/404": 1,
    "downloader/exception_type_count/twisted.internet.error.TimeoutError": 2,
    "downloader/exception_count": 2,
    "item_scraped_count": 5,
    "newsdesk/articles/new": 4,
    "newsdesk/articles/updated": 1,
    "newsdesk/dropped/no_title": 2,
    "newsdesk/dropped/too_short": 1,
    "spider_exceptions/ValueError": 1,
    "spider_exceptions/count": 1,
    "log_count/ERROR": 3,
    "start_time": datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc),
}


def test_summary_pulls_out_what_operators_read():
    s = summarize(STATS)
    assert s["pages"] == 12 and s["items"] == 5
    assert s["articles"] == {"new": 4, "updated": 1, "unchanged": 0}
    assert s["dropped"] == {"no_title": 2, "too_short": 1}
    assert s["errors"]["log_errors"] == 3 and s["errors"]["spider_exceptions"] == 1
    assert s["errors"]["download_errors"] == 2
    assert s["http_status"] == {"200": 11, "404": 1}


def test_run_lifecycle_and_statuses(mongo_db):
    runs = RunStore(mongo_db)
    runs.ensure_indexes()
    run_id = runs.open("joongdo", "schedule", owner="me", log_path="/x.log")
    assert runs.get(run_id)["status"] == RUNNING
    assert runs.record_stats(run_id, STATS)
    closed = runs.close(run_id, returncode=0)
    assert closed["status"] == FINISHED and closed["duration_s"] >= 0
    stored = runs.get(run_id)
    assert stored["articles"]["new"] == 4
    # exception class names keep their dots, escaped so the field name is queryable
    assert stored["stats"]["downloader/exception_type_count/twisted\uff0einternet\uff0eerror\uff0eTimeoutError"] == 2

    crashed = runs.close(runs.open("joongdo", "schedule", owner="me"), returncode=1)
    assert crashed["status"] == FAILED and "code 1" in crashed["error"]
    silent = runs.close(runs.open("joongdo", "schedule", owner="me"), returncode=0)
    assert silent["status"] == FAILED and "no stats" in silent["error"]
    slow = runs.close(runs.open("joongdo", "schedule", owner="me"), returncode=-15, timed_out=True, stats=STATS)
    assert slow["status"] == TIMEOUT and slow["pages"] == 12  # stats from the file when the crawl sent none
    lost = runs.close(runs.open("kwnews", "manual", owner="me"), returncode=-15, lease_lost=True)
    assert lost["status"] == LEASE_LOST

    assert [r["status"] for r in runs.find(outlet="joongdo", failed=True)] == [TIMEOUT, FAILED, FAILED]
    assert "stats" not in runs.find(outlet="joongdo")[0]
    assert set(runs.last_per_outlet(["joongdo", "kwnews", "busan"])) == {"joongdo", "kwnews"}


def test_abandoned_runs_and_purge(mongo_db):
    runs = RunStore(mongo_db)
    open_id = runs.open("joongdo", "schedule", owner="dead")
    assert runs.abandon_open_runs("joongdo", "dead") == 1
    assert runs.get(open_id)["status"] == ABANDONED
    old = runs.close(runs.open("joongdo", "schedule", owner="me"), returncode=0, stats=STATS)
    mongo_db["runs"].update_one({"_id": old["_id"]}, {"$set": {"started": datetime.now(timezone.utc) - timedelta(days=40)}})
    assert runs.purge(0) == 0
    assert runs.purge(30) == 1
    assert runs.get(old["_id"]) is None and runs.get(open_id) is not None


def _run_at(runs, outlet, started, new=0, status=FINISHED):
    run_id = runs.open(outlet, "schedule", owner="me")
    runs.collection.update_one({"_id": run_id}, {"$set": {"started": started, "status": status,
                                                         "articles": {"new": new}}})
    return run_id


def test_last_run_per_outlet_looks_back_in_bounded_slices(mongo_db):
    runs = RunStore(mongo_db)
    now = datetime.now(timezone.utc)
    fresh = _run_at(runs, "joongdo", now - timedelta(hours=2))
    _run_at(runs, "joongdo", now - timedelta(days=3))
    old = _run_at(runs, "kwnews", now - timedelta(days=40))
    ancient = _run_at(runs, "busan", now - timedelta(days=400))
    last = runs.last_per_outlet(["joongdo", "kwnews", "busan", "imaeil"])
    assert {name: run["_id"] for name, run in last.items()} == {"joongdo": fresh, "kwnews": old, "busan": ancient}
    assert "stats" not in last["joongdo"]
    bounded = runs.last_per_outlet(["joongdo", "kwnews", "busan"], floor=now - timedelta(days=90),
                                   ceiling=now - timedelta(days=1))
    assert set(bounded) == {"joongdo", "kwnews"} and bounded["joongdo"]["started"] < now - timedelta(days=1)


def test_last_run_with_new_articles_and_recent_runs(mongo_db):
    runs = RunStore(mongo_db)
    now = datetime.now(timezone.utc)
    found = _run_at(runs, "joongdo", now - timedelta(days=20), new=3)
    _run_at(runs, "joongdo", now - timedelta(days=10), new=0)
    later = _run_at(runs, "joongdo", now - timedelta(hours=1), new=5)
    assert runs.last_with_new_articles("joongdo", before=now - timedelta(days=5))["_id"] == found
    assert runs.last_with_new_articles("kwnews", before=now) is None
    assert [r["_id"] for r in runs.recent(now - timedelta(days=11))][0] == later
    assert len(runs.recent(now - timedelta(days=11))) == 2


def test_checks_are_set_on_a_run_and_runs_page_newest_first(mongo_db):
    runs = RunStore(mongo_db)
    now = datetime.now(timezone.utc)
    ids = [_run_at(runs, "joongdo", now - timedelta(hours=h), status=FAILED if h == 2 else FINISHED)
           for h in (1, 2, 3)]
    assert runs.set_checks(ids[0], {"failed": [], "items": 4})
    assert runs.get(ids[0])["checks"] == {"failed": [], "items": 4}
    assert not runs.set_checks("no-such-run", {})
    page, more = runs.page(since=now - timedelta(days=1), until=now, limit=2)
    assert [r["_id"] for r in page] == ids[:2] and more is not None
    rest, done = runs.page(since=now - timedelta(days=1), until=now, limit=2, cursor=more)
    assert [r["_id"] for r in rest] == ids[2:] and done is None
    failed, _ = runs.page(since=now - timedelta(days=1), until=now, failed=True, limit=10)
    assert [r["_id"] for r in failed] == [ids[1]]


def test_live_crawl_and_scheduler_leases(mongo_db):
    leases = LeaseStore(mongo_db, ttl=timedelta(seconds=30))
    leases.acquire("crawl:joongdo", "scheduler@a")
    leases.acquire("scheduler:scheduler@a", "scheduler@a")
    assert {name: lease["owner"] for name, lease in leases.crawling().items()} == {"joongdo": "scheduler@a"}
    assert [lease["owner"] for lease in leases.schedulers()] == ["scheduler@a"]
