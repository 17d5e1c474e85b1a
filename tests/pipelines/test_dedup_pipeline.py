"""Dedup pipeline: exact aliases within an outlet, one story_id for reprints across outlets,
an index rebuilt from what is stored; and `newsdesk story` on the result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from scrapy.utils.test import get_crawler

from crawler.items import Article
from crawler.store import ArticleStore
from crawler.text.dates import KST
from pipelines.dedup import DedupPipeline
from pipelines.normalize import NormalizePipeline
from pipelines.store import item_to_document

ROOT = Path(__file__).resolve().parents[2]
STORY = [
    "대전시는 25일 시청 대회의실에서 올해 첫 확대간부회의를 열고 도시철도 2호선 트램 건설 사업의 추진 상황을 점검했다고 밝혔다.",
    "이날 회의에서는 트램 정거장 45곳의 설계 변경안과 하반기 재정 집행 계획, 원도심 상권 활성화 대책이 함께 보고됐다.",
    "이장우 시장은 '공사 기간 시민 불편을 최소화하면서 사업을 차질 없이 추진하겠다'며 '교통 대책을 빈틈없이 마련하라'고 지시했다.",
    "시는 다음 달까지 구간별 교통 통제 계획을 확정하고 시민 설명회를 열 예정이다.",
]
OTHER = [
    "충남도는 25일 도청 문예회관에서 청년 창업 지원 사업 설명회를 열고 올해 지원 규모와 신청 절차를 안내했다고 밝혔다.",
    "도는 올해 창업 초기 기업 120곳에 최대 5000만원씩 사업화 자금을 지원하고 전문가 멘토링도 제공한다.",
    "신청은 다음 달 15일까지 도 누리집에서 받으며 서류와 발표 평가를 거쳐 4월 말 대상 기업을 발표한다.",
]


def article(outlet: str, n: int, paragraphs: list[str], lead: str = "", trailer: str = "", title: str | None = None) -> Article:
    body = "\n\n".join(([lead + paragraphs[0]] + paragraphs[1:]) + ([trailer] if trailer else []))
    url = f"https://www.{outlet}.com/news/articleView.html?idxno={n}"
    item = Article(outlet=outlet, url=url, canonical_url=url, title=title or f"{outlet} {n}", body=body,
                   published=datetime(2025, 3, 25, 10, n % 60, tzinfo=KST))
    return NormalizePipeline().process_item(item)


@pytest.fixture
def pipeline_env(mongo_uri, mongo_db):
    return {"MONGO_URI": mongo_uri, "NEWSDESK_DB": mongo_db.name}


def open_pipeline(settings: dict) -> DedupPipeline:
    crawler = get_crawler(settings_dict=settings)
    crawler.stats.open_spider()
    pipe = DedupPipeline.from_crawler(crawler)
    # open_spider awaits a thread; run the same rebuild synchronously here
    loaded, _, _ = pipe._rebuild()
    crawler.stats.set_value("newsdesk/dedup/index_loaded", loaded)
    return pipe


def test_reprints_share_a_story_exact_copies_become_aliases_and_the_index_is_rebuilt(pipeline_env, mongo_db):
    pipe = open_pipeline(pipeline_env)
    original = pipe.process_item(article("ggilbo", 1, STORY, lead="[대전=뉴시스] 김양수 기자 = ", trailer="kys@newsis.com"))
    reprint = pipe.process_item(article("cctoday", 2, STORY[:-1], trailer="대전=홍길동 기자 hong@cctoday.co.kr"))
    unrelated = pipe.process_item(article("cctoday", 3, OTHER))
    same_body = pipe.process_item(article("ggilbo", 4, STORY, lead="[대전=뉴시스] 김양수 기자 = ", trailer="kys@newsis.com",
                                          title="ggilbo  1"))  # same title but for spacing
    other_title = pipe.process_item(article("ggilbo", 6, STORY, lead="[대전=뉴시스] 김양수 기자 = ", trailer="kys@newsis.com"))
    assert other_title.alias_of is None  # same body under another headline: two articles
    assert original.story_id and reprint.story_id == original.story_id and reprint.story_similarity >= 0.5
    assert reprint.story_closest == original.canonical_url
    assert unrelated.story_id != original.story_id and unrelated.story_similarity is None
    assert same_body.alias_of == original.canonical_url  # same outlet, same body: one article
    stats = pipe.stats.get_stats()
    assert (stats["newsdesk/dedup/new_story"], stats["newsdesk/dedup/joined_story"], stats["newsdesk/dedup/exact_alias"]) == (2, 2, 1)

    store = ArticleStore(mongo_db)
    store.ensure_indexes()
    store.upsert_many([item_to_document(a) for a in (original, reprint, unrelated, same_body, other_title)])
    # a new crawl process rebuilds the index from Mongo and finds the story again
    again = open_pipeline(pipeline_env)
    assert again.stats.get_value("newsdesk/dedup/index_loaded") == 4
    third = again.process_item(article("daejonilbo", 5, STORY[1:], trailer="/김철수 기자"))
    assert third.story_id == original.story_id

    env = dict(os.environ, **pipeline_env)
    proc = subprocess.run([sys.executable, "-m", "crawler.cli", "story", reprint.canonical_url, "--json"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    shown = json.loads(proc.stdout)
    assert shown["story_id"] == original.story_id
    assert {c["outlet"] for c in shown["copies"]} == {"ggilbo", "cctoday"} and len(shown["copies"]) == 3
    assert shown["copies"][0]["story_similarity"] is None  # the first copy comes first
    missing = subprocess.run([sys.executable, "-m", "crawler.cli", "story", "s0000"], capture_output=True, text=True,
                             cwd=ROOT, env=env, timeout=60)
    assert missing.returncode == 2 and "no story 's0000'" in missing.stderr


def test_dead_lettered_signatures_replay_as_bytes_and_a_bad_row_does_not_stop_the_index(pipeline_env, mongo_db, tmp_path):
    from crawler.jsonutil import dumps_line
    from crawler.store.deadletter import replay

    pipe = open_pipeline(pipeline_env)
    item = pipe.process_item(article("ggilbo", 1, STORY))
    folder = tmp_path / "deadletter"
    folder.mkdir()
    (folder / "ggilbo-1.jsonl").write_text(dumps_line(item_to_document(item)), encoding="utf-8")
    store = ArticleStore(mongo_db)
    store.ensure_indexes()
    assert replay(folder, store).new == 1
    assert isinstance(store.get(item.canonical_url)["minhash"], bytes)
    mongo_db.articles.insert_one({"canonical_url": "https://x.example/broken", "outlet": "x", "story_id": "s1",
                                  "minhash": "not bytes", "first_seen": datetime.now(timezone.utc)})
    # a signature stored by the previous format (the bare 64-value MinHash): counted, not compared
    mongo_db.articles.insert_one({"canonical_url": "https://x.example/old", "outlet": "x", "story_id": "s2",
                                  "minhash": bytes(256), "first_seen": datetime.now(timezone.utc)})
    again = open_pipeline(pipeline_env)
    assert again.stats.get_value("newsdesk/dedup/index_loaded") == 1
    assert again.stats.get_value("newsdesk/dedup/index_stale") == 1
    assert again.process_item(article("cctoday", 2, STORY[:-1])).story_id == item.story_id


def test_concurrent_crawls_agree_on_a_story_after_a_refresh(pipeline_env, mongo_db):
    first_process = open_pipeline(pipeline_env)
    second_process = open_pipeline(pipeline_env)  # opened before the first stored anything
    original = first_process.process_item(article("ggilbo", 1, STORY))
    store = ArticleStore(mongo_db)
    store.ensure_indexes()
    store.upsert_many([item_to_document(original)])
    second_process._merge_rows(list(second_process.store.signatures_since(second_process.loaded_until - timedelta(seconds=5))),
                               datetime.now(timezone.utc))
    reprint = second_process.process_item(article("cctoday", 2, STORY[:-1]))
    assert reprint.story_id == original.story_id
    assert second_process.stats.get_value("newsdesk/dedup/index_refreshed") == 1
