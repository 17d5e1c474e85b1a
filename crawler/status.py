"""Crawl status, read from the database: the one place that works out what each outlet is doing.

- `outlet_status(db)`: every configured outlet's schedule and who set it (the spec in
  outlets.toml, or an operator), its state (scheduled, paused, crawling, not scheduled), next
  run, last run, a pending run-now request and the holder of its crawl lease; and the
  `newsdesk run` schedulers alive on the database. `newsdesk schedule list` shows it.
- `health(db)`: the same facts, plus the last day's runs, monitoring's open alerts and a
  verdict per outlet (unhealthy, failing, overdue, no runs, running, paused, ok), worst
  first. The dashboard's health page and /api/health show it.
- `health_report(db, names, settings, now)`: each outlet's named conditions judged from its
  run history (crawler.monitoring), with the alerts still open. `newsdesk health` shows it.
- `live_schedulers(db)`: who runs a scheduler on the database now.

Every read is bounded by an indexed field or range, because SecantusDB (the embedded
default) scans the whole collection for anything else: runs of the last day by `started`;
the last run of outlets without one there by RunStore.last_per_outlet (outlet $in, growing
slices of `started`, back as far as runs are kept); open alerts by `state`; jobs, leases and
operators' changes are small collections of one document per outlet or process.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cache
from typing import Any, Iterable, Mapping

from crawler.config import project_settings
from crawler.monitoring.conditions import outlet_health as judge_history
from crawler.outlets import registry
from crawler.scheduling.schedule import Schedule, desired_schedules, schedule_state
from crawler.search import pending as search_pending
from crawler.store import AlertStore, Database, LeaseStore, RunStore, ScheduleStore, aware, mask_uri
from crawler.store.runs import FAILED_STATUSES, FINISHED, RUNNING as RUN_OPEN, summarize

RECENT = timedelta(days=1)  # health counts and lists the runs of this last stretch, all outlets at once
DEFAULT_KEEP_DAYS = 90.0  # NEWSDESK_RUNS_KEEP_DAYS' default: the scheduler purges older runs
RECENT_FAILURES = 20

# Verdicts, in the order health lists them (worst first).
UNHEALTHY = "unhealthy"  # crawler.monitoring has open conditions (silent, drift, failing, blocked)
FAILING = "failing"
OVERDUE = "overdue"
NO_RUNS = "no runs"
RUNNING = "running"
PAUSED = "paused"
OK = "ok"
VERDICT_ORDER = {UNHEALTHY: 0, FAILING: 1, OVERDUE: 2, NO_RUNS: 3, RUNNING: 4, PAUSED: 5, OK: 6}


@dataclass
class OutletStatus:
    outlet: str
    name: str  # Korean name
    region: str
    schedule: str  # "every 30m", "cron */20 6-23 * * *"
    schedule_source: str  # spec or operator
    state: str  # scheduled, paused, crawling, not scheduled
    next_run: datetime | None
    run_now_requested: bool
    crawling_under: str | None  # owner of the crawl lease while it crawls
    last_run: dict[str, Any] | None  # the newest run document, without raw stats
    # Filled in by health() only:
    verdict: str = ""
    reason: str = ""
    last_success: datetime | None = None  # start of the newest finished run of the last day
    runs_24h: int = 0
    failed_24h: int = 0
    new_24h: int = 0
    alerts: list[dict[str, Any]] = field(default_factory=list)  # monitoring's open conditions


@dataclass
class Status:
    generated: datetime
    schedulers: list[str]  # owners of the live `newsdesk run` schedulers
    outlets: list[OutletStatus]
    recent_failures: list[dict[str, Any]] = field(default_factory=list)  # health() only
    monitoring: bool = False  # health(): monitoring judges runs and its alerts count

    @property
    def counts(self) -> dict[str, int]:
        """Outlets per verdict."""
        counts: dict[str, int] = {}
        for row in self.outlets:
            counts[row.verdict] = counts.get(row.verdict, 0) + 1
        return counts


@cache
def _project_settings() -> Any:
    return project_settings()


def _settings(settings: Any) -> Any:
    return settings if settings is not None else _project_settings()


def _keep_days(settings: Any) -> float:
    return settings.getfloat("NEWSDESK_RUNS_KEEP_DAYS", DEFAULT_KEEP_DAYS)


def _history_floor(now: datetime, settings: Any) -> datetime | None:
    """How far back a last run is looked for: as far as runs are kept (None: kept forever)."""
    keep = _keep_days(settings)
    return now - timedelta(days=keep) if keep > 0 else None


@dataclass(frozen=True)
class _Snapshot:
    """The schedule side of every outlet: specs, operators' changes, jobs, leases."""

    specs: Mapping[str, Any]
    desired: dict[str, Schedule]
    next_runs: dict[str, float | None]
    pending: set[str]
    crawling: dict[str, dict[str, Any]]
    schedulers: list[str]


def _snapshot(db: Database[Any]) -> _Snapshot:
    specs = registry()
    schedules = ScheduleStore(db)
    leases = LeaseStore(db)
    return _Snapshot(
        specs=specs,
        desired=desired_schedules(specs.values(), schedules.overrides()),
        next_runs=schedules.next_run_times(),
        pending={str(doc["_id"]) for doc in schedules.pending_runs()},
        crawling=leases.crawling(),
        schedulers=[str(lease.get("owner", "?")) for lease in leases.schedulers()],
    )


def _row(snap: _Snapshot, name: str, schedule: Schedule, last: dict[str, Any] | None) -> OutletStatus:
    spec = snap.specs[name]
    next_ts = snap.next_runs.get(name)
    lease = snap.crawling.get(name)
    return OutletStatus(
        outlet=name, name=spec.name_ko, region=spec.region, schedule=schedule.describe(),
        schedule_source=schedule.source, state=schedule_state(name, schedule, snap.next_runs, snap.crawling),
        next_run=datetime.fromtimestamp(next_ts, timezone.utc) if next_ts else None,
        run_now_requested=name in snap.pending,
        crawling_under=lease.get("owner") if lease is not None else None,
        last_run=last,
    )


def live_schedulers(db: Database[Any]) -> list[str]:
    """Owners of the `newsdesk run` schedulers alive on this database (their presence leases)."""
    return [str(lease.get("owner", "?")) for lease in LeaseStore(db).schedulers()]


def outlet_status(db: Database[Any], *, now: datetime | None = None, settings: Any = None) -> Status:
    """Every configured outlet's schedule, state, next and last run, in the specs' order."""
    db = aware(db)
    now = now or datetime.now(timezone.utc)
    snap = _snapshot(db)
    last = RunStore(db).last_per_outlet(snap.desired, floor=_history_floor(now, _settings(settings)))
    rows = [_row(snap, name, schedule, last.get(name)) for name, schedule in snap.desired.items()]
    return Status(now, snap.schedulers, rows)


def health(db: Database[Any], *, now: datetime | None = None, settings: Any = None) -> Status:
    """Every configured outlet's status with a verdict, worst first, and the last day's failed runs.

    The last day's runs of all outlets are one read (its figures need them anyway); only the
    outlets without a run there are looked up further back. When monitoring is on
    (NEWSDESK_HEALTH_ENABLED) its open alerts decide the verdict: it judges each outlet's
    history after every run, and reading what it left open costs one indexed read per page
    view instead of weeks of runs. Otherwise the verdict comes from the last run alone.
    """
    db = aware(db)
    now = now or datetime.now(timezone.utc)
    settings = _settings(settings)
    snap = _snapshot(db)
    runs = RunStore(db)
    recent = runs.recent(now - RECENT)
    by_outlet: dict[str, list[dict[str, Any]]] = {}
    for run in recent:
        by_outlet.setdefault(run["outlet"], []).append(run)
    floor = _history_floor(now, settings)
    older = runs.last_per_outlet([n for n in snap.desired if n not in by_outlet], floor=floor, ceiling=now - RECENT)
    monitoring = settings.getbool("NEWSDESK_HEALTH_ENABLED", True)
    alerts = open_alerts(db) if monitoring else {}
    rows: list[OutletStatus] = []
    for name, schedule in snap.desired.items():
        day = by_outlet.get(name, [])
        row = _row(snap, name, schedule, day[0] if day else older.get(name))
        row.verdict, row.reason = _verdict(row.state, schedule, row.last_run, now, _keep_days(settings))
        row.last_success = next((r["started"] for r in day if r.get("status") == FINISHED), None)
        row.runs_24h = len(day)
        row.failed_24h = sum(1 for r in day if r.get("status") in FAILED_STATUSES)
        row.new_24h = sum(int((r.get("articles") or {}).get("new") or 0) for r in day)
        row.alerts = alerts.get(name, [])
        if row.alerts:
            row.verdict = UNHEALTHY
            row.reason = "; ".join(f"{a.get('condition')}: {a.get('cause') or 'open'}" for a in row.alerts)
        rows.append(row)
    rows.sort(key=lambda r: (VERDICT_ORDER.get(r.verdict, 9), r.outlet))
    failures = [r for r in recent if r.get("status") in FAILED_STATUSES][:RECENT_FAILURES]
    return Status(now, snap.schedulers, rows, failures, monitoring=monitoring)


def open_alerts(db: Database[Any], outlets: Iterable[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Monitoring's open alerts per outlet, by condition name."""
    found: dict[str, list[dict[str, Any]]] = {}
    for doc in AlertStore(db).open_alerts(outlets):
        found.setdefault(str(doc.get("outlet")), []).append(doc)
    for docs in found.values():
        docs.sort(key=lambda d: str(d.get("condition")))
    return found


def _verdict(state: str, schedule: Schedule, last: dict[str, Any] | None, now: datetime,
             keep_days: float) -> tuple[str, str]:
    """What an operator should make of an outlet, and why, in a few words."""
    if schedule.paused:
        return PAUSED, "paused by an operator"
    if last is None:
        return NO_RUNS, f"no run in the last {keep_days:g} days" if keep_days > 0 else "no run recorded"
    status = last.get("status")
    if status == RUN_OPEN or state == "crawling":
        return RUNNING, "crawling now"
    if status in FAILED_STATUSES:
        return FAILING, f"last run {status}" + (f": {last['error']}" if last.get("error") else "")
    started = last.get("started")
    period = _period(schedule)
    if period and isinstance(started, datetime) and now - started > timedelta(seconds=3 * period):
        return OVERDUE, "no run for more than three schedule periods"
    return OK, f"last run {status}"


def _period(schedule: Schedule) -> int:
    try:
        return int(schedule.period_seconds())
    except Exception:  # noqa: BLE001 - a bad operator cron shows as no period, not a broken page
        return 0


def health_report(db: Database[Any], names: list[str], settings: Any, now: datetime) -> list[dict[str, Any]]:
    """Each outlet's health judged from its run history (crawler.monitoring), as a dict; an
    alert still open for a condition the history cannot judge now (e.g. no informative run
    since) keeps counting as open."""
    db = aware(db)
    specs = registry()
    alerts = {outlet: {doc["condition"]: doc for doc in docs} for outlet, docs in open_alerts(db, names).items()}
    report = []
    for name in names:
        doc = judge_history(db, specs[name], settings, now=now).to_dict()
        opened = alerts.get(name, {})
        for condition, alert in opened.items():
            if condition in doc["conditions"] and doc["conditions"][condition]["present"] is None:
                doc["conditions"][condition].update(present=True, cause=alert.get("cause", ""), stale=True)
                doc["open"].append(condition)
        for condition in doc["open"]:
            doc["conditions"][condition]["alerted_since"] = (opened.get(condition) or {}).get("opened")
        doc["healthy"] = not doc["open"]
        if doc["open"]:
            doc["state"] = UNHEALTHY
        report.append(doc)
    return report


# --- what operators look at besides verdicts: the database, one run, its log, the search queue


def database_info(db: Database[Any], uri: str | None = None) -> dict[str, Any]:
    """Which database a view read: its name and the URI with its password masked. Every
    status view says so, so a run of another database is never shown unlabelled."""
    return {"name": db.name, "uri": mask_uri(uri) if uri else None}


def last_runs(db: Database[Any], names: Iterable[str], *, now: datetime | None = None,
              settings: Any = None) -> dict[str, dict[str, Any]]:
    """Each named outlet's newest run in the runs collection of `db` (every crawl: scheduled,
    `newsdesk crawl`, the demo), looked for as far back as runs are kept; without raw stats."""
    now = now or datetime.now(timezone.utc)
    return RunStore(aware(db)).last_per_outlet(names, floor=_history_floor(now, _settings(settings)))


def search_queue_pending(db: Database[Any]) -> int | None:
    """Articles waiting in the search queue (crawler.search.queue.pending: the queue is one small
    entry per store batch, drained at each crawl's end and by the scheduler), or None when it
    cannot be read."""
    try:
        return int(search_pending(aware(db)))
    except Exception:  # noqa: BLE001 - a figure on a status page, never a broken page
        return None


LOG_TAIL_LINES = 50
LOG_TAIL_BYTES = 64 * 1024  # read at most this much of the end of a log file
RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")  # RunStore.open: <outlet>-<time>-<hex>


class RunIdError(ValueError):
    """A run id that cannot be one (wrong characters, too long)."""


@dataclass
class LogTail:
    path: str | None
    lines: list[str]
    problem: str | None = None  # why nothing was read, in plain words
    truncated: bool = False  # more lines precede these

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "lines": self.lines, "problem": self.problem, "truncated": self.truncated}


def _printable(line: str) -> str:
    """A log line without control characters (a terminal escape in a crawled page's URL or
    error must not reach a terminal or a page as one)."""
    return "".join(c if c == "\t" or unicodedata.category(c) != "Cc" else "\ufffd" for c in line)


def log_tail(path: str | None, *, lines: int = LOG_TAIL_LINES, max_bytes: int = LOG_TAIL_BYTES) -> LogTail:
    """The last `lines` lines of a run's log file, read safely: only a regular `*.log` file
    (a run document names it; nothing else is opened), at most `max_bytes` of its end, bytes
    that are not UTF-8 replaced. A missing or unreadable file is said plainly in `problem`."""
    if not path:
        return LogTail(path, [], "the run recorded no log file")
    if not str(path).endswith(".log"):
        return LogTail(path, [], "not a .log file: not read")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        return LogTail(path, [], "the log file does not exist on this machine (removed, or written on another host)")
    except OSError as exc:
        return LogTail(path, [], f"the log file cannot be read: {exc.strerror or exc}")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return LogTail(path, [], "not a regular file: not read")
        start = max(0, info.st_size - max_bytes)
        os.lseek(fd, start, os.SEEK_SET)
        chunks, left = [], info.st_size - start
        while left > 0:
            chunk = os.read(fd, min(left, 65536))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        return LogTail(path, [], f"the log file cannot be read: {exc.strerror or exc}")
    finally:
        os.close(fd)
    text = b"".join(chunks).decode("utf-8", errors="replace")
    found = text.splitlines()
    if start > 0 and found:
        found = found[1:]  # the first line read is cut
    if not found:
        return LogTail(path, [], "the log file is empty")
    return LogTail(path, [_printable(line) for line in found[-lines:]], truncated=start > 0 or len(found) > lines)


def run_detail(db: Database[Any], run_id: str, *, with_stats: bool = False,
               now: datetime | None = None) -> dict[str, Any] | None:
    """One run as operators read it, or None for an id no run has: the run document (the
    figures summarize() pulled out of its stats: pages, articles, dropped by reason, errors,
    HTTP statuses, faults; its checks), each distributed worker's share summed up, the time
    window of the articles it stored, and the tail of its log file. RunIdError for an id that
    cannot be one. The raw Scrapy stats only `with_stats`."""
    if not isinstance(run_id, str) or not RUN_ID.match(run_id):
        raise RunIdError(f"{run_id!r} is not a run id (like joongdo-20240531T090000-a1b2c3)")
    doc = RunStore(aware(db)).get(run_id)
    if doc is None:
        return None
    detail = {"id": doc["_id"], **{k: v for k, v in doc.items() if k not in ("_id", "stats", "workers")}}
    workers = []
    for share in doc.get("workers") or []:
        if not isinstance(share, dict):
            continue
        figures = summarize(share.get("stats") or {}) if isinstance(share.get("stats"), dict) else {}
        workers.append({
            "worker": str(share.get("worker") or "?"), "at": share.get("at"),
            "finish_reason": figures.get("finish_reason"), "pages": figures.get("pages", 0),
            "items": figures.get("items", 0), "articles": figures.get("articles", {}),
            "errors": sum((figures.get("errors") or {}).values()), "faults": figures.get("faults", {}),
        })
    detail["workers"] = workers
    started, ended = doc.get("started"), doc.get("ended")
    detail["articles_window"] = {
        "outlet": doc.get("outlet"), "since": started,
        "until": ended if isinstance(ended, datetime) else (now or datetime.now(timezone.utc)),
    }
    detail["log_tail"] = log_tail(doc.get("log_path")).to_dict()
    if with_stats:
        detail["stats"] = doc.get("stats")
    return detail


# -- the monitoring-plugin verdict ---------------------------------------------------------------
# Nagios / Icinga exit codes: `newsdesk health --check`, its --json and the dashboard say the same.
CHECK_OK, CHECK_WARNING, CHECK_CRITICAL, CHECK_UNKNOWN = 0, 1, 2, 3
CHECK_NAMES = {CHECK_OK: "OK", CHECK_WARNING: "WARNING", CHECK_CRITICAL: "CRITICAL", CHECK_UNKNOWN: "UNKNOWN"}


def has_crawl_history(db: Database[Any]) -> bool:
    """Whether `db` holds any run at all: a misspelt NEWSDESK_DB, or a database no crawl has
    written to yet, must not read as "every outlet healthy"."""
    return RunStore(db).collection.find_one({}, {"_id": 1}) is not None


def check_verdict(report: list[dict[str, Any]], *, database: str, history: bool) -> tuple[int, str]:
    """(exit code, status line) for a health report (status.health_report's documents).

    CRITICAL when an outlet has an open condition (an alert still open counts, even without
    runs); else UNKNOWN when the database holds no run at all (wrong NEWSDESK_DB, or nothing
    crawled yet); else WARNING when some outlets were never crawled, or have runs the history
    cannot judge yet; else OK."""
    unhealthy = [d for d in report if d.get("open")]
    if not history and not unhealthy:
        return CHECK_UNKNOWN, (f"UNKNOWN: database {database} holds no crawl runs "
                               "(is NEWSDESK_DB or MONGO_URI right? has anything been crawled?)")
    never = [d for d in report if d.get("state") == "no runs"]
    unjudged = [d for d in report if d.get("state") != "no runs" and not d.get("open")
                and all((c or {}).get("present") is None for c in (d.get("conditions") or {}).values())]
    notes = []
    if never:
        notes.append(f"{len(never)} never crawled: {', '.join(d['outlet'] for d in never)}")
    if unjudged:
        notes.append(f"{len(unjudged)} not judged yet (too few runs): {', '.join(d['outlet'] for d in unjudged)}")
    if unhealthy:
        which = ", ".join(f"{d['outlet']} ({'/'.join(d['open'])})" for d in unhealthy)
        line = f"CRITICAL: {len(unhealthy)} of {len(report)} outlets unhealthy: {which}"
        return CHECK_CRITICAL, line + ("; " + "; ".join(notes) if notes else "")
    if notes:
        healthy = len(report) - len(never) - len(unjudged)
        return CHECK_WARNING, f"WARNING: {healthy} of {len(report)} outlets healthy; " + "; ".join(notes)
    return CHECK_OK, f"OK: {len(report)} outlets healthy"


def check(db: Database[Any], *, now: datetime | None = None, settings: Any = None) -> tuple[int, str]:
    """check_verdict of every configured outlet's health report: what `newsdesk health --check`
    says, for the dashboard and /api/health."""
    now = now or datetime.now(timezone.utc)
    report = health_report(db, list(registry()), _settings(settings), now)
    return check_verdict(report, database=db.name, history=has_crawl_history(db))
