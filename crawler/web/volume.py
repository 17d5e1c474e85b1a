"""Article volume for the dashboard: counts per Korea-time day, outlet and region, cached.

Each day is one aggregation on that day's `published` range (crawler.search.stats, the counts
`newsdesk stats` prints), so a window costs one bounded read per day; a day's count stops
moving once its articles are crawled, so counts are cached (VolumeCache) rather than
recounted on every page view.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from crawler.search.filters import Filters
from crawler.search.stats import article_stats
from crawler.store import Database
from crawler.web.params import day_start, today_kst


class VolumeCache:
    """Counts per (Korea-time day, filters), kept a minute for recent days and an hour for
    older ones: a day's count stops moving once its articles are crawled, and recounting a
    month on every page view would make each view read every article of the month."""

    def __init__(self, *, recent_ttl: float = 60.0, old_ttl: float = 3600.0, max_entries: int = 4096) -> None:
        self.recent_ttl = recent_ttl
        self.old_ttl = old_ttl
        self.max_entries = max_entries
        self._entries: dict[tuple[Any, ...], tuple[float, list[dict[str, Any]]]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], ttl: float) -> list[dict[str, Any]] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or time.monotonic() - entry[0] > ttl:
                return None
            return entry[1]

    def put(self, key: tuple[Any, ...], rows: list[dict[str, Any]]) -> None:
        with self._lock:
            if len(self._entries) >= self.max_entries:
                for old in sorted(self._entries, key=lambda k: self._entries[k][0])[: self.max_entries // 4]:
                    del self._entries[old]
            self._entries[key] = (time.monotonic(), rows)


def day_counts(
    db: Database[Any],
    day: date,
    *,
    outlets: Sequence[str] = (),
    regions: Sequence[str] = (),
    cache: VolumeCache | None = None,
    today: date | None = None,
) -> list[dict[str, Any]]:
    """Rows {outlet, region, articles} of the articles published on one Korea-time day.

    One aggregation on the day's `published` range (crawler.search.stats: the counts
    `newsdesk stats` prints).
    """
    key = (day, tuple(outlets), tuple(regions))
    today = today or today_kst()
    ttl = (cache.old_ttl if day < today - timedelta(days=2) else cache.recent_ttl) if cache else 0.0
    if cache is not None:
        rows = cache.get(key, ttl)
        if rows is not None:
            return rows
    filters = Filters(outlets=tuple(outlets), regions=tuple(regions),
                      since=day_start(day), until=day_start(day + timedelta(days=1)))
    rows = article_stats(db, filters, by=("outlet", "region")).rows
    if cache is not None:
        cache.put(key, rows)
    return rows


@dataclass
class Volume:
    """Article counts in a window of Korea-time days, three ways."""

    since: date
    until: date
    by_day: list[tuple[date, int]]
    by_outlet: list[tuple[str, int]]
    by_region: list[tuple[str, int]]

    @property
    def total(self) -> int:
        return sum(n for _d, n in self.by_day)


def volume(
    db: Database[Any],
    since: date,
    until: date,
    *,
    outlets: Sequence[str] = (),
    regions: Sequence[str] = (),
    cache: VolumeCache | None = None,
) -> Volume:
    """Counts per day (every day of the window, empty ones too), per outlet and per region
    (most first), from one bounded aggregation per day."""
    per_day: list[tuple[date, int]] = []
    per_outlet: dict[str, int] = {}
    per_region: dict[str, int] = {}
    today = today_kst()
    day = since
    while day <= until:
        rows = day_counts(db, day, outlets=outlets, regions=regions, cache=cache, today=today)
        per_day.append((day, sum(int(r["articles"]) for r in rows)))
        for row in rows:
            per_outlet[str(row["outlet"])] = per_outlet.get(str(row["outlet"]), 0) + int(row["articles"])
            per_region[str(row["region"])] = per_region.get(str(row["region"]), 0) + int(row["articles"])
        day += timedelta(days=1)

    def most_first(counts: Mapping[str, int]) -> list[tuple[str, int]]:
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    return Volume(since, until, per_day, most_first(per_outlet), most_first(per_region))
