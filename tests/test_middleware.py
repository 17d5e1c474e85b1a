"""Backoff retries: Retry-After parsing and the delay the middleware chooses."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler.middleware import BackoffRetryMiddleware, retry_after_seconds


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
