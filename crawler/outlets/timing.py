"""Schedule expressions as outlet specs and operators write them: intervals and crontab lines.

`every` is '30m', '2h', '1d', '90s' or a bare number of minutes; cron is standard 5-field
crontab, evaluated in Korea time (Asia/Seoul), with crontab's day-of-week numbering (0 or 7 =
Sunday), which APScheduler does not use itself. The outlet loader validates a spec's cron here
at start; crawler.scheduling builds its jobs' triggers from the same functions.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from apscheduler.triggers.cron import CronTrigger

TIMEZONE = "Asia/Seoul"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_EVERY = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$", re.IGNORECASE)
MAX_YEARS_TO_FIRST_RUN = 5
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


def cron_trigger(expr: str, *, jitter: int | None = None, check_fires: bool = True) -> CronTrigger:
    """A CronTrigger in Korea time from a 5-field crontab expression; ScheduleError if invalid,
    or (with `check_fires`) if it never fires or first fires more than MAX_YEARS_TO_FIRST_RUN
    years away. `check_fires=False` is for a schedule already stored, written before the check."""
    fields = (expr or "").split()
    if len(fields) != 5:
        raise ScheduleError(
            f"--cron {expr!r}: expected 5 fields (minute hour day month day-of-week), like \"*/20 6-23 * * *\""
        )
    minute, hour, day, month, dow = fields
    day_of_week = "*" if dow == "*" else ",".join(_DAYS_APS[d] for d in sorted(_dow_numbers(dow)))
    try:
        trigger = CronTrigger(
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
    if check_fires:
        _check_fires(expr, trigger)
    return trigger


def _check_fires(expr: str, trigger: CronTrigger, now: datetime | None = None) -> None:
    """ScheduleError unless `trigger` fires within MAX_YEARS_TO_FIRST_RUN years: every field
    can be valid and their combination name no day (31 February), and an outlet scheduled so
    is silently never crawled."""
    now = now or datetime.now(timezone.utc)
    first = trigger.get_next_fire_time(None, now)  # None: no matching day up to year 9999
    if first is None:
        raise ScheduleError(f"--cron {expr!r} never fires: its day, month and day of week match no date "
                            "(like 31 in February)")
    if first - now > timedelta(days=366 * MAX_YEARS_TO_FIRST_RUN):
        raise ScheduleError(f"--cron {expr!r} first fires on {first:%Y-%m-%d}, more than "
                            f"{MAX_YEARS_TO_FIRST_RUN} years away: practically never")


_DAYS_APS = {0: "sun", 1: "mon", 2: "tue", 3: "wed", 4: "thu", 5: "fri", 6: "sat"}
