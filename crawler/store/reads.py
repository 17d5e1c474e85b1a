"""The dashboard's reads of articles, each bounded by an indexed field.

SecantusDB (the embedded default) answers a read from an index only when it is bounded by an
indexed equality or range; anything else scans the collection, which grows with every crawl.
So every read here names its index: lists of articles by the `published` range, newest first
in growing slices (crawler.store.keyset); one article by `_id`, `canonical_url` or `aliases`;
its earlier versions by (`canonical_url`, `revision`); a story's copies by `story_id`, and the
outlets of several stories by `story_id` $in. Where the stored articles begin and end
(`published_span`) is found in slices of the `published` range too: a read's cost follows
the documents in its range, even with a limit of 1, so no read here spans the collection.
Run history is read through RunStore (crawler.store.runs), the scheduler's own small
collections through their stores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.database import Database

from crawler.store.articles import COLLECTION as ARTICLES
from crawler.store.articles import REVISIONS
from crawler.store.connection import aware
from crawler.store.keyset import Cursor, newest

MAX_STORY_COPIES = 300
MAX_STORY_ROWS = 3000  # story_outlets: rows read for one page of hits at most
SPAN_FLOOR = datetime(1900, 1, 1, tzinfo=timezone.utc)
SPAN_PRECISION = timedelta(minutes=1)
MAX_REVISIONS = 200

# What lists show of an article: no body, no signatures (minhash and shingles are large).
LIST_FIELDS = {
    "_id": 1, "outlet": 1, "title": 1, "subtitle": 1, "published": 1, "region": 1, "sections": 1,
    "authors": 1, "url": 1, "canonical_url": 1, "story_id": 1, "revision": 1, "first_seen": 1,
    "sido": 1, "sigungu": 1,
}
DETAIL_FIELDS = {
    **LIST_FIELDS, "body": 1, "modified": 1, "modified_detected": 1, "last_seen": 1, "aliases": 1,
    "images": 1, "story_similarity": 1, "story_closest": 1, "print_edition": 1, "wire": 1, "places": 1,
}
STORY_FIELDS = {"_id": 1, "outlet": 1, "title": 1, "published": 1, "first_seen": 1, "canonical_url": 1,
                "url": 1, "story_similarity": 1, "story_closest": 1}
REVISION_FIELDS = {"_id": 0, "canonical_url": 1, "revision": 1, "replaced_at": 1, "title": 1, "subtitle": 1,
                   "body": 1, "authors": 1, "modified": 1, "last_seen": 1}


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
    sidos: Sequence[str] = (),
    sigungus: Sequence[str] = (),
) -> tuple[list[dict[str, Any]], Cursor | None]:
    """The newest articles published in [since, until), newest first, with the filters
    (`sidos`, `sigungus`: stored place names, crawler.text.places)."""
    query: dict[str, Any] = {}
    if outlets:
        query["outlet"] = outlets[0] if len(outlets) == 1 else {"$in": list(outlets)}
    if regions:
        query["region"] = regions[0] if len(regions) == 1 else {"$in": list(regions)}
    if sections:
        query["sections"] = sections[0] if len(sections) == 1 else {"$in": list(sections)}
    for field, values in (("sido", sidos), ("sigungu", sigungus)):
        if values:
            query[field] = values[0] if len(values) == 1 else {"$in": list(values)}
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


def story_outlets(db: Database[Any], story_ids: Sequence[str]) -> dict[str, int]:
    """story_id -> how many distinct outlets carried it, for the stories of one page of hits:
    one read by `story_id` $in (its index), at most MAX_STORY_ROWS rows."""
    wanted = sorted({s for s in story_ids if s})
    if not wanted:
        return {}
    query = {"story_id": wanted[0] if len(wanted) == 1 else {"$in": wanted}}
    outlets: dict[str, set[str]] = {s: set() for s in wanted}
    for doc in articles(db).find(query, {"_id": 0, "story_id": 1, "outlet": 1}).limit(MAX_STORY_ROWS):
        outlets.setdefault(str(doc.get("story_id")), set()).add(str(doc.get("outlet") or ""))
    return {s: len(o) for s, o in outlets.items()}


def _filter_query(outlets: Sequence[str], regions: Sequence[str], sections: Sequence[str]) -> dict[str, Any]:
    query: dict[str, Any] = {}
    for field, values in (("outlet", outlets), ("region", regions), ("sections", sections)):
        if values:
            query[field] = values[0] if len(values) == 1 else {"$in": list(values)}
    return query


@dataclass(frozen=True)
class PublishedSpan:
    """Where the stored articles (of some filters) begin and end, and how many are stored."""

    oldest: datetime | None
    newest: datetime | None
    stored: int  # every article of the database (an estimate from the collection's metadata)


def newest_published(
    db: Database[Any], *, outlets: Sequence[str] = (), regions: Sequence[str] = (), sections: Sequence[str] = (),
    ceiling: datetime | None = None,
) -> datetime | None:
    """The latest `published` before `ceiling` (default: a day from now), or None: read
    backwards in doubling slices of the `published` index (crawler.store.keyset.newest),
    so it costs about the slice that holds the newest article, never the collection."""
    ceiling = ceiling or datetime.now(timezone.utc) + timedelta(days=1)
    found, _next = newest(articles(db), "published", floor=SPAN_FLOOR, ceiling=ceiling, limit=1,
                          query=_filter_query(outlets, regions, sections), projection={"_id": 1, "published": 1})
    return found[0]["published"] if found else None


def oldest_published(
    db: Database[Any], newest_: datetime, *, outlets: Sequence[str] = (), regions: Sequence[str] = (),
    sections: Sequence[str] = (),
) -> datetime:
    """The earliest `published` at or before `newest_`, to within SPAN_PRECISION (a minute).

    Bisects [1900, newest_] with probes of one slice of the `published` index each: an
    empty slice is one index lookup, and a full one is only ever the part between the
    oldest article and the probe's end, a range that halves with every step. About
    thirty probes for any database.
    """
    query = _filter_query(outlets, regions, sections)
    collection = articles(db)
    low, high = SPAN_FLOOR, newest_ + timedelta(milliseconds=1)  # [SPAN_FLOOR, low) holds no article
    while high - low > SPAN_PRECISION:
        middle = low + (high - low) / 2
        hit = collection.find_one({**query, "published": {"$gte": low, "$lt": middle}}, {"_id": 1, "published": 1})
        if hit is None:
            low = middle
        else:
            high = middle
    hit = collection.find_one({**query, "published": {"$gte": low, "$lt": high}}, {"_id": 0, "published": 1})
    return hit["published"] if hit else newest_


def published_span(
    db: Database[Any], *, outlets: Sequence[str] = (), regions: Sequence[str] = (), sections: Sequence[str] = (),
) -> PublishedSpan:
    """The first and last `published` of the stored articles matching the filters, and how many
    articles the database holds: what an empty window tells its reader instead of nothing."""
    last = newest_published(db, outlets=outlets, regions=regions, sections=sections)
    first = oldest_published(db, last, outlets=outlets, regions=regions, sections=sections) if last else None
    return PublishedSpan(first, last, int(articles(db).estimated_document_count()))
