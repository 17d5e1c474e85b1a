"""The dashboard's reads of articles, each bounded by an indexed field.

SecantusDB (the embedded default) answers a read from an index only when it is bounded by an
indexed equality or range; anything else scans the collection, which grows with every crawl.
So every read here names its index: lists of articles by the `published` range, newest first
in growing slices (crawler.store.keyset); one article by `_id`, `canonical_url` or `aliases`;
its earlier versions by (`canonical_url`, `revision`); a story's copies by `story_id`.
Run history is read through RunStore (crawler.store.runs), the scheduler's own small
collections through their stores.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
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
