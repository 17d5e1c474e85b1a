"""The search queue: the store names new and changed articles, drains index them in segments."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from pymongo.errors import PyMongoError

from crawler.search import drain, pending, search
from crawler.search import index as search_index
from crawler.store import ArticleStore

from .conftest import CORPUS, article


def queued_ids(db) -> list:
    return [i for entry in db.search_queue.find() for i in entry["ids"]]


def ids_of(db, docs) -> list:
    return [db.articles.find_one({"canonical_url": d["canonical_url"]})["_id"] for d in docs]


def postings_count(db) -> int:
    return sum(s["articles"] for s in db.search_segments.find())


def test_store_queues_new_and_changed_articles_not_unchanged(mongo_db):
    store = ArticleStore(mongo_db)
    result = store.upsert_many(CORPUS[:3])
    assert result.new == 3 and result.queued == 3
    assert sorted(queued_ids(mongo_db)) == sorted(ids_of(mongo_db, CORPUS[:3]))
    entry = mongo_db.search_queue.find_one()
    assert entry["n"] == 3 and "claimed" not in entry and "owner" not in entry  # the writer released it
    assert mongo_db.articles.count_documents({"search_indexed": {"$exists": True}}) == 0
    assert mongo_db.search_segments.count_documents({}) == 0  # no postings on the write path

    assert drain(mongo_db).indexed == 3
    assert mongo_db.articles.count_documents({"search_indexed": 1}) == 3
    changed = article(0, "대전시의회 임시회 폐회", "대전시의회가 임시회를 마치고 폐회했다.")
    result = store.upsert_many([changed, CORPUS[1]])  # one changed, one unchanged
    assert (result.updated, result.unchanged, result.queued) == (1, 1, 1)
    assert queued_ids(mongo_db) == ids_of(mongo_db, [changed])
    # the changed article's postings are of its previous version: it is not marked indexed
    assert mongo_db.articles.find_one({"canonical_url": changed["canonical_url"]}).get("search_indexed") is None
    assert mongo_db.articles.find_one({"canonical_url": CORPUS[1]["canonical_url"]})["search_indexed"] == 1


def test_drain_indexes_everything_queued_and_empties_the_queue(mongo_db):
    store = ArticleStore(mongo_db)
    for doc in CORPUS:
        store.upsert_many([doc])  # six queue entries
    assert pending(mongo_db) == len(CORPUS)
    assert search(mongo_db, "대전").total == 0  # not searchable until drained
    seen = []
    result = drain(mongo_db, progress=lambda done, total: seen.append((done, total)))
    assert (result.indexed, result.entries, result.segments, result.missing) == (len(CORPUS), len(CORPUS), 1, 0)
    assert seen[0] == (0, len(CORPUS)) and seen[-1] == (len(CORPUS), len(CORPUS))
    assert mongo_db.search_queue.count_documents({}) == 0 and pending(mongo_db) == 0
    assert mongo_db.articles.count_documents({"search_indexed": 1}) == len(CORPUS)
    assert search(mongo_db, "대전").total == 4
    assert drain(mongo_db).indexed == 0  # nothing left


def test_drain_writes_segments_of_the_asked_size(mongo_db):
    store = ArticleStore(mongo_db)
    for doc in CORPUS:
        store.upsert_many([doc])
    result = drain(mongo_db, segment_articles=2)
    assert (result.indexed, result.segments) == (len(CORPUS), 3)
    assert sorted(s["articles"] for s in mongo_db.search_segments.find()) == [2, 2, 2]


def test_article_queued_twice_is_indexed_once_in_its_latest_version(mongo_db):
    store = ArticleStore(mongo_db)
    store.upsert_many([CORPUS[0]])
    store.upsert_many([article(0, "대전시의회 임시회 폐회", "대전시의회가 폐회했다.")])
    assert pending(mongo_db) == 2
    assert drain(mongo_db).indexed == 1
    assert [h.title for h in search(mongo_db, "폐회").hits] == ["대전시의회 임시회 폐회"]
    assert search(mongo_db, "조례안").total == 0


def test_two_drains_at_once_index_each_article_once(mongo_db):
    store = ArticleStore(mongo_db)
    docs = [article(i, f"대전 기사 {i}", f"본문 {i} 대전 소식") for i in range(40)]
    for start in range(0, len(docs), 2):
        store.upsert_many(docs[start : start + 2])  # 20 entries of two
    results, errors = [], []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            barrier.wait()
            results.append(drain(mongo_db, segment_articles=4))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sum(r.indexed for r in results) == len(docs)
    assert sum(r.entries for r in results) == 20
    assert postings_count(mongo_db) == len(docs)  # no article in two segments
    assert mongo_db.search_queue.count_documents({}) == 0
    assert search(mongo_db, "대전", per_page=100).total == len(docs)


def test_claim_of_a_dead_drain_is_taken_over_after_its_timeout(mongo_db):
    store = ArticleStore(mongo_db)
    store.upsert_many(CORPUS[:2])
    store.upsert_many(CORPUS[2:4])
    first, second = [e["_id"] for e in mongo_db.search_queue.find().sort("created", 1)]
    now = datetime.now(timezone.utc)
    mongo_db.search_queue.update_one({"_id": first}, {"$set": {"claimed": now - timedelta(hours=1), "owner": "dead"}})
    mongo_db.search_queue.update_one({"_id": second}, {"$set": {"claimed": now, "owner": "busy"}})
    result = drain(mongo_db)
    assert result.indexed == 2 and result.entries == 1  # the stale claim only
    assert [e["_id"] for e in mongo_db.search_queue.find()] == [second]  # a live claim is left alone
    assert drain(mongo_db, claim_timeout=timedelta(0)).indexed == 2  # ... until it is stale too
    assert mongo_db.search_queue.count_documents({}) == 0


def test_entry_is_not_drained_while_its_writer_writes(mongo_db, monkeypatch):
    """A drain that read a changed article before its write would index the old version and
    delete the entry: the writer's claim on its entry prevents that."""
    store = ArticleStore(mongo_db)
    store.upsert_many([CORPUS[0]])
    drain(mongo_db)
    during = []
    original = store.collection.bulk_write

    def drain_first(ops, **kwargs):
        during.append(drain(mongo_db).indexed)  # another process's drain, mid-write
        return original(ops, **kwargs)

    monkeypatch.setattr(store.collection, "bulk_write", drain_first)
    store.upsert_many([article(0, "대전시의회 임시회 폐회", "대전시의회가 폐회했다.")])
    monkeypatch.undo()
    assert during == [0]
    assert drain(mongo_db).indexed == 1
    assert search(mongo_db, "폐회").total == 1


def test_failed_article_write_leaves_a_harmless_entry(mongo_db, monkeypatch):
    """The entry is written first: a write that then fails names articles that are not stored."""
    store = ArticleStore(mongo_db)

    def down(*args, **kwargs):
        raise PyMongoError("connection reset")

    monkeypatch.setattr(store.collection, "bulk_write", down)
    with pytest.raises(PyMongoError):
        store.upsert_many(CORPUS[:2])
    monkeypatch.undo()
    entry = mongo_db.search_queue.find_one()
    assert entry["n"] == 2 and "claimed" not in entry  # released for drains despite the failure
    result = drain(mongo_db)
    assert (result.indexed, result.missing) == (0, 2)
    assert mongo_db.search_queue.count_documents({}) == 0


def test_nothing_lost_when_the_drain_fails_midway(mongo_db, monkeypatch):
    store = ArticleStore(mongo_db)
    store.upsert_many(CORPUS)

    def broken(self, *args, **kwargs):
        raise PyMongoError("disk full")

    monkeypatch.setattr(search_index.SearchIndex, "mark_indexed", broken)  # postings written, marks not
    with pytest.raises(PyMongoError):
        drain(mongo_db)
    monkeypatch.undo()
    entry = mongo_db.search_queue.find_one()
    assert entry is not None and entry["n"] == len(CORPUS) and "claimed" not in entry  # kept, released
    assert mongo_db.articles.count_documents({"search_indexed": {"$exists": True}}) == 0
    assert drain(mongo_db).indexed == len(CORPUS)
    assert mongo_db.search_queue.count_documents({}) == 0
    # indexed twice (the failed drain's segment stays): search shows each article once
    result = search(mongo_db, "대전", per_page=100)
    assert result.total == 4 and len({h.canonical_url for h in result.hits}) == 4


def test_drain_stops_once_its_time_is_up(mongo_db):
    store = ArticleStore(mongo_db)
    for doc in CORPUS:
        store.upsert_many([doc])
    assert drain(mongo_db, segment_articles=1, max_seconds=0).indexed == 0  # up before the first segment
    assert pending(mongo_db) == len(CORPUS)
    assert drain(mongo_db, segment_articles=1, max_seconds=60).indexed == len(CORPUS)


def test_store_without_search_queues_nothing(mongo_db):
    store = ArticleStore(mongo_db, search=False)
    assert store.upsert_many(CORPUS[:2]).queued == 0
    assert mongo_db.search_queue.count_documents({}) == 0
