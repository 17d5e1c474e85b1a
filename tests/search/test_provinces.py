"""A province named in full finds its short form and the other way round (충청남도 / 충남)."""

from __future__ import annotations

import pytest

from crawler.search import drain, search
from crawler.search.query import parse_query
from crawler.store import ArticleStore
from crawler.text.korean import alternatives
from tests.search.conftest import article

DOCS = [
    article(0, "충남도 예산 확정", "충남도가 내년 예산을 확정했다."),
    article(1, "충청남도의회 임시회", "충청남도의회가 임시회를 열었다."),
    article(2, "충남대 개교 기념", "충남대학교가 개교 기념식을 열었다."),  # a university, not the province
    article(3, "경상북도 산불", "경상북도 북부에 산불이 났다."),
    article(4, "강원특별자치도 출범", "강원특별자치도가 출범했다. 강원도민이 반겼다."),
    article(5, "대전충남 상생", "대전 충남 상생 협약이 체결됐다."),
]


@pytest.fixture
def provinces(mongo_db):
    store = ArticleStore(mongo_db)
    store.ensure_indexes()
    store.upsert_many(DOCS)
    drain(mongo_db)
    return mongo_db


def _found(db, query):
    return {int(h.canonical_url.rsplit("/", 1)[1]) for h in search(db, query).hits}


@pytest.mark.parametrize("query, expected", [
    ("충남", {0, 1, 5}),
    ("충청남도", {0, 1, 5}),
    ("충청남도가", {0, 1, 5}),
    ("경북", {3}),
    ("강원", {4}),
    ("강원도", {4}),
    ("대전 충남", {5}),
    ("충남 예산", {0}),
])
def test_full_and_short_names_find_each_other(provinces, query, expected):
    assert _found(provinces, query) == expected


def test_the_short_form_inside_another_word_is_no_match(provinces):
    assert 2 not in _found(provinces, "충남")  # 충남대학교


def test_highlights_cover_either_name(provinces):
    hit = search(provinces, "충남").hits
    marked = {s.text for h in hit for s in h.title_segments if s.highlight}
    assert {"충남도", "충청남도"} <= marked


def test_alternatives_list_the_other_names_only():
    assert alternatives("충남") == ("충남", "충청남도")
    assert alternatives("대전") == ("대전",)
    assert parse_query("경상남도").alternatives == (("경상남", "경남"),)
