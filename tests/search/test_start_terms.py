"""Start terms: a query's first word is looked up by the bigram that begins an eojeol, and an
index written before start terms existed (segment format 1) answers the same."""

from __future__ import annotations

from typing import Any

from crawler.search import drain, search
from crawler.search.candidates import word_terms as _word_terms
from crawler.search.index import FORMAT, POSTINGS, SEGMENTS, SearchIndex, article_terms, bucket_of
from crawler.search.query import parse_query
from crawler.text.terms import START, start_terms
from tests.search.conftest import article


def test_start_terms_are_the_first_bigram_of_each_cjk_run():
    assert start_terms("대전시는 전통시장에서, KTX세종역 휴대전화") == {"<대전", "<전통", "<세종", "<휴대"}
    assert "<시장" not in start_terms("전통시장")
    assert start_terms("시장 개방") == {"<시장", "<개방"}


def test_an_article_is_indexed_by_its_start_terms_and_they_share_the_plain_bigrams_bucket():
    terms = article_terms({"title": "대전 시장", "body": "휴대전화 판매"})
    assert {"<대전", "<시장", "<휴대", "<판매"} <= terms
    assert "<대전" not in {t for t in terms if t.startswith("^")}
    assert all(bucket_of("<대전", n) == bucket_of("대전", n) == bucket_of("^대전", n) for n in (1, 7, 31))


def test_a_later_word_needs_its_start_term_or_the_bigram_across_the_words():
    required, _loose, either = _word_terms(parse_query("스마트 시티"))
    assert required[0] == START + "스마"
    assert START + "시티" not in required  # 스마트시티 has 시티 inside an eojeol
    assert either == [[START + "시티", "트시"]]  # 시티 starting an eojeol, or 스마트시티
    required, _, _ = _word_terms(parse_query("KTX 대전"))
    assert not any(t.startswith(START) for t in required)
    required, _, _ = _word_terms(parse_query("쌀"))
    assert not any(t.startswith(START) for t in required)


def _add_inside_only(store: Any, db: Any) -> None:
    """An article with 시장 only inside other words (부시장, 재래시장)."""
    store.upsert_many([article(9, "부시장 취임", "재래시장 상인회가 새 부시장을 맞았다.")])
    drain(db)


def test_candidates_drop_articles_holding_the_word_only_inside_other_words(store, mongo_db):
    _add_inside_only(store, mongo_db)
    result = search(mongo_db, "시장")
    assert {h.canonical_url for h in result.hits} == {"https://news.example/2", "https://news.example/4"}
    assert result.candidates == 2 and result.total_exact  # article 9 is not even a candidate


def _downgrade_to_format_1(db: Any) -> None:
    """Rewrite every segment as an index written before start terms: no <xx terms, no format."""
    for doc in db[POSTINGS].find({}):
        kept = {t: b for t, b in doc["p"].items() if not t.startswith(START)}
        db[POSTINGS].update_one({"_id": doc["_id"]}, {"$set": {"p": kept}})
    db[SEGMENTS].update_many({}, {"$unset": {"format": "", "filters": ""}})


def test_a_format_1_index_answers_the_same(store, mongo_db):
    _add_inside_only(store, mongo_db)
    queries = ["시장", "대전", "스마트 시티", "세종역", "대전시가", '"임시회"', "쌀"]
    before = {q: [h.id for h in search(mongo_db, q).hits] for q in queries}
    _downgrade_to_format_1(mongo_db)
    assert all(int(s.get("format") or 1) == 1 for s in SearchIndex(mongo_db).live_segments())
    after = {q: [h.id for h in search(mongo_db, q).hits] for q in queries}
    assert after == before
    assert search(mongo_db, "시장").candidates == 3  # the plain bigram stands in: one more to verify


def test_new_segments_record_their_format_and_filter_terms(store, mongo_db):
    segments = SearchIndex(mongo_db).live_segments()
    assert segments and all(s["format"] == FORMAT for s in segments)
    filters = {t for s in segments for t in s["filters"]}
    assert {"@o:joongdo", "@o:busan", "@r:대전", "@s:경제"} <= filters


def test_a_merge_of_old_and_new_segments_keeps_the_older_format(store, mongo_db):
    _downgrade_to_format_1(mongo_db)
    index = SearchIndex(mongo_db)
    metas = index.live_segments()
    index._merge(metas)
    merged = index.live_segments()
    assert len(merged) == 1 and merged[0]["format"] == 1


def test_a_province_is_looked_up_by_any_of_its_names():
    required, _loose, either = _word_terms(parse_query("충청남도 예산"))
    assert either[0] == ["<충청", "<충남"]  # the first word: start terms of both names
    assert "예산" in required and not any(t.startswith(START) for t in required)
    _r, _l, either = _word_terms(parse_query("대전 충남"))
    assert either == [["충남", "충청"]]  # a later word: a plain bigram of each (대전충남 is a match too)


def test_a_later_word_written_together_with_the_one_before_is_still_found(mongo_db):
    from crawler.store import ArticleStore

    store = ArticleStore(mongo_db)
    store.ensure_indexes()
    store.upsert_many([article(0, "지역경제 활성화", "지역경제가 살아났다."), article(1, "지역 소식", "국제경제 동향. 지역민 모임.")])
    drain(mongo_db)
    assert [h.canonical_url for h in search(mongo_db, "지역 경제").hits] == ["https://news.example/0"]
    assert search(mongo_db, "지역 경제").candidates == 1  # 경제 starts no eojeol in article 1 and is not written with 지역
