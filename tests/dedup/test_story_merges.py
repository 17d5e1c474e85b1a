"""Story ids that two crawl processes gave one story: reconciled in the index, merged in the
database (crawler.store.stories), and still found by the id that went away."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from crawler.dedup.index import StoryIndex
from crawler.dedup.stories import signature, to_bytes
from crawler.search import Filters, search
from crawler.search.export import iter_articles
from crawler.search.queue import drain
from crawler.store import ArticleStore
from crawler.store.stories import StoryMerge, StoryMergeStore, merge_direction
from crawler.web import create_app

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc)

WIRE = "\n\n".join([
    "대전시는 25일 시청 대회의실에서 올해 첫 확대간부회의를 열고 도시철도 2호선 트램 건설 사업의 추진 상황을 점검했다고 밝혔다.",
    "이날 회의에서는 트램 정거장 45곳의 설계 변경안과 하반기 재정 집행 계획, 원도심 상권 활성화 대책이 함께 보고됐다.",
    "이장우 시장은 '공사 기간 시민 불편을 최소화하면서 사업을 차질 없이 추진하겠다'며 '교통 대책을 빈틈없이 마련하라'고 지시했다.",
    "시는 다음 달까지 구간별 교통 통제 계획을 확정하고 시민 설명회를 열 예정이다.",
])
OTHER = "\n\n".join([
    "충남도는 25일 도청 문예회관에서 청년 창업 지원 사업 설명회를 열고 올해 지원 규모와 신청 절차를 안내했다고 밝혔다.",
    "도는 올해 창업 초기 기업 120곳에 최대 5000만원씩 사업화 자금을 지원하고 전문가 멘토링도 제공한다.",
    "신청은 다음 달 15일까지 도 누리집에서 받으며 서류와 발표 평가를 거쳐 4월 말 대상 기업을 발표한다.",
])
TITLE = "대전시 트램 추진 상황 점검"


def row(url: str, body: str, title: str, story_id: str, seen: datetime = NOW) -> dict:
    return {"canonical_url": url, "minhash": to_bytes(signature(body, title)), "story_id": story_id,
            "first_seen": seen, "outlet": url.split("/")[2], "body_hash": None, "title": title}


def test_merge_direction_is_the_same_whoever_finds_it():
    assert merge_direction("sb", "sa") == ("sb", "sa") == merge_direction("sa", "sb")


def test_two_processes_ids_for_one_story_become_one_in_either_order():
    here, there = StoryIndex(), StoryIndex()
    mine = here.assign("https://a.kr/1", signature(WIRE, TITLE))
    theirs = there.assign("https://b.kr/9", signature(WIRE, TITLE))
    assert mine.story_id != theirs.story_id  # what separate processes did before they reconciled
    merges = here.reconcile([row("https://b.kr/9", WIRE, TITLE, theirs.story_id)])
    gone, into = merge_direction(mine.story_id, theirs.story_id)
    assert [(m.gone, m.into) for m in merges] == [(gone, into)]
    assert merges[0].url == "https://b.kr/9" and merges[0].closest_url == "https://a.kr/1"
    assert merges[0].similarity == 1.0
    assert here.story_of("https://a.kr/1") == here.story_of("https://b.kr/9") == into
    # the other process, reconciling what this one stored, reaches the same merge
    again = there.reconcile([row("https://a.kr/1", WIRE, TITLE, mine.story_id)])
    assert [(m.gone, m.into) for m in again] == [(gone, into)]
    # a copy assigned after the merge takes the surviving id
    assert here.assign("https://c.kr/3", signature(WIRE, TITLE)).story_id == into


def test_reconcile_keeps_different_stories_apart_and_skips_what_it_holds():
    index = StoryIndex()
    wire = index.assign("https://a.kr/1", signature(WIRE, TITLE))
    assert index.reconcile([row("https://b.kr/2", OTHER, "충남도 청년 창업 설명회", "s-other")]) == []
    assert index.story_of("https://b.kr/2") == "s-other" and index.story_of("https://a.kr/1") == wire.story_id
    assert index.reconcile([row("https://a.kr/1", WIRE, TITLE, "s-zzz")]) == []  # held: not compared again
    assert index.reconcile([{**row("https://c.kr/3", WIRE, TITLE, "s-c"), "minhash": b"garbage"}]) == []
    assert index.skipped == 1


def test_rows_of_two_other_processes_are_reconciled_with_each_other():
    index = StoryIndex()
    merges = index.reconcile([row("https://b.kr/1", WIRE, TITLE, "s-b", NOW),
                              row("https://c.kr/1", WIRE, TITLE, "s-c", NOW + timedelta(seconds=1))])
    assert [(m.gone, m.into) for m in merges] == [("s-c", "s-b")]


@pytest.fixture
def stored(mongo_db):
    store = ArticleStore(mongo_db)
    store.ensure_indexes()
    docs = []
    for n, (outlet, story, similarity) in enumerate([("a", "s1", None), ("b", "s2", None), ("c", "s2", 0.93),
                                                     ("d", "s3", None)]):
        url = f"https://{outlet}.kr/{n}"
        docs.append({"outlet": outlet, "url": url, "canonical_url": url, "title": f"{TITLE} {outlet}", "body": WIRE,
                     "published": NOW - timedelta(minutes=n), "story_id": story, "story_similarity": similarity,
                     "story_closest": "https://b.kr/1" if similarity else None, "content_hash": f"h{n}",
                     "body_hash": f"b{n}"})
    store.upsert_many(docs, now=NOW)
    merges = StoryMergeStore(mongo_db)
    merges.ensure_indexes()
    return mongo_db, merges


def test_a_merge_is_recorded_then_moves_every_copy_and_keeps_their_similarity(stored):
    db, merges = stored
    outcome = merges.record([StoryMerge("s2", "s1", "copies stored by different crawls", 0.97, "https://b.kr/1",
                                        "https://a.kr/0")], now=NOW)
    assert outcome.recorded == 1 and outcome.articles == 2
    docs = {d["outlet"]: d for d in db.articles.find()}
    assert {d["story_id"] for o, d in docs.items() if o in "abc"} == {"s1"} and docs["d"]["story_id"] == "s3"
    assert docs["c"]["story_similarity"] == 0.93 and docs["c"]["story_closest"] == "https://b.kr/1"
    record = db.story_merges.find_one({"_id": "s2"})
    assert record["into"] == "s1" and record["similarity"] == 0.97 and record["reason"]
    assert merges.resolve("s2") == "s1" and merges.resolve("s1") == "s1" and merges.merged_ids("s1") == ["s2"]


def test_the_same_merge_found_twice_is_recorded_once_and_three_ids_end_as_one(stored):
    db, merges = stored
    assert merges.record([StoryMerge("s2", "s1", "x")]).recorded == 1
    assert merges.record([StoryMerge("s1", "s2", "x")]).recorded == 0  # the same pair, the other way round
    # another process merged s3 into s2 meanwhile: s3 follows s2 into s1
    db.story_merges.insert_one({"_id": "s3", "into": "s2", "at": NOW, "reason": "x"})
    assert merges.resolve("s3") == "s1"
    assert merges.apply_since(NOW - timedelta(hours=1)) == 1
    assert {d["story_id"] for d in db.articles.find()} == {"s1"}
    assert sorted(merges.merged_ids("s1")) == ["s2", "s3"]


def test_a_merge_recorded_but_not_applied_is_applied_later(stored):
    db, merges = stored
    db.story_merges.insert_one({"_id": "s3", "into": "s1", "at": NOW, "reason": "a crawl killed before it applied"})
    assert db.articles.count_documents({"story_id": "s3"}) == 1
    assert merges.apply_since(NOW - timedelta(minutes=5)) == 1
    assert merges.apply_since(NOW - timedelta(minutes=5)) == 0  # idempotent
    assert db.articles.count_documents({"story_id": "s3"}) == 0


def test_the_old_id_still_finds_the_story_in_the_api_search_and_export(stored):
    db, merges = stored
    merges.record([StoryMerge("s2", "s1", "copies stored by different crawls", 0.97)])
    client = TestClient(create_app(db))
    answer = client.get("/api/stories/s2")
    assert answer.status_code == 200
    body = answer.json()
    assert body["story_id"] == "s1" and body["requested_id"] == "s2" and body["merged_ids"] == ["s2"]
    assert len(body["copies"]) == 3
    assert client.get("/api/stories/s1").json()["requested_id"] is None
    assert client.get("/api/stories/s9").status_code == 404
    exported = list(iter_articles(db, Filters(stories=("s2",))))
    assert len(exported) == 3 and {d["story_id"] for d in exported} == {"s1"}
    assert Filters(stories=("s2", "s1")).resolved(db).stories == ("s1",)
    drain(db)
    found = search(db, "트램", Filters(stories=("s2",)))
    assert found.total == 3 and {hit.story_id for hit in found.hits} == {"s1"}


def test_newsdesk_story_with_an_old_id_shows_the_story_it_went_into(stored, mongo_uri):
    db, merges = stored
    merges.record([StoryMerge("s2", "s1", "copies stored by different crawls", 0.97)])
    env = {"MONGO_URI": mongo_uri, "NEWSDESK_DB": db.name, "NEWSDESK_ENV": "test", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "crawler.cli", "story", "s2", "--json"], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    shown = json.loads(proc.stdout)
    assert shown["story_id"] == "s1" and shown["requested_id"] == "s2" and shown["merged_ids"] == ["s2"]
    assert len(shown["copies"]) == 3
    table = subprocess.run([sys.executable, "-m", "crawler.cli", "story", "s2"], capture_output=True, text=True,
                           cwd=ROOT, env=env, timeout=120)
    assert table.returncode == 0 and "merged into s1" in table.stdout


def test_the_next_crawls_load_finishes_a_merge_a_killed_crawl_left(mongo_uri, mongo_db):
    """Two copies stored under two ids by crawls that died before reconciling: the next crawl
    of any outlet reconciles the last hour's articles as its index loads, and records the merge."""
    from crawler.crawl.story_index import IndexConfig, SharedStoryIndex

    store = ArticleStore(mongo_db)
    store.ensure_indexes()
    now = datetime.now(timezone.utc)
    docs = []
    for n, story in ((1, "sb"), (2, "sa")):
        url = f"https://o{n}.kr/{n}"
        docs.append({"outlet": f"o{n}", "url": url, "canonical_url": url, "title": TITLE, "body": WIRE,
                     "published": now, "story_id": story, "minhash": to_bytes(signature(WIRE, TITLE)),
                     "content_hash": f"h{n}", "body_hash": f"b{n}"})
    store.upsert_many(docs, now=now - timedelta(minutes=5))
    shared = SharedStoryIndex(("test", mongo_db.name), {"MONGO_URI": mongo_uri, "NEWSDESK_DB": mongo_db.name},
                              IndexConfig(window=timedelta(days=7), threshold=0.82, max_articles=1000,
                                          refresh_seconds=0))
    try:
        loaded, _, _ = shared._rebuild()
    finally:
        shared.client.close()
    assert loaded == 2 and shared.merged == 1
    assert {d["story_id"] for d in mongo_db.articles.find()} == {"sa"}
    assert mongo_db.story_merges.find_one({"_id": "sb"})["into"] == "sa"
