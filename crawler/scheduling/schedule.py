"""What an outlet's schedule is: its spec's interval or cron, unless an operator changed it.

Pure functions and a small value type, free of APScheduler's job store and of MongoDB, so the
CLI can validate `--every`/`--cron` and show schedules without starting a scheduler.
Cron expressions are standard 5-field crontab, evaluated in Korea time (Asia/Seoul), with
crontab's day-of-week numbering (0 or 7 = Sunday), which APScheduler does not use itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Mapping

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.outlets import OutletSpec
from crawler.store.schedules import Override

TIMEZONE = "Asia/Seoul"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_EVERY = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$", re.IGNORECASE)
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]


class ScheduleError(ValueError):
    """A schedule an operator typed that cannot be used; the message says what is expected."""


def parse_every(text: str, *, minimum: int = 60) -> int:
    """'30m', '2h', '1d', '90s' or a bare number of minutes -> seconds."""
    match = _EVERY.match(text or "")
    if not match:
        raise ScheduleError(f"--every {text!r}: expected a number with a unit, like 30m, 2h, 1d or 90s")
    seconds = int(match.group(1)) * _UNITS[(match.group(2) or "m").lower()]
    if seconds < minimum:
        raise ScheduleError(f"--every {text!r}: the shortest interval is {format_every(minimum)}")
    return seconds


def format_every(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _dow_numbers(field: str) -> set[int]:
    """Crontab day-of-week (numbers 0-7 or names, lists, ranges, steps) -> set of 0..6, 0 = Sunday."""
    days: set[int] = set()
    for part in field.lower().split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ScheduleError(f"day of week {field!r}: a step must be at least 1")
        if body == "*":
            low, high = 0, 6
        else:
            low_text, _, high_text = body.partition("-")
            low = _day(low_text, field)
            high = _day(high_text, field) if high_text else (6 if step_text else low)
            if high == 0 and high_text in ("7", "sun") and low > 0:
                high = 7
        if low > high:
            raise ScheduleError(f"day of week {field!r}: range {body!r} runs backwards")
        days.update(day % 7 for day in range(low, high + 1, step))
    return days


def _day(text: str, field: str) -> int:
    text = text.strip()
    if text in _DAYS:
        return _DAYS.index(text)
    if text.isdigit() and 0 <= int(text) <= 7:
        return int(text)
    raise ScheduleError(f"day of week {field!r}: {text!r} is not 0-7 or a day name (sun, mon, ...)")


def cron_trigger(expr: str, *, jitter: int | None = None) -> CronTrigger:
    """A CronTrigger in Korea time from a 5-field crontab expression; ScheduleError if invalid."""
    fields = (expr or "").split()
    if len(fields) != 5:
        raise ScheduleError(
            f"--cron {expr!r}: expected 5 fields (minute hour day month day-of-week), like \"*/20 6-23 * * *\""
        )
    minute, hour, day, month, dow = fields
    day_of_week = "*" if dow == "*" else ",".join(_DAYS_APS[d] for d in sorted(_dow_numbers(dow)))
    try:
        return CronTrigger(
            minute=minute, hour=hour, day=day, month=month, day_of_week=day_of_week,
            timezone=TIMEZONE, jitter=jitter,
        )
    except ValueError as exc:
        named = {"minute": minute, "hour": hour, "day": day, "month": month}
        for name, value in named.items():  # name the field that is wrong
            try:
                CronTrigger(**{name: value}, timezone=TIMEZONE)
            except ValueError as field_error:
                raise ScheduleError(f"--cron {expr!r}: {name} field {value!r}: {field_error}") from None
        raise ScheduleError(f"--cron {expr!r}: {exc}") from None


_DAYS_APS = {0: "sun", 1: "mon", 2: "tue", 3: "wed", 4: "thu", 5: "fri", 6: "sat"}


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
            return cron_trigger(self.cron, jitter=self.jitter(max_jitter) or None)
        return IntervalTrigger(
            seconds=self.every_seconds or 0, timezone=TIMEZONE, jitter=self.jitter(max_jitter) or None
        )

    def period_seconds(self) -> int:
        """The interval, or for cron the gap between its next two firings."""
        if not self.cron:
            return int(self.every_seconds or 0)
        trigger = cron_trigger(self.cron)
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
