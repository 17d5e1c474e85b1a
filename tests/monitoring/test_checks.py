"""Per-run checks: the spidermon suite on a crawl's stats, coverage counting, expectations."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest
from scrapy.utils.test import get_crawler

from crawler.items import Article
from crawler.monitoring.checks import (
    ArticleCoverage,
    NewsdeskSpidermon,
    expected_min_items,
    run_metrics,
    run_summary,
)
from crawler.outlets import OutletError, get_outlet, load_registry
from crawler.spiders.outlets import JoongdoSpider

SETTINGS = {"SPIDERMON_ENABLED": True, "SPIDERMON_SPIDER_CLOSE_MONITORS": ["crawler.monitoring.checks.RunChecks"]}


def healthy_stats(**changes):
    stats = {
        "finish_reason": "finished",
        "downloader/request_count": 40,
        "downloader/response_count": 40,
        "downloader/response_status_count/200": 40,
        "newsdesk/discovered/list": 8,
        "newsdesk/incremental/skipped_known": 22,
        "newsdesk/articles_parsed": 8,
        "newsdesk/coverage/items": 8,
        "newsdesk/coverage/title": 8,
        "newsdesk/coverage/body": 8,
        "newsdesk/coverage/published": 8,
        "newsdesk/coverage/authors": 7,
        "item_scraped_count": 8,
    }
    stats.update(changes)
    return {k: v for k, v in stats.items() if v is not None}


def run_checks(stats, settings=None, base_url=None):
    crawler = get_crawler(JoongdoSpider, {**SETTINGS, **(settings or {})})
    spider = JoongdoSpider.from_crawler(crawler, **({"base_url": base_url} if base_url else {}))
    crawler.stats.set_stats(dict(stats))
    ext = NewsdeskSpidermon.from_crawler(crawler)
    ext.spider_opened(spider)
    ext.spider_closed(spider)
    return crawler.stats.get_stats()


def test_a_healthy_crawl_passes_every_check():
    stats = run_checks(healthy_stats())
    assert stats["newsdesk/checks/failed"] == 0
    assert {k.removeprefix("newsdesk/checks/"): v for k, v in stats.items() if k.startswith("newsdesk/checks/")} == {
        "items": "ok", "coverage_title": "ok", "coverage_body": "ok", "coverage_published": "ok",
        "coverage_authors": "ok", "errors": "ok", "retries": "ok", "finish_reason": "ok",
        "fallback_share": "ok", "failed": 0,
    }


@pytest.mark.parametrize(
    ("changes", "check", "reason"),
    [
        ({"newsdesk/discovered/list": 0, "newsdesk/incremental/skipped_known": 3}, "items",
         "3 article links found, expected at least 15"),
        ({"newsdesk/coverage/published": 2}, "coverage_published", "published on 25% of articles, expected at least 90%"),
        ({"newsdesk/coverage/body": 0}, "coverage_body", "body on 0% of articles"),
        ({"newsdesk/coverage/authors": 2}, "coverage_authors", "authors on 25% of articles, expected at least 50%"),
        ({"log_count/ERROR": 3}, "errors", "3 errors logged, at most 0 expected"),
        ({"retry/count": 20}, "retries", "20 retries for 40 requests, at most 20% expected"),
        ({"finish_reason": "shutdown"}, "finish_reason", "closed with 'shutdown', expected one of finished"),
        ({"newsdesk/fallback/articles": 8, "newsdesk/fallback/title": 8, "newsdesk/fallback/body": 5},
         "fallback_share", "100% of articles needed the generic fallback (body, title), at most 50% expected"),
    ],
)
def test_each_check_fails_with_its_reason(changes, check, reason):
    stats = run_checks(healthy_stats(**changes))
    verdict = stats[f"newsdesk/checks/{check}"]
    assert verdict.startswith("failed: ") and reason in verdict, verdict
    assert stats["newsdesk/checks/failed"] == 1


def test_too_few_articles_skip_coverage_and_fallback():
    stats = run_checks(healthy_stats(**{f"newsdesk/coverage/{f}": 0 for f in ("title", "body", "published", "authors")},
                                     **{"newsdesk/coverage/items": 2, "newsdesk/articles_parsed": 2}))
    assert stats["newsdesk/checks/coverage_body"] == "skipped: 2 articles, fewer than 3"
    assert stats["newsdesk/checks/fallback_share"].startswith("skipped")
    assert stats["newsdesk/checks/failed"] == 0


def test_thresholds_are_settings():
    stats = run_checks(healthy_stats(**{"newsdesk/coverage/authors": 2}),
                       settings={"NEWSDESK_CHECK_FIELD_COVERAGE": {"authors": 0.2}, "NEWSDESK_CHECK_MAX_ERRORS": 5,
                                 "NEWSDESK_CHECK_MIN_ITEMS_PER_ENTRY": 20})
    assert stats["newsdesk/checks/coverage_authors"] == "ok"
    assert stats["newsdesk/checks/items"] == "failed: 30 article links found, expected at least 60"


def test_a_local_copy_of_a_site_only_needs_some_links():
    stats = run_checks(healthy_stats(**{"newsdesk/discovered/list": 2, "newsdesk/incremental/skipped_known": 0}),
                       base_url="http://127.0.0.1:8080")
    assert stats["newsdesk/checks/items"] == "ok"
    stats = run_checks(healthy_stats(**{"newsdesk/discovered/list": 0, "newsdesk/incremental/skipped_known": 0}),
                       base_url="http://127.0.0.1:8080")
    assert stats["newsdesk/checks/items"] == "failed: 0 article links found, expected at least 1"


def test_the_report_is_one_line(caplog):
    caplog.set_level(logging.INFO)
    run_checks(healthy_stats(**{"newsdesk/coverage/published": 0}))
    lines = [r for r in caplog.records if r.levelno >= logging.INFO and not r.name.startswith("scrapy.")]
    assert [r.getMessage() for r in lines] == [
        "crawl checks of joongdo: 1 failed: coverage_published (published on 0% of articles, expected at least 90%)"]
    assert lines[0].levelno == logging.WARNING


def test_a_broken_monitor_does_not_break_the_close(caplog):
    stats = run_checks(healthy_stats(**{"newsdesk/coverage/items": "eight"}))  # junk: no crash
    assert stats["finish_reason"] == "finished"


def test_disabled_spidermon_is_not_configured():
    from scrapy.exceptions import NotConfigured

    crawler = get_crawler(JoongdoSpider, {"SPIDERMON_ENABLED": False})
    with pytest.raises(NotConfigured):
        NewsdeskSpidermon.from_crawler(crawler)


def test_metrics_and_run_summary():
    stats = healthy_stats(**{"newsdesk/fallback/articles": 2, "newsdesk/fallback/published": 2,
                             "newsdesk/articles_over_limit": 4, "downloader/response_status_count/429": 3,
                             "newsdesk/checks/items": "ok", "newsdesk/checks/coverage_body": "failed: body on 0%",
                             "newsdesk/checks/failed": 1})
    figures = run_metrics(stats)
    assert figures["listed"] == 34 and figures["items"] == 8
    assert figures["coverage"] == {"title": 1.0, "body": 1.0, "published": 1.0, "authors": 0.875}
    assert figures["fallback_share"] == 0.25 and figures["fallback_fields"] == {"published": 2}
    assert figures["statuses"] == {"200": 40, "429": 3}
    summary = run_summary(stats)
    assert summary["results"] == {"items": "ok", "coverage_body": "failed: body on 0%"}
    assert summary["failed"] == ["coverage_body"]
    empty = run_metrics({"finish_reason": "finished"})
    assert empty["coverage"]["title"] is None and empty["fallback_share"] is None and empty["listed"] == 0


# -- coverage counting during a crawl ------------------------------------------------------------
def article(**fields):
    base = dict(outlet="joongdo", url="https://www.joongdo.co.kr/web/view.php?key=1",
                canonical_url="https://www.joongdo.co.kr/web/view.php?key=1", title="제목",
                body="본문 " * 60, published=datetime(2026, 11, 25, tzinfo=timezone.utc), authors=["홍길동"])
    base.update(fields)
    return Article(**base)


def test_coverage_counts_stored_and_dropped_articles():
    crawler = get_crawler(JoongdoSpider, {"NEWSDESK_MIN_BODY_CHARS": 80})
    ext = ArticleCoverage.from_crawler(crawler)
    crawler.stats.open_spider()
    ext.count(article())
    ext.count(article(published=None, authors=[]), exception=ValueError("dropped"))
    ext.count(article(body="짧다", title=""))
    ext.count(article(body="", images=[{"src": "x.jpg"}]))  # a photo story keeps its "body"
    ext.count(object())  # not an item: not counted
    stats = crawler.stats.get_stats()
    assert {k: v for k, v in stats.items() if k.startswith("newsdesk/coverage/")} == {
        "newsdesk/coverage/items": 4, "newsdesk/coverage/title": 3, "newsdesk/coverage/body": 3,
        "newsdesk/coverage/published": 3, "newsdesk/coverage/authors": 3,
    }


# -- the outlet's expectation ------------------------------------------------------------------------
def test_expected_min_items_from_the_spec_or_per_entry_point(tmp_path):
    from scrapy.settings import Settings

    settings = Settings({"NEWSDESK_CHECK_MIN_ITEMS_PER_ENTRY": 5})
    assert expected_min_items(get_outlet("joongdo"), settings) == 15  # three list URLs
    registry_file = tmp_path / "outlets.toml"
    registry_file.write_text(
        '[tiny]\nname_ko = "작은신문"\ndomains = ["tiny.example"]\nregion = "제주"\nfamily = "ndsoft"\n'
        'rss_urls = ["https://tiny.example/rss"]\narticle_url = "/news/"\nexpected_min_items = 4\n',
        encoding="utf-8",
    )
    spec = load_registry(registry_file)["tiny"]
    assert spec.expected_min_items == 4 and expected_min_items(spec, settings) == 4
    registry_file.write_text(registry_file.read_text(encoding="utf-8").replace("= 4", "= -1"), encoding="utf-8")
    with pytest.raises(OutletError, match="expected_min_items must be a whole number >= 0"):
        load_registry(registry_file)
