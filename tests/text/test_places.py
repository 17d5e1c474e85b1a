"""crawler.text.places: the code table and each rule of the tagger, one small case each."""

from __future__ import annotations

import pytest

from crawler.text.places import PlaceError, fields, filter_names, gazetteer, resolve_sido, resolve_sigungu, tag


def first(title: str, body: str = "", **kw: str | None) -> tuple[str, str | None, str] | None:
    found = tag(title, body, **kw)
    return (found[0].sido, found[0].sigungu, found[0].source) if found else None


def test_table_has_17_sido_and_the_2023_24_changes():
    table = gazetteer()
    assert len(table.sidos) == 17
    assert 225 <= len(table.units) <= 235
    assert table.sidos["51"].name == "강원특별자치도" and table.sidos["52"].name == "전북특별자치도"
    assert table.units["27720"].full == "대구광역시 군위군"
    assert table.units["44150"].full == "충청남도 공주시"


@pytest.mark.parametrize("old, full", [("청원군", "충청북도 청주시"), ("여주군", "경기도 여주시"), ("마산", "경상남도 창원시"),
                                       ("진해시", "경상남도 창원시"), ("당진군", "충청남도 당진시"), ("연기군", "세종특별자치시")])
def test_former_names_resolve_to_the_unit_now(old, full):
    assert resolve_sigungu(old).full == full


def test_former_sido_names_resolve():
    assert resolve_sido("강원도").name == "강원특별자치도"
    assert resolve_sido("전라북도").name == "전북특별자치도"
    assert resolve_sido("충남").code == "44"


def test_dateline_comes_first():
    assert first("도정 현안 점검", region="공주") == ("충청남도", "공주시", "dateline")


def test_wire_dateline_in_the_body():
    assert first("주가 급등", "[대전=뉴시스] 김양수 기자 = 주가가 올랐다.") == ("대전광역시", None, "dateline")


def test_title_with_office_suffixes():
    assert first("공주시의회, 임시회 개회") == ("충청남도", "공주시", "title")
    assert first("공주시청 앞 집회") == ("충청남도", "공주시", "title")


def test_sido_then_gu_is_one_place():
    found = tag("대전 유성구 과학축제")
    assert [(p.sido, p.sigungu) for p in found] == [("대전광역시", "유성구")]


def test_gwangju_metropolitan_city_and_gwangju_in_gyeonggi():
    assert first("광주 송정역 개발") == ("광주광역시", None, "title")
    assert first("광주시 한파 대책", home="광주") == ("광주광역시", None, "title")
    assert first("광주시 퇴촌면 주민 설명회", home="경기") == ("경기도", "광주시", "title")
    assert first("경기 광주시 곤지암 축제", home="대전") == ("경기도", "광주시", "title")


def test_goseong_resolved_by_the_outlets_region():
    assert first("고성군 산불", home="강원")[:2] == ("강원특별자치도", "고성군")
    assert first("고성군 공룡엑스포", home="경남")[:2] == ("경상남도", "고성군")
    assert first("경남 고성 공룡엑스포", home="강원")[:2] == ("경상남도", "고성군")


def test_shared_gu_names_need_a_sido():
    assert first("중구청 원도심 축제", home="대전")[:2] == ("대전광역시", "중구")
    assert first("부산 중구 영화제", home="대전")[:2] == ("부산광역시", "중구")
    # no 시도 anywhere and an outlet without 중구: only the outlet's region, marked as such
    assert first("중구청 원도심 축제", home="충북") == ("충청북도", None, "outlet")


@pytest.mark.parametrize("title", ["동해 바다 수온 상승", "예산 확보에 총력", "고령화 대책", "진도 5.0 지진", "경기 침체 장기화"])
def test_words_that_are_also_places_name_nothing_alone(title):
    assert first(title) is None


def test_trap_words_count_with_their_suffix_or_their_sido():
    assert first("동해시 묵호항")[:2] == ("강원특별자치도", "동해시")
    assert first("충남 예산 사과축제")[:2] == ("충청남도", "예산군")
    assert first("경기도 예산안 통과")[:2] == ("경기도", None)


@pytest.mark.parametrize("title", ["대전환의 시대", "부산물 재활용", "광주리 장인", "울산바위 등반", "휴대전화 요금"])
def test_names_inside_other_words_are_not_places(title):
    assert first(title) is None


def test_previous_week_is_not_jeonju():
    assert first("휘발유값 전주 대비 상승") is None
    assert first("전주 한옥마을 관광객")[:2] == ("전북특별자치도", "전주시")


def test_moved_county_keeps_its_new_sido():
    assert first("경북 군위 사과 축제")[:2] == ("대구광역시", "군위군")


def test_a_sido_then_a_word_of_another_sidos_unit_is_not_that_unit():
    assert first("대전시 예산 확정") == ("대전광역시", None, "title")  # the city's budget, not 충남 예산군


def test_lead_places_of_another_sido_are_left_out():
    found = tag("광양경자청, 코스트코 투자협약", "광양경자청은 30일 서울 여의도에서 협약을 맺었다.", region="광양")
    assert {p.sido for p in found} == {"전라남도"}


def test_outlet_region_is_the_marked_last_fallback():
    assert first("주가 급등", home="대전") == ("대전광역시", None, "outlet")
    assert first("주가 급등") is None


def test_sejong_is_its_own_sigungu():
    assert first("세종시 버스 노선 개편")[:2] == ("세종특별자치시", "세종특별자치시")


def test_stored_fields():
    stored = fields(tag("충남 공주시 백제문화제", home="대전"))
    assert stored["sido"] == ["충청남도"] and stored["sigungu"] == ["충청남도 공주시"]
    assert stored["places"][0] == {"sido": "충청남도", "sido_code": "44", "sigungu": "공주시",
                                   "sigungu_code": "44150", "source": "title"}


def test_filter_names_and_their_errors():
    assert filter_names(["충남"], ["공주시"]) == (("충청남도",), ("충청남도 공주시",))
    assert filter_names([], ["대전 유성구"]) == ((), ("대전광역시 유성구",))
    with pytest.raises(PlaceError, match="names 6 places"):
        filter_names([], ["중구"])
    with pytest.raises(PlaceError, match="did you mean 공주시"):
        filter_names([], ["공쥬시"])
    with pytest.raises(PlaceError, match="not in 충청남도: 대전광역시 유성구"):
        filter_names(["충남"], ["유성구"])
    with pytest.raises(PlaceError, match="unknown 시도"):
        filter_names(["충낭"], [])
    assert filter_names(["서울", "부산"], ["중구"])[1] == ("서울특별시 중구", "부산광역시 중구")
    with pytest.raises(PlaceError, match="in none of"):
        filter_names(["서울", "부산"], ["유성구"])


def test_a_name_starting_a_longer_word():
    assert first("논산딸기축제 로컬100 선정")[:2] == ("충청남도", "논산시")
    assert first("창원특례시, 공공와이파이 성과")[:2] == ("경상남도", "창원시")
    assert first("대전국세청 소송 패소율")[:2] == ("대전광역시", None)
    assert first("김해숙 배우 인터뷰") is None  # one letter more: a personal name
    assert first("영주권 취득 외국인") is None
    assert first("세종대왕 동상 보수") is None
    assert first("김해공항 국제선 증편") is None  # the airport is in 부산 강서구


def test_the_lead_names_its_main_place_most():
    found = tag("현장체험학습 기피", "속초 사건 이후 경기도 내 학교들이 경기도교육청과 협의했다.")
    assert found[0].sido == "경기도"


def test_seoul_named_once_in_a_lead_is_where_national_news_happens():
    body = "김 장관은 23일 서울 중구 대한상공회의소에서 대책회의를 주재했다."
    assert first("수출여건 훼손 안 되게 협의", body, home="대구") == ("대구광역시", None, "outlet")
    assert first("수출여건 훼손 안 되게 협의", body, home="서울")[:2] == ("서울특별시", "중구")
    assert first("수출여건 협의", "충남 태안 본사에서 선포식을 열었다.", home="부산")[:2] == ("충청남도", "태안군")
