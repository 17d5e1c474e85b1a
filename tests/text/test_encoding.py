"""Korean pages decoded right whatever the server claims."""

from __future__ import annotations

import pytest

from crawler.text.encoding import decode_html, header_charset, meta_charset, normalize_encoding

KOREAN = "국제신문 부산 해운대 기사입력 2020년03월17일 08:02 ― 똠방각하 뷁"  # 똠/뷁 exist only in CP949, not EUC-KR


def page(charset_meta: str | None, encoding: str) -> bytes:
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset_meta}">' if charset_meta else ""
    return f"<html><head>{meta}</head><body><p>{KOREAN}</p></body></html>".encode(encoding)


@pytest.mark.parametrize(
    ("body", "header", "declared", "used"),
    [
        (page("euc-kr", "cp949"), "text/html; charset=euc-kr", None, "cp949"),  # honest EUC-KR (CP949 chars)
        (page("euc-kr", "cp949"), "text/html; charset=utf-8", None, "cp949"),  # header lies
        (page("euc-kr", "cp949"), "text/html", None, "cp949"),  # header silent
        (page("euc-kr", "cp949"), "text/html; charset=iso-8859-1", None, "cp949"),  # latin-1 never trusted
        (page(None, "cp949"), None, None, "cp949"),  # nothing declared at all
        (page(None, "cp949"), None, "euc-kr", "cp949"),  # the outlet spec says so
        (page("utf-8", "utf-8"), "text/html; charset=euc-kr", None, "utf_8"),  # header lies the other way
        (page("utf-8", "utf-8"), None, None, "utf_8"),
    ],
)
def test_decoded_text_is_right(body, header, declared, used):
    text, encoding = decode_html(body, header, declared)
    assert KOREAN in text
    assert encoding.replace("-", "_") == used


def test_bom_wins():
    text, encoding = decode_html("\ufeff<p>한글</p>".encode("utf-8"), "text/html; charset=euc-kr")
    assert text == "<p>한글</p>" and encoding == "utf-8-sig"


def test_undecodable_bytes_never_raise():
    text, encoding = decode_html(b"\xff\xfe\xfd<p>x</p>"[1:] + b"\x80\x80", None)
    assert "<p>x</p>" in text


@pytest.mark.parametrize(("name", "expected"), [("EUC-KR", "cp949"), ("ks_c_5601-1987", "cp949"), ("UTF8", "utf_8"), ("bogus", None), (None, None)])
def test_normalize_encoding(name, expected):
    assert normalize_encoding(name) == expected


def test_charset_sniffing():
    assert header_charset(b"text/html; charset=EUC-KR") == "EUC-KR"
    assert header_charset("text/html") is None
    assert meta_charset(b'<meta charset="euc-kr">') == "euc-kr"
    assert meta_charset(b"<html>" + b" " * 5000 + b'<meta charset="euc-kr">') is None


def test_one_broken_byte_does_not_switch_codecs():
    # a UTF-8 page whose meta description was cut mid-character by a byte-counting substr()
    good = "<html><head><meta charset='utf-8'><meta name='description' content='세종형 스마트".encode()
    broken = good + "시티".encode()[:-1] + b"'></head><body><p>" + ("세종시는 23일 워크숍을 진행했다. " * 50).encode() + b"</p></body></html>"
    text, encoding = decode_html(broken, "text/html; charset=utf-8")
    assert encoding == "utf_8"
    assert "세종시는 23일 워크숍을 진행했다." in text and text.count("\ufffd") == 1


def test_a_euc_kr_page_with_a_bad_byte_stays_korean():
    body = ("<html><head><meta charset='euc-kr'></head><body><p>" + "부산 해운대 전통시장 " * 50 + "</p></body></html>").encode("cp949") + b"\xff"
    text, encoding = decode_html(body, None)
    assert encoding == "cp949" and "부산 해운대 전통시장" in text
