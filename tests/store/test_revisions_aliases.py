"""Corrections become revisions; the same body at a second URL of an outlet becomes an alias."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from crawler.store import ArticleStore
from crawler.text.dates import KST

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def doc(url: str = "https://www.ggilbo.com/news/articleView.html?idxno=1", **fields) -> dict:
    base = {"outlet": "ggilbo", "url": url, "canonical_url": url, "title": "제목", "body": "본문 첫 판",
            "content_hash": "c1", "body_hash": "b1", "published": datetime(2025, 3, 1, 20, 0, tzinfo=KST), "modified": None}
    base.update(fields)
    return base


def store(mongo_db) -> ArticleStore:
    s = ArticleStore(mongo_db)
    s.ensure_indexes()
    return s


def test_changed_body_keeps_the_previous_version_and_sets_modified(mongo_db):
    s = store(mongo_db)
    s.upsert_many([doc()], now=T0)
    result = s.upsert_many([doc(body="본문 고친 판", content_hash="c2", body_hash="b2")], now=T0 + timedelta(hours=1))
    assert (result.updated, result.revised) == (1, 1)
    article = s.get(doc()["canonical_url"])
    assert article["body"] == "본문 고친 판" and article["revision"] == 1
    assert article["modified"] == T0 + timedelta(hours=1) and article["modified_detected"] is True
    (kept,) = s.revisions_of(doc()["canonical_url"])
    assert kept["revision"] == 0 and kept["body"] == "본문 첫 판" and kept["content_hash"] == "c1"
    # the same correction seen again is unchanged, not a second revision
    again = s.upsert_many([doc(body="본문 고친 판", content_hash="c2", body_hash="b2")], now=T0 + timedelta(hours=2))
    assert again.unchanged == 1 and len(s.revisions_of(doc()["canonical_url"])) == 1


def test_a_printed_modified_time_is_kept(mongo_db):
    s = store(mongo_db)
    s.upsert_many([doc()], now=T0)
    printed = datetime(2025, 3, 1, 21, 30, tzinfo=KST)
    s.upsert_many([doc(title="제목 (수정)", content_hash="c2", modified=printed)], now=T0 + timedelta(hours=1))
    article = s.get(doc()["canonical_url"])
    assert article["modified"] == printed and "modified_detected" not in article


def test_other_changes_update_without_a_revision(mongo_db):
    s = store(mongo_db)
    s.upsert_many([doc()], now=T0)
    result = s.upsert_many([doc(content_hash="c3", print_edition={"date": "2025-03-02", "page": 3})], now=T0 + timedelta(hours=1))
    assert (result.updated, result.revised) == (1, 0)
    assert s.revisions_of(doc()["canonical_url"]) == []


def test_alias_url_is_recorded_on_the_article_not_stored_twice(mongo_db):
    s = store(mongo_db)
    first = doc()
    other = "https://www.ggilbo.com/news/articleView.html?idxno=2"
    result = s.upsert_many([first, doc(url=other, alias_of=first["canonical_url"])], now=T0)
    assert (result.new, result.aliases) == (1, 1)
    assert mongo_db.articles.count_documents({}) == 1
    assert s.get(first["canonical_url"])["aliases"] == [other]
    assert s.find_by_url(other)["canonical_url"] == first["canonical_url"]
