"""Indexing off the write path: the store queues new and changed articles, `drain` indexes them.

Why: built per write batch, the postings were most of the store writer's CPU (a segment
of tens of thousands of terms per small batch, a bson.Binary each, and tiered merges
re-reading and re-writing the small segments). Analysts can wait a minute for a new
article; the crawl should not wait for the index. So ArticleStore.upsert_many only names the _ids of new and
changed articles in `search_queue` ({_id, ids, n, created}, written before the articles
themselves), and `drain` turns many queue entries into one large segment.

Nothing is lost, whatever crashes where:
- the queue entry is written before the articles, so a stored article is either indexed,
  or named in the queue (`newsdesk search --reindex`'s scan of unmarked articles remains the
  safety net for anything else, such as a database restored from an old backup). The writer
  holds a claim on its entry until its articles are written, so no drain indexes the old
  version of a changed article and deletes the entry meanwhile;
- `drain` claims queue entries one by one with a conditional update (never two drains on
  one entry) and deletes them only after the segment and the `search_indexed` marks are
  written; a drain that dies leaves its claims, which another takes over after
  CLAIM_TIMEOUT. An article indexed twice (a crash after the postings, before the delete)
  costs a duplicate posting, which search ignores.

Runs at the end of every crawl (crawler.crawl.extensions.search_index), periodically in the scheduler
(`newsdesk run`, NEWSDESK_SEARCH_INDEX_SECONDS), and before `newsdesk search --reindex`.
The queue's claim-and-delete protocol is the search package's own, so it works on
`search_queue` directly; the database and collection types come from crawler.store.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from crawler.search.index import _ID_CHUNK, SOURCE_FIELDS, SearchIndex, _chunks
from crawler.store import Collection, Database
from crawler.store.articles import COLLECTION, QUEUE_WRITER, SEARCH_QUEUE

log = logging.getLogger(__name__)

# Articles per segment a drain writes. Larger segments cost less CPU per article (fewer,
# larger postings and merges; bench/search_bench.py --drain measures it per segment size) but
# hold more postings in memory while built (in the crawl process, at its end): past this size
# the CPU saving levels off while the memory keeps growing.
SEGMENT_ARTICLES = 2000
CLAIM_TIMEOUT = timedelta(minutes=10)  # a drain that died releases its queue entries after this


@dataclass
class DrainResult:
    """What one drain did."""

    indexed: int = 0  # articles given postings
    entries: int = 0  # queue entries done (deleted)
    segments: int = 0  # segments written (before merges)
    missing: int = 0  # queued _ids no longer stored (a write that never happened, or lost a race)
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this thread's CPU time (the database server's is not included)


def pending(db: Database[Any]) -> int:
    """Articles waiting in the queue (an article queued twice counts twice); reads the
    small queue collection whole, so it is cheap while drains keep up."""
    return sum(int(entry.get("n") or 0) for entry in db[SEARCH_QUEUE].find({}, {"_id": 0, "n": 1}))


def drain(
    db: Database[Any],
    *,
    segment_articles: int = SEGMENT_ARTICLES,
    max_seconds: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    claim_timeout: timedelta = CLAIM_TIMEOUT,
) -> DrainResult:
    """Index the articles named in `search_queue`, `segment_articles` per segment; what was done.

    Claims about `segment_articles` articles' worth of queue entries at a time, indexes the
    articles as they are stored now (one read, so an article changed twice is indexed once,
    in its latest version), marks them `search_indexed`, then deletes the entries. Stops
    when nothing claimable is left, or once `max_seconds` have passed (after the segment
    under way). Safe with any number of drains at once. `progress(done, total)`: articles
    done so far and the queue's size at the start plus what was done (it can grow meanwhile).
    A database error propagates after this drain's unfinished claims are released.
    """
    started = time.monotonic()
    cpu_started = time.thread_time()
    options = db.codec_options.with_options(tz_aware=True, tzinfo=timezone.utc)
    db = db.with_options(codec_options=options)
    queue: Collection[dict[str, Any]] = db[SEARCH_QUEUE]
    articles: Collection[dict[str, Any]] = db[COLLECTION]
    index = SearchIndex(db)
    owner = uuid.uuid4().hex
    result = DrainResult()
    total = pending(db) if progress else 0
    if progress:
        progress(0, total)
    while max_seconds is None or time.monotonic() - started < max_seconds:
        claimed = _claim(queue, owner, max(1, segment_articles), claim_timeout)
        if not claimed:
            break
        try:
            ids = list(dict.fromkeys(i for entry in queue.find({"_id": {"$in": claimed}, "owner": owner}, {"ids": 1})
                                     for i in entry.get("ids") or []))
            found = [0]
            indexed = index.add(_read(articles, ids, found))  # read lazily: only the postings are held
            index.mark_indexed(articles, indexed)
            queue.delete_many({"_id": {"$in": claimed}, "owner": owner})
        except BaseException:
            _release(queue, owner, claimed)
            raise
        result.indexed += len(indexed)
        result.missing += len(ids) - found[0]
        result.entries += len(claimed)
        result.segments += 1 if indexed else 0
        if progress:
            progress(result.indexed, max(total, result.indexed))
    result.seconds = time.monotonic() - started
    result.cpu_seconds = time.thread_time() - cpu_started
    return result


def _read(articles: Collection[dict[str, Any]], ids: Sequence[Any], found: list[int]) -> Iterator[dict[str, Any]]:
    """The articles' indexed fields, _ID_CHUNK per query; counts them in found[0]."""
    for chunk in _chunks(ids, _ID_CHUNK):
        for doc in articles.find({"_id": {"$in": list(chunk)}}, SOURCE_FIELDS):
            found[0] += 1
            yield doc


def _claim(queue: Collection[dict[str, Any]], owner: str, want: int, timeout: timedelta) -> list[Any]:
    """Claim queue entries, oldest first, until they name `want` articles; their _ids.

    Each claim is a conditional update on the state that was read (unclaimed, or the very
    claim that went stale), so of two drains racing for an entry exactly one gets it.
    """
    now = datetime.now(timezone.utc)
    stale = now - timeout
    entries = list(queue.find({}, {"_id": 1, "n": 1, "claimed": 1, "owner": 1, "created": 1}))
    entries.sort(key=lambda e: _aware(e.get("created")))
    claimed: list[Any] = []
    articles = 0
    for entry in entries:
        if articles >= want:
            break
        seen = entry.get("claimed")
        if isinstance(seen, datetime) and _aware(seen) > stale:
            continue  # another drain is on it
        condition: dict[str, Any] = {"_id": entry["_id"], "claimed": seen if seen is not None else {"$exists": False}}
        if queue.update_one(condition, {"$set": {"claimed": now, "owner": owner}}).modified_count:
            if seen is not None:
                log.warning("search queue: took over entry %s claimed by %s at %s (it died?)", entry["_id"],
                            "its writer" if entry.get("owner") == QUEUE_WRITER else "a drain", seen)
            claimed.append(entry["_id"])
            articles += int(entry.get("n") or 0)
    return claimed


def _release(queue: Collection[dict[str, Any]], owner: str, claimed: Sequence[Any]) -> None:
    """Give claimed entries back (best effort: if the database is gone, the claims go stale)."""
    try:
        queue.update_many({"_id": {"$in": list(claimed)}, "owner": owner}, {"$unset": {"claimed": "", "owner": ""}})
    except Exception as exc:  # noqa: BLE001 - the original error matters more; claims expire
        log.warning("search queue: could not release %d claimed entries (%s); they expire in %s",
                    len(claimed), exc, CLAIM_TIMEOUT)


def _aware(value: Any) -> datetime:
    if not isinstance(value, datetime):
        return datetime.min.replace(tzinfo=timezone.utc)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
