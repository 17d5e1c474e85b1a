"""What an analyst meets first: a database whose articles are all months old (as `newsdesk demo`
leaves it), story badges with their outlet counts, the print edition, several outlets at once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pymongo import MongoClient

from crawler.search import drain
from crawler.store import reads
from crawler.store.articles import ArticleStore
from crawler.text.dates import KST
from crawler.web import create_app, views

from .conftest import STORY, Seeded, article

OLD_STORY = "sold0000000000001"
NEWEST_DAY = (datetime.now(KST) - timedelta(days=120)).date()
OLDEST_DAY = NEWEST_DAY - timedelta(days=40)


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=KST)


@pytest.fixture(scope="module")
def old(mongo_client: MongoClient[dict[str, Any]]) -> Iterator[Any]:
    """Only months-old articles: the newest 120 days ago, the oldest 40 days before that."""
    name = f"test_web_old_{uuid.uuid4().hex[:12]}"
    db = mongo_client[name]
    store = ArticleStore(db)
    store.ensure_indexes()
    body = "충남도가 내포신도시 개발 계획을 발표했다. 도청 주변에 산업단지가 들어선다."
    docs = [
        article("old-1", "joongdo", "내포신도시 개발 계획 발표", body, _at(NEWEST_DAY, 10), story_id=OLD_STORY,
                region="홍성", print_edition={"date": NEWEST_DAY.isoformat(), "page": 3}),
        article("old-2", "cctoday", "충남 내포신도시 개발 청사진", body + " 종합.", _at(NEWEST_DAY, 11),
                story_id=OLD_STORY, story_similarity=0.9, region="홍성"),
        article("old-3", "daejonilbo", "대전 도시철도 2호선 착공", "대전시가 도시철도 2호선 공사를 시작했다.",
                _at(NEWEST_DAY - timedelta(days=3), 9), region="대전"),
        article("old-4", "busan", "부산 항만 물동량 증가", "부산항 물동량이 늘었다.", _at(OLDEST_DAY, 8), region="부산"),
    ]
    store.upsert_many(docs)
    drain(db)
    ids = {d["canonical_url"].rsplit("/", 1)[1]: str(d["_id"]) for d in db.articles.find({}, {"canonical_url": 1})}
    views._spans.clear()
    try:
        yield db, ids
    finally:
        mongo_client.drop_database(name)


@pytest.fixture(scope="module")
def client(old: Any) -> Iterator[TestClient]:
    with TestClient(create_app(old[0])) as test_client:
        yield test_client


# -- bounded reads -------------------------------------------------------------------------------

def test_published_span_finds_both_ends(old: Any) -> None:
    db, _ids = old
    span = reads.published_span(db)
    assert span.newest == _at(NEWEST_DAY, 11)
    assert span.oldest is not None and abs(span.oldest - _at(OLDEST_DAY, 8)) <= reads.SPAN_PRECISION
    assert span.stored == 4
    only_busan = reads.published_span(db, outlets=("busan",))
    assert only_busan.newest == _at(OLDEST_DAY, 8)
    assert reads.newest_published(db, outlets=("kwnews",)) is None


def test_published_span_of_an_empty_database(mongo_db: Any) -> None:
    ArticleStore(mongo_db).ensure_indexes()
    assert reads.published_span(mongo_db) == reads.PublishedSpan(None, None, 0)


def test_story_outlets_counts_distinct_outlets(old: Any, seeded: Seeded) -> None:
    assert reads.story_outlets(old[0], [OLD_STORY, OLD_STORY, "nothing"]) == {OLD_STORY: 2, "nothing": 0}
    assert reads.story_outlets(seeded.db, [STORY]) == {STORY: 3}
    assert reads.story_outlets(seeded.db, []) == {}


# -- the empty default window --------------------------------------------------------------------

def test_articles_default_window_moves_to_the_newest_article(client: TestClient) -> None:
    body = client.get("/api/articles").json()
    assert body["window_moved"] is True
    assert body["until"] == NEWEST_DAY.isoformat()
    assert body["since"] == (NEWEST_DAY - timedelta(days=6)).isoformat()
    assert [a["title"] for a in body["articles"]] == ["충남 내포신도시 개발 청사진", "내포신도시 개발 계획 발표",
                                                       "대전 도시철도 2호선 착공"]
    assert body["stored"] == {"articles": 4, "oldest": OLDEST_DAY.isoformat(), "newest": NEWEST_DAY.isoformat()}


def test_an_explicit_empty_window_stays_and_says_what_is_stored(client: TestClient) -> None:
    today = datetime.now(KST).date()
    body = client.get("/api/articles", params={"since": today - timedelta(days=2), "until": today}).json()
    assert body["window_moved"] is False and body["articles"] == []
    assert body["stored"]["newest"] == NEWEST_DAY.isoformat()
    page = client.get("/", params={"since": today - timedelta(days=2), "until": today}).text
    assert 'id="stored-note"' in page and "The database holds 4 articles" in page
    assert f"since={OLDEST_DAY}&amp;until={NEWEST_DAY}" in page  # a link to the range the data covers


def test_home_page_shows_the_demo_data_on_first_open(client: TestClient) -> None:
    page = client.get("/").text
    assert "내포신도시 개발 계획 발표" in page
    assert "No article was published in the default window ending today" in page
    assert f"to {NEWEST_DAY}, the day of the newest stored article" in page


def test_filters_that_match_nothing_say_so(client: TestClient) -> None:
    body = client.get("/api/articles", params={"outlet": "kwnews"}).json()
    assert body["articles"] == [] and body["window_moved"] is False
    assert body["stored"] == {"articles": 4, "oldest": None, "newest": None}
    assert "none matching these filters" in client.get("/", params={"outlet": "kwnews"}).text


def test_volume_default_window_moves_too(client: TestClient) -> None:
    body = client.get("/api/volume").json()
    assert body["window_moved"] is True and body["until"] == NEWEST_DAY.isoformat()
    assert body["total"] == 3 and len(body["by_day"]) == 14
    page = client.get("/volume").text
    assert 'id="stored-note"' in page and "3 articles published" in page
    link = f'href="/volume?since={OLDEST_DAY}&amp;until={NEWEST_DAY}"'
    assert link in page  # the 41 days the data covers (at most 92: the volume page's limit)


def test_a_window_with_articles_says_nothing_more(seeded: Seeded) -> None:
    with TestClient(create_app(seeded.db)) as test_client:
        body = test_client.get("/api/articles").json()
        assert body["window_moved"] is False and body["stored"] is None
        assert 'id="stored-note"' not in test_client.get("/").text


# -- story badges, print edition, several outlets --------------------------------------------------

def test_story_badge_links_to_the_story_and_counts_outlets(seeded: Seeded) -> None:
    with TestClient(create_app(seeded.db)) as test_client:
        hits = test_client.get("/api/search", params={"q": "행정수도"}).json()["hits"]
        assert {h["story_outlets"] for h in hits} == {3}
        listed = test_client.get("/api/articles").json()["articles"]
        assert {a["story_outlets"] for a in listed if a["story_id"]} == {3}
        assert all(a["story_outlets"] is None for a in listed if not a["story_id"])
        page = test_client.get("/", params={"q": "행정수도"}).text
        first = hits[0]["id"]
        assert f'<a class="story-flag" href="/articles/{first}#story"' in page
        assert "story · 3 outlets" in page
        assert "story · 3 outlets" in test_client.get("/").text


def test_print_edition_on_the_article_page_and_api(client: TestClient, old: Any) -> None:
    _db, ids = old
    body = client.get(f"/api/articles/{ids['old-1']}").json()
    assert body["print_edition"] == {"date": NEWEST_DAY.isoformat(), "page": 3}
    assert client.get(f"/api/articles/{ids['old-2']}").json()["print_edition"] is None
    page = client.get(f"/articles/{ids['old-1']}").text
    assert f'<dd id="print-edition">{NEWEST_DAY}, page 3 (3면)</dd>' in page
    assert 'id="print-edition"' not in client.get(f"/articles/{ids['old-2']}").text
    assert f'href="/api/stories/{OLD_STORY}"' in page


def test_several_outlets_at_once(client: TestClient) -> None:
    since = OLDEST_DAY.isoformat()
    page = client.get("/", params=[("outlet", "joongdo"), ("outlet", "busan"), ("since", since),
                                   ("until", NEWEST_DAY.isoformat())]).text
    assert "내포신도시 개발 계획 발표" in page and "부산 항만 물동량 증가" in page
    assert "충남 내포신도시 개발 청사진" not in page
    assert 'value="joongdo" checked' in page and 'value="busan" checked' in page
    assert 'value="cctoday" checked' not in page
    assert "2 outlets: joongdo, busan" in page
    volume = client.get("/volume", params=[("outlet", "joongdo"), ("outlet", "cctoday")]).text
    assert 'value="joongdo" checked' in volume and 'value="cctoday" checked' in volume
    assert "2 articles published" in volume
