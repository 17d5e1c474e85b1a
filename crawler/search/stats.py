"""Article counts per outlet, region and Korea-time day: one aggregation over a date range.

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

DIMENSIONS = ("outlet", "region", "day")
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

    Days are Korea-time calendar days (an article published 08:00 KST belongs to that
    day, not to the previous UTC day). ValueError for an unknown dimension.
    """
    dims = tuple(dict.fromkeys(by)) or ("outlet",)
    for dim in dims:
        if dim not in DIMENSIONS:
            raise ValueError(f"cannot group by {dim!r}: expected one of {', '.join(DIMENSIONS)}")
    pipeline: list[dict[str, Any]] = [
        {"$match": filters.resolved(db).mongo()},
        {"$group": {"_id": {dim: _key(dim) for dim in dims}, "articles": {"$sum": 1}}},
    ]
    rows = []
    for group in db.articles.aggregate(pipeline):
        key = group["_id"] or {}
        row = {dim: (key.get(dim) if key.get(dim) not in (None, "") else NONE) for dim in dims}
        row["articles"] = int(group["articles"])
        rows.append(row)
    rows.sort(key=lambda r: tuple(str(r[d]) for d in dims))
    return Stats(dims, rows, sum(r["articles"] for r in rows))
