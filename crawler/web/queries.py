"""Every database read of the dashboard, each bounded by an indexed field.

SecantusDB (the embedded default) answers a read from an index only when it is bounded by an
indexed equality or range; anything else scans the collection (a sort+limit over 50k
articles: 2-3 s, against ~10 ms inside an indexed date range). Within a range its cost
follows the documents in it (~0.1 ms each), so "the newest N" is never one sort over a wide
window here: `newest()` reads backwards from the upper end in growing slices of the indexed
time field (1 h, 1 h, 2 h, 4 h, ...) and stops as soon as it has N, so a page costs about
the documents it shows, however wide the window the user allows. Lists page with a keyset
cursor (time, _id), never with skip.

Reads by key: articles by `_id`, `canonical_url` or `aliases`; revisions by
(`canonical_url`, `revision`); story copies by `story_id`; volume per Korea-time day on the
`published` range (cached per day); runs by `started` (with `outlet` first when given);
the scheduler's own small collections (jobs, leases, operators' changes) whole.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING
from pymongo.collection import Collection
from pymongo.database import Database

from crawler.text.dates import KST

ARTICLES = "articles"
REVISIONS = "article_revisions"
RUNS = "runs"

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
FIRST_WINDOW = timedelta(hours=1)  # about a page of articles at 1,000 a day; empty slices cost ~3 ms
MAX_STORY_COPIES = 300
MAX_REVISIONS = 200

# What lists show of an article: no body, no signatures (minhash and shingles are large).
LIST_FIELDS = {
    "_id": 1, "outlet": 1, "title": 1, "subtitle": 1, "published": 1, "region": 1, "sections": 1,
    "authors": 1, "url": 1, "canonical_url": 1, "story_id": 1, "revision": 1, "first_seen": 1,
}
DETAIL_FIELDS = {
    **LIST_FIELDS, "body": 1, "modified": 1, "modified_detected": 1, "last_seen": 1, "aliases": 1,
    "images": 1, "story_similarity": 1, "story_closest": 1, "print_edition": 1, "wire": 1,
}
STORY_FIELDS = {"_id": 1, "outlet": 1, "title": 1, "published": 1, "first_seen": 1, "canonical_url": 1,
                "url": 1, "story_similarity": 1, "story_closest": 1}
REVISION_FIELDS = {"_id": 0, "canonical_url": 1, "revision": 1, "replaced_at": 1, "title": 1, "subtitle": 1,
                   "body": 1, "authors": 1, "modified": 1, "last_seen": 1}


def aware(db: Database[Any]) -> Database[Any]:
    """`db` reading datetimes back aware in UTC, whatever client it came from."""
    return db.with_options(codec_options=db.codec_options.with_options(tz_aware=True, tzinfo=timezone.utc))


def day_start(day: date) -> datetime:
    """00:00 Korea time of `day`, the instant analysts mean by a calendar day."""
    return datetime(day.year, day.month, day.day, tzinfo=KST)


def today_kst(now: datetime | None = None) -> date:
    return (now or datetime.now(timezone.utc)).astimezone(KST).date()


# -- keyset cursors ------------------------------------------------------------------------

class CursorError(ValueError):
    """A `before` cursor that this dashboard did not write."""


@dataclass(frozen=True)
class Cursor:
    """Where the previous page ended: its last item's time and _id (ties broken by _id)."""

    at: datetime
    id: Any

    def encode(self) -> str:
        return f"{(self.at - EPOCH) // timedelta(milliseconds=1)}.{self.id}"

    @classmethod
    def decode(cls, text: str, *, object_id: bool) -> "Cursor":
        millis, _, ident = text.partition(".")
        if not millis.isdigit() or not ident or len(millis) > 15:
            raise CursorError(f"before {text!r}: expected the `next` value of a previous page")
        at = EPOCH + timedelta(milliseconds=int(millis))  # exact: BSON dates are whole milliseconds
        if object_id:
            if not ObjectId.is_valid(ident):
                raise CursorError(f"before {text!r}: expected the `next` value of a previous page")
            return cls(at, ObjectId(ident))
        return cls(at, ident)


def newest(
    collection: Collection[Any],
    field: str,
    *,
    floor: datetime,
    ceiling: datetime,
    limit: int,
    query: Mapping[str, Any] | None = None,
    projection: Mapping[str, Any] | None = None,
    cursor: Cursor | None = None,
) -> tuple[list[dict[str, Any]], Cursor | None]:
    """Up to `limit` documents with floor <= `field` < ceiling (and `query`), newest first,
    and the cursor of the next page (None when there is none).

    Reads backwards from the ceiling (or the cursor) in slices that double in width, each a
    range on the indexed `field`, so the cost follows what is shown rather than the window.
    `query` keys come first in the filter: an equality on an index prefix (outlet) is what
    SecantusDB should ride.
    """
    query = dict(query or {})
    want = limit + 1  # one more than shown tells whether a next page exists
    found: list[dict[str, Any]] = []
    high = ceiling
    if cursor is not None:
        at = cursor.at
        if floor <= at < ceiling:
            ties = collection.find({**query, field: at, "_id": {"$lt": cursor.id}}, projection)
            found.extend(sorted(ties, key=lambda d: d["_id"], reverse=True)[:want])
        high = min(ceiling, at)
    window = FIRST_WINDOW
    while len(found) < want and high > floor:
        low = max(floor, high - window)
        slice_query = {**query, field: {"$gte": low, "$lt": high}}
        cursor_ = collection.find(slice_query, projection).sort([(field, DESCENDING), ("_id", DESCENDING)])
        found.extend(cursor_.limit(want - len(found)))
        high = low
        window *= 2
    more = len(found) > limit
    found = found[:limit]
    if not more or not found:
        return found, None
    last = found[-1]
    return found, Cursor(last[field], last["_id"])


# -- articles ------------------------------------------------------------------------------

def articles(db: Database[Any]) -> Collection[Any]:
    return aware(db)[ARTICLES]


def list_articles(
    db: Database[Any],
    *,
    since: datetime,
    until: datetime,
    outlets: Sequence[str] = (),
    regions: Sequence[str] = (),
    sections: Sequence[str] = (),
    limit: int,
    cursor: Cursor | None = None,
) -> tuple[list[dict[str, Any]], Cursor | None]:
    """The newest articles published in [since, until), newest first, with the filters."""
    query: dict[str, Any] = {}
    if outlets:
        query["outlet"] = outlets[0] if len(outlets) == 1 else {"$in": list(outlets)}
    if regions:
        query["region"] = regions[0] if len(regions) == 1 else {"$in": list(regions)}
    if sections:
        query["sections"] = sections[0] if len(sections) == 1 else {"$in": list(sections)}
    return newest(articles(db), "published", floor=since, ceiling=until, limit=limit, query=query,
                  projection=LIST_FIELDS, cursor=cursor)


def article_by_id(db: Database[Any], article_id: str) -> dict[str, Any] | None:
    if not ObjectId.is_valid(article_id):
        return None
    return articles(db).find_one({"_id": ObjectId(article_id)}, DETAIL_FIELDS)


def article_by_url(db: Database[Any], url: str) -> dict[str, Any] | None:
    """The article at `url`, as its canonical URL or one of its aliases (two indexed lookups:
    a $or of them would scan on SecantusDB)."""
    collection = articles(db)
    return (collection.find_one({"canonical_url": url}, DETAIL_FIELDS)
            or collection.find_one({"aliases": url}, DETAIL_FIELDS))


def revisions_of(db: Database[Any], canonical_url: str) -> list[dict[str, Any]]:
    """Earlier versions of an article, oldest first (index canonical_url + revision)."""
    cursor = aware(db)[REVISIONS].find({"canonical_url": canonical_url}, REVISION_FIELDS)
    return list(cursor.sort("revision", ASCENDING).limit(MAX_REVISIONS))


def story_copies(db: Database[Any], story_id: str) -> list[dict[str, Any]]:
    """Every stored copy of a story (index story_id), earliest published first."""
    docs = list(articles(db).find({"story_id": story_id}, STORY_FIELDS).limit(MAX_STORY_COPIES))
    far = datetime.max.replace(tzinfo=timezone.utc)
    return sorted(docs, key=lambda d: (d.get("published") or d.get("first_seen") or far, str(d["_id"])))


# -- volume --------------------------------------------------------------------------------

class VolumeCache:
    """Counts per (Korea-time day, filters), kept a minute for recent days and an hour for
    older ones: a day's count stops moving once its articles are crawled, and recounting a
    month on every page view would cost seconds on SecantusDB."""

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
    from crawler.search.filters import Filters
    from crawler.search.stats import article_stats

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


# -- runs ----------------------------------------------------------------------------------

FAILED_STATUSES = ("failed", "timeout", "abandoned", "lease_lost")


def runs_collection(db: Database[Any]) -> Collection[Any]:
    return aware(db)[RUNS]


def list_runs(
    db: Database[Any],
    *,
    since: datetime,
    until: datetime,
    outlet: str | None = None,
    failed: bool = False,
    limit: int,
    cursor: Cursor | None = None,
) -> tuple[list[dict[str, Any]], Cursor | None]:
    """The newest runs started in [since, until), without their raw Scrapy stats."""
    query: dict[str, Any] = {}
    if outlet:
        query["outlet"] = outlet
    if failed:
        query["status"] = {"$in": list(FAILED_STATUSES)}
    return newest(runs_collection(db), "started", floor=since, ceiling=until, limit=limit, query=query,
                  projection={"stats": 0}, cursor=cursor)


def recent_runs(db: Database[Any], since: datetime) -> list[dict[str, Any]]:
    """Every run started since `since` (a short window: health reads the last day or two)."""
    cursor = runs_collection(db).find({"started": {"$gte": since}}, {"stats": 0})
    return sorted(cursor, key=lambda d: d["started"], reverse=True)


def last_runs(db: Database[Any], outlets: Sequence[str], *, floor: datetime, ceiling: datetime) -> dict[str, dict[str, Any]]:
    """Each outlet's newest run in [floor, ceiling), for outlets that have one.

    Reads backwards in slices that double in width, all outlets still missing in each slice's
    query (outlet $in, started range), so a handful of queries cover 90 days whatever the
    number of outlets, and each reads only the runs of outlets not found yet.
    """
    missing = list(dict.fromkeys(outlets))
    found: dict[str, dict[str, Any]] = {}
    high, window = ceiling, timedelta(days=1)
    collection = runs_collection(db)
    while missing and high > floor:
        low = max(floor, high - window)
        query = {"outlet": {"$in": missing}, "started": {"$gte": low, "$lt": high}}
        for run in collection.find(query, {"stats": 0}):
            best = found.get(run["outlet"])
            if best is None or run["started"] > best["started"]:
                found[run["outlet"]] = run
        missing = [o for o in missing if o not in found]
        high, window = low, window * 2
    return found
