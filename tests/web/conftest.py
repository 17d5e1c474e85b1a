"""A seeded database for the dashboard tests: articles over the last days, a story carried by
three outlets, a revised article, a title with markup in it, and a few crawl runs."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.database import Database

from crawler.search import drain
from crawler.store.articles import ArticleStore
from crawler.store.runs import RunStore
from crawler.text.dates import KST

STORY = "s0123456789abcdef"
XSS_TITLE = "<script>alert('xss')</script> 강원 산불 <b>대응</b>"


@dataclass
class Seeded:
    db: Database[dict[str, Any]]
    now: datetime
    ids: dict[str, str]  # short name -> article id
    runs: dict[str, str]  # short name -> run id


def _hash(*parts: str) -> str:
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()


def article(key: str, outlet: str, title: str, body: str, published: datetime, **extra: Any) -> dict[str, Any]:
    url = f"https://{outlet}.example.kr/news/{key}"
    doc = {
        "canonical_url": url, "url": url, "outlet": outlet, "title": title, "body": body,
        "published": published, "authors": extra.pop("authors", ["홍길동"]), "sections": extra.pop("sections", ["사회"]),
        "content_hash": _hash(title, body), "body_hash": _hash(body),
    }
    doc.update(extra)
    return doc


def seed(db: Database[dict[str, Any]]) -> Seeded:
    """Fill `db` the way crawls would (through ArticleStore, then the search queue drained)."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    today = now.astimezone(KST).replace(hour=9, minute=0, second=0)
    if today > now:
        today -= timedelta(days=1)
    store = ArticleStore(db)
    store.ensure_indexes()
    story_body = ("세종시 행정수도 완성을 위한 특별법이 국회에 발의됐다. 대통령 집무실과 국회 세종의사당 "
                  "건립 일정이 법안에 담겼다.\n\n지역 정치권은 환영 입장을 밝혔다.")
    docs = [
        article("story-a", "joongdo", "행정수도 특별법 발의", story_body, today - timedelta(hours=2),
                story_id=STORY, region="세종", sections=["정치/행정"]),
        article("story-b", "daejonilbo", "세종 행정수도 특별법 국회 발의", story_body + "\n\n대전일보 취재 결과다.",
                today - timedelta(hours=1), story_id=STORY, story_similarity=0.91, region="세종"),
        article("story-c", "cctoday", "행정수도 완성 특별법, 국회 문턱 넘을까", story_body + "\n\n충청투데이 종합.",
                today - timedelta(minutes=30), story_id=STORY, story_similarity=0.87, region="세종"),
        article("xss", "kwnews", XSS_TITLE, "강원 동해안 산불에 <img src=x onerror=alert(1)> 대응 인력이 투입됐다.",
                today - timedelta(days=1), region="강릉", url="javascript:alert(1)"),
    ]
    filler_places = [("busan", "부산"), ("imaeil", "대구"), ("joongdo", "대전"), ("kwangju", "광주")]
    for day in range(5):
        for n, (outlet, region) in enumerate(filler_places[: 1 + day % 4]):
            docs.append(article(f"fill-{day}-{n}", outlet, f"{region} 지역 소식 {day}-{n}",
                                f"{region}에서 열린 행사 소식이다. 주민 {day * 10 + n}명이 참석했다.",
                                today - timedelta(days=day, hours=3 + n), region=region))
    store.upsert_many(docs, now=now - timedelta(hours=1))
    # A recrawl finds the first copy's title corrected: the old version goes to article_revisions.
    revised = dict(docs[0], title="행정수도 특별법 국회 발의 (종합)",
                   content_hash=_hash("revised", story_body), body_hash=_hash(story_body + " 수정"),
                   body=story_body + "\n\n(종합) 여야 반응을 더했다.")
    store.upsert_many([revised], now=now)
    drain(db)  # what the crawl's end does: index what the store queued

    ids = {}
    for doc in db.articles.find({}, {"canonical_url": 1}):
        ids[doc["canonical_url"].rsplit("/", 1)[1]] = str(doc["_id"])

    runs = RunStore(db)
    runs.ensure_indexes()
    ok = runs.open("joongdo", "schedule", owner="test@host", log_path="/tmp/joongdo.log")
    runs.record_stats(ok, {"finish_reason": "finished", "downloader/response_count": 12, "item_scraped_count": 5,
                           "newsdesk/articles/new": 4, "newsdesk/articles/unchanged": 1})
    runs.close(ok, returncode=0)
    bad = runs.open("kwnews", "schedule", owner="test@host", log_path="/tmp/kwnews.log")
    runs.close(bad, returncode=1, error="crawl process exited with code 1 <oops>")
    return Seeded(db, now, ids, {"ok": ok, "bad": bad})


@pytest.fixture(scope="module")
def seeded(mongo_client: MongoClient[dict[str, Any]]) -> Iterator[Seeded]:
    """One seeded database per test module (seeding indexes search, so it is not free)."""
    name = f"test_web_{uuid.uuid4().hex[:12]}"
    try:
        yield seed(mongo_client[name])
    finally:
        mongo_client.drop_database(name)
