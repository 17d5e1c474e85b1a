"""Crawl health per outlet: its schedule and state, its last runs, and a verdict at a glance.

When crawler.monitoring is installed, its open alerts (conditions judged from each outlet's
run history after every run) decide the verdict; without it the verdict comes from the last
run alone (failing, overdue, no runs).

The same facts as `newsdesk schedule list` (crawler.cli.schedule.schedule_rows), read with
bounded queries: the last run of each outlet comes from one read of the runs started in the
last day, and only outlets without one there are looked up further back, together, in
a few growing slices of `started` within the 90 days runs are kept. (schedule_rows' per-outlet
`find_one(sort=started)` has no range, which SecantusDB answers by scanning the outlet's runs.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from pymongo.database import Database

from crawler.web.queries import FAILED_STATUSES, aware, last_runs, recent_runs

RECENT = timedelta(days=1)  # at 27 outlets every 30 min: ~1,300 runs, ~0.2 s on SecantusDB
KEPT = timedelta(days=90)  # NEWSDESK_RUNS_KEEP_DAYS' default: older runs are purged
DAY = timedelta(days=1)

OK = "ok"
UNHEALTHY = "unhealthy"  # crawler.monitoring has open conditions (silent, drift, failing, blocked)
RUNNING = "running"
FAILING = "failing"
OVERDUE = "overdue"
PAUSED = "paused"
NO_RUNS = "no runs"


@dataclass
class OutletHealth:
    outlet: str
    name: str
    region: str
    schedule: str
    schedule_source: str
    state: str  # scheduled, paused, crawling, not scheduled
    next_run: datetime | None
    run_now_requested: bool
    crawling_under: str | None
    verdict: str
    reason: str
    last_run: dict[str, Any] | None
    last_success: datetime | None
    runs_24h: int = 0
    failed_24h: int = 0
    new_24h: int = 0
    alerts: list[dict[str, Any]] = field(default_factory=list)  # monitoring's open conditions


@dataclass
class Health:
    generated: datetime
    schedulers: list[str]
    outlets: list[OutletHealth]
    recent_failures: list[dict[str, Any]] = field(default_factory=list)
    monitoring: bool = False  # crawler.monitoring is installed: its open alerts are shown

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.outlets:
            counts[row.verdict] = counts.get(row.verdict, 0) + 1
        return counts


def _verdict(state: str, paused: bool, last: dict[str, Any] | None, period: int, now: datetime) -> tuple[str, str]:
    """What an operator should make of an outlet, and why, in a few words."""
    if paused:
        return PAUSED, "paused by an operator"
    if last is None:
        return NO_RUNS, "no run in the last 90 days"
    status = last.get("status")
    if status == "running" or state == "crawling":
        return RUNNING, "crawling now"
    if status in FAILED_STATUSES:
        return FAILING, f"last run {status}" + (f": {last['error']}" if last.get("error") else "")
    started = last.get("started")
    if period and isinstance(started, datetime) and now - started > timedelta(seconds=3 * period):
        return OVERDUE, "no run for more than three schedule periods"
    return OK, f"last run {status}"


def open_alerts(db: Database[Any]) -> dict[str, list[dict[str, Any]]] | None:
    """Open alerts per outlet from crawler.monitoring (None when it is not installed).

    Monitoring judges each outlet's history after every run (silent, drift, failing,
    blocked) and keeps what it found open in `alerts`: reading that (state "open", its
    index prefix) shows its verdict without re-reading weeks of runs per page view.
    """
    try:
        from crawler.monitoring.alerts import AlertStore
    except ImportError:
        return None
    found: dict[str, list[dict[str, Any]]] = {}
    for doc in AlertStore(aware(db)).open_alerts():
        found.setdefault(str(doc.get("outlet")), []).append(doc)
    for docs in found.values():
        docs.sort(key=lambda d: str(d.get("condition")))
    return found


def outlet_health(db: Database[Any], *, now: datetime | None = None) -> Health:
    """Every configured outlet's health, worst first."""
    from crawler.outlets import registry
    from crawler.scheduling.schedule import desired_schedules, schedule_state
    from crawler.scheduling.scheduler import (
        JOB_PREFIX,
        JOBS_COLLECTION,
        SCHEDULER_LEASE_PREFIX,
    )
    from crawler.store.leases import LeaseStore
    from crawler.store.schedules import ScheduleStore

    now = now or datetime.now(timezone.utc)
    specs = registry()
    desired = desired_schedules(specs.values(), ScheduleStore(db).overrides())
    jobs = {
        str(doc["_id"]).removeprefix(JOB_PREFIX): doc.get("next_run_time")
        for doc in db[JOBS_COLLECTION].find({}, {"next_run_time": 1})
    }
    pending = {doc["_id"] for doc in ScheduleStore(db).pending_runs()}
    leases = LeaseStore(db)
    crawling = {lease["_id"].removeprefix("crawl:"): lease for lease in leases.live("crawl:")}
    schedulers = [lease.get("owner", "?") for lease in leases.live(SCHEDULER_LEASE_PREFIX)]

    recent = recent_runs(db, now - RECENT)
    by_outlet: dict[str, list[dict[str, Any]]] = {}
    for run in recent:
        by_outlet.setdefault(run["outlet"], []).append(run)

    alerts = open_alerts(db)
    older = last_runs(db, [name for name in desired if name not in by_outlet], floor=now - KEPT, ceiling=now - RECENT)
    rows: list[OutletHealth] = []
    for name, schedule in desired.items():
        spec = specs[name]
        runs = by_outlet.get(name, [])
        last = runs[0] if runs else older.get(name)
        success = next((r["started"] for r in runs if r.get("status") == "finished"), None)
        day = [r for r in runs if r["started"] >= now - DAY]
        state = schedule_state(name, schedule, jobs, crawling)
        next_ts = jobs.get(name)
        verdict, reason = _verdict(state, schedule.paused, last, _period(schedule), now)
        opened = (alerts or {}).get(name, [])
        if opened:
            verdict = UNHEALTHY
            reason = "; ".join(f"{a.get('condition')}: {a.get('cause') or 'open'}" for a in opened)
        rows.append(OutletHealth(
            outlet=name, name=spec.name_ko, region=spec.region, schedule=schedule.describe(),
            schedule_source=schedule.source, state=state,
            next_run=datetime.fromtimestamp(next_ts, timezone.utc) if next_ts else None,
            run_now_requested=name in pending,
            crawling_under=crawling[name].get("owner") if name in crawling else None,
            verdict=verdict, reason=reason, last_run=last, last_success=success,
            runs_24h=len(day), failed_24h=sum(1 for r in day if r.get("status") in FAILED_STATUSES),
            new_24h=sum(int((r.get("articles") or {}).get("new") or 0) for r in day),
            alerts=opened,
        ))
    order = {UNHEALTHY: 0, FAILING: 1, OVERDUE: 2, NO_RUNS: 3, RUNNING: 4, PAUSED: 5, OK: 6}
    rows.sort(key=lambda r: (order.get(r.verdict, 9), r.outlet))
    failures = [r for r in recent if r.get("status") in FAILED_STATUSES][:20]
    return Health(now, schedulers, rows, failures, monitoring=alerts is not None)


def _period(schedule: Any) -> int:
    try:
        return int(schedule.period_seconds())
    except Exception:  # noqa: BLE001 - a bad operator cron shows as no period, not a broken page
        return 0
