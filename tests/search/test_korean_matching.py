"""Korean-aware matching, exclusion, sort and snippet length (crawler.text.korean, crawler.search)."""

from __future__ import annotations

import pytest

from crawler.search import drain, search
from crawler.search.query import parse_query
from crawler.search.snippets import snippets
from crawler.store import ArticleStore
from crawler.text.korean import find_word, has_word, stem

from .conftest import article


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("스마트시티를", "스마트시티"), ("대전시가", "대전"), ("대전시는", "대전"), ("대전광역시에서", "대전"),
        ("주민들이", "주민"), ("발표했다", "발표"), ("교육청으로", "교육청"), ("세종시의", "세종"),
        ("협약과", "협약"), ("지원도", "지원"), ("예산만", "예산"), ("KTX를", "ktx"),
        # never below two letters: these are words, not stems with particles
        ("국가", "국가"), ("도시", "도시"), ("지구", "지구"), ("대전", "대전"), ("쌀", "쌀"),
    ],
)
def test_particles_endings_and_admin_suffixes_are_stripped(word, expected):
    assert stem(word) == expected


@pytest.mark.parametrize("text", ["대전", "대전시는 밝혔다", "대전광역시에서", "(대전시)", "대전·세종", "대전시청", "대전역에서", "대전의"])
def test_place_word_finds_its_administrative_forms(text):
    assert has_word(text, "대전")


@pytest.mark.parametrize("text", ["휴대전화를 켰다", "대전차 미사일", "세계대전", "대전환을 맞았다"])
def test_place_word_does_not_match_inside_unrelated_words(text):
    assert not has_word(text, "대전")


def test_compound_matches_spaced_form_and_spaced_query_matches_compound():
    assert find_word("부산 스마트 시티 사업", "스마트시티") == [(3, 9)]
    assert parse_query("스마트 시티").matches("부산 스마트시티 사업")
    assert parse_query("스마트시티를").matches("스마트 시티는")


def test_long_stems_match_compound_starts_short_ones_do_not():
    assert has_word("비상진료체계를 가동", "비상진료")  # three letters or more: a compound's start
    assert not has_word("대전차 미사일", "대전")  # two letters: particles and admin forms only
    assert stem("유성구청") == "유성" and stem("대전시청") == "대전" and stem("교육청") == "교육청"


def test_latin_and_digits_are_whole_tokens():
    assert has_word("ktx를 타고", "ktx") and has_word("2025년", "2025")
    assert not has_word("ktx2 노선", "ktx")


TRAPS = [
    article(0, "대전시, 스마트시티 조성 착수", "대전시가 스마트시티 사업을 시작했다. 대전광역시는 예산을 확정했다."),
    article(1, "부산 휴대전화 판매 급증", "부산에서 휴대전화 판매가 늘었다.", outlet="busan", region="부산"),
    article(2, "대전차 미사일 도입", "육군이 대전차 미사일을 도입한다.", region="서울"),
    article(3, "세종 스마트 시티 시범도시", "세종시는 스마트 시티 시범도시를 운영한다.", region="세종"),
    article(4, "대전 소식", "대전 대전 대전 시민이 모였다. 세종과 협력한다.", region="대전"),
]


@pytest.fixture
def traps(mongo_db):
    ArticleStore(mongo_db).upsert_many(TRAPS)
    drain(mongo_db)
    return mongo_db


def ids(result):
    return {int(h.canonical_url.rsplit("/", 1)[1]) for h in result.hits}


def test_search_particles_admin_forms_traps_and_spacing(traps):
    assert ids(search(traps, "대전시가")) == {0, 4}
    assert ids(search(traps, "대전")) == {0, 4}  # not 1 (휴대전화) nor 2 (대전차)
    assert ids(search(traps, "스마트시티를")) == {0, 3}
    assert ids(search(traps, "스마트 시티")) == {0, 3}
    assert ids(search(traps, "대전차")) == {2}


def test_exclusion(traps):
    assert ids(search(traps, "대전 -세종")) == {0}
    assert ids(search(traps, "스마트시티 -세종시")) == {0}


def test_sort_relevance_and_newest(traps):
    # 3 has 세종 in its title and body, 4 (newer) once in its body
    by_relevance = search(traps, "세종")
    assert [int(h.canonical_url.rsplit("/", 1)[1]) for h in by_relevance.hits] == [3, 4]
    assert by_relevance.hits[0].score > by_relevance.hits[1].score
    newest = search(traps, "세종", sort="newest")
    assert [int(h.canonical_url.rsplit("/", 1)[1]) for h in newest.hits] == [4, 3]
    # more occurrences outrank fewer when neither title decides: 4 says 대전 four times
    assert [int(h.canonical_url.rsplit("/", 1)[1]) for h in search(traps, "대전").hits] == [4, 0]


def test_unknown_sort_is_an_error(traps):
    from crawler.search import SearchError

    with pytest.raises(SearchError, match="sort"):
        search(traps, "대전", sort="oldest")


def test_highlight_marks_matched_words_only(traps):
    hit = search(traps, "대전").hits[0]
    marked = [s.text for snippet in hit.snippets for s in snippet if s.highlight]
    assert marked and set(marked) <= {"대전", "대전시", "대전광역시"}
    phone = snippets("휴대전화를 든 대전시민과 대전시는", parse_query("대전"))
    assert [s.text for s in phone[0] if s.highlight] == ["대전", "대전시"]  # not 휴대전화, not 민 or 는


def test_snippets_stay_within_200_characters():
    body = " ".join(["가나다라마바사"] * 100 + ["대전시가 발표했다"] + ["아자차카"] * 100 + ["세종시는"] + ["타파하"] * 100)
    found = snippets(body, parse_query("대전 세종"))
    assert 1 <= len(found) <= 2
    assert sum(len(s.text) for snippet in found for s in snippet if s.text != "…") <= 200
    marked = {s.text for snippet in found for s in snippet if s.highlight}
    assert marked == {"대전시", "세종시"}
    one = snippets(body[:300] + " 대전 세종 " + body[:300], parse_query("대전 세종"))
    assert len(one) == 1 and sum(len(s.text) for s in one[0] if s.text != "…") <= 200
