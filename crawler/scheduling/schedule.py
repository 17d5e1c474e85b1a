"""What an outlet's schedule is: its spec's interval or cron, unless an operator changed it.

Pure functions and a small value type, free of APScheduler's job store and of MongoDB, so the
CLI can validate `--every`/`--cron` and show schedules without starting a scheduler.
Cron expressions are standard 5-field crontab, evaluated in Korea time (Asia/Seoul), with
crontab's day-of-week numbering (0 or 7 = Sunday), which APScheduler does not use itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Mapping

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.outlets import OutletSpec
from crawler.outlets.timing import TIMEZONE, cron_trigger, format_every
from crawler.store.schedules import Override

@dataclass(frozen=True)
class Schedule:
    """The schedule an outlet should have now, and where it came from."""

    outlet: str
    every_seconds: int | None = None
    cron: str | None = None
    paused: bool = False
    source: str = "spec"  # "spec" or "operator"

    def describe(self) -> str:
        """Also the job's name in the job store: a change of it means the trigger changed."""
        return f"cron {self.cron}" if self.cron else f"every {format_every(self.every_seconds or 0)}"

    def jitter(self, max_jitter: int) -> int:
        return min(max_jitter, self.period_seconds() // 4)

    def trigger(self, max_jitter: int = 120) -> BaseTrigger:
        if self.cron:
            return cron_trigger(self.cron, jitter=self.jitter(max_jitter) or None, check_fires=False)
        return IntervalTrigger(
            seconds=self.every_seconds or 0, timezone=TIMEZONE, jitter=self.jitter(max_jitter) or None
        )

    def period_seconds(self) -> int:
        """The interval, or for cron the gap between its next two firings."""
        if not self.cron:
            return int(self.every_seconds or 0)
        trigger = cron_trigger(self.cron, check_fires=False)
        first = trigger.get_next_fire_time(None, datetime.now(trigger.timezone))
        if first is None:
            return 86400
        second = trigger.get_next_fire_time(first, first + timedelta(seconds=1))
        return int((second - first).total_seconds()) if second else 86400

    def misfire_grace(self) -> int:
        """A late run within one period still runs (once, coalesced); an older one is skipped."""
        return max(60, self.period_seconds())


def spec_schedule(spec: OutletSpec) -> Schedule:
    cron = getattr(spec, "cron", None)
    if cron:
        return Schedule(spec.name, cron=cron)
    return Schedule(spec.name, every_seconds=spec.every_minutes * 60)


def desired_schedules(specs: Iterable[OutletSpec], overrides: Mapping[str, Override]) -> dict[str, Schedule]:
    """Each outlet's schedule: the spec's, with the operator's changes on top."""
    result: dict[str, Schedule] = {}
    for spec in specs:
        base = spec_schedule(spec)
        override = overrides.get(spec.name)
        if override is None:
            result[spec.name] = base
            continue
        if override.cron:
            result[spec.name] = Schedule(spec.name, cron=override.cron, paused=override.paused, source="operator")
        elif override.every_seconds:
            result[spec.name] = Schedule(
                spec.name, every_seconds=override.every_seconds, paused=override.paused, source="operator"
            )
        else:
            result[spec.name] = Schedule(
                spec.name, base.every_seconds, base.cron, paused=override.paused,
                source="operator" if override.paused else "spec",
            )
    return result


def schedule_state(outlet: str, schedule: Schedule, jobs: Mapping[str, object], crawling: Mapping[str, object]) -> str:
    """What an outlet's schedule is doing now, as `schedule list` and the dashboard show it."""
    if outlet in crawling:
        return "crawling"
    if schedule.paused:
        return "paused"
    return "scheduled" if outlet in jobs else "not scheduled"
