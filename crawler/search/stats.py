"""Article counts per outlet, region, 시도, 시군구 and Korea-time day: one aggregation over a date range.

The $match on `published` comes first so the range rides its index (SecantusDB lifts a
leading $match into an index lookup; anything else would scan the collection). The
aggregation is written here rather than in crawler.store because its shape (the grouping
dimensions, the Korea-time day) is what the search filters and `newsdesk stats` define; it
takes the database's type from crawler.store and never the driver.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from crawler.search.filters import Filters
from crawler.store import Database
from crawler.text.places import gazetteer

DIMENSIONS = ("outlet", "region", "sido", "sigungu", "day")
LISTS = ("sido", "sigungu")  # list fields: an article counts once under each of its values
NONE = "(none)"


@dataclass
class Stats:
    """Rows of {dimension: value, ..., "articles": n}, sorted by their keys, and the total."""

    by: tuple[str, ...]
    rows: list[dict[str, Any]]
    total: int

    def as_dict(self, filters: Filters) -> dict[str, Any]:
        return {
            "since": filters.since, "until": filters.until, "by": list(self.by),
            "rows": self.rows, "total": self.total,
        }


def _key(dimension: str) -> Any:
    if dimension == "day":
        return {"$dateToString": {"format": "%Y-%m-%d", "date": "$published", "timezone": "Asia/Seoul"}}
    return f"${dimension}"


def article_stats(db: Database[Any], filters: Filters, by: Sequence[str] = ("outlet",)) -> Stats:
    """Count articles matching `filters`, grouped by each combination of `by` values.

    An article about two 시도 (or 시군구) counts once under each when grouped by them, so
    such rows can add up to more than the articles. Days are Korea-time calendar days (an article published 08:00 KST belongs to that
    day, not to the previous UTC day). ValueError for an unknown dimension.
    """
    dims = tuple(dict.fromkeys(by)) or ("outlet",)
    for dim in dims:
        if dim not in DIMENSIONS:
            raise ValueError(f"cannot group by {dim!r}: expected one of {', '.join(DIMENSIONS)}")
    pipeline: list[dict[str, Any]] = [{"$match": filters.resolved(db).mongo()}]
    for dim in dims:
        if dim in LISTS:
            pipeline.append({"$unwind": {"path": f"${dim}", "preserveNullAndEmptyArrays": True}})
    pipeline.append({"$group": {"_id": {dim: _key(dim) for dim in dims}, "articles": {"$sum": 1}}})
    rows = []
    for group in db.articles.aggregate(pipeline):
        key = group["_id"] or {}
        row = {dim: (key.get(dim) if key.get(dim) not in (None, "") else NONE) for dim in dims}
        row["articles"] = int(group["articles"])
        rows.append(row)
    rows.sort(key=lambda r: tuple(str(r[d]) for d in dims))
    return Stats(dims, rows, sum(r["articles"] for r in rows))


@dataclass
class PlaceCounts:
    """Articles per 시도 and per 시군구 (with their codes), most first: the map's numbers."""

    sido: list[dict[str, Any]]  # {sido, sido_code, articles}
    sigungu: list[dict[str, Any]]  # {sido, sido_code, sigungu, sigungu_code, articles}
    total: int  # articles matching the filters
    untagged: int  # of them, articles without any place: stored before tagging (`newsdesk places --reindex`),
    # or from an outlet without a home region whose text names no place

    def as_dict(self) -> dict[str, Any]:
        return {"sido": self.sido, "sigungu": self.sigungu, "total": self.total, "untagged": self.untagged}


def place_counts(db: Database[Any], filters: Filters) -> PlaceCounts:
    """Count articles matching `filters` per 시도 and per 시군구 (an article about two counts
    under both). Codes come from the shipped table (crawler.text.places)."""
    table = gazetteer()
    by_sido = article_stats(db, filters, ("sido",))
    by_sigungu = article_stats(db, filters, ("sigungu",))
    sido_rows, sigungu_rows = [], []
    untagged = 0
    for row in by_sido.rows:
        unit = table.by_full.get(row["sido"])
        if unit is None:
            untagged += row["articles"] if row["sido"] == NONE else 0
            continue
        sido_rows.append({"sido": unit.name, "sido_code": unit.code, "articles": row["articles"]})
    for row in by_sigungu.rows:
        unit = table.by_full.get(row["sigungu"])
        if unit is not None and unit.is_sido and table.sejong is not None and unit.code == table.sejong.sido_code:
            unit = table.sejong  # 세종특별자치시 is its own only 시군구
        if unit is None or unit.is_sido:
            continue
        sigungu_rows.append({"sido": unit.sido, "sido_code": unit.sido_code, "sigungu": unit.name,
                             "sigungu_code": unit.code, "articles": row["articles"]})
    sido_rows.sort(key=lambda r: (-r["articles"], r["sido_code"]))
    sigungu_rows.sort(key=lambda r: (-r["articles"], r["sigungu_code"]))
    total = count_matching(db, filters)
    return PlaceCounts(sido_rows, sigungu_rows, total, untagged)


def count_matching(db: Database[Any], filters: Filters) -> int:
    return int(db.articles.count_documents(filters.resolved(db).mongo()))
