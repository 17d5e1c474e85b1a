"""Health across runs: an outlet's run history -> its state and named open conditions.

One run tells little: an incremental crawl half an hour after the last one may rightly find
nothing new. The history tells more, measured against the outlet's own past rather than
against one number for 27 different sites:

- silent   no new article for longer than the outlet ever goes quiet (its 14-day baseline
           of articles a day sets how long that is), while its crawls keep finishing;
- drift    likely selector drift: in the newest run that can tell, the share of articles
           that needed the generic fallback jumped, a field's coverage fell, or the article
           links found on its list pages collapsed, compared with the outlet's usual runs;
- failing  several crawls in a row failed (crashed, timed out, abandoned);
- blocked  a burst of 403/429 answers in the newest crawl: the site is refusing us;
- unreachable  the newest crawl never got a page from the site: its name did not resolve,
           connections failed, TLS failed, or every answer was a refusal or a server error
           (the run's `cause`, crawler.store.runs.reach_failure). Never drift: a crawl
           that fetched nothing says nothing about the site's templates.

Each condition is True (present), False (absent) or None (the history cannot tell, e.g. no
run has parsed enough articles yet); alerts open on True and close only on False, so an
unknown never sends a recovery. `evaluate` is pure (runs in, health out) and is what the
tests drive; `outlet_health` reads the runs it needs from the database.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from statistics import median
from typing import Any, Callable, Iterable, Mapping

from crawler.monitoring.checks import FIELDS
from crawler.store.runs import REACH_CAUSES, RunStore
from crawler.text.dates import KST

CONDITIONS = ("silent", "drift", "failing", "blocked", "unreachable")
FAILED_STATUSES = ("failed", "timeout", "abandoned")
# Not the outlet's doing, or not over: they neither count as failures nor break a failing streak.
NEUTRAL_STATUSES = ("running", "skipped", "lease_lost")


@dataclass(frozen=True)
class Thresholds:
    baseline_days: int = 14  # articles per day are compared with this many days before today
    baseline_min_days: int = 2  # fewer days of history: no baseline yet, so never silent
    silent_hours: float = 12.0  # never silent sooner than this
    silent_gaps: float = 4.0  # ... nor before this many of its usual gaps between articles
    silent_min_per_day: float = 3.0  # outlets publishing fewer a day are not called silent
    min_sample: int = 3  # coverage and fallback share are judged on runs with this many articles
    drift_fallback_jump: float = 0.3  # fallback share up this much (absolute) over usual
    drift_coverage_drop: float = 0.3  # a field's coverage down this much (absolute) from usual
    drift_listed_drop: float = 0.7  # article links found down by this fraction of usual
    drift_reference_runs: int = 20  # "usual" = median of this many latest unaffected runs
    drift_min_reference: int = 1  # runs needed before a jump can be judged
    failing_runs: int = 2  # consecutive failed crawls
    blocked_statuses: tuple[int, ...] = (403, 429)
    blocked_min_responses: int = 5  # in one crawl ...
    blocked_share: float = 0.2  # ... and at least this share of its responses

    @classmethod
    def from_settings(cls, settings: Any) -> "Thresholds":
        d = cls()
        return cls(
            baseline_days=settings.getint("NEWSDESK_HEALTH_BASELINE_DAYS", d.baseline_days),
            baseline_min_days=settings.getint("NEWSDESK_HEALTH_BASELINE_MIN_DAYS", d.baseline_min_days),
            silent_hours=settings.getfloat("NEWSDESK_HEALTH_SILENT_HOURS", d.silent_hours),
            silent_gaps=settings.getfloat("NEWSDESK_HEALTH_SILENT_GAPS", d.silent_gaps),
            silent_min_per_day=settings.getfloat("NEWSDESK_HEALTH_SILENT_MIN_PER_DAY", d.silent_min_per_day),
            min_sample=settings.getint("NEWSDESK_CHECK_MIN_SAMPLE", d.min_sample),
            drift_fallback_jump=settings.getfloat("NEWSDESK_HEALTH_DRIFT_FALLBACK_JUMP", d.drift_fallback_jump),
            drift_coverage_drop=settings.getfloat("NEWSDESK_HEALTH_DRIFT_COVERAGE_DROP", d.drift_coverage_drop),
            drift_listed_drop=settings.getfloat("NEWSDESK_HEALTH_DRIFT_LISTED_DROP", d.drift_listed_drop),
            drift_reference_runs=settings.getint("NEWSDESK_HEALTH_DRIFT_REFERENCE_RUNS", d.drift_reference_runs),
            drift_min_reference=settings.getint("NEWSDESK_HEALTH_DRIFT_MIN_REFERENCE", d.drift_min_reference),
            failing_runs=settings.getint("NEWSDESK_HEALTH_FAILING_RUNS", d.failing_runs),
            blocked_statuses=tuple(int(s) for s in settings.getlist("NEWSDESK_HEALTH_BLOCKED_STATUSES", list(d.blocked_statuses))),
            blocked_min_responses=settings.getint("NEWSDESK_HEALTH_BLOCKED_MIN_RESPONSES", d.blocked_min_responses),
            blocked_share=settings.getfloat("NEWSDESK_HEALTH_BLOCKED_SHARE", d.blocked_share),
        )


@dataclass
class Condition:
    name: str
    present: bool | None  # None: the history cannot tell
    cause: str = ""  # for people: what is wrong and the likely reason
    detail: dict[str, Any] = field(default_factory=dict)  # for machines
    run_id: str | None = None  # the run that showed it
    log_path: str | None = None


@dataclass
class OutletHealth:
    outlet: str
    name: str  # the outlet's Korean name
    state: str  # "ok", "unhealthy", "no runs"
    conditions: dict[str, Condition]
    last_run: dict[str, Any] | None = None
    last_success: datetime | None = None
    last_new_article: datetime | None = None
    today: int = 0  # new articles since midnight, Korea time
    baseline_per_day: float | None = None  # over the baseline days before today
    coverage: dict[str, float | None] = field(default_factory=dict)  # newest run that can tell
    coverage_usual: dict[str, float | None] = field(default_factory=dict)
    fallback_share: float | None = None
    fallback_usual: float | None = None
    last_checks_failed: list[str] = field(default_factory=list)

    @property
    def open_conditions(self) -> list[Condition]:
        return [c for c in self.conditions.values() if c.present]

    @property
    def healthy(self) -> bool:
        return not self.open_conditions

    def to_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["open"] = [c.name for c in self.open_conditions]
        return doc


# -- run documents -> the facts health needs ---------------------------------------------------
@dataclass(frozen=True)
class _Run:
    id: str
    started: datetime
    ended: datetime
    status: str
    error: str | None
    log_path: str | None
    new: int
    responses: int
    statuses: Mapping[str, int]
    checks: Mapping[str, Any]
    cause: str | None = None  # why a crawl that ran to its end failed (crawler.store.runs.REACH_CAUSES)

    @classmethod
    def of(cls, doc: Mapping[str, Any]) -> "_Run":
        started = _aware(doc["started"])
        checks = doc.get("checks") or {}
        return cls(
            id=str(doc.get("_id")),
            started=started,
            ended=_aware(doc.get("ended") or started),
            status=str(doc.get("status", "")),
            error=doc.get("error"),
            log_path=doc.get("log_path"),
            new=int((doc.get("articles") or {}).get("new", 0) or 0),
            responses=int(doc.get("pages", 0) or checks.get("responses", 0) or 0),
            statuses={str(k): int(v) for k, v in (doc.get("http_status") or checks.get("statuses") or {}).items()},
            checks=checks,
            cause=doc.get("cause"),
        )

    def blocked(self, t: Thresholds) -> int:
        return sum(self.statuses.get(str(code), 0) for code in t.blocked_statuses)

    def is_blocked(self, t: Thresholds) -> bool:
        blocked = self.blocked(t)
        return self.responses > 0 and blocked >= t.blocked_min_responses and blocked / self.responses >= t.blocked_share


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _pct(value: float | None) -> str:
    return "?" if value is None else f"{value:.0%}"


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} h" if hours >= 10 else f"{hours:.1f} h"


# -- the conditions ------------------------------------------------------------------------------
def _failing(runs: list[_Run], t: Thresholds) -> Condition:
    streak: list[_Run] = []
    for run in reversed(runs):
        if run.status in NEUTRAL_STATUSES:
            continue
        if run.status not in FAILED_STATUSES:
            break
        streak.append(run)
    counted = [r for r in runs if r.status not in NEUTRAL_STATUSES]
    if not counted:
        return Condition("failing", None)
    if len(streak) < t.failing_runs:
        return Condition("failing", False, detail={"consecutive_failures": len(streak)})
    last = streak[0]
    return Condition(
        "failing", True,
        cause=f"{len(streak)} crawls in a row failed; the last: {last.error or last.status}",
        detail={"consecutive_failures": len(streak), "last_error": last.error, "last_status": last.status},
        run_id=last.id, log_path=last.log_path,
    )


def _blocked(runs: list[_Run], t: Thresholds) -> Condition:
    answered = [r for r in runs if r.responses > 0]
    if not answered:
        return Condition("blocked", None)
    last = answered[-1]
    blocked = last.blocked(t)
    detail = {"blocked_responses": blocked, "responses": last.responses,
              "statuses": {str(c): last.statuses.get(str(c), 0) for c in t.blocked_statuses}}
    if not last.is_blocked(t):
        return Condition("blocked", False, detail=detail)
    codes = "/".join(str(c) for c in t.blocked_statuses)
    return Condition(
        "blocked", True,
        cause=(f"{blocked} of {last.responses} responses in the last crawl were {codes}: "
               "the site is refusing the crawler (rate limit or block)"),
        detail=detail, run_id=last.id, log_path=last.log_path,
    )


def _unreachable(runs: list[_Run]) -> Condition:
    counted = [r for r in runs if r.status not in NEUTRAL_STATUSES]
    if not counted:
        return Condition("unreachable", None)
    last = counted[-1]
    if last.cause not in REACH_CAUSES:
        return Condition("unreachable", False)
    since = last
    for run in reversed(counted):  # the first of the unreachable streak
        if run.cause not in REACH_CAUSES:
            break
        since = run
    return Condition(
        "unreachable", True,
        cause=f"the last crawl got no page from the site: {last.error or last.cause}",
        detail={"cause": last.cause, "first_unreachable_run": since.id, "first_unreachable_at": since.started},
        run_id=last.id, log_path=last.log_path,
    )


@dataclass
class _Signal:
    """One measure the drift condition watches, e.g. the fallback share."""

    label: str  # how the cause names it
    value_of: Callable[[_Run], float | None]  # None: this run cannot tell
    worse: Callable[[float, float], bool]  # (value, usual) -> a jump?
    show: Callable[[float], str] = _pct


def _walk(samples: list[tuple[_Run, float]], signal: _Signal, t: Thresholds) -> tuple[bool, float | None, float | None, _Run | None]:
    """Oldest first; a run that jumped is not added to the usual, so a lasting change stays
    a change until the outlet is fixed. -> (latest jumped?, latest value, usual, latest run)."""
    usual: deque[float] = deque(maxlen=t.drift_reference_runs)
    jumped = False
    latest: float | None = None
    reference: float | None = None
    run: _Run | None = None
    for run, value in samples:
        reference = median(usual) if usual else None
        jumped = len(usual) >= t.drift_min_reference and reference is not None and signal.worse(value, reference)
        if not jumped:
            usual.append(value)
        latest = value
    if not jumped and usual:
        reference = median(usual)
    return jumped, latest, reference, run


def _drift_signals(t: Thresholds) -> list[_Signal]:
    def sampled(run: _Run) -> bool:
        return int(run.checks.get("items", 0) or 0) >= t.min_sample

    def fallback(run: _Run) -> float | None:
        share = run.checks.get("fallback_share")
        return float(share) if sampled(run) and share is not None else None

    def coverage(name: str) -> Callable[[_Run], float | None]:
        def value(run: _Run) -> float | None:
            share = (run.checks.get("coverage") or {}).get(name)
            return float(share) if sampled(run) and share is not None else None
        return value

    def listed(run: _Run) -> float | None:
        value = run.checks.get("listed")
        return float(value) if value is not None and "listed" in run.checks else None

    signals = [_Signal("fallback extraction", fallback, lambda v, u: v - u >= t.drift_fallback_jump)]
    signals += [_Signal(f"{name} coverage", coverage(name), lambda v, u: u - v >= t.drift_coverage_drop) for name in FIELDS]
    signals.append(_Signal(
        "article links found", listed,
        lambda v, u: u >= t.min_sample and v <= (1 - t.drift_listed_drop) * u,
        show=lambda v: f"{v:.0f}",
    ))
    return signals


def _drift(runs: list[_Run], t: Thresholds) -> tuple[Condition, dict[str, Any]]:
    # Only finished crawls that the site answered: a failed or blocked crawl finds few links
    # and parses little for reasons the other conditions name.
    # A run that fetched nothing never counts: it says nothing about the site's templates.
    usable = [r for r in runs if r.status == "finished" and r.checks and r.responses > 0 and not r.is_blocked(t)]
    causes: list[str] = []
    detail: dict[str, Any] = {}
    figures: dict[str, Any] = {"coverage": {}, "coverage_usual": {}}
    shown: _Run | None = None
    known = False
    for signal in _drift_signals(t):
        samples = [(r, v) for r in usable if (v := signal.value_of(r)) is not None]
        if not samples:
            continue
        known = True
        jumped, latest, usual, run = _walk(samples, signal, t)
        if signal.label.endswith(" coverage"):
            name = signal.label.removesuffix(" coverage")
            figures["coverage"][name], figures["coverage_usual"][name] = latest, usual
        elif signal.label == "fallback extraction":
            figures["fallback_share"], figures["fallback_usual"] = latest, usual
        if jumped and latest is not None and usual is not None:
            key = signal.label.replace(" ", "_")
            detail[key] = {"value": latest, "usual": usual}
            if signal.label == "fallback extraction":
                causes.append(f"fallback extraction on {_pct(latest)} of articles (usually {_pct(usual)})")
            elif signal.label.endswith(" coverage"):
                causes.append(f"{signal.label.removesuffix(' coverage')} found on {_pct(latest)} of articles "
                              f"(usually {_pct(usual)})")
            else:
                causes.append(f"{signal.show(latest)} article links found on list pages/feeds "
                              f"(usually {signal.show(usual)})")
            if shown is None or (run is not None and run.started > shown.started):
                shown = run
    if not known:
        return Condition("drift", None), figures
    if not causes:
        return Condition("drift", False), figures
    where = "list pages" if set(detail) == {"article_links_found"} else "article pages"
    return Condition(
        "drift", True,
        cause=f"likely selector drift: {'; '.join(causes)}. The outlet's {where} probably changed "
              "template and its selectors no longer match",
        detail=detail, run_id=shown.id if shown else None, log_path=shown.log_path if shown else None,
    ), figures


def _day_start(moment: datetime) -> datetime:
    local = moment.astimezone(KST)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _volume(runs: list[_Run], now: datetime, t: Thresholds) -> tuple[int, float | None]:
    """(new articles today, articles a day over the baseline days before today) in Korea time."""
    today_start = _day_start(now)
    window_start = today_start - timedelta(days=t.baseline_days)
    today = sum(r.new for r in runs if r.started >= today_start)
    before = [r for r in runs if window_start <= r.started < today_start]
    if not before:
        return today, None
    days = (today_start - _day_start(before[0].started)).days
    if days < t.baseline_min_days:
        return today, None
    return today, sum(r.new for r in before) / days


def _silent(runs: list[_Run], now: datetime, baseline: float | None, last_new: datetime | None,
            t: Thresholds) -> Condition:
    counted = [r for r in runs if r.status not in NEUTRAL_STATUSES]
    if baseline is None or not counted:
        return Condition("silent", None)
    if baseline < t.silent_min_per_day:
        return Condition("silent", False, detail={"baseline_per_day": baseline})
    limit = timedelta(hours=max(t.silent_hours, t.silent_gaps * 24 / baseline))
    since = last_new or counted[0].started
    quiet = now - since
    detail = {"hours_without_new": round(quiet.total_seconds() / 3600, 1),
              "limit_hours": round(limit.total_seconds() / 3600, 1), "baseline_per_day": round(baseline, 1)}
    if quiet < limit:
        return Condition("silent", False, detail=detail)
    last = counted[-1]
    if last.status != "finished":
        return Condition("silent", None, detail=detail)  # crawls fail: `failing` says so
    return Condition(
        "silent", True,
        cause=(f"no new article for {_hours(quiet)} (usually {baseline:.0f} a day) although crawls finish: "
               "its list pages or feeds may have moved, or their links no longer match article_url"),
        detail=detail, run_id=last.id, log_path=last.log_path,
    )


def evaluate(
    outlet: str,
    runs: Iterable[Mapping[str, Any]],
    *,
    now: datetime,
    thresholds: Thresholds | None = None,
    last_new_article: datetime | None = None,
    name: str = "",
) -> OutletHealth:
    """The outlet's health from its runs (any order; the baseline window and more).

    `last_new_article` is the end of the newest run that stored a new article, when it is
    older than the runs given; otherwise it is read from them.
    """
    t = thresholds or Thresholds()
    now = _aware(now)
    history = sorted((_Run.of(doc) for doc in runs), key=lambda r: r.started)
    found = [r.ended for r in history if r.new > 0]
    last_new = max([*found, *([_aware(last_new_article)] if last_new_article else [])], default=None)
    today, baseline = _volume(history, now, t)
    drift, figures = _drift(history, t)
    conditions = {
        "silent": _silent(history, now, baseline, last_new, t),
        "drift": drift,
        "failing": _failing(history, t),
        "blocked": _blocked(history, t),
        "unreachable": _unreachable(history),
    }
    last = history[-1] if history else None
    successes = [r for r in history if r.status == "finished"]
    health = OutletHealth(
        outlet=outlet,
        name=name,
        state="no runs" if last is None else "ok",
        conditions=conditions,
        last_run=None if last is None else {"id": last.id, "started": last.started, "status": last.status},
        last_success=successes[-1].ended if successes else None,
        last_new_article=last_new,
        today=today,
        baseline_per_day=None if baseline is None else round(baseline, 1),
        coverage=figures["coverage"],
        coverage_usual=figures["coverage_usual"],
        fallback_share=figures.get("fallback_share"),
        fallback_usual=figures.get("fallback_usual"),
        last_checks_failed=list((last.checks.get("failed") if last else None) or []),
    )
    if health.open_conditions:
        health.state = "unhealthy"
    return health


# -- reading the history -------------------------------------------------------------------------
def history_since(now: datetime, t: Thresholds) -> datetime:
    """Start of the runs `evaluate` needs: the baseline days before today, and today."""
    return (_day_start(now) - timedelta(days=t.baseline_days)).astimezone(timezone.utc)


NOT_HEALTH = ("backfill",)  # run triggers that say nothing of an outlet's health now


def outlet_health(db: Any, spec: Any, settings: Any, *, now: datetime | None = None) -> OutletHealth:
    """Read the outlet's recent runs (without their raw stats) and evaluate them; when none of
    them stored a new article, the newest older run that did tells since when it is quiet.
    Backfill runs are left out: they read the outlet's past, so their new articles say nothing
    of whether it publishes now, and a backfill stopped by Ctrl-C is no failing outlet."""
    now = now or datetime.now(timezone.utc)
    t = Thresholds.from_settings(settings)
    store = RunStore(db)
    since = history_since(now, t)
    runs = list(store.iter_since(since, outlet=spec.name, skip_triggers=NOT_HEALTH))
    last_new = None
    if not any(int((r.get("articles") or {}).get("new", 0) or 0) > 0 for r in runs):
        older = store.last_with_new_articles(spec.name, before=since, skip_triggers=NOT_HEALTH)
        if older is not None:
            last_new = older.get("ended") or older.get("started")
    return evaluate(spec.name, runs, now=now, thresholds=t, last_new_article=last_new, name=spec.name_ko)
