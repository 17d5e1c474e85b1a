"""ArticleStore: idempotent batched upserts, correct instants, indexed reads only."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from crawler.store import ArticleStore, UpsertResult

KST = timezone(timedelta(hours=9))
T0 = datetime(2025, 3, 1, 3, 0, tzinfo=timezone.utc)
T1 = T0 + timedelta(hours=1)


def article(n: int, *, outlet: str = "joongdo", body: str = "본문", **extra: Any) -> dict[str, Any]:
    """A small article as the store pipeline would hand it over (KST dates, aware)."""
    doc: dict[str, Any] = {
        "canonical_url": f"https://news.example.kr/article/{n}",
        "url": f"https://news.example.kr/article/{n}?from=list",
        "outlet": outlet,
        "title": f"제목 {n}",
        "subtitle": None,
        "sections": ["사회"],
        "published": datetime(2025, 3, 1, 9, 30, tzinfo=KST) + timedelta(minutes=n),
        "modified": None,
        "print_edition": None,
        "authors": ["홍길동"],
        "region": "대전",
        "body": body,
        "images": [],
        "content_hash": f"h{n}:{body}",
    }
    doc.update(extra)
    return doc


@pytest.fixture
def store(mongo_db: Database[dict[str, Any]]) -> ArticleStore:
    store = ArticleStore(mongo_db)
    store.ensure_indexes()
    return store


def test_indexes_are_idempotent_and_url_is_unique(store: ArticleStore) -> None:
    store.ensure_indexes()
    info = store.collection.index_information()
    keys = {tuple(k for k, _ in spec["key"]) for spec in info.values()}
    assert keys >= {
        ("canonical_url",),
        ("outlet", "published"),
        ("published",),
        ("first_seen",),
        ("content_hash",),
        ("story_id",),
    }
    assert info["canonical_url_1"]["unique"]
    store.collection.insert_one({"canonical_url": "u"})
    with pytest.raises(DuplicateKeyError):
        store.collection.insert_one({"canonical_url": "u"})


def test_new_then_identical_is_unchanged(store: ArticleStore) -> None:
    docs = [article(1), article(2)]
    first = store.upsert_many(docs, now=T0)
    assert first == UpsertResult(new=2, outcomes=["new", "new"], queued=2)

    # An unchanged article gets last_seen only: prove nothing else is rewritten.
    url = docs[0]["canonical_url"]
    store.collection.update_one({"canonical_url": url}, {"$set": {"title": "x"}})
    second = store.upsert_many(docs, now=T1)
    assert second == UpsertResult(unchanged=2, outcomes=["unchanged", "unchanged"])

    stored = store.get(url)
    assert stored is not None
    assert stored["first_seen"] == T0 and stored["last_seen"] == T1
    assert stored["title"] == "x"
    assert store.count() == 2


def test_changed_content_is_updated(store: ArticleStore) -> None:
    store.upsert_many([article(1, body="첫 판")], now=T0)
    result = store.upsert_many([article(1, body="고친 판", subtitle="부제")], now=T1)
    assert result.outcomes == ["updated"] and result.updated == 1
    stored = store.get(article(1)["canonical_url"])
    assert stored is not None
    assert stored["body"] == "고친 판" and stored["subtitle"] == "부제"
    assert stored["first_seen"] == T0 and stored["last_seen"] == T1


def test_duplicate_url_in_one_batch_last_wins(store: ArticleStore) -> None:
    result = store.upsert_many([article(1, body="old"), article(2), article(1, body="new")], now=T0)
    assert result.outcomes == ["duplicate", "new", "new"]
    assert (result.new, result.updated, result.unchanged) == (2, 0, 0)
    stored = store.get(article(1)["canonical_url"])
    assert stored is not None and stored["body"] == "new"
    assert store.count() == 2


def test_datetimes_come_back_aware_utc_and_same_instant(
    store: ArticleStore, mongo_uri: str, mongo_db: Database[dict[str, Any]]
) -> None:
    doc = article(7)
    store.upsert_many([doc], now=T0)
    stored = store.get(doc["canonical_url"])
    assert stored is not None
    assert stored["published"] == doc["published"]  # same instant...
    assert stored["published"].utcoffset() == timedelta(0)  # ...expressed in UTC
    assert stored["published"].hour == 0 and stored["published"].minute == 37

    # Aware even through a client that was not created tz_aware.
    naive_client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    try:
        other = ArticleStore(naive_client[mongo_db.name]).get(doc["canonical_url"])
        assert other is not None and other["published"].tzinfo is not None
    finally:
        naive_client.close()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"published": datetime(2025, 3, 1, 9, 30)}, "published"),
        ({"images": [{"src": "a.jpg", "taken": datetime(2025, 3, 1)}]}, r"images\[0\]\.taken"),
        ({"modified": datetime(2025, 3, 1).date()}, "modified"),
    ],
)
def test_naive_datetimes_are_rejected_before_writing(
    store: ArticleStore, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValueError, match=field):
        store.upsert_many([article(1), article(2, **overrides)], now=T0)
    assert store.count() == 0


def test_invalid_input_is_rejected(store: ArticleStore) -> None:
    with pytest.raises(ValueError, match="naive"):
        store.upsert_many([article(1)], now=datetime(2025, 3, 1))
    with pytest.raises(ValueError, match="canonical_url"):
        store.upsert_many([{"content_hash": "h"}])
    with pytest.raises(ValueError, match="content_hash"):
        store.upsert_many([{"canonical_url": "u"}])
    with pytest.raises(ValueError, match="field name"):
        store.upsert_many([article(1, **{"a.b": 1})])
    assert store.upsert_many([]) == UpsertResult()


def test_round_tripped_document_keeps_store_fields(store: ArticleStore) -> None:
    store.upsert_many([article(1)], now=T0)
    stored = store.get(article(1)["canonical_url"])
    assert stored is not None
    stored["first_seen"] = T1 + timedelta(days=9)
    assert store.upsert_many([stored], now=T1).outcomes == ["unchanged"]
    again = store.get(stored["canonical_url"])
    assert again is not None and again["first_seen"] == T0


@pytest.mark.parametrize(("body", "outcome"), [("본문", "unchanged"), ("새 본문", "updated")])
def test_concurrent_insert_is_retried_not_lost(
    store: ArticleStore, monkeypatch: pytest.MonkeyPatch, body: str, outcome: str
) -> None:
    """Another writer inserts the article between our read and our write."""
    store.upsert_many([article(1)], now=T0)
    real = store._stored_states
    reads: list[int] = []

    def stale_first_read(urls: Any) -> dict[str, str | None]:
        reads.append(len(urls))
        return {} if len(reads) == 1 else real(urls)

    monkeypatch.setattr(store, "_stored_states", stale_first_read)
    result = store.upsert_many([article(1, body=body), article(2)], now=T1)
    assert result.errors == []
    assert result.outcomes == [outcome, "new"]
    assert reads == [2, 1]  # the retry re-reads only the conflicting article
    stored = store.get(article(1)["canonical_url"])
    assert stored is not None
    assert stored["body"] == body and stored["first_seen"] == T0 and stored["last_seen"] == T1


def test_known_urls(store: ArticleStore) -> None:
    store.upsert_many([article(n) for n in range(3)], now=T0)
    asked = [article(n)["canonical_url"] for n in (0, 2, 5, 2, 9)]
    known = store.known_urls(asked)
    assert known == {
        article(0)["canonical_url"]: article(0)["published"],
        article(2)["canonical_url"]: article(2)["published"],
    }
    assert all(value.tzinfo is not None for value in known.values() if value)
    assert store.known_urls([]) == {}


def test_batches_larger_than_one_lookup_chunk(store: ArticleStore) -> None:
    docs = [article(n) for n in range(250)]
    assert store.upsert_many(docs, now=T0).new == 250
    assert store.upsert_many(docs, now=T1).unchanged == 250
    assert len(store.known_urls(d["canonical_url"] for d in docs)) == 250


def test_count_and_latest_use_bounded_ranges(store: ArticleStore) -> None:
    docs = [article(n, outlet="joongdo" if n % 2 else "daejonilbo") for n in range(10)]
    store.upsert_many(docs, now=T0)
    assert store.count() == 10
    assert store.count("joongdo") == 5
    assert store.count("nobody") == 0

    since = article(4)["published"]
    latest = store.latest(None, 3, since)
    assert [d["canonical_url"] for d in latest] == [docs[n]["canonical_url"] for n in (9, 8, 7)]
    joongdo = store.latest("joongdo", 10, since)
    assert [d["canonical_url"] for d in joongdo] == [docs[n]["canonical_url"] for n in (9, 7, 5)]
    assert len(store.latest(None, 50, T0 - timedelta(days=1), by="first_seen")) == 10
    assert store.latest(None, 5, T1, by="first_seen") == []
    with pytest.raises(ValueError, match="naive"):
        store.latest(None, 5, datetime(2025, 3, 1))
    with pytest.raises(ValueError, match="limit"):
        store.latest(None, 0, T0)
