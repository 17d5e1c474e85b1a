"""Facet counts and the day histogram of a search: from the postings, summing to the total."""

from __future__ import annotations

from datetime import date, datetime, timezone

import numpy as np
import pytest

from crawler.search import Filters, drain, search
from crawler.search import engine
from crawler.search.facets import _CACHE, day_axis, histogram
from crawler.search.index import SearchIndex
from crawler.store import ArticleStore
from tests.search.conftest import BASE, article


def test_facets_count_matching_articles_per_value(store, mongo_db):
    result = search(mongo_db, "대전", facets=True)
    urls = {h.canonical_url for h in result.hits}
    assert urls == {"https://news.example/0", "https://news.example/1", "https://news.example/3", "https://news.example/5"}
    f = result.facets
    assert f is not None and f.exact
    assert dict(f.outlet) == {"joongdo": 1, "daejonilbo": 1, "busan": 2}
    assert dict(f.region) == {"대전": 2, "세종": 1, "부산": 1}
    assert dict(f.section) == {"사회": 4}
    assert f.outlet[0] == ("busan", 2)  # largest first
    assert sum(n for _v, n in f.outlet) == result.total


def test_a_trap_word_is_not_counted(store, mongo_db):
    ArticleStore(mongo_db).upsert_many([article(8, "휴대전화 요금", "휴대전화 요금이 올랐다.", outlet="kookje", region="부산")])
    drain(mongo_db)
    f = search(mongo_db, "대전", facets=True).facets
    assert "kookje" not in dict(f.outlet)  # a candidate by its bigrams, rejected on reading


def test_facets_respect_the_filters(store, mongo_db):
    f = search(mongo_db, "대전", Filters(outlets=("busan",)), facets=True).facets
    assert dict(f.outlet) == {"busan": 2}
    assert dict(f.region) == {"부산": 1, "대전": 1}


def test_day_histogram_covers_every_day_between_first_and_last_match(store, mongo_db):
    f = search(mongo_db, "대전", facets=True).facets
    assert f.bucket == "day"
    days = dict(f.days)
    assert min(days) == BASE.date() and max(days) == date(2025, 3, 6)
    assert len(days) == 6 and sum(days.values()) == 4
    assert days[date(2025, 3, 3)] == 0  # article 2 (3 March) does not match


def test_day_histogram_spans_the_asked_range(store, mongo_db):
    since = datetime(2025, 2, 27, tzinfo=timezone.utc)
    until = datetime(2025, 3, 10, tzinfo=timezone.utc)
    f = search(mongo_db, "대전", Filters(since=since, until=until), facets=True).facets
    assert [d for d, _ in f.days][0] == date(2025, 2, 27) and [d for d, _ in f.days][-1] == date(2025, 3, 10)


def test_long_ranges_are_counted_by_month():
    day = 86400
    times = np.array([0, 40 * day, 4000 * day], dtype=np.int64)
    axis = day_axis(times, np.ones(3))
    bucket, rows = axis.bucket, list(zip(axis.starts, histogram(axis, times, np.ones(3))))
    assert bucket == "month"
    assert rows[0] == (date(1970, 1, 1), 1) and rows[1] == (date(1970, 2, 1), 1)
    assert rows[-1][1] == 1 and sum(n for _d, n in rows) == 3


def test_estimated_facets_sum_to_the_estimated_total(mongo_db, monkeypatch):
    store = ArticleStore(mongo_db)
    store.ensure_indexes()
    docs = [article(i, f"대전 소식 {i}", "대전시가 발표했다." if i % 3 else "휴대전화 판매가 늘었다. 대전", outlet=("joongdo", "busan")[i % 2])
            for i in range(60)]
    store.upsert_many(docs)
    drain(mongo_db)
    monkeypatch.setattr(engine, "FACET_SAMPLE", 10)
    monkeypatch.setattr(engine, "RERANK_WINDOW", 5)
    result = search(mongo_db, "대전", per_page=5, sort="newest", facets=True)
    assert not result.facets.exact and not result.total_exact
    assert abs(sum(n for _v, n in result.facets.outlet) - result.total) <= 1


def test_filter_postings_are_cached_per_segment(store, mongo_db, monkeypatch):
    _CACHE.items.clear()
    _CACHE.used = 0
    search(mongo_db, "대전", facets=True)
    cached = len(_CACHE.items)
    assert cached > 0
    reads = []
    original = SearchIndex.read
    monkeypatch.setattr("crawler.search.facets.SearchIndex.read", lambda self, *a, **k: reads.append(a) or original(self, *a, **k))
    search(mongo_db, "세종", facets=True)
    assert not [terms for terms, *_ in reads if any(t.startswith("@") for t in terms)]  # all from the cache


@pytest.mark.parametrize("query", ["없는말", "대전"])
def test_no_facets_unless_asked(store, mongo_db, query):
    assert search(mongo_db, query).facets is None


def test_a_trend_splits_the_day_counts_by_region(store, mongo_db):
    f = search(mongo_db, "대전", facets=True, split="region").facets
    assert f.split_by == "region"
    assert set(f.split) == {"대전", "세종", "부산"}
    assert all(len(row) == len(f.days) for row in f.split.values())
    totals = [sum(col) for col in zip(*f.split.values())]
    assert totals == [n for _d, n in f.days]  # one region per article: the split adds up
    assert f.split["세종"][1] == 1 and sum(f.split["세종"]) == 1  # article 1, 2 March


def test_an_unknown_split_is_refused(store, mongo_db):
    from crawler.search import SearchError

    with pytest.raises(SearchError, match="split must be one of"):
        search(mongo_db, "대전", split="author")
