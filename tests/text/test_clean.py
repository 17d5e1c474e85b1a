"""Table tests for crawler.text.clean."""

import unicodedata

import pytest

from crawler.text.clean import clean_paragraphs, is_copyright_line, join_body, normalize_text

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
