"""The page-parsing worker pool: the same Article as parsing in the crawl process, a worker
that dies costs only its page, and one pool per process shared by its spiders."""

from __future__ import annotations

import os
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from crawler.outlets import get_outlet
from crawler.pages import pool as pool_module
from crawler.pages.pool import PageCrash, ParsePool, acquire, parse_page, processes_setting, release

PAGE = Path(__file__).resolve().parents[1] / "fixtures" / "joongdo" / "art_20240312010003418.html"
URL = "https://www.joongdo.co.kr/web/view.php?key=20240312010003418"


class _CrashingPage:
    """A page object that kills its process on the page b"crash" (as a C parser crash would)."""

    def __init__(self, url: str, html: bytes, outlet: object, content_type: str | None = None) -> None:
        if html == b"crash":
            os._exit(70)
        self.url = url

    def to_article(self) -> str:
        return f"parsed {self.url}"


class CrashingOutlet:
    def page_class(self) -> type:
        return _CrashingPage


@pytest.mark.parametrize(("value", "expected"), [("0", 0), (2, 2), ("3", 3)])
def test_processes_setting_reads_numbers(value, expected):
    assert processes_setting(value) == expected


@pytest.mark.parametrize(("cores", "workers"), [(1, 0), (2, 0), (3, 1), (4, 2), (8, 4), (64, 4)])
def test_processes_setting_auto_leaves_two_cores_to_the_crawl_and_the_database(monkeypatch, cores, workers):
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    assert processes_setting("auto") == workers


@pytest.mark.parametrize("bad", ["many", "-1", "1.5"])
def test_processes_setting_rejects_bad_values_by_name(bad):
    with pytest.raises(ValueError, match="NEWSDESK_PARSE_PROCESSES"):
        processes_setting(bad)


def test_a_worker_parses_the_same_article_as_the_crawl_process():
    outlet, html = get_outlet("joongdo"), PAGE.read_bytes()
    pool = ParsePool(1)
    try:
        remote = pool.submit(outlet, URL, html, "text/html; charset=utf-8").result(timeout=120)
    finally:
        pool.close()
    assert remote == parse_page(outlet, URL, html, "text/html; charset=utf-8")
    assert remote.title and remote.body


def test_a_dead_worker_fails_its_page_and_the_next_page_gets_a_new_worker(monkeypatch):
    from twisted.internet import reactor

    monkeypatch.setattr(reactor, "callFromThread", lambda f, *a, **kw: f(*a, **kw))  # no reactor running here
    pool = ParsePool(1)
    try:
        outcome: list = []
        d = pool.parse(CrashingOutlet(), "https://a/1", b"crash", None)
        d.addCallbacks(outcome.append, outcome.append)
        crashed = pool._executor  # the broken executor is dropped once the crash is seen
        for _ in range(1200):
            if outcome:
                break
            time.sleep(0.1)
        assert outcome and outcome[0].check(PageCrash), outcome
        assert pool.restarts == 1 and pool._executor is not crashed
        assert pool.submit(CrashingOutlet(), "https://a/2", b"fine", None).result(timeout=120) == "parsed https://a/2"
    finally:
        pool.close()


def test_broken_pool_found_at_submit_is_replaced(monkeypatch):
    pool = ParsePool(1)
    calls = []

    class Broken:
        def submit(self, *args):
            raise BrokenProcessPool("gone")

        def shutdown(self, **kwargs):
            calls.append("shutdown")

    pool._executor = Broken()  # type: ignore[assignment]
    try:
        assert pool.submit(CrashingOutlet(), "https://a/3", b"ok", None).result(timeout=120) == "parsed https://a/3"
        assert calls == ["shutdown"] and pool.restarts == 1
    finally:
        pool.close()


def test_one_pool_per_process_closed_by_its_last_user(monkeypatch):
    closed = []
    monkeypatch.setattr(ParsePool, "close", lambda self: closed.append(self))
    first, second = acquire(1), acquire(1)
    assert first is second
    release(first)
    assert closed == []
    release(second)
    assert closed == [first]
    assert pool_module._shared is None
    third = acquire(1)
    assert third is not first
    release(third)
