"""Query parameters shared by the API and the pages: types, caps and the checks across them.

FastAPI validates each parameter on its own (types, lengths, ranges: a 422 naming it); what
involves two (since after until, a window too wide for the page) or the outlet registry
raises ParamError, answered as the same kind of 422.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any

from fastapi import Query
from pydantic import AfterValidator, StringConstraints

from crawler.search.filters import FIRST_DAY, LAST_DAY
from crawler.store import Cursor, CursorError
from crawler.text.dates import KST
from crawler.text.places import PlaceError, filter_names

MAX_QUERY_CHARS = 200
MAX_VALUES = 30  # repeated filter values (outlet=a&outlet=b...)
MAX_PER_PAGE = 100
MAX_SEARCH_PAGE = 100  # search verifies a bounded number of candidates: pages past that are empty anyway
LIST_MAX_DAYS = 366  # browsing reads only what it shows (crawler.store.keyset.newest), so the window may be wide
VOLUME_MAX_DAYS = 92  # volume counts every article of the window, so its cost grows with the window
VOLUME_DEFAULT_DAYS = 14
LIST_DEFAULT_DAYS = 7
RUNS_MAX_DAYS = 90
RUNS_DEFAULT_DAYS = 7

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]


def day_start(day: date) -> datetime:
    """00:00 Korea time of `day`, the instant analysts mean by a calendar day."""
    return datetime(day.year, day.month, day.day, tzinfo=KST)


def today_kst(now: datetime | None = None) -> date:
    return (now or datetime.now(timezone.utc)).astimezone(KST).date()


class ParamError(ValueError):
    """A query parameter that is well-typed but wrong; `name` is the parameter."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message

    def detail(self) -> list[dict[str, Any]]:
        """The shape of FastAPI's own validation errors."""
        return [{"type": "value_error", "loc": ["query", self.name], "msg": self.message}]


Outlets = Annotated[list[Text], Query(max_length=MAX_VALUES, description="Outlet ids (repeat for any of several)")]
Regions = Annotated[list[Text], Query(max_length=MAX_VALUES, description="Dateline regions, e.g. 세종 (repeat for several)")]
Sections = Annotated[list[Text], Query(max_length=MAX_VALUES, description="Sections (repeat for several)")]
Sidos = Annotated[list[Text], Query(max_length=MAX_VALUES,
                                    description="시도 the articles are about: 충남 or 충청남도 (repeat for several)")]
Sigungus = Annotated[list[Text], Query(max_length=MAX_VALUES,
                                       description="시군구 the articles are about: 공주시, 대전 유성구 (repeat for several)")]


def check_places(sido: list[str], sigungu: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The stored names of the 시도 and 시군구 asked for (crawler.text.places.filter_names);
    ParamError naming the parameter, with a hint, for a name not in the 법정동 table or one
    naming several places (중구 without its 시도)."""
    try:
        return filter_names(sido, sigungu)
    except PlaceError as exc:
        raise ParamError("sigungu" if "시군구" in str(exc) else "sido", str(exc)) from None


def in_day_range(day: date | None) -> date | None:
    """A day the date arithmetic can take (crawler.search.filters.FIRST_DAY..LAST_DAY)."""
    if day is not None and not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{day.isoformat()} is out of range: expected a day from {FIRST_DAY} to {LAST_DAY}")
    return day


Since = Annotated[date | None, AfterValidator(in_day_range),
                  Query(description=f"First Korea-time day, YYYY-MM-DD ({FIRST_DAY} to {LAST_DAY})")]
Until = Annotated[date | None, AfterValidator(in_day_range),
                  Query(description=f"Last Korea-time day (included), YYYY-MM-DD ({FIRST_DAY} to {LAST_DAY})")]
PerPage = Annotated[int, Query(ge=1, le=MAX_PER_PAGE, description=f"At most {MAX_PER_PAGE}")]
SearchPage = Annotated[int, Query(ge=1, le=MAX_SEARCH_PAGE, description=f"1 to {MAX_SEARCH_PAGE}")]
Before = Annotated[str | None, Query(max_length=80, description="The `next` value of the previous page")]


def check_outlets(outlets: list[str], known: dict[str, str]) -> tuple[str, ...]:
    unknown = [name for name in outlets if name not in known]
    if unknown:
        raise ParamError("outlet", f"unknown outlet {unknown[0]!r}: expected an outlet id such as "
                         f"{', '.join(sorted(known)[:3])} (GET /api/outlets lists them)")
    return tuple(dict.fromkeys(outlets))


@dataclass(frozen=True)
class Window:
    since: date
    until: date

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1


def window(since: date | None, until: date | None, *, default_days: int, max_days: int) -> Window:
    """Korea-time days [since, until]: defaults end today and span `default_days`."""
    until = until or max(today_kst(), since or today_kst())
    since = since or until - timedelta(days=default_days - 1)
    if since > until:
        raise ParamError("since", f"since ({since}) is after until ({until})")
    span = (until - since).days + 1
    if span > max_days:
        raise ParamError("since", f"since {since} to until {until} is {span} days; at most {max_days} here "
                         "(narrow the window)")
    return Window(since, until)


def optional_range(since: date | None, until: date | None) -> tuple[date | None, date | None]:
    if since and until and since > until:
        raise ParamError("since", f"since ({since}) is after until ({until})")
    return since, until


def cursor(before: str | None, *, object_id: bool) -> Cursor | None:
    if not before:
        return None
    try:
        return Cursor.decode(before, object_id=object_id)
    except CursorError as exc:
        raise ParamError("before", str(exc)) from None
