"""Places on stored articles: the pipeline, the backfill, filters, stats, counts and export."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from crawler.items import Article
from crawler.search import Filters, drain, search
from crawler.search.export import iter_articles
from crawler.search.places import reindex_places
from crawler.search.stats import article_stats, place_counts
from crawler.store import ArticleStore
from crawler.text.places import VERSION
from pipelines.places import PlacesPipeline

KST = timezone(timedelta(hours=9))
BASE = datetime(2025, 3, 1, 9, 0, tzinfo=KST)


def doc(i: int, title: str, body: str, outlet: str = "joongdo", region: str | None = None) -> dict[str, Any]:
    url = f"https://news.example/p{i}"
    return {"outlet": outlet, "url": url, "canonical_url": url, "title": title, "body": body, "region": region,
            "published": BASE + timedelta(hours=i), "content_hash": f"h{i}"}


DOCS = [
    doc(0, "공주시, 백제문화제 준비", "공주시는 축제 준비에 들어갔다."),
    doc(1, "대전 유성구 과학축제 개막", "유성구는 과학축제를 연다."),
    doc(2, "코스피 사상 최고치", "코스피가 올랐다."),  # no place: the outlet's region (대전)
    doc(3, "천안 전통시장 북적", "천안시는 환급행사를 열었다.", region="천안"),
]


class Stats:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] = self.values.get(key, start) + count


def test_pipeline_sets_places_and_counts_their_source():
    stats = Stats()
    item = Article(outlet="joongdo", url="https://x/1", canonical_url="https://x/1", title="대전 유성구 과학축제",
                   body="축제가 열린다.", region=None)
    PlacesPipeline(stats).process_item(item)
    assert item.sido == ["대전광역시"] and item.sigungu == ["대전광역시 유성구"]
    assert item.places[0]["sigungu_code"] == "30200" and item.places_version == VERSION
    assert stats.values == {"newsdesk/places/title": 1}


def test_backfill_is_resumable_and_idempotent_then_filters_and_counts(mongo_db):
    store = ArticleStore(mongo_db)
    store.ensure_indexes()
    store.upsert_many(DOCS)
    drain(mongo_db)
    seen = []
    first = reindex_places(mongo_db, batch=3, progress=seen.append)
    assert (first.seen, first.tagged, first.skipped) == (4, 4, 0) and seen == [3, 1]
    again = reindex_places(mongo_db, batch=3)
    assert (again.tagged, again.skipped) == (0, 4)
    assert reindex_places(mongo_db, force=True).tagged == 4
    kospi = store.get("https://news.example/p2")
    assert kospi["sido"] == ["대전광역시"] and kospi["places"][0]["source"] == "outlet" and kospi["sigungu"] == []
    assert kospi["content_hash"] == "h2"  # places are not content: no rewrite, no revision

    chungnam = Filters(sidos=("충청남도",))
    assert sorted(d["title"] for d in mongo_db.articles.find(chungnam.mongo())) == ["공주시, 백제문화제 준비", "천안 전통시장 북적"]
    gongju = Filters(sigungus=("충청남도 공주시",))
    hits = search(mongo_db, "축제", gongju)
    assert [h.title for h in hits.hits] == ["공주시, 백제문화제 준비"]
    assert search(mongo_db, "과학축제", Filters(sidos=("대전광역시",))).hits[0].title == "대전 유성구 과학축제 개막"

    by_sido = article_stats(mongo_db, Filters(), ("sido",))
    assert {r["sido"]: r["articles"] for r in by_sido.rows} == {"충청남도": 2, "대전광역시": 2}
    by_sigungu = article_stats(mongo_db, Filters(), ("sigungu",))
    assert {r["sigungu"]: r["articles"] for r in by_sigungu.rows} == {
        "충청남도 공주시": 1, "충청남도 천안시": 1, "대전광역시 유성구": 1, "(none)": 1}

    counts = place_counts(mongo_db, Filters())
    assert counts.sido[0]["articles"] == 2 and {r["sido_code"] for r in counts.sido} == {"44", "30"}
    assert {(r["sigungu"], r["sigungu_code"]) for r in counts.sigungu} == {("공주시", "44150"), ("천안시", "44130"),
                                                                          ("유성구", "30200")}
    assert counts.total == 4 and counts.untagged == 0

    rows = list(iter_articles(mongo_db, Filters(sigungus=("충청남도 천안시",))))
    assert [(r["sido"], r["sigungu"]) for r in rows] == [(["충청남도"], ["충청남도 천안시"])]
    json.dumps(counts.as_dict())


def test_counts_say_how_many_articles_have_no_places_yet(mongo_db):
    store = ArticleStore(mongo_db)
    store.ensure_indexes()
    store.upsert_many(DOCS[:2])
    counts = place_counts(mongo_db, Filters())
    assert counts.untagged == 2 and counts.sido == []


def test_browsing_filters_by_place_and_details_carry_places(mongo_db):
    from crawler.store import reads
    from crawler.web.models import ArticleDetail, ArticleSummary

    store = ArticleStore(mongo_db)
    store.ensure_indexes()
    store.upsert_many(DOCS)
    reindex_places(mongo_db)
    docs, _next = reads.list_articles(mongo_db, since=BASE - timedelta(days=1), until=BASE + timedelta(days=1),
                                      sidos=("충청남도",), limit=10)
    assert [d["title"] for d in docs] == ["천안 전통시장 북적", "공주시, 백제문화제 준비"]
    assert ArticleSummary.of(docs[0], {}).sigungu == ["충청남도 천안시"]
    detail = ArticleDetail.of(reads.article_by_url(mongo_db, "https://news.example/p3"), {})
    assert [(p.sigungu, p.sigungu_code, p.source) for p in detail.places] == [("천안시", "44130", "dateline")]
