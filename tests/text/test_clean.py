"""Table tests for crawler.text.clean."""

import unicodedata

import pytest

from crawler.text.clean import (
    clean_paragraphs,
    is_copyright_line,
    is_end_heading,
    is_prose,
    is_script_marker,
    is_trailing_chrome,
    join_body,
    normalize_text,
)

NFD_HANGUL = unicodedata.normalize("NFD", "세종시")

NORMALIZE = [
    ("", ""),
    ("   ", ""),
    ("세종시는 23일", "세종시는 23일"),
    ("  세종시는   23일  ", "세종시는 23일"),
    ("세종시는\u00a023일", "세종시는 23일"),  # nbsp
    ("세종시는\u3000\u300023일", "세종시는 23일"),  # ideographic spaces
    ("세종시는\u2009\u202f23일", "세종시는 23일"),  # thin / narrow nbsp
    ("세종\u200b시는", "세종시는"),  # zero-width space removed, not spaced
    ("\ufeff세종시는", "세종시는"),  # BOM
    ("스마트\u00ad시티", "스마트시티"),  # soft hyphen
    ("세종\u200d시", "세종시"),
    ("줄\n바꿈", "줄 바꿈"),
    ("줄\r\n\r\n바꿈", "줄 바꿈"),
    ("탭\t\t문자", "탭 문자"),
    ("a\x85b", "a b"),
    ("제어\x00문자\x07", "제어문자"),
    (NFD_HANGUL + "는", "세종시는"),
    ("ⓒ 뉴시스 ①", "ⓒ 뉴시스 ①"),  # NFC, not NFKC
    ("＂전각＂", "＂전각＂"),
]


@pytest.mark.parametrize(("raw", "expected"), NORMALIZE)
def test_normalize_text(raw: str, expected: str) -> None:
    got = normalize_text(raw)
    assert got == expected
    assert unicodedata.is_normalized("NFC", got)


def test_nfd_input_becomes_nfc() -> None:
    assert len(NFD_HANGUL) > 3
    assert normalize_text(NFD_HANGUL) == "세종시"
    assert len(normalize_text(NFD_HANGUL)) == 3


def test_normalize_is_idempotent() -> None:
    for raw, _ in NORMALIZE:
        once = normalize_text(raw)
        assert normalize_text(once) == once


def test_clean_paragraphs() -> None:
    raw = [
        "세종형 스마트시티 사업의 성공을 위한 세종시의 행보가 빨라지고 있다.",
        "",
        "\u00a0",
        "\n\n",
        "  세종시는 23일\u3000워크숍을 진행했다.  ",
        "\u200b",
        "이번 워크숍은\n마련됐다.",
    ]
    assert clean_paragraphs(raw) == [
        "세종형 스마트시티 사업의 성공을 위한 세종시의 행보가 빨라지고 있다.",
        "세종시는 23일 워크숍을 진행했다.",
        "이번 워크숍은 마련됐다.",
    ]


def test_clean_paragraphs_accepts_any_iterable() -> None:
    assert clean_paragraphs(p for p in [" a ", "", "b"]) == ["a", "b"]
    assert clean_paragraphs([]) == []


COPYRIGHT = [
    ("중도일보(www.joongdo.co.kr), 무단전재 및 수집, 재배포 금지", True),
    ("<저작권자 © 중도일보 무단전재 및 재배포 금지>", True),
    ("<저작권자 © OO일보 무단전재 및 재배포 금지>", True),
    ("저작권자 © 대전일보 무단전재 및 재배포 금지", True),
    ("<저작권자ⓒ 공감언론 뉴시스통신사. 무단전재-재배포 금지.>", True),
    ("<저작권자(c) 연합뉴스, 무단 전재-재배포, AI 학습 및 활용 금지>", True),
    ("ⓒ 뉴시스", True),
    ("ⓒ뉴스1", True),
    ("© 뉴스1코리아 www.news1.kr", True),
    ("(c) 연합뉴스", True),
    ("Copyright © 충청투데이 All rights reserved.", True),
    ("Copyright ⓒ 2019 joongdo.co.kr", True),
    ("COPYRIGHT © KADO.NET", True),
    ("무단 복제 및 재배포 금지", True),
    ("  중도일보(www.joongdo.co.kr), 무단전재 및 수집, 재배포 금지\u00a0", True),
    # body text
    ("세종시는 23일 산학연클러스터지원센터에서 워크숍을 진행했다.", False),
    ("정부는 뉴스 기사의 무단전재를 금지하는 법안을 발의했다.", False),
    ("저작권자의 허락 없이 재배포하면 처벌받는다고 밝혔다.", False),
    ("문제는 (a), (b), (c) 세 가지다.", False),
    ("기자의 다른기사 보기", False),
    ("세종=오희룡 기자 huily@", False),
    ("", False),
    ("무단전재 금지 " + "가" * 300, False),
]


@pytest.mark.parametrize(("line", "expected"), COPYRIGHT)
def test_is_copyright_line(line: str, expected: bool) -> None:
    assert is_copyright_line(line) is expected


JOIN = [
    ([], ""),
    (["하나"], "하나"),
    (["하나", "둘"], "하나\n\n둘"),
    (["하나", "", "둘", "셋"], "하나\n\n둘\n\n셋"),
]


@pytest.mark.parametrize(("paragraphs", "expected"), JOIN)
def test_join_body(paragraphs: list[str], expected: str) -> None:
    assert join_body(paragraphs) == expected


def test_clean_then_join_round_trip() -> None:
    body = join_body(clean_paragraphs(["  첫 문단\n이어짐 ", "", "둘째\u3000문단"]))
    assert body == "첫 문단 이어짐\n\n둘째 문단"
    assert body.split("\n\n") == clean_paragraphs(body.split("\n\n"))


COPYRIGHT_NEW_WORDINGS = [
    "무단전재 및 재배포, AI 학습 이용 금지",
    "AI 학습 및 활용 금지",
    "[ⓒ 예시일보 / 무단 전재, 재배포 및 AI학습 이용 금지]",
    "이 기사의 저작권은 예시일보에 있으며, 무단 전재 및 재배포를 금합니다.",
    "인터뷰 자료의 저작권은 SBS 라디오에 있습니다.",
]


@pytest.mark.parametrize("line", COPYRIGHT_NEW_WORDINGS)
def test_copyright_new_wordings(line: str) -> None:
    assert is_copyright_line(line)


END_HEADINGS = [
    ("관련기사", True),
    ("[관련기사]", True),
    ("관련 뉴스 더보기", True),
    ("기자의 다른기사 보기", True),
    ("이 기자의 다른 기사", True),
    ("많이 본 뉴스", True),
    ("댓글 3", True),
    ("■ 오늘의 주요 뉴스", True),
    ("FAQ", True),
    ("자주 묻는 질문", True),
    ("관련 기사를 보면 이번 조치의 배경을 알 수 있다.", False),
    ("대전시 관련 기사", False),
    ("", False),
]


@pytest.mark.parametrize(("line", "expected"), END_HEADINGS)
def test_is_end_heading(line: str, expected: bool) -> None:
    assert is_end_heading(line) is expected


TRAILING_CHROME = [
    # correction and reply notices, the ombudsman
    ("※ 이 기사에 대한 정정·반론보도 청구는 고충처리인에게 하실 수 있습니다.", True),
    ("반론보도 청구 안내: 언론중재위원회", True),
    ("고충처리인 홍길동 (02-123-4567, ombud@example.kr)", True),
    # prompts: subscription, likes, tip-offs
    ("▶ 예시일보 네이버 채널 구독하기", True),
    ("[예시일보 유튜브 구독]", True),
    ("구독하기", True),
    ("좋아요 0", True),
    ("기사제보 news@example.kr", True),
    ("카카오톡 제보: 예시일보 채널 추가", True),
    ("제보를 기다립니다 (전화 02-123-4567)", True),
    # addresses, signoffs, hashtags, player and toolbar messages
    ("kdy@yna.co.kr", True),
    ("/seon@osen.co.kr", True),
    ("[tgar1@mbn.co.kr]", True),
    ("( 취재 : 한지연 / 영상편집 : 변지영/ 화면제공 : 부산경찰청 )", True),
    ("영상편집:김선영", True),
    ("현재 브라우저 버전에서는 서비스가 원할하지 않습니다.", True),
    ("▲위 사진은 기사 내용과 직접적인 관련이 없습니다.", True),
    ("◎공감언론 뉴시스 phw@newsis.com", True),
    ("https://www.example.kr/news/1", True),
    ("#고물가 #짠테크 #2030세대", True),
    ("브라우저가 video 태그를 지원하지 않습니다.", True),
    ("기사 URL이 복사되었습니다.", True),
    ("무단전재 및 재배포 금지", True),
    # story sentences that mention the same words
    ("경찰은 시민 제보를 받아 범인을 검거했다고 밝혔다.", False),
    ("정부는 구독 경제 활성화 방안을 내놓았다.", False),
    ("법원은 A씨가 낸 반론보도 청구 소송에서 원고 일부 승소 판결했다" + "고 밝혔다. " * 30, False),
    ("", False),
]


@pytest.mark.parametrize(("line", "expected"), TRAILING_CHROME)
def test_is_trailing_chrome(line: str, expected: bool) -> None:
    assert is_trailing_chrome(line) is expected


PROSE = [
    ("대전시는 25일 시청에서 확대간부회의를 열었다.", True),
    ('시 관계자는 "차질 없이 추진하겠다"고 말했다', True),
    ("그 배경은 무엇인지, 짚어보겠습니다?", True),
    ("총인 30% 감축·산업폐수 고도처리 도입…식수원 관리 강화", False),  # a deck
    ("2026년 02월 24일(화) 19:00", False),
    ("가가", False),
    ("끝났다.", False),  # a stub
]


@pytest.mark.parametrize(("line", "expected"), PROSE)
def test_is_prose(line: str, expected: bool) -> None:
    assert is_prose(line) is expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [("[앵커]", True), ("【 기자 】", True), ("◀ 리포트 ▶", True), ("[앵커멘트]", True), ("<인터뷰>", True),
     ("[앵커] 강남 사건 속보입니다.", False), ("[속보]", False), ("[기자수첩]", False)],
)
def test_is_script_marker(line: str, expected: bool) -> None:
    assert is_script_marker(line) is expected
