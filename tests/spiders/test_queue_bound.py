"""The scheduler's queue stays short on a long paged crawl: the articles of a list page are
dequeued before the list pages after the next one (DEPTH_PRIORITY), so list pages cannot run
ahead of the article fetches and fill memory with waiting requests (bench/soak_bench.py)."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from scrapy import Request, Spider
from scrapy.core.downloader import Downloader
from scrapy.core.scheduler import Scheduler
from scrapy.http import HtmlResponse
from scrapy.spidermiddlewares.depth import DepthMiddleware
from scrapy.utils.test import get_crawler

import settings.base as base
from crawler.crawl import jobdir

PAGE = 100  # articles per list page
PAGES = 12


def _list_page_output(page: int) -> Iterator[Request]:
    """What OutletSpider.parse_list yields: the page's articles, then the next list page."""
    for n in range(PAGE):
        yield Request(f"https://www.busan.com/view/busan/view.php?code={page:08d}{n:09d}", meta={"newsdesk_kind": "article"})
    if page < PAGES:
        yield Request(f"https://www.busan.com/newsList/busan/0201000000?page={page + 1}", meta={"newsdesk_kind": "list", "page": page + 1})


def _longest_queue(settings: dict) -> tuple[int, int]:
    """Crawl PAGES list pages in the order the scheduler gives, each list page's output
    scheduled at once (list pages answer at once, articles take long: the worst case);
    the longest the queue got, and the articles dequeued."""
    crawler = get_crawler(Spider, settings_dict=settings)
    spider = Spider.from_crawler(crawler, name="busan")
    crawler.spider = spider
    crawler.engine = SimpleNamespace(downloader=Downloader(crawler))  # the queue asks it for download slots
    scheduler = Scheduler.from_crawler(crawler)
    scheduler.open(spider)
    depth = DepthMiddleware.from_crawler(crawler)
    scheduler.enqueue_request(Request("https://www.busan.com/newsList/busan/0201000000", meta={"newsdesk_kind": "list", "page": 1}))
    longest = articles = 0
    while (request := scheduler.next_request()) is not None:
        if request.meta["newsdesk_kind"] == "article":
            articles += 1
            continue
        response = HtmlResponse(request.url, body=b"<html></html>", request=request)
        for out in depth.process_spider_output(response, _list_page_output(request.meta["page"])):
            scheduler.enqueue_request(out)
        longest = max(longest, len(scheduler))
    scheduler.close("finished")
    return longest, articles


def test_articles_are_dequeued_before_list_pages_run_ahead():
    longest, articles = _longest_queue({"DEPTH_PRIORITY": base.DEPTH_PRIORITY})
    assert articles == PAGE * PAGES
    assert longest <= 2 * PAGE + 1  # two pages of articles and the next list page, however long the crawl


def test_without_priorities_the_queue_holds_every_page_found(tmp_path):
    # the failure this guards against: Scrapy's default order (one priority, last in first
    # out) fetches the next list page before the articles, so the queue grows with the crawl
    longest, articles = _longest_queue({"DEPTH_PRIORITY": 0})
    assert articles == PAGE * PAGES and longest >= PAGE * (PAGES - 1)


@pytest.mark.parametrize("settings", [{}, {"JOBDIR": "jobdir", **jobdir.SETTINGS}], ids=["memory", "jobdir"])
def test_the_bound_holds_with_the_scheduled_crawls_disk_queues(tmp_path, settings):
    if settings:
        settings = {**settings, "JOBDIR": str(tmp_path / "job")}
    longest, articles = _longest_queue({"DEPTH_PRIORITY": base.DEPTH_PRIORITY, **settings})
    assert articles == PAGE * PAGES and longest <= 2 * PAGE + 1
