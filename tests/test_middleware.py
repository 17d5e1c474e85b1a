"""Backoff retries: Retry-After parsing and the delay the middleware chooses."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler.crawl.middlewares import BackoffRetryMiddleware, retry_after_seconds


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"120", 120.0),
        ("7", 7.0),
        ("Wed, 25 Nov 2026 17:00:30 GMT", 30.0),
        ("Wed, 25 Nov 2026 16:59:00 GMT", 0.0),  # in the past: retry now
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after(value, expected):
    now = datetime(2026, 11, 25, 17, 0, 0, tzinfo=timezone.utc)
    assert retry_after_seconds(value, now=now) == expected


def make_mw(**settings):
    crawler = get_crawler(settings_dict={"NEWSDESK_RETRY_BACKOFF_BASE": 2.0, "NEWSDESK_RETRY_BACKOFF_MAX": 60.0, **settings})
    return BackoffRetryMiddleware.from_crawler(crawler)


def test_delay_prefers_retry_after_and_caps_it():
    mw = make_mw()
    retry = Request("https://example.org/a", meta={"retry_times": 1})
    resp = HtmlResponse("https://example.org/a", status=429, headers={"Retry-After": "5"})
    assert mw.delay_for(retry, resp) == 5.0
    resp_long = HtmlResponse("https://example.org/a", status=429, headers={"Retry-After": "3600"})
    assert mw.delay_for(retry, resp_long) == 60.0


def test_delay_backs_off_exponentially_without_hint():
    mw = make_mw()
    delays = [mw.delay_for(Request("https://example.org", meta={"retry_times": n}), None) for n in (1, 2, 3, 7)]
    assert delays == [2.0, 4.0, 8.0, 60.0]


# -- page_faults: what FaultStatsMiddleware counts -------------------------------------------
from crawler.crawl.middlewares import page_faults  # noqa: E402

_PAGE = "<html><head><meta charset=\"utf-8\"></head><body>{}</body></html>"


def test_page_faults_of_a_sound_page_are_none():
    body = _PAGE.format("<div><p>대전시는 25일 회의를 열었다.</p></div>").encode("utf-8")
    assert page_faults(body, b"text/html; charset=utf-8") == []


def test_page_faults_names_empty_truncated_and_malformed_pages():
    assert page_faults(b"", b"text/html") == ["empty_body"]
    assert page_faults(b" \r\n\t ", b"text/html") == ["empty_body"]
    assert page_faults(("<html><body><p>" + "가" * 3000).encode("utf-8"), b"text/html") == ["truncated_html"]
    soup = _PAGE.format("<DIV><div>" * 20).encode("utf-8")
    assert page_faults(soup, b"text/html") == ["malformed_html"]


def test_page_faults_finds_a_charset_the_page_contradicts():
    korean = _PAGE.replace("utf-8", "euc-kr").format("<p>대전시는 25일 회의를 열었다.</p>").encode("euc-kr")
    assert page_faults(korean, b"text/html; charset=utf-8") == ["charset_mismatch"]
    assert page_faults(korean, b"text/html; charset=euc-kr") == []


def test_page_faults_reads_a_long_page_cut_inside_a_character_as_sound():
    # the charset check decodes the first 64 KB: a three-byte Hangul cut by that boundary is not a fault
    filler = "가" * 30_000  # 90,000 bytes: 65,536 falls inside a character
    body = _PAGE.format(f"<p>{filler}</p>").encode("utf-8")
    assert len(body) > 65_536
    assert page_faults(body, b"text/html; charset=utf-8") == []
