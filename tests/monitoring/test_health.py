"""Health across runs: each named condition from a simulated run history, and its recovery."""

from __future__ import annotations

from datetime import timedelta

import pytest
from scrapy.settings import Settings

from crawler.monitoring.conditions import Thresholds, evaluate


def judge(history, now=None, **thresholds):
    return evaluate(history.outlet, history.runs, now=now or history.clock, thresholds=Thresholds(**thresholds))


def test_a_steady_outlet_is_ok(history):
    history.repeat(24 * 15, new=2)
    health = judge(history)
    assert health.state == "ok" and health.healthy
    assert {c.name: c.present for c in health.conditions.values()} == {
        "silent": False, "drift": False, "failing": False, "blocked": False, "unreachable": False}
    assert health.baseline_per_day == pytest.approx(48, abs=1)
    assert health.coverage["published"] == 1.0 and health.fallback_share == 0.0
    assert health.last_new_article == history.runs[-1]["ended"]


def test_no_runs_no_verdicts(now):
    health = evaluate("joongdo", [], now=now)
    assert health.state == "no runs" and health.healthy
    assert all(c.present is None for c in health.conditions.values())


# -- silent ---------------------------------------------------------------------------------------
def test_silent_after_the_outlets_usual_quiet_and_recovers_with_a_new_article(history):
    history.repeat(24 * 14, new=2)  # ~48 a day: silent after max(12 h, 4 x 0.5 h) = 12 h
    last_new = history.runs[-1]["ended"]
    history.repeat(11, new=0)
    assert judge(history).conditions["silent"].present is False  # 11 h: still normal
    history.repeat(2, new=0)
    silent = judge(history).conditions["silent"]
    assert silent.present is True
    assert silent.cause.startswith("no new article for 14 h (usually 47 a day) although crawls finish")
    assert silent.detail["hours_without_new"] == pytest.approx((history.clock - last_new).total_seconds() / 3600, abs=0.1)
    history.add(new=1)
    assert judge(history).conditions["silent"].present is False


def test_a_rarely_publishing_outlet_gets_a_longer_quiet_or_none(history, new_history):
    history.every = timedelta(hours=6)
    history.repeat(4 * 14, new=1)  # 4 a day: usual gap 6 h, silent after 4 x 6 h = 24 h
    history.repeat(3, new=0)  # 18 h
    assert judge(history).conditions["silent"].present is False
    history.repeat(2, new=0)  # 30 h
    assert judge(history).conditions["silent"].present is True
    sparse = new_history()
    sparse.every = timedelta(hours=12)
    sparse.repeat(2 * 14, new=1)  # 2 a day: below NEWSDESK_HEALTH_SILENT_MIN_PER_DAY
    sparse.repeat(10, new=0)
    assert judge(sparse).conditions["silent"].present is False


def test_no_baseline_yet_cannot_be_silent(history, now):
    history.clock = now - timedelta(hours=20)
    history.repeat(20, new=0)
    assert judge(history, now=now).conditions["silent"].present is None


def test_silent_is_not_claimed_while_crawls_fail(history):
    history.repeat(24 * 14, new=2)
    history.repeat(14, new=0, status="failed", pages=0)
    health = judge(history)
    assert health.conditions["silent"].present is None
    assert health.conditions["failing"].present is True


# -- drift ----------------------------------------------------------------------------------------
def test_fallback_jump_is_drift_until_fixed_not_until_it_becomes_usual(history):
    history.repeat(30, fallback=0.0)
    history.add(fallback=1.0)
    drift = judge(history).conditions["drift"]
    assert drift.present is True and drift.run_id == history.runs[-1]["_id"]
    assert "fallback extraction on 100% of articles (usually 0%)" in drift.cause
    assert "article pages probably changed template" in drift.cause
    # the broken template stays: the drifted runs never become "usual"
    history.repeat(40, fallback=1.0)
    assert judge(history).conditions["drift"].present is True
    # incremental runs that parse too few articles to tell leave the verdict as it was
    history.repeat(5, items=1, fallback=0.0)
    assert judge(history).conditions["drift"].present is True
    # selectors fixed
    history.add(fallback=0.0)
    health = judge(history)
    assert health.conditions["drift"].present is False and health.fallback_share == 0.0


def test_an_outlet_that_always_needs_the_fallback_is_not_drifting(history):
    history.repeat(30, fallback=0.9)
    assert judge(history).conditions["drift"].present is False


@pytest.mark.parametrize("field", ["title", "body", "published", "authors"])
def test_a_field_coverage_drop_is_drift(history, field):
    history.repeat(10)
    broken = {"title": 1.0, "body": 1.0, "published": 1.0, "authors": 0.9, field: 0.1}
    history.add(coverage=broken)
    drift = judge(history).conditions["drift"]
    assert drift.present is True and f"{field} found on 10% of articles" in drift.cause
    history.add()
    assert judge(history).conditions["drift"].present is False


def test_list_links_collapsing_is_drift_on_the_list_pages(history):
    history.repeat(10, listed=30)
    history.add(listed=2, items=0, new=0)
    drift = judge(history).conditions["drift"]
    assert drift.present is True
    assert "2 article links found on list pages/feeds (usually 30)" in drift.cause
    assert "list pages probably changed" in drift.cause
    history.add(listed=28, items=0)
    assert judge(history).conditions["drift"].present is False


def test_drift_needs_a_usual_to_compare_with(history):
    history.add(with_checks=False)
    assert judge(history).conditions["drift"].present is None
    history.add(fallback=1.0)  # the first informative run: nothing to compare with
    assert judge(history).conditions["drift"].present is False


def test_a_blocked_or_failed_crawl_is_not_drift(history):
    history.repeat(10)
    history.add(listed=0, items=0, pages=40, statuses={"403": 40})
    history.add(listed=0, items=0, status="failed", pages=0, statuses={})
    health = judge(history)
    assert health.conditions["drift"].present is False
    assert health.conditions["blocked"].present is True


# -- failing --------------------------------------------------------------------------------------
def test_failing_after_consecutive_failures_and_recovery(history):
    history.repeat(5)
    history.add(status="failed", error="crawl process exited with code 1", pages=0)
    assert judge(history).conditions["failing"].present is False
    history.add(status="lease_lost", pages=0)  # not the outlet's doing: neither counts nor resets
    history.add(status="timeout", error="stopped at the time limit", pages=0)
    failing = judge(history).conditions["failing"]
    assert failing.present is True
    assert failing.cause == "2 crawls in a row failed; the last: stopped at the time limit"
    assert failing.log_path == history.runs[-1]["log_path"]
    history.add(status="failed", pages=0)
    assert judge(history).conditions["failing"].detail["consecutive_failures"] == 3
    history.add()
    assert judge(history).conditions["failing"].present is False


# -- blocked --------------------------------------------------------------------------------------
def test_blocked_on_a_burst_of_403_or_429_and_recovery(history):
    history.repeat(5)
    history.add(pages=50, statuses={"200": 46, "429": 4})  # a few: not a burst
    assert judge(history).conditions["blocked"].present is False
    history.add(pages=50, statuses={"200": 20, "429": 12, "403": 18})
    blocked = judge(history).conditions["blocked"]
    assert blocked.present is True
    assert blocked.cause.startswith("30 of 50 responses in the last crawl were 403/429")
    history.add(status="failed", pages=0, statuses={})  # no answers at all: cannot tell, stays
    assert judge(history).conditions["blocked"].present is True
    history.add()
    assert judge(history).conditions["blocked"].present is False


def test_thresholds_come_from_settings():
    t = Thresholds.from_settings(Settings({"NEWSDESK_HEALTH_FAILING_RUNS": 4, "NEWSDESK_HEALTH_BLOCKED_STATUSES": [403],
                                           "NEWSDESK_HEALTH_SILENT_HOURS": "6"}))
    assert (t.failing_runs, t.blocked_statuses, t.silent_hours) == (4, (403,), 6.0)
    assert Thresholds.from_settings(Settings()) == Thresholds()
