"""The `articles` collection: one document per canonical URL, written in idempotent batches.

Every query here filters on an indexed field. The embedded SecantusDB server scans the
whole collection for any read not bounded by an indexed range (so even find().limit(20)
grows with the collection, while a read inside an indexed date range costs what it
returns), and it has no $text index; so there is no "latest N overall" without a lower
time bound, and nothing here depends on text search.

Why one module: a batch write decides per document new, updated, unchanged, duplicate or
alias from the stored versions, keeps the replaced version in `article_revisions`, and
names the batch in the search queue before writing the articles (crawler.search.queue
relies on that order); those steps share the indexes, the field lists and the retry of
rounds that lose a race with a concurrent insert, and the reads of the same collection
(by URL, story, time range) share its indexes and projections.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Literal

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, InsertOne, UpdateOne
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError

log = logging.getLogger(__name__)

COLLECTION = "articles"
INDEX_VERSION = 1  # crawler.search.index.INDEX_VERSION: `search_indexed` of an indexed article
# New and changed articles waiting for the search index: {_id, ids: [article _id], n, created},
# one per write round, drained in large segments by crawler.search.queue.drain.
SEARCH_QUEUE = "search_queue"
QUEUE_WRITER = "writer"  # `owner` of a queue entry whose articles are being written

NEW = "new"
UPDATED = "updated"
UNCHANGED = "unchanged"
DUPLICATE = "duplicate"  # an earlier copy of a canonical_url that recurs later in the batch
ALIAS = "alias"  # the same body as a stored article of the outlet: recorded as its alias URL
ERROR = "error"
REVISIONS = "article_revisions"
# Fields kept in article_revisions when a recrawl finds the title or body changed.
REVISED_FIELDS = ("title", "subtitle", "body", "authors", "modified", "content_hash", "body_hash", "revision", "last_seen")

# Set by the store, never taken from the caller: a document read back with get() and
# passed to upsert_many again must not move first_seen or try to rewrite _id.
STORE_MANAGED = frozenset({"_id", "first_seen", "last_seen", "search_indexed"})
# A None here means "not known this time" (a recrawl keeps its story; a page without a printed
# 수정 keeps a detected one), never "clear it": an update leaves the stored value alone.
STICKY_WHEN_NONE = frozenset({"story_id", "story_similarity", "story_closest", "minhash", "story_shingles",
                              "story_numbers", "modified"})

# $in values per query. SecantusDB's cost per value grows with the length of the list, so
# many short lists beat a few long ones there; for MongoDB 100 is merely fine.
_LOOKUP_CHUNK = 100
_WRITE_ROUNDS = 3  # one normal round plus retries after concurrent inserts
_DUPLICATE_KEY = 11000

INDEXES = [
    IndexModel([("canonical_url", ASCENDING)], unique=True),
    IndexModel([("outlet", ASCENDING), ("published", ASCENDING)]),
    IndexModel([("published", ASCENDING)]),
    IndexModel([("first_seen", ASCENDING)]),
    IndexModel([("content_hash", ASCENDING)]),
    IndexModel([("story_id", ASCENDING)], sparse=True),
    IndexModel([("outlet", ASCENDING), ("body_hash", ASCENDING)]),
    IndexModel([("aliases", ASCENDING)], sparse=True),
    IndexModel([("sido", ASCENDING), ("published", ASCENDING)]),  # filters and counts by 시도 / 시군구
    IndexModel([("sigungu", ASCENDING), ("published", ASCENDING)]),
]
REVISION_INDEXES = [IndexModel([("canonical_url", ASCENDING), ("revision", ASCENDING)], unique=True)]


@dataclass
class UpsertResult:
    """What one upsert_many call did, so pipelines can count it in crawl stats.

    `outcomes` is in input order: "new", "updated", "unchanged", "duplicate" (an
    earlier copy of a URL repeated later in the same batch; the later copy was written
    and counted) or "error" (explained in `errors`).
    """

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    revised: int = 0  # of `updated`: title or body changed, previous version kept in article_revisions
    aliases: int = 0  # documents recorded as alias URLs of a stored article
    queued: int = 0  # new or changed articles named in `search_queue` for the search index


def _check_aware(value: Any, path: str) -> None:
    """Reject naive datetimes (and bare dates) anywhere in a field value.

    pymongo would store a naive datetime as if it were UTC; a KST wall-clock time
    stored that way is silently nine hours off, so it is refused here instead.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"{path} is a naive datetime ({value.isoformat()}); "
                "give it a timezone (KST is +09:00) so it is stored as the right instant"
            )
    elif isinstance(value, date):
        raise ValueError(f"{path} is a date ({value.isoformat()}); BSON stores datetimes only")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _check_aware(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_aware(item, f"{path}[{index}]")


def _prepare(position: int, doc: Mapping[str, Any]) -> dict[str, Any]:
    """Validate one input document and return the fields to store."""
    url = doc.get("canonical_url")
    where = f"document {position} ({url!r})"
    if not isinstance(url, str) or not url:
        raise ValueError(f"document {position}: canonical_url must be a non-empty string")
    content_hash = doc.get("content_hash")
    if not isinstance(content_hash, str) or not content_hash:
        raise ValueError(f"{where}: content_hash must be a non-empty string")
    fields: dict[str, Any] = {}
    for key, value in doc.items():
        if key in STORE_MANAGED:
            continue
        if not isinstance(key, str) or not key or key.startswith("$") or "." in key:
            raise ValueError(f"{where}: field name {key!r} cannot be stored as a top-level field")
        _check_aware(value, f"{where}: field {key}")
        fields[key] = value
    return fields


def _squash(text: Any) -> str:
    """Text without whitespace: a spacing fix is not a revision."""
    return "".join(str(text or "").split())


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _is_url_conflict(error: Mapping[str, Any]) -> bool:
    if error.get("code") != _DUPLICATE_KEY:
        return False
    return "canonical_url" in error.get("keyPattern", {}) or "canonical_url" in str(
        error.get("errmsg", "")
    )


class ArticleStore:
    """Reads and writes the `articles` collection of one database."""

    def __init__(self, db: Database[Any], *, search: bool = True) -> None:
        """Wrap `db`; datetimes are always read back aware in UTC, whatever the client.

        With `search` (the default) every write round names its new and changed articles in
        `search_queue`, for crawler.search.queue.drain to index later in large segments
        (building postings per small batch was most of the store writer's CPU). Without
        it they are only left unmarked, for `newsdesk search --reindex`'s scan.
        """
        options = db.codec_options.with_options(tz_aware=True, tzinfo=timezone.utc)
        self.collection: Collection[dict[str, Any]] = db.get_collection(
            COLLECTION, codec_options=options
        )
        self.revisions: Collection[dict[str, Any]] = db.get_collection(REVISIONS, codec_options=options)
        self.search_queue: Collection[dict[str, Any]] | None = (
            db.get_collection(SEARCH_QUEUE, codec_options=options) if search else None
        )

    def ensure_indexes(self) -> list[str]:
        """Create the indexes every query here relies on; safe to call at every start."""
        self.revisions.create_indexes(REVISION_INDEXES)
        return self.collection.create_indexes(INDEXES)

    # -- writes ---------------------------------------------------------------------------

    def upsert_many(
        self, docs: Sequence[Mapping[str, Any]], *, now: datetime | None = None
    ) -> UpsertResult:
        """Insert new articles, rewrite changed ones, touch `last_seen` of unchanged ones.

        "Changed" means a different content_hash: an unchanged document gets only
        last_seen, so content_hash must cover every field whose change should be stored.
        Changed documents get their given fields $set (fields absent from the new
        version are left as they were; pass None to clear one). first_seen is set once.
        One $in read classifies the batch and one unordered bulk write applies it;
        new articles are inserts, so an article another writer inserted meanwhile shows
        up as a duplicate-key error and is re-read and written as an update, not lost.
        Validation runs on the whole batch before anything is written: ValueError
        naming the document and field for a naive datetime, a bare date, a missing
        canonical_url or content_hash. No search postings are built here: new and changed
        articles are named in `search_queue` (see _write_round) and left without
        `search_indexed` until crawler.search.queue.drain indexes them.
        """
        if now is None:
            now = datetime.now(timezone.utc)
        _check_aware(now, "now")
        outcomes: list[str] = [""] * len(docs)
        revised: list[str] = []  # URLs whose previous version was kept, across write rounds
        pending: dict[str, tuple[int, dict[str, Any]]] = {}
        aliases: list[tuple[int, str, str]] = []
        alias_fields: dict[int, dict[str, Any]] = {}
        for position, doc in enumerate(docs):
            fields = _prepare(position, doc)
            url = fields["canonical_url"]
            target = fields.pop("alias_of", None)
            if target and target != url:
                aliases.append((position, url, target))
                alias_fields[position] = fields
                continue
            if url in pending:
                outcomes[pending[url][0]] = DUPLICATE
            pending[url] = (position, fields)

        if aliases:
            aliases = self._resolve_aliases(aliases, alias_fields, pending)
        errors: list[str] = []
        queued: set[ObjectId] = set()  # _ids named in search_queue, across write rounds
        for _round in range(_WRITE_ROUNDS):
            if not pending:
                break
            pending = self._write_round(pending, now, outcomes, errors, revised, queued)
        for url, (position, _fields) in pending.items():
            outcomes[position] = ERROR
            errors.append(f"{url}: still conflicting after {_WRITE_ROUNDS} write attempts")
        if aliases:
            # after the inserts: an alias may point at an article new in this very batch
            self.collection.bulk_write(
                [UpdateOne({"canonical_url": target}, {"$addToSet": {"aliases": url}, "$set": {"last_seen": now}})
                 for _position, url, target in aliases],
                ordered=False,
            )
            for position, _url, _target in aliases:
                outcomes[position] = ALIAS
        return UpsertResult(
            new=outcomes.count(NEW),
            updated=outcomes.count(UPDATED),
            unchanged=outcomes.count(UNCHANGED),
            errors=errors,
            outcomes=outcomes,
            revised=len(revised),
            aliases=len(aliases),
            queued=len(queued),
        )

    def _write_round(
        self,
        pending: Mapping[str, tuple[int, dict[str, Any]]],
        now: datetime,
        outcomes: list[str],
        errors: list[str],
        revised: list[str],
        queued: set[ObjectId],
    ) -> dict[str, tuple[int, dict[str, Any]]]:
        """Classify and write `pending`; return the ones that lost an insert race.

        New and changed articles are named in `search_queue` *before* they are written (new
        ones get their _id here), so a crash between the two writes leaves at worst a queue
        entry naming an article that is not stored, or not changed: never a stored article
        that neither the index nor the queue knows. Changed articles lose `search_indexed`
        (their postings are of the previous version); `queued` collects the _ids.
        """
        stored = self._stored_states(list(pending))
        changed = [
            url for url, (_p, fields) in pending.items()
            if url in stored and stored[url].get("content_hash") != fields["content_hash"]
            and (stored[url].get("body_hash") != fields.get("body_hash")
                 or _squash(stored[url].get("title")) != _squash(fields.get("title")))
        ]
        previous = self._previous_versions(changed)
        ops: list[InsertOne[dict[str, Any]] | UpdateOne] = []
        op_urls: list[str] = []
        to_index: dict[str, ObjectId] = {}  # url -> _id, for search_queue
        for url, (position, fields) in pending.items():
            if url not in stored:
                to_index[url] = ObjectId()
                ops.append(InsertOne({"_id": to_index[url], **fields, "first_seen": now, "last_seen": now}))
                outcomes[position] = NEW
            elif stored[url].get("content_hash") == fields["content_hash"]:
                ops.append(UpdateOne({"canonical_url": url}, {"$set": {"last_seen": now}}))
                outcomes[position] = UNCHANGED
            else:
                changes = {k: v for k, v in fields.items() if not (v is None or v == []) or k not in STICKY_WHEN_NONE}
                if url in previous:
                    changes.update(self._revise(previous[url], fields, now))
                    revised.append(url)
                update = {"$set": {**changes, "last_seen": now}, "$setOnInsert": {"first_seen": now},
                          "$unset": {"search_indexed": ""}}
                # (upsert=True inserts only if the article was deleted since it was read: newsdesk
                # never deletes articles, and the reindex scan would find that one unmarked)
                to_index[url] = stored[url]["_id"]
                ops.append(UpdateOne({"canonical_url": url}, update, upsert=True))
                outcomes[position] = UPDATED
            op_urls.append(url)

        entry = None
        if self.search_queue is not None and to_index:
            ids = list(to_index.values())
            entry = self._queue_for_search(ids)
            queued.update(ids)
        retry: dict[str, tuple[int, dict[str, Any]]] = {}
        try:
            self.collection.bulk_write(ops, ordered=False)
        except BulkWriteError as exc:
            for error in exc.details.get("writeErrors", []):
                url = op_urls[error["index"]]
                position = pending[url][0]
                if url in to_index and url not in stored:
                    queued.discard(to_index[url])  # not inserted: its queued _id names nothing
                if _is_url_conflict(error):
                    retry[url] = pending[url]
                else:
                    outcomes[position] = ERROR
                    errors.append(f"{url}: {error.get('errmsg')} (code {error.get('code')})")
            for error in exc.details.get("writeConcernErrors", []):
                errors.append(f"write concern: {error.get('errmsg')} (code {error.get('code')})")
        except BaseException:
            if entry is not None:
                self._release_queue_entry(entry, quiet=True)
            raise
        if entry is not None:
            self._release_queue_entry(entry)
        return retry

    def _queue_for_search(self, ids: list[ObjectId]) -> ObjectId:
        """Name `ids` in search_queue, claimed by this writer until its write is done.

        The claim keeps drains (crawler.search.queue) from reading the articles before this
        round has written them, which would index the old version and delete the entry; a
        writer that dies leaves the claim, which drains take over after their timeout.
        """
        assert self.search_queue is not None
        now = datetime.now(timezone.utc)
        entry = ObjectId()
        self.search_queue.insert_one({"_id": entry, "ids": ids, "n": len(ids), "created": now,
                                      "claimed": now, "owner": QUEUE_WRITER})
        return entry

    def _release_queue_entry(self, entry: ObjectId, *, quiet: bool = False) -> None:
        assert self.search_queue is not None
        try:
            self.search_queue.update_one({"_id": entry, "owner": QUEUE_WRITER}, {"$unset": {"claimed": "", "owner": ""}})
        except Exception:
            if not quiet:
                raise
            log.warning("search queue entry %s left claimed; a drain takes it over after its claim timeout", entry)

    def _resolve_aliases(
        self,
        aliases: list[tuple[int, str, str]],
        alias_fields: Mapping[int, dict[str, Any]],
        pending: dict[str, tuple[int, dict[str, Any]]],
    ) -> list[tuple[int, str, str]]:
        """Keep only aliases that can be recorded; write the others as articles of their own.

        An alias URL that already has its own document is that article (updated as usual);
        a target that is stored nowhere (and not in this batch) cannot carry the alias, so
        the document is stored under its own URL rather than vanish; a target that is itself
        an alias is followed to its article, so aliases never chain or loop.
        """
        urls = [u for _p, u, _t in aliases] + [t for _p, _u, t in aliases]
        stored = self._stored_states(urls)
        owners = {}
        for chunk in _chunks(list({t for _p, _u, t in aliases}), _LOOKUP_CHUNK):
            for doc in self.collection.find({"aliases": {"$in": list(chunk)}}, {"_id": 0, "canonical_url": 1, "aliases": 1}):
                for alias in doc.get("aliases") or []:
                    owners[alias] = doc["canonical_url"]
        kept: list[tuple[int, str, str]] = []
        for position, url, target in aliases:
            target = owners.get(target, target)
            if url in stored or url == target or (target not in stored and target not in pending):
                pending[url] = (position, alias_fields[position])
            else:
                kept.append((position, url, target))
        return kept

    def _previous_versions(self, urls: Sequence[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        projection = {"_id": 0, "canonical_url": 1, **{name: 1 for name in REVISED_FIELDS}}
        for chunk in _chunks(list(urls), _LOOKUP_CHUNK):
            for doc in self.collection.find({"canonical_url": {"$in": list(chunk)}}, projection):
                found[doc["canonical_url"]] = doc
        return found

    def _revise(self, previous: dict[str, Any], fields: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        """Keep the previous version in article_revisions; return the article's extra changes.

        Revisions are numbered from 0 (the first stored version). A page that printed no
        수정 time gets `modified` = when the change was seen; a printed one is kept.
        """
        number = int(previous.get("revision") or 0)
        kept = {name: previous.get(name) for name in REVISED_FIELDS if name != "revision"}
        try:
            self.revisions.insert_one({"canonical_url": previous["canonical_url"], "revision": number, "replaced_at": now, **kept})
        except DuplicateKeyError:
            pass  # a retried write: this version is already kept
        changes: dict[str, Any] = {"revision": number + 1}
        if fields.get("modified") is None or fields.get("modified") == previous.get("modified"):
            changes["modified"] = now
            changes["modified_detected"] = True
        return changes

    def revisions_of(self, canonical_url: str) -> list[dict[str, Any]]:
        """Earlier versions of an article, oldest first (indexed on canonical_url, revision)."""
        return list(self.revisions.find({"canonical_url": canonical_url}, {"_id": 0}).sort("revision", ASCENDING))

    def story(self, story_id: str) -> list[dict[str, Any]]:
        """Every stored copy of a story (indexed on story_id), earliest published first."""
        projection = {"_id": 0, "outlet": 1, "canonical_url": 1, "title": 1, "published": 1,
                      "first_seen": 1, "story_similarity": 1, "story_closest": 1, "aliases": 1}
        docs = list(self.collection.find({"story_id": story_id}, projection))
        return sorted(docs, key=lambda d: (d.get("published") or d.get("first_seen") or datetime.max.replace(tzinfo=timezone.utc)))

    def find_by_url(self, url: str) -> dict[str, Any] | None:
        """The article at `url`, as its canonical URL or as one of its aliases (both indexed)."""
        return self.collection.find_one({"canonical_url": url}) or self.collection.find_one({"aliases": url})

    _SIGNATURE_FIELDS = {"_id": 0, "canonical_url": 1, "minhash": 1, "story_id": 1, "outlet": 1, "body_hash": 1,
                         "title": 1, "story_shingles": 1, "story_numbers": 1, "first_seen": 1}

    def signatures_since(self, since: datetime) -> Iterator[dict[str, Any]]:
        """(canonical_url, minhash, story_id, outlet, body_hash) of articles first seen since
        `since`: the story index's rebuild, bounded by the indexed first_seen range."""
        _check_aware(since, "since")
        yield from self.collection.find({"first_seen": {"$gte": since}}, self._SIGNATURE_FIELDS)

    def urls_first_seen_since(self, since: datetime) -> list[str]:
        """Canonical URLs of the articles first seen since `since` (the story index's refresh
        asks which of them it lacks before it reads any signature)."""
        _check_aware(since, "since")
        return [doc["canonical_url"] for doc in self.collection.find({"first_seen": {"$gte": since}},
                                                                      {"_id": 0, "canonical_url": 1})]

    def signatures_of(self, canonical_urls: Sequence[str]) -> Iterator[dict[str, Any]]:
        """What signatures_since() returns, for the articles stored under these canonical URLs."""
        for chunk in _chunks(canonical_urls, _LOOKUP_CHUNK):
            yield from self.collection.find({"canonical_url": {"$in": list(chunk)}}, self._SIGNATURE_FIELDS)

    def scan(self, after: ObjectId | None, limit: int, fields: Sequence[str]) -> list[dict[str, Any]]:
        """Up to `limit` articles with `_id` > `after`, in `_id` order, with `fields`: a resumable
        walk over the whole collection in batches (the _id index)."""
        query: dict[str, Any] = {"_id": {"$gt": after}} if after is not None else {}
        projection = {"_id": 1, **{name: 1 for name in fields}}
        return list(self.collection.find(query, projection).sort("_id", ASCENDING).limit(limit))

    def set_fields(self, updates: Sequence[tuple[ObjectId, Mapping[str, Any]]]) -> int:
        """$set derived fields (places) on stored articles, one bulk write; content_hash, revisions
        and the search queue are untouched: these fields are not content. Returns how many."""
        if not updates:
            return 0
        for _id, fields in updates:
            for key, value in fields.items():
                if key in STORE_MANAGED or key == "canonical_url" or key.startswith("$") or "." in key:
                    raise ValueError(f"{key!r} cannot be set on a stored article here")
                _check_aware(value, f"article {_id}: field {key}")
        result = self.collection.bulk_write([UpdateOne({"_id": _id}, {"$set": dict(fields)}) for _id, fields in updates],
                                            ordered=False)
        return int(result.matched_count)

    # -- reads ----------------------------------------------------------------------------

    def _stored_states(self, urls: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Hashes and title of stored articles: enough to tell new, unchanged, updated, revised."""
        found: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(urls, _LOOKUP_CHUNK):
            cursor = self.collection.find(
                {"canonical_url": {"$in": list(chunk)}},
                {"_id": 1, "canonical_url": 1, "content_hash": 1, "body_hash": 1, "title": 1},
            )
            for doc in cursor:
                found[doc["canonical_url"]] = doc
        return found

    def known_urls(self, canonical_urls: Iterable[str]) -> dict[str, datetime | None]:
        """canonical_url -> published for the given URLs already stored (or stored as aliases).

        Spiders call this per list page to skip articles they already have and to stop
        paging once a whole page is known.
        """
        return {url: state["published"] for url, state in self.known_states(canonical_urls).items()}

    def known_states(self, canonical_urls: Iterable[str]) -> dict[str, dict[str, Any]]:
        """url -> {published, last_seen} for stored URLs, canonical or alias.

        Two $in queries, each on its own index: a $or of the two makes SecantusDB scan the
        collection, whose cost grows with every crawl.
        """
        urls = list(dict.fromkeys(canonical_urls))
        found: dict[str, dict[str, Any]] = {}
        projection = {"_id": 0, "canonical_url": 1, "published": 1, "last_seen": 1, "aliases": 1}
        for chunk in _chunks(urls, _LOOKUP_CHUNK):
            wanted = set(chunk)
            for key in ("canonical_url", "aliases"):
                for doc in self.collection.find({key: {"$in": list(chunk)}}, projection):
                    for url in [doc["canonical_url"], *(doc.get("aliases") or [])]:
                        if url in wanted:
                            found[url] = {"published": doc.get("published"), "last_seen": doc.get("last_seen")}
        return found

    def get(self, canonical_url: str) -> dict[str, Any] | None:
        """The stored article for a canonical URL, or None."""
        return self.collection.find_one({"canonical_url": canonical_url})

    def count(self, outlet: str | None = None) -> int:
        """Number of stored articles, overall or for one outlet.

        Overall is estimated_document_count: metadata on MongoDB; SecantusDB walks the
        collection, but several times faster than count_documents({}).
        Per outlet filters on `outlet`, the prefix of the (outlet, published) index, so
        its cost follows that outlet's size.
        """
        if outlet is None:
            return self.collection.estimated_document_count()
        return self.collection.count_documents({"outlet": outlet})

    def latest(
        self,
        outlet: str | None,
        limit: int,
        since: datetime,
        *,
        by: Literal["published", "first_seen"] = "published",
    ) -> list[dict[str, Any]]:
        """The newest articles (by `by`, descending) with `by` >= `since`.

        `since` is required because the range on an indexed date is what keeps this
        fast on SecantusDB; a sort+limit without one reads the whole collection there
        even with the index. Keep it tight: the cost follows the documents in the range.
        """
        if by not in ("published", "first_seen"):
            raise ValueError(f"by must be 'published' or 'first_seen', not {by!r}")
        if limit <= 0:
            raise ValueError(f"limit must be positive, not {limit}")
        _check_aware(since, "since")
        query: dict[str, Any] = {by: {"$gte": since}}
        if outlet is not None:
            query["outlet"] = outlet
        cursor = self.collection.find(query).sort(by, DESCENDING).limit(limit)
        return list(cursor)
