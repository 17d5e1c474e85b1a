"""The backfill's window, its checkpoint on disk, and the dates it reads beside list entries."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from scrapy.http import HtmlResponse

from crawler.crawl.backfill_state import Checkpoint, Window, WindowError, job_folder
from crawler.devtools.fixturesite import DEFAULT_FIXTURES
from crawler.spiders.backfill import BackfillSpider
from crawler.text.dates import KST

TODAY = date(2025, 6, 30)


def test_window_is_whole_korean_days():
    window = Window.parse("2025-01-01", "2025-01-31", today=TODAY)
    assert window.start == datetime(2025, 1, 1, tzinfo=KST)
    assert window.end == datetime(2025, 2, 1, tzinfo=KST)
    assert window.contains(datetime(2025, 1, 31, 23, 59, tzinfo=KST))
    assert not window.contains(datetime(2025, 2, 1, tzinfo=KST))
    assert not window.contains(datetime(2024, 12, 31, 15, 0, tzinfo=KST))
    assert window.contains(datetime.fromisoformat("2024-12-31T15:00:00+00:00"))  # 2025-01-01 00:00 KST
    assert Window.parse("2025-06-01", today=TODAY).until == TODAY
    assert Window.parse("2025-06-01", "2026-01-01", today=TODAY).until == TODAY


@pytest.mark.parametrize(("since", "until", "words"), [
    ("2025-02-30", None, ["--since", "YYYY-MM-DD"]),
    ("2025-01-01", "01/02/2025", ["--until", "YYYY-MM-DD"]),
    ("2025-03-01", "2025-02-01", ["after"]),
    ("2025-07-01", None, ["future"]),
])
def test_bad_windows(since, until, words):
    with pytest.raises(WindowError) as caught:
        Window.parse(since, until, today=TODAY)
    for word in words:
        assert word in str(caught.value)


def test_checkpoint_round_trip_and_completeness(tmp_path):
    window = Window.parse("2025-01-01", "2025-01-31", today=TODAY)
    folder = job_folder(tmp_path, "jnilbo", window)
    checkpoint = Checkpoint.open(folder, "jnilbo", window)
    assert not checkpoint.resumed and not checkpoint.complete
    checkpoint.sources["list:0"] = {"kind": "list", "url": "u", "next": 4, "done": False}
    checkpoint.pages["list:0:3"] = {"source": "list:0", "page": 3, "urls": ["a", "b"], "gate": False}
    checkpoint.saw(datetime(2025, 1, 20, 9, 0, tzinfo=KST))
    checkpoint.saw(datetime(2025, 1, 10, 9, 0, tzinfo=KST))
    checkpoint.saw(datetime(2025, 3, 1, tzinfo=KST))  # outside the window: not progress
    checkpoint.save()
    assert not list(folder.glob("*.tmp"))
    again = Checkpoint.open(folder, "jnilbo", window)
    assert again.resumed
    assert again.sources == checkpoint.sources and again.pages == checkpoint.pages
    assert again.newest == datetime(2025, 1, 20, 9, 0, tzinfo=KST)
    assert again.reached == datetime(2025, 1, 10, 9, 0, tzinfo=KST)
    again.sources["list:0"]["done"] = True
    assert not again.complete  # a page still owes two articles
    again.pages.clear()
    assert again.complete
    other = Window.parse("2025-01-02", "2025-01-31", today=TODAY)
    (job_folder(tmp_path, "jnilbo", other)).mkdir(parents=True)
    (job_folder(tmp_path, "jnilbo", other) / "state.json").write_text(
        json.dumps({"outlet": "jnilbo", "window": window.key}), encoding="utf-8")
    with pytest.raises(ValueError, match="belongs to"):
        Checkpoint.open(job_folder(tmp_path, "jnilbo", other), "jnilbo", other)


@pytest.fixture
def spider(tmp_path):
    return BackfillSpider.for_outlet("jnilbo")(since="2025-01-01", jobdir=str(tmp_path / "job"))


def response(body: str | bytes) -> HtmlResponse:
    return HtmlResponse(url="https://www.jnilbo.com/news/articleList.html?view_type=sm",
                        body=body if isinstance(body, bytes) else body.encode("utf-8"), encoding="utf-8")


def test_list_entries_read_the_date_beside_each_link(spider):
    page = (DEFAULT_FIXTURES / "jnilbo" / "list_all.html").read_bytes()
    assert spider.list_entries(response(page)) == [
        ("https://www.jnilbo.com/news/articleView.html?idxno=90000015819", datetime(2025, 12, 6, 17, 5, tzinfo=KST)),
        ("https://www.jnilbo.com/news/articleView.html?idxno=90000015817", datetime(2025, 12, 6, 16, 43, tzinfo=KST)),
    ]


def test_list_entry_dates_are_never_taken_from_headlines_or_neighbours(spider):
    html = """<html><body><section id="section-list"><ul>
      <li><h4 class="titles"><a href="/news/articleView.html?idxno=7">2024년 3월 1일부터 달라지는 것</a></h4>
          <span class="byline"><em>2025.01.05 10:00</em></span></li>
      <li><h4 class="titles"><a href="/news/articleView.html?idxno=6">2024년 3월 1일 시행</a></h4></li>
      <li><h4 class="titles"><a href="/news/articleView.html?idxno=5">날짜 없는 기사</a></h4><em>01-04 09:00</em></li>
    </ul></section></body></html>"""
    assert spider.list_entries(response(html)) == [
        ("https://www.jnilbo.com/news/articleView.html?idxno=7", datetime(2025, 1, 5, 10, 0, tzinfo=KST)),
        # a date only in its headline: a headline is no list date (the article's own date decides)
        ("https://www.jnilbo.com/news/articleView.html?idxno=6", None),
        # no year printed: no date (a year is never guessed)
        ("https://www.jnilbo.com/news/articleView.html?idxno=5", None),
    ]


SITEMAP_INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://www.jnilbo.com/sitemap/2025-03.xml</loc><lastmod>2025-03-31T23:00:00+09:00</lastmod></sitemap>
  <sitemap><loc>https://www.jnilbo.com/sitemap/2024-11.xml</loc><lastmod>2024-11-30T23:00:00+09:00</lastmod></sitemap>
  <sitemap><loc>https://elsewhere.example/sitemap.xml</loc></sitemap>
</sitemapindex>"""

SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://www.jnilbo.com/news/articleView.html?idxno=30</loc><lastmod>2025-03-02T10:00:00+09:00</lastmod></url>
  <url><loc>https://m.jnilbo.com/news/articleView.html?idxno=29&amp;utm_source=x</loc></url>
  <url><loc>https://www.jnilbo.com/news/articleView.html?idxno=28</loc><lastmod>2024-12-31T23:59:00+09:00</lastmod></url>
  <url><loc>https://www.jnilbo.com/news/articleList.html?sc_section_code=S1N3</loc></url>
</urlset>"""


async def collect(generator):
    return [request async for request in generator]


def test_sitemaps_skip_what_was_last_modified_before_the_window(tmp_path):
    """An index's children and a sitemap's articles with a lastmod before --since are not
    fetched (modified before it means published before it); without a lastmod they are."""
    import asyncio

    from scrapy.http import XmlResponse
    from scrapy.utils.test import get_crawler

    cls = BackfillSpider.for_outlet("jnilbo")
    crawler = get_crawler(cls, settings_dict={"NEWSDESK_STORE_ENABLED": False})
    spider = cls.from_crawler(crawler, since="2025-01-01", until="2025-06-30", jobdir=str(tmp_path / "job"))
    crawler.spider = spider
    crawler.stats.open_spider()
    spider.checkpoint.sources["sitemaps"] = {"kind": "sitemaps", "todo": ["https://www.jnilbo.com/sitemap.xml"], "done": False}

    index = XmlResponse(url="https://www.jnilbo.com/sitemap.xml", body=SITEMAP_INDEX)
    asyncio.run(collect(spider.parse_backfill_sitemap(index, "sitemaps", "https://www.jnilbo.com/sitemap.xml")))
    assert spider.checkpoint.sources["sitemaps"]["todo"] == ["https://www.jnilbo.com/sitemap/2025-03.xml"]
    assert crawler.stats.get_value("newsdesk/backfill/sitemap_before_window") == 1

    child = XmlResponse(url="https://www.jnilbo.com/sitemap/2025-03.xml", body=SITEMAP)
    requests = asyncio.run(collect(spider.parse_backfill_sitemap(child, "sitemaps", "https://www.jnilbo.com/sitemap/2025-03.xml")))
    assert [r.cb_kwargs["article_url"] for r in requests] == [
        "https://www.jnilbo.com/news/articleView.html?idxno=30",
        "https://www.jnilbo.com/news/articleView.html?idxno=29",
    ]
    assert spider.checkpoint.sources["sitemaps"]["todo"] == []
    # the sitemap is one page of the checkpoint until its articles are settled
    assert spider.checkpoint.pages["sitemaps:https://www.jnilbo.com/sitemap/2025-03.xml"]["urls"] == [
        r.cb_kwargs["article_url"] for r in requests]


def test_a_backfill_without_until_resumed_later_continues_the_one_it_started(tmp_path):
    from crawler.crawl.backfill_state import unfinished_window

    started = Window.parse("2025-01-01", today=date(2025, 6, 10))
    Checkpoint(job_folder(tmp_path, "jnilbo", started), "jnilbo", started).save()
    older = Window.parse("2025-01-01", today=date(2025, 6, 2))
    Checkpoint(job_folder(tmp_path, "jnilbo", older), "jnilbo", older).save()
    job_folder(tmp_path, "jnilbo", Window.parse("2025-01-01", today=date(2025, 6, 20))).mkdir(parents=True)  # no state
    assert unfinished_window(tmp_path, "jnilbo", date(2025, 1, 1)) == started
    assert unfinished_window(tmp_path, "jnilbo", date(2025, 1, 2)) is None
    assert unfinished_window(tmp_path, "ggilbo", date(2025, 1, 1)) is None
