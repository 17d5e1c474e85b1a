"""Filters shared by search, stats and export: outlet, region, 시도, 시군구, section, date range, story.

One definition so `newsdesk search`, `stats`, `export` and the dashboard select the same
articles for the same options. Dates bound `published` (an indexed field: SecantusDB
answers a bounded range from the index and scans the collection for anything else).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from crawler.store import Database
from crawler.store.stories import StoryMergeStore
from crawler.text.dates import KST


@dataclass(frozen=True)
class Filters:
    """Which articles: every given condition must hold; several values of one are any-of.

    `since` is inclusive and `until` exclusive, both aware datetimes (see `day_range` for
    whole Korea-time days).
    """

    outlets: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    stories: tuple[str, ...] = ()
    sidos: tuple[str, ...] = ()  # official 시도 names (crawler.text.places: resolve_sido(...).name)
    sigungus: tuple[str, ...] = ()  # 시군구 as stored: "충청남도 공주시" (resolve_sigungu(...).full)

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, datetime) or value.utcoffset() is None):
                raise ValueError(f"{name} must be an aware datetime, not {value!r}")
        if self.since and self.until and self.since >= self.until:
            raise ValueError(f"since ({self.since.isoformat()}) must be before until ({self.until.isoformat()})")

    def resolved(self, db: Database[Any]) -> "Filters":
        """These filters with each story id replaced by the id it was merged into, if it was
        (crawler.store.stories): a story asked for by an id it had before a merge is found."""
        if not self.stories:
            return self
        merges = StoryMergeStore(db)
        return replace(self, stories=tuple(dict.fromkeys(merges.resolve(s) for s in self.stories)))

    def mongo(self) -> dict[str, Any]:
        """The MongoDB filter, most selective indexed clause first.

        SecantusDB serves a multi-field filter from the first clause that can ride an
        index, so the order of keys matters there: story_id (a handful of copies), then
        the published range, then the rest (checked on the fetched documents).
        """
        query: dict[str, Any] = {}
        if self.stories:
            query["story_id"] = _one_or_in(self.stories)
        if self.since or self.until:
            bounds: dict[str, datetime] = {}
            if self.since:
                bounds["$gte"] = self.since
            if self.until:
                bounds["$lt"] = self.until
            query["published"] = bounds
        if self.outlets:
            query["outlet"] = _one_or_in(self.outlets)
        if self.regions:
            query["region"] = _one_or_in(self.regions)
        if self.sidos:
            query["sido"] = _one_or_in(self.sidos)
        if self.sigungus:
            query["sigungu"] = _one_or_in(self.sigungus)
        if self.sections:
            query["sections"] = _one_or_in(self.sections)
        return query

    def accepts(self, doc: dict[str, Any]) -> bool:
        """Whether a fetched article satisfies the filters (search re-checks what it shows)."""
        if self.outlets and doc.get("outlet") not in self.outlets:
            return False
        if self.regions and doc.get("region") not in self.regions:
            return False
        if self.sections and not set(doc.get("sections") or []) & set(self.sections):
            return False
        if self.sidos and not set(doc.get("sido") or []) & set(self.sidos):
            return False
        if self.sigungus and not set(doc.get("sigungu") or []) & set(self.sigungus):
            return False
        if self.stories and doc.get("story_id") not in self.stories:
            return False
        published = doc.get("published")
        if self.since and (not isinstance(published, datetime) or published < self.since):
            return False
        if self.until and (not isinstance(published, datetime) or published >= self.until):
            return False
        return True


def _one_or_in(values: tuple[str, ...]) -> Any:
    return values[0] if len(values) == 1 else {"$in": list(values)}


def day_range(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """Korea-time days as instants: `since` from its 00:00 KST, `until` through its 24:00 KST.

    Analysts think in Korean calendar days; stored datetimes are UTC, and a UTC day would
    put a 08:00 KST article on the previous day.
    """
    start = datetime.combine(since, time(0), tzinfo=KST) if since else None
    end = datetime.combine(until + timedelta(days=1), time(0), tzinfo=KST) if until else None
    return start, end


# The days a filter may name. Far wider than any news archive, and narrow enough that the
# date arithmetic around them (the day after `until`, a default window before it, Korea
# time as UTC) never leaves what datetime can hold: 0001-01-01 00:00 KST is before year 1
# in UTC, and the day after 9999-12-31 does not exist.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)


def check_day(day: date, option: str) -> date:
    """`day` if within FIRST_DAY..LAST_DAY, else ValueError naming the option."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{option} {day.isoformat()}: expected a day from {FIRST_DAY} to {LAST_DAY}")
    return day


def parse_day(text: str, option: str) -> date:
    """YYYY-MM-DD (also YYYY.MM.DD or YYYYMMDD) within FIRST_DAY..LAST_DAY, or ValueError
    naming the option."""
    cleaned = text.strip().replace(".", "-").replace("/", "-")
    if len(cleaned) == 8 and cleaned.isdigit():
        cleaned = f"{cleaned[:4]}-{cleaned[4:6]}-{cleaned[6:]}"
    try:
        day = date.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(f"{option} {text!r}: expected a date as YYYY-MM-DD") from None
    return check_day(day, option)

