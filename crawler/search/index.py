"""The search index: character-bigram postings in a few large documents, merged like an LSM tree.

Why not a multikey `search_terms` array with an index on it: measured on SecantusDB when
this index was designed, every term of every article became an index entry, which slowed
inserts by more than an order of magnitude, and a query on a common bigram fetched and
decoded every matching article. So the terms live in posting lists instead, in
`search_postings` documents read by `_id` (a point lookup on both SecantusDB and MongoDB,
never a scan):

- Each write batch becomes one *segment*: for every term, the articles containing it, as
  16-byte entries (12-byte ObjectId + 4-byte big-endian published time, Unix seconds) in
  one binary value. A segment's terms are hashed into `nb` bucket documents
  `{_id: "<segment>/<bucket>", p: {term: bytes}}` of about BUCKET_BYTES each, so reading a
  term costs one small document per segment, whatever the segment's size.
- Segments of the same size tier (log8 of their article count) are merged eight at a time,
  so a collection of N articles has O(log N) segments and a write costs O(log N) rewrites.
- Postings are never edited in place: a revised article gets new postings in a new segment
  and its old ones stay until a merge of `reindex` drops them. Searches verify what they
  show against the stored article, so a stale posting costs a candidate, never a wrong hit.

`search_segments` lists the segments (id, tier, article count, bucket count, state); it is
small and read whole. Articles carry `search_indexed` (INDEX_VERSION) once their postings
are written: `reindex` finds the ones without.

This module writes its collections itself rather than through crawler.store: the segment and
bucket layout is a storage format of its own, encoded here. It imports `bson.Binary` for that
reason, since the packed posting entries are stored as BSON binary values; the database,
collection and id types come from crawler.store.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
import struct
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from bson import Binary  # postings are stored as BSON binary values (see the docstring)

from crawler.store import Collection, Database, ObjectId
from crawler.store.articles import COLLECTION, INDEX_VERSION
from crawler.text.terms import FILTER, START, TITLE, filter_term, text_terms

log = logging.getLogger(__name__)

SEGMENTS = "search_segments"
POSTINGS = "search_postings"
ENTRY = 16  # bytes per posting: ObjectId (12) + published seconds (4)
FANOUT = 8  # segments merged at once (and the size ratio between tiers)
MAX_MERGE_TIER = 5  # segments of 8**5 = 32,768 articles or more are left as they are
BUCKET_BYTES = 32 * 1024  # target size of one postings document: a read decodes it whole
CLAIM_TIMEOUT = timedelta(minutes=15)  # a merge that crashed releases its segments after this
_ID_CHUNK = 100  # _ids per $in (SecantusDB's cost per value grows with the list)
_WRITE_BUCKETS = 200  # bucket documents per insert_many (~6 MB)
# Segment formats: 1 had text, title and filter terms; 2 adds start terms (START + an
# eojeol's first bigram) and lists its filter terms. A search asking a format-1 segment for a
# start term reads the plain bigram instead (a superset), so an index written before start
# terms existed answers the same, only with more candidates to verify until `reindex --full`.
FORMAT = 2
# Fields the index reads from an article.
SOURCE_FIELDS = {"_id": 1, "title": 1, "subtitle": 1, "body": 1, "outlet": 1, "region": 1, "sections": 1,
                 "published": 1, "first_seen": 1}


def tier_of(articles: int) -> int:
    """Size tier of a segment: floor(log8(articles)), so merged segments move up a tier."""
    tier = 0
    while articles >= FANOUT ** (tier + 1):
        tier += 1
    return tier


def bucket_of(term: str, buckets: int) -> int:
    """Bucket of a term; a title term (^x) and a start term (<x) share their bucket with x
    so one read serves all three."""
    base = term[1:] if term.startswith((TITLE, START)) else term
    return zlib.crc32(base.encode("utf-8")) % buckets


def article_terms(doc: Mapping[str, Any]) -> set[str]:
    """Every term an article is found by: text terms, start terms (<), title terms (^),
    filter terms (@)."""
    title = str(doc.get("title") or "")
    text = "\n".join(str(doc.get(name) or "") for name in ("title", "subtitle", "body"))
    terms = text_terms(text, starts=True)
    terms.update(TITLE + term for term in text_terms(title))
    if doc.get("outlet"):
        terms.add(filter_term("o", str(doc["outlet"])))
    if doc.get("region"):
        terms.add(filter_term("r", str(doc["region"])))
    for section in doc.get("sections") or []:
        if section:
            terms.add(filter_term("s", str(section)))
    return terms


def entry_time(doc: Mapping[str, Any]) -> int:
    """The time a posting carries (published, else first_seen), as Unix seconds in uint32."""
    when = doc.get("published") or doc.get("first_seen")
    if not isinstance(when, datetime):
        return 0
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)  # stored BSON dates are UTC
    return max(0, min(int(when.timestamp()), 2**32 - 1))


def encode_entry(article_id: ObjectId, seconds: int) -> bytes:
    return article_id.binary + struct.pack(">I", seconds)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SearchIndex:
    """Writes, merges and reads the postings of one database."""

    def __init__(self, db: Database[Any]) -> None:
        self.db = db
        self.segments: Collection[dict[str, Any]] = db[SEGMENTS]
        self.postings: Collection[dict[str, Any]] = db[POSTINGS]

    # -- writing ----------------------------------------------------------------------------

    def add(self, docs: Iterable[Mapping[str, Any]], *, merge: bool = True) -> list[Any]:
        """Index articles (with `_id` and SOURCE_FIELDS) as one new segment; their ids.

        Articles whose `_id` is not an ObjectId (not written by newsdesk) are skipped with a
        warning: a posting has room for exactly 12 bytes of id.
        """
        postings: defaultdict[str, bytearray] = defaultdict(bytearray)
        ids: list[Any] = []
        times: list[int] = []
        for doc in docs:
            article_id = doc.get("_id")
            if not isinstance(article_id, ObjectId):
                log.warning("search index: article %r has a non-ObjectId _id; not indexed", doc.get("canonical_url"))
                continue
            times.append(entry_time(doc))
            entry = encode_entry(article_id, times[-1])
            for term in article_terms(doc):  # one lookup and an in-place append per term: the drain's loop
                postings[term] += entry
            ids.append(article_id)
        if ids:
            self._write_segment(postings, len(ids), min(times), max(times))
            if merge:
                self.merge()
        return ids

    def mark_indexed(self, articles: Collection[Any], ids: Sequence[Any]) -> None:
        """Record on the articles that their postings are written (what reindex looks for)."""
        for chunk in _chunks(list(ids), _ID_CHUNK):
            articles.update_many({"_id": {"$in": list(chunk)}}, {"$set": {"search_indexed": INDEX_VERSION}})

    def _write_segment(self, postings: dict[str, bytes] | dict[str, bytearray], articles: int, first: int, last: int,
                       fmt: int = FORMAT) -> str:
        """Write the bucket documents, then the segment entry that makes them visible.
        Consumes `postings`: each blob is let go as its bucket is built, and the buckets are
        written _WRITE_BUCKETS at a time, so a merge holds its postings about once, not once
        as blobs and again as the documents (holding both made large merges and the drain of
        a large backlog the process's peak memory).

        `first` and `last` bound the published times (Unix seconds) of its articles, so a
        search with a date range skips segments outside it. `filters` lists its filter terms
        (what facet counts read); `format` is FORMAT, or the oldest of a merged group's.
        """
        filters = sorted(term for term in postings if term.startswith(FILTER))
        size = sum(len(blob) + 3 * len(term) + 8 for term, blob in postings.items())
        buckets = max(1, math.ceil(size / BUCKET_BYTES))
        segment = uuid.uuid4().hex[:16]
        terms: list[list[str]] = [[] for _ in range(buckets)]
        for term in postings:
            terms[bucket_of(term, buckets)].append(term)
        for start in range(0, buckets, _WRITE_BUCKETS):
            docs = [{"_id": f"{segment}/{b}", "p": {term: Binary(bytes(postings.pop(term))) for term in terms[b]}}
                    for b in range(start, min(start + _WRITE_BUCKETS, buckets)) if terms[b]]
            if docs:
                self.postings.insert_many(docs, ordered=False)
        self.segments.insert_one({
            "_id": segment, "tier": tier_of(articles), "articles": articles, "buckets": buckets,
            "bytes": size, "first": first, "last": last, "state": "live", "created": datetime.now(timezone.utc),
            "format": fmt, "filters": filters,
        })
        return segment

    def merge(self, *, rounds: int = 20) -> int:
        """Merge full tiers (FANOUT segments of one tier); how many merges were made.

        Segments are claimed one by one with a conditional update, so concurrent writers
        (several crawl processes) never merge the same segment twice; a claim older than
        CLAIM_TIMEOUT (a crashed merge) can be taken over.
        """
        merges = 0
        for _round in range(rounds):
            group = self._full_tier()
            if not group:
                break
            claimed = self._claim(group)
            if len(claimed) < len(group):
                self._release(claimed)
                break
            self._merge(claimed)
            merges += 1
        return merges

    def _full_tier(self) -> list[dict[str, Any]]:
        stale = datetime.now(timezone.utc) - CLAIM_TIMEOUT
        tiers: dict[int, list[dict[str, Any]]] = {}
        for seg in self.segments.find({}, {"_id": 1, "tier": 1, "state": 1, "claimed": 1, "created": 1}):
            claimed = seg.get("claimed")
            if seg.get("state") == "merging" and isinstance(claimed, datetime) and _aware(claimed) > stale:
                continue
            if seg.get("tier", 0) < MAX_MERGE_TIER:
                tiers.setdefault(seg.get("tier", 0), []).append(seg)
        for tier in sorted(tiers):
            if len(tiers[tier]) >= FANOUT:
                return sorted(tiers[tier], key=lambda s: _aware(s["created"]))[:FANOUT]
        return []

    def _claim(self, group: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        now = datetime.now(timezone.utc)
        claimed = []
        for seg in group:
            condition: dict[str, Any] = {"_id": seg["_id"], "state": seg.get("state", "live")}
            if seg.get("state") == "merging":
                condition["claimed"] = seg.get("claimed")
            if self.segments.update_one(condition, {"$set": {"state": "merging", "claimed": now}}).modified_count:
                claimed.append(seg)
            else:
                break
        return claimed

    def _release(self, claimed: Sequence[Mapping[str, Any]]) -> None:
        for seg in claimed:
            self.segments.update_one({"_id": seg["_id"]}, {"$set": {"state": "live"}, "$unset": {"claimed": ""}})

    def _merge(self, group: Sequence[Mapping[str, Any]]) -> None:
        """Concatenate the group's postings into one segment, then drop the group."""
        metas = list(self.segments.find({"_id": {"$in": [s["_id"] for s in group]}}))
        merged: dict[str, bytearray] = {}
        for doc in self._bucket_docs(metas):
            for term, blob in (doc.get("p") or {}).items():
                merged.setdefault(term, bytearray()).extend(blob)
        articles = sum(int(m.get("articles") or 0) for m in metas)
        first = min(int(m.get("first", 0)) for m in metas)
        last = max(int(m.get("last", 2**32 - 1)) for m in metas)
        self._write_segment(merged, articles, first, last, min(int(m.get("format") or 1) for m in metas))
        self._drop(metas)

    def _bucket_docs(self, metas: Sequence[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
        ids = [f"{m['_id']}/{b}" for m in metas for b in range(int(m.get("buckets") or 1))]
        for chunk in _chunks(ids, _ID_CHUNK):
            yield from self.postings.find({"_id": {"$in": list(chunk)}})

    def _drop(self, metas: Sequence[Mapping[str, Any]]) -> None:
        """Forget segments: the entry first (readers stop using it), then its buckets."""
        self.segments.delete_many({"_id": {"$in": [m["_id"] for m in metas]}})
        ids = [f"{m['_id']}/{b}" for m in metas for b in range(int(m.get("buckets") or 1))]
        for chunk in _chunks(ids, _ID_CHUNK):
            self.postings.delete_many({"_id": {"$in": list(chunk)}})

    def clear(self) -> None:
        """Drop the whole index (reindex rebuilds it)."""
        self.segments.drop()
        self.postings.drop()

    # -- reading ----------------------------------------------------------------------------

    def live_segments(self) -> list[dict[str, Any]]:
        """Segments a search reads: live ones and ones being merged (still complete)."""
        return list(self.segments.find({}, {"_id": 1, "buckets": 1, "articles": 1, "first": 1, "last": 1,
                                            "format": 1, "filters": 1}))

    def read(self, terms: Sequence[str], segments: Sequence[Mapping[str, Any]] | None = None) -> dict[str, bytes]:
        """term -> all its postings (concatenated over segments, possibly with repeats).

        One `_id` $in query per 100 bucket documents, projected to the wanted terms: the
        cost follows the number of segments and terms, not the collection's size.
        """
        if segments is None:
            segments = self.live_segments()
        wanted = list(dict.fromkeys(terms))
        ids = sorted({f"{s['_id']}/{bucket_of(t, int(s.get('buckets') or 1))}" for s in segments for t in wanted})
        old = {str(s["_id"]) for s in segments if int(s.get("format") or 1) < 2}
        # in a format-1 segment a start term is read as its plain bigram (see FORMAT)
        stand_in = {t[1:]: t for t in wanted if t.startswith(START)} if old else {}
        parts: dict[str, list[bytes]] = {t: [] for t in wanted}
        projection = {f"p.{t}": 1 for t in [*wanted, *stand_in]}
        for chunk in _chunks(ids, _ID_CHUNK):
            for doc in self.postings.find({"_id": {"$in": list(chunk)}}, projection):
                is_old = str(doc["_id"]).split("/", 1)[0] in old
                for term, blob in (doc.get("p") or {}).items():
                    if term in parts:
                        parts[term].append(bytes(blob))
                    if is_old and term in stand_in:
                        parts[stand_in[term]].append(bytes(blob))
        return {t: b"".join(p) for t, p in parts.items()}

    def article_count(self, segments: Sequence[Mapping[str, Any]] | None = None) -> int:
        """Articles indexed (counting a revised article once per version still held)."""
        if segments is None:
            segments = self.live_segments()
        return sum(int(s.get("articles") or 0) for s in segments)


def reindex(
    db: Database[Any],
    *,
    full: bool = False,
    batch_size: int = 1000,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Index stored articles without postings (all of them with `full`); how many were indexed.

    Reads the articles in `_id` order, batch by batch (one segment per batch, merged as it
    goes), so it can be stopped and started again: what was indexed is marked. `progress`
    is called with (done, total). The unindexed ones are found by a collection scan: this
    is maintenance, run once after an upgrade or with --full to drop stale postings.
    """
    articles = db.get_collection(COLLECTION, codec_options=db.codec_options.with_options(tz_aware=True, tzinfo=timezone.utc))
    index = SearchIndex(db)
    if full:
        index.clear()
        query: dict[str, Any] = {}
    else:
        query = {"search_indexed": {"$ne": INDEX_VERSION}}
    ids = [d["_id"] for d in articles.find(query, {"_id": 1})]
    total = len(ids)
    done = 0
    if progress:
        progress(0, total)
    for chunk in _chunks(ids, batch_size):
        docs: list[dict[str, Any]] = []
        for small in _chunks(chunk, _ID_CHUNK):
            docs.extend(articles.find({"_id": {"$in": list(small)}}, SOURCE_FIELDS))
        indexed = index.add(docs)
        index.mark_indexed(articles, indexed)
        done += len(chunk)
        if progress:
            progress(done, total)
    return done


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
