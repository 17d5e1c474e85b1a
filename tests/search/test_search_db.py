"""search() against the test database (SecantusDB in process, or MONGO_URI's MongoDB)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from crawler.search import Filters, SearchError, drain, reindex, search
from crawler.search import index as search_index
from crawler.store import ArticleStore

from .conftest import BASE, CORPUS, article


def urls(result):
    return [h.canonical_url for h in result.hits]


def test_word_matches_inside_words_with_particles(store, mongo_db):
    result = search(mongo_db, "대전")
    assert set(urls(result)) == {CORPUS[i]["canonical_url"] for i in (0, 1, 3, 5)}
    assert result.total == 4 and result.total_exact


def test_title_matches_rank_first_then_recency(store, mongo_db):
    result = search(mongo_db, "대전")
    # titles with 대전: 0 and 5 (5 is newer); body-only: 1 and 3 (3 newer)
    assert urls(result) == [CORPUS[i]["canonical_url"] for i in (5, 0, 3, 1)]
    assert result.hits[0].score > result.hits[2].score


def test_every_word_must_occur(store, mongo_db):
    assert urls(search(mongo_db, "대전 세종역")) == [CORPUS[3]["canonical_url"]]
    assert search(mongo_db, "대전 없는단어").total == 0


def test_exact_phrase_in_quotes(store, mongo_db):
    assert urls(search(mongo_db, '"전통시장"')) == [CORPUS[2]["canonical_url"]]
    # both words occur in 2 and 4, the phrase "전통 방식" only in 4
    assert urls(search(mongo_db, '"전통 방식"')) == [CORPUS[4]["canonical_url"]]
    # 시장 and 상인들 both occur in 2 and 4 (its title says 상인), the phrase only in 2
    assert urls(search(mongo_db, '"시장 상인들"')) == [CORPUS[2]["canonical_url"]]


def test_latin_full_width_and_case(store, mongo_db):
    assert urls(search(mongo_db, "ktx")) == [CORPUS[3]["canonical_url"]]


def test_one_syllable_query(store, mongo_db):
    assert urls(search(mongo_db, "쌀")) == [CORPUS[5]["canonical_url"]]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(outlets=("busan",)), {3, 5}),
        (Filters(outlets=("busan", "daejonilbo")), {1, 3, 5}),
        (Filters(regions=("대전",)), {0, 5}),
        (Filters(sections=("사회",)), {0, 1, 3, 5}),
        (Filters(since=BASE + timedelta(days=1), until=BASE + timedelta(days=4)), {1, 3}),
        (Filters(stories=("s-1",)), {5}),
    ],
)
def test_filters(store, mongo_db, filters, expected):
    assert set(urls(search(mongo_db, "대전", filters))) == {CORPUS[i]["canonical_url"] for i in expected}


def test_pagination_is_disjoint_and_complete(store, mongo_db):
    pages = [search(mongo_db, "대전", page=p, per_page=3) for p in (1, 2, 3)]
    seen = [u for page in pages for u in urls(page)]
    everything = urls(search(mongo_db, "대전", per_page=100))
    assert seen == everything and len(set(seen)) == len(seen)
    assert pages[0].total == len(everything) == 4 and pages[0].pages == 2
    assert [len(p.hits) for p in pages] == [3, 1, 0]


def test_snippets_and_title_are_highlighted_segments(store, mongo_db):
    hit = search(mongo_db, '"온누리상품권" 천안').hits[0]
    marked = [s.text for snippet in hit.snippets for s in snippet if s.highlight]
    assert "온누리상품권" in marked and "천안" in marked
    assert [s.text for s in hit.title_segments if s.highlight] == []
    data = hit.as_dict()
    assert data["snippets"][0][0].keys() == {"text", "highlight"}


def test_revised_article_is_found_by_its_new_text_only(store, mongo_db):
    changed = article(0, "대전시의회 임시회 폐회", "대전시의회가 임시회를 마치고 폐회했다.")
    assert store.upsert_many([changed]).updated == 1
    assert drain(mongo_db).indexed == 1
    assert urls(search(mongo_db, "폐회")) == [changed["canonical_url"]]
    # the old body's word is still in old postings, but verification drops the article
    assert search(mongo_db, "조례안").hits == []


def test_empty_query_is_an_error(store, mongo_db):
    with pytest.raises(SearchError, match="no word"):
        search(mongo_db, " ... ")
    with pytest.raises(SearchError, match="page"):
        search(mongo_db, "대전", page=0)


def test_segments_merge_and_results_stay(mongo_db, monkeypatch):
    monkeypatch.setattr(search_index, "FANOUT", 2)
    store = ArticleStore(mongo_db)
    for i in range(8):
        store.upsert_many([article(i, f"대전 기사 {i}", f"본문 {i} 대전 소식")])
        drain(mongo_db)  # one segment each
    segments = list(mongo_db.search_segments.find())
    assert len(segments) < 8
    assert sum(s["articles"] for s in segments) == 8
    assert search(mongo_db, "대전", per_page=100).total == 8


def test_a_segment_is_written_a_few_buckets_at_a_time_letting_its_postings_go(mongo_db, monkeypatch):
    # a merge holds its postings once: each blob is dropped as its bucket document is built,
    # and the documents go out a few at a time instead of all together at the end
    monkeypatch.setattr(search_index, "BUCKET_BYTES", 64)
    monkeypatch.setattr(search_index, "_WRITE_BUCKETS", 3)
    index = search_index.SearchIndex(mongo_db)
    inserts = []
    original = index.postings.insert_many
    monkeypatch.setattr(index.postings, "insert_many", lambda docs, **kw: inserts.append(len(docs)) or original(docs, **kw))
    postings = {f"t{n}": bytearray(search_index.encode_entry(search_index.ObjectId(), n)) for n in range(40)}
    expected = {term: bytes(blob) for term, blob in postings.items()}
    segment = index._write_segment(postings, 40, 0, 39)
    assert postings == {}  # consumed
    assert len(inserts) > 1 and max(inserts) <= 3
    meta = mongo_db.search_segments.find_one({"_id": segment})
    assert sum(inserts) == len([b for b in range(meta["buckets"]) if mongo_db.search_postings.find_one({"_id": f"{segment}/{b}"})])
    assert index.read(list(expected), [meta]) == expected


def test_reindex_indexes_articles_stored_without_postings(mongo_db):
    ArticleStore(mongo_db, search=False).upsert_many(CORPUS)
    assert search(mongo_db, "대전").total == 0
    seen = []
    assert reindex(mongo_db, progress=lambda done, total: seen.append((done, total))) == len(CORPUS)
    assert seen[-1] == (len(CORPUS), len(CORPUS))
    assert search(mongo_db, "대전").total == 4
    assert reindex(mongo_db) == 0  # nothing left unindexed
    assert reindex(mongo_db, full=True) == len(CORPUS)
    assert search(mongo_db, "대전").total == 4
    assert mongo_db.search_segments.count_documents({}) == 1


def test_reindex_scan_finds_what_the_queue_does_not_name(mongo_db):
    ArticleStore(mongo_db).upsert_many(CORPUS[:2])
    mongo_db.search_queue.delete_many({})  # as if lost: the scan still finds them unmarked
    assert mongo_db.articles.count_documents({"search_indexed": {"$exists": True}}) == 0
    assert reindex(mongo_db) == 2
    assert search(mongo_db, "세종시").total == 1


def test_search_time_is_reported(store, mongo_db):
    result = search(mongo_db, "대전")
    assert result.took_ms > 0 and {"read_ms", "rank_ms", "verify_ms"} <= result.timings.keys()
    assert isinstance(result.hits[0].published, datetime) and result.hits[0].published.utcoffset() is not None


def test_date_range_reads_only_segments_that_overlap_it(mongo_db, monkeypatch):
    store = ArticleStore(mongo_db)
    store.upsert_many([article(0, "대전 옛 기사", "대전 소식")])
    drain(mongo_db)
    store.upsert_many([article(40, "대전 새 기사", "대전 소식")])
    drain(mongo_db)
    read_from = []
    original = search_index.SearchIndex.read

    def spy(self, terms, segments=None):
        read_from.append(len(segments))
        return original(self, terms, segments)

    monkeypatch.setattr(search_index.SearchIndex, "read", spy)
    result = search(mongo_db, "대전", Filters(since=BASE + timedelta(days=30)))
    assert urls(result) == [article(40, "", "")["canonical_url"]]
    assert read_from == [1]


def test_member_finds_sorted_candidates_in_any_list():
    import numpy as np

    from crawler.search.candidates import member as _member

    keys = np.array([3, 7, 9], dtype=np.uint64)
    assert _member(keys, np.array([9, 1, 3, 3, 100], dtype=np.uint64)).tolist() == [True, False, True]
    assert _member(keys, np.array([], dtype=np.uint64)).tolist() == [False, False, False]
    assert _member(np.array([], dtype=np.uint64), keys).tolist() == []


def test_deep_pages_past_the_verify_limit(mongo_db, monkeypatch):
    from crawler.search import engine

    monkeypatch.setattr(engine, "VERIFY_LIMIT", 2)
    ArticleStore(mongo_db).upsert_many([article(i, f"대전 기사 {i}", "대전 소식") for i in range(9)])
    drain(mongo_db)
    pages = [urls(search(mongo_db, "대전", page=p, per_page=2)) for p in range(1, 6)]
    assert [len(p) for p in pages] == [2, 2, 2, 2, 1]
    assert len({u for p in pages for u in p}) == 9
