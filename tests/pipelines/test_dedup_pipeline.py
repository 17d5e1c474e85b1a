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
from twisted.internet import defer, task
from twisted.python.failure import Failure

from crawler.items import Article
from crawler.store import ArticleStore
from crawler.text.dates import KST
from crawler.crawl import story_index as shared_index
from crawler.dedup.index import exact_key
from pipelines import dedup as dedup_module
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


class Threads:
    """Stands in for deferToThread and the reactor's clock: the load runs when the test says
    (`gate`, to open several pipelines while it is under way) or at once."""

    def __init__(self) -> None:
        self.clock = task.Clock()
        self.held: list[tuple[defer.Deferred, object]] = []
        self.gate = False

    def run(self, fn):
        if not self.gate:
            return defer.maybeDeferred(fn)
        d: defer.Deferred = defer.Deferred()
        self.held.append((d, fn))
        return d

    def release(self) -> None:
        held, self.held = self.held, []
        for d, fn in held:
            defer.maybeDeferred(fn).chainDeferred(d)


@pytest.fixture
def threads(monkeypatch):
    fake = Threads()
    monkeypatch.setattr(shared_index.SharedStoryIndex, "run_in_thread", staticmethod(fake.run))
    monkeypatch.setattr(shared_index.SharedStoryIndex, "clock", staticmethod(lambda: fake.clock))
    # no reactor in these tests: the coroutines await the Deferreds themselves
    monkeypatch.setattr(dedup_module, "maybe_deferred_to_future", lambda d: d)
    yield fake
    for shared in shared_index.open_indexes().values():  # a failing test leaves nothing open for the next
        shared._close()
    shared_index._REGISTRY.clear()


def started(coro) -> list:
    """Run a coroutine as far as it goes; the list gets its result (or Failure) when it ends."""
    out: list = []
    defer.Deferred.fromCoroutine(coro).addBoth(out.append)
    return out


def finished(coro):
    out = started(coro)
    assert out, "still waiting"
    if isinstance(out[0], Failure):
        out[0].raiseException()
    return out[0]


def new_pipeline(settings: dict) -> DedupPipeline:
    crawler = get_crawler(settings_dict=settings)
    crawler.stats.open_spider()
    return DedupPipeline.from_crawler(crawler)


def open_pipeline(settings: dict) -> DedupPipeline:
    pipe = new_pipeline(settings)
    finished(pipe.open_spider())
    return pipe


def test_reprints_share_a_story_exact_copies_become_aliases_and_the_index_is_rebuilt(pipeline_env, mongo_db, threads):
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
    finished(pipe.close_spider())
    assert shared_index.open_indexes() == {}
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


def test_dead_lettered_signatures_replay_as_bytes_and_a_bad_row_does_not_stop_the_index(pipeline_env, mongo_db, tmp_path,
                                                                                       threads):
    from crawler.jsonformat import dumps_line
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
    finished(pipe.close_spider())
    again = open_pipeline(pipeline_env)
    assert again.stats.get_value("newsdesk/dedup/index_loaded") == 1
    assert again.stats.get_value("newsdesk/dedup/index_stale") == 1
    assert again.process_item(article("cctoday", 2, STORY[:-1])).story_id == item.story_id


def test_concurrent_crawl_processes_agree_on_a_story_after_a_refresh(pipeline_env, mongo_db, threads):
    first_process = open_pipeline(pipeline_env)
    shared_index._REGISTRY.clear()  # what another process would have: its own index
    second_process = open_pipeline(pipeline_env)  # opened before the first stored anything
    assert first_process.index is not second_process.index
    original = first_process.process_item(article("ggilbo", 1, STORY))
    store = ArticleStore(mongo_db)
    store.ensure_indexes()
    store.upsert_many([item_to_document(original)])
    threads.clock.advance(60)  # NEWSDESK_STORY_REFRESH_SECONDS
    reprint = second_process.process_item(article("cctoday", 2, STORY[:-1]))
    assert reprint.story_id == original.story_id
    assert second_process.stats.get_value("newsdesk/dedup/index_refreshed") == 1
    assert second_process.stats.get_value("newsdesk/dedup/index_articles") == 1


def test_a_refresh_reads_the_signatures_of_other_processes_articles_only(pipeline_env, mongo_db, threads, monkeypatch):
    read: list[list[str]] = []
    original_read = ArticleStore.signatures_of
    monkeypatch.setattr(ArticleStore, "signatures_of", lambda self, urls: read.append(list(urls)) or original_read(self, urls))
    this_process = open_pipeline(pipeline_env)
    store = ArticleStore(mongo_db)
    store.ensure_indexes()
    own = [this_process.process_item(article("ggilbo", n, [f"{n}번째. " + p for p in OTHER])) for n in range(1, 4)]
    store.upsert_many([item_to_document(item) for item in own])
    threads.clock.advance(60)
    assert this_process.shared.refreshes == 1 and read == []  # all held: no signature read
    shared_index._REGISTRY.clear()  # what another process would have: its own index
    other_process = open_pipeline(pipeline_env)
    elsewhere = other_process.process_item(article("cctoday", 7, STORY))
    store.upsert_many([item_to_document(elsewhere)])
    read.clear()  # the other process's load read nothing by URL; its refresh would read ours
    this_process.shared.refresh()
    assert read == [[elsewhere.canonical_url]]
    assert this_process.stats.get_value("newsdesk/dedup/index_refreshed") == 1
    reprint = this_process.process_item(article("ggilbo", 8, STORY[:-1]))
    assert reprint.story_id == elsewhere.story_id


def test_a_refresh_does_not_read_back_this_processs_articles_the_bound_evicted(pipeline_env, mongo_db, threads,
                                                                              monkeypatch):
    read: list[list[str]] = []
    original_read = ArticleStore.signatures_of
    monkeypatch.setattr(ArticleStore, "signatures_of", lambda self, urls: read.append(list(urls)) or original_read(self, urls))
    pipe = open_pipeline({**pipeline_env, "NEWSDESK_STORY_INDEX_MAX_ARTICLES": 2})
    store = ArticleStore(mongo_db)
    store.ensure_indexes()
    own = [pipe.process_item(article("ggilbo", n, [f"{n}번째. " + p for p in OTHER])) for n in range(1, 6)]
    store.upsert_many([item_to_document(item) for item in own])
    assert [pipe.index.holds(item.canonical_url) for item in own] == [False, False, False, True, True]
    threads.clock.advance(60)
    assert pipe.shared.refreshes == 1 and read == []  # the three evicted are this process's own: not read back
    assert [pipe.index.holds(item.canonical_url) for item in own] == [False, False, False, True, True]
    assert pipe.stats.get_value("newsdesk/dedup/index_refreshed") is None
    shared_index._REGISTRY.clear()  # another process stores one: the next refresh reads that one
    other = open_pipeline(pipeline_env).process_item(article("cctoday", 9, STORY))
    store.upsert_many([item_to_document(other)])
    pipe.shared.refresh()
    assert read == [[other.canonical_url]] and pipe.index.holds(other.canonical_url)


def test_crawlers_of_one_process_share_one_index_one_load_and_one_refresh(pipeline_env, mongo_db, threads):
    store = ArticleStore(mongo_db)
    store.ensure_indexes()
    earlier = article("ggilbo", 1, OTHER)
    store.upsert_many([item_to_document(earlier)])
    threads.gate = True  # the load stays under way until released
    first, second = new_pipeline(pipeline_env), new_pipeline(pipeline_env)
    opening = [started(first.open_spider()), started(second.open_spider())]
    assert opening == [[], []]  # both wait for the one load
    (shared,) = shared_index.open_indexes().values()
    assert shared.loads == 1 and shared.refs == 2 and len(threads.held) == 1
    threads.gate = False
    threads.release()
    assert opening == [[None], [None]] and first.index is second.index
    assert first.stats.get_value("newsdesk/dedup/index_shared") is None
    assert second.stats.get_value("newsdesk/dedup/index_shared") is True
    # outlets crawled together agree at once, without waiting for a refresh
    original = first.process_item(article("ggilbo", 2, STORY))
    reprint = second.process_item(article("cctoday", 3, STORY[:-1]))
    assert reprint.story_id == original.story_id and reprint.story_closest == original.canonical_url
    threads.clock.advance(60)
    assert shared.refreshes == 1  # one refresh loop for the process, not one per crawler
    finished(first.close_spider())
    assert shared_index.open_indexes() == {shared.key: shared} and shared.client is not None
    threads.clock.advance(60)
    assert shared.refreshes == 2
    finished(second.close_spider())
    assert shared_index.open_indexes() == {} and shared.client is None
    assert shared.refreshes == 3  # the last crawler's close compares what other processes stored meanwhile
    threads.clock.advance(600)
    assert shared.refreshes == 3  # the loop stopped with the last crawler
    for pipe in (first, second):  # the stored one (held for its exact key: no signature) and the two new
        assert pipe.stats.get_value("newsdesk/dedup/index_articles") == 3
        assert pipe.stats.get_value("newsdesk/dedup/index_evicted") == 0
        assert pipe.stats.get_value("newsdesk/dedup/index_mb") >= 0
    # the next crawler loads a new index
    third = open_pipeline(pipeline_env)
    assert third.index is not shared.index and shared_index.open_indexes()[shared.key].loads == 1


def test_a_failed_load_fails_every_waiting_crawler_and_the_next_one_tries_again(pipeline_env, threads):
    threads.gate = True
    first, second = new_pipeline(pipeline_env), new_pipeline(pipeline_env)
    opening = [started(first.open_spider()), started(second.open_spider())]
    threads.held = [(d, lambda: (_ for _ in ()).throw(OSError("no database"))) for d, _ in threads.held]
    threads.release()
    assert all(isinstance(o[0], Failure) and o[0].check(OSError) for o in opening)
    assert shared_index.open_indexes() == {}
    threads.gate = False
    assert open_pipeline(pipeline_env).stats.get_value("newsdesk/dedup/index_loaded") == 0


def test_the_bound_evicts_old_articles_with_their_exact_keys_and_a_rebuild_keeps_the_newest(pipeline_env, mongo_db,
                                                                                              threads):
    settings = {**pipeline_env, "NEWSDESK_STORY_INDEX_MAX_ARTICLES": 3}
    pipe = open_pipeline(settings)
    items = [pipe.process_item(article("ggilbo", n, [f"{n}번째 기사입니다. " + p for p in OTHER], title=f"제목 {n}"))
             for n in range(1, 6)]
    index = pipe.index
    assert len(index) == 3 and index.evicted == 2
    assert [u for s in index.segments for u in s.urls if u] == [i.canonical_url for i in items[2:]]
    first_key = exact_key("ggilbo", items[0].body_hash, items[0].title)
    assert first_key not in index.exact and items[0].canonical_url not in index.stories
    # the first body at a second URL is no alias any more: its article was evicted
    copy = article("ggilbo", 9, [f"1번째 기사입니다. " + p for p in OTHER], title="제목 1")
    assert pipe.process_item(copy).alias_of is None
    assert pipe.stats.get_value("newsdesk/dedup/index_evicted") == 0  # reported at open, refresh and close
    finished(pipe.close_spider())
    assert (pipe.stats.get_value("newsdesk/dedup/index_articles"), pipe.stats.get_value("newsdesk/dedup/index_evicted")) == (3, 3)

    store = ArticleStore(mongo_db)
    store.ensure_indexes()
    base = datetime.now(timezone.utc) - timedelta(hours=10)
    for n, item in enumerate(items):  # stored an hour apart, newest last
        store.upsert_many([item_to_document(item)], now=base + timedelta(hours=n))
    again = open_pipeline(settings)
    assert again.stats.get_value("newsdesk/dedup/index_loaded") == 3
    assert [u for s in again.index.segments for u in s.urls if u] == [i.canonical_url for i in items[2:]]
