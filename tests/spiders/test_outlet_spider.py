"""Navigation: which requests the spider makes from saved list pages (no network)."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler.spiders.outlet import OutletSpider, with_query_param
from crawler.spiders.outlets import JoongdoSpider

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "joongdo"
BASE = "http://127.0.0.1:8999"


def collect(agen) -> list:
    """Run an async callback to completion outside a reactor (no store lookups here)."""
    import asyncio

    async def drain():
        return [x async for x in agen]

    return asyncio.run(drain())


def spider(settings: dict | None = None, **kwargs) -> OutletSpider:
    crawler = get_crawler(JoongdoSpider, settings_dict={"NEWSDESK_MAX_LIST_PAGES": 3, "NEWSDESK_INCREMENTAL": False, **(settings or {})})
    crawler.stats.open_spider()
    return JoongdoSpider.from_crawler(crawler, **kwargs)


def list_response(name: str, url: str) -> HtmlResponse:
    body = (FIXTURES / name).read_bytes()
    return HtmlResponse(url, body=body, encoding="utf-8", request=Request(url))


def requests_from(sp: OutletSpider, name: str, url: str, page: int = 1) -> list[Request]:
    return collect(sp.parse_list(list_response(name, url), list_url=url, page=page))


def test_list_page_yields_canonical_article_requests_once_and_next_page():
    sp = spider()
    url = "https://www.joongdo.co.kr/web/section.php?ncid=N01"
    reqs = requests_from(sp, "list_N01.html", url)
    articles = [r for r in reqs if r.meta["newsdesk_kind"] == "article"]
    lists = [r for r in reqs if r.meta["newsdesk_kind"] == "list"]
    urls = [r.cb_kwargs["article_url"] for r in articles]
    # the list's own three articles (each linked twice: thumbnail and headline), not the
    # 랭킹뉴스 sidebar, which links the seed as /main/view.php
    assert urls == [
        "https://www.joongdo.co.kr/web/view.php?key=20250114010004127",
        "https://www.joongdo.co.kr/web/view.php?key=20240905010002281",
        "https://www.joongdo.co.kr/web/view.php?key=20240312010003418",
    ]
    assert [r.url for r in lists] == ["https://www.joongdo.co.kr/web/section.php?ncid=N01&page=2"]


def test_an_article_found_again_on_a_later_page_is_not_requested_twice():
    sp = spider()
    url = "https://www.joongdo.co.kr/web/section.php?ncid=N01"
    first = article_urls(requests_from(sp, "list_N01_page2.html", url, page=2))
    again = article_urls(requests_from(sp, "list_N01_06.html", "https://www.joongdo.co.kr/web/list_news.php?ncid=N01_06"))
    assert first and not set(first) & set(again)
    assert sp.articles_requested == len(first) + len(again)


def test_requested_urls_cost_a_few_bytes_each_however_long_the_crawl():
    import tracemalloc

    sp = spider()
    url = "https://www.joongdo.co.kr/web/view.php?key=2024031201{:07d}".format
    tracemalloc.start(10)
    try:
        before = tracemalloc.take_snapshot()
        # each URL a new string, as canonicalize() makes them; the requests are dropped here
        sp.article_requests((url(n) for n in range(20_000)), "list")
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    # Scrapy's live-object tracking of the requests (trackref) is not the spider's
    not_trackref = [tracemalloc.Filter(False, "*/scrapy/utils/trackref.py", all_frames=True)]
    held = sum(d.size_diff for d in after.filter_traces(not_trackref).compare_to(before.filter_traces(not_trackref), "filename"))
    assert held / 20_000 < 30, held / 20_000  # a set of the URL strings: ~157 bytes each
    # and still each URL once: the known ones are skipped, the new ones requested
    urls = [url(n) for n in range(30_000)]
    again = sp.article_requests(urls[10_000:], "list")
    assert [r.cb_kwargs["article_url"] for r in again] == urls[20_000:]
    assert sp.candidates(urls[19_990:20_010]) == [] and sp.articles_requested == 30_000


def test_base_url_fetches_locally_but_keeps_real_urls():
    sp = spider(base_url="HTTP://127.0.0.1:8999/")  # case and a bare slash are fine
    local = f"{BASE}/web/section.php?ncid=N01"
    # when crawling a copy, responses come from the local host
    reqs = collect(sp.parse_list(list_response("list_N01.html", local), list_url="https://www.joongdo.co.kr/web/section.php?ncid=N01", page=1))
    article = next(r for r in reqs if r.meta["newsdesk_kind"] == "article")
    assert article.url.startswith(BASE + "/web/view.php?key=")
    assert article.cb_kwargs["article_url"].startswith("https://www.joongdo.co.kr/web/view.php?key=")


def test_no_next_page_without_a_pager_link_or_past_the_limit():
    sp = spider()
    url = "https://www.joongdo.co.kr/web/list_news.php?ncid=N01_06"
    reqs = requests_from(sp, "list_N01_06.html", url)
    assert not [r for r in reqs if r.meta["newsdesk_kind"] == "list"]  # its pager has page 1 only
    sp3 = spider(max_list_pages=1)
    reqs = requests_from(sp3, "list_N01.html", "https://www.joongdo.co.kr/web/section.php?ncid=N01")
    assert not [r for r in reqs if r.meta["newsdesk_kind"] == "list"]


def test_max_articles_caps_article_requests_across_pages():
    sp = spider(max_articles="2")
    reqs = requests_from(sp, "list_N01.html", "https://www.joongdo.co.kr/web/section.php?ncid=N01")
    assert len([r for r in reqs if r.meta["newsdesk_kind"] == "article"]) == 2
    reqs = requests_from(sp, "list_N01_06.html", "https://www.joongdo.co.kr/web/list_news.php?ncid=N01_06")
    assert not [r for r in reqs if r.meta["newsdesk_kind"] == "article"]


def test_empty_list_page_is_counted_not_fatal():
    sp = spider()
    url = "https://www.joongdo.co.kr/web/section.php?ncid=N01"
    resp = HtmlResponse(url, body=b"<html><body>maintenance</body></html>", encoding="utf-8")
    assert collect(sp.parse_list(resp, list_url=url, page=1)) == []
    assert sp.crawler.stats.get_value("newsdesk/list_pages_without_articles") == 1


def test_article_parse_error_is_counted_and_logged(monkeypatch, caplog):
    sp = spider({"NEWSDESK_PARSE_PROCESSES": 0})  # parsed here, where the patch applies

    def broken(self):
        raise RuntimeError("template changed")

    monkeypatch.setattr("crawler.pages.template.TemplateArticlePage.to_article", broken)
    url = "https://www.joongdo.co.kr/web/view.php?key=20190823010011746"
    resp = HtmlResponse(url, body=b"<html></html>", encoding="utf-8")
    assert collect(sp.parse_article(resp, article_url=url)) == []
    assert sp.crawler.stats.get_value("newsdesk/parse_errors") == 1
    assert "cannot parse article" in caplog.text


@pytest.mark.parametrize("bad", [{"base_url": "ftp://x"}, {"base_url": "http://127.0.0.1:8000/copy"}, {"max_articles": "many"}, {"max_list_pages": "-1"}])
def test_bad_arguments_are_rejected_with_the_name(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        spider(**bad)


def test_with_query_param_replaces_existing():
    assert with_query_param("https://a/b?ncid=N01&page=1", "page", "3") == "https://a/b?ncid=N01&page=3"


RSS = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>중도일보</title>
<item><title>older</title><link>https://www.joongdo.co.kr/web/view.php?key=20240101010000001</link><pubDate>Mon, 01 Jan 2024 09:00:00 +0900</pubDate></item>
<item><title>newest</title><link>http://m.joongdo.co.kr/main/view.php?key=20240301010000003&amp;utm_source=rss</link><pubDate>Fri, 01 Mar 2024 09:00:00 +0900</pubDate></item>
<item><title>middle</title><link>https://www.joongdo.co.kr/web/view.php?key=20240201010000002</link><pubDate>Thu, 01 Feb 2024 09:00:00 +0900</pubDate></item>
<item><title>not an article</title><link>https://www.joongdo.co.kr/web/section.php?ncid=N01</link></item>
<item><title>elsewhere</title><link>https://example.org/web/view.php?key=20240301010000009</link></item>
</channel></rss>""".encode()

ATOM = """<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<entry><link href="https://www.joongdo.co.kr/web/view.php?key=20240101010000001"/><updated>2024-01-01T09:00:00</updated></entry>
<entry><link href="https://www.joongdo.co.kr/web/view.php?key=20240301010000003"/><updated>2024-03-01T09:00:00+09:00</updated></entry>
</feed>""".encode()

SITEMAP_INDEX = b"""<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://www.joongdo.co.kr/sitemap/2024-01.xml</loc><lastmod>2024-01-31</lastmod></sitemap>
<sitemap><loc>https://www.joongdo.co.kr/sitemap/2024-03.xml</loc><lastmod>2024-03-31</lastmod></sitemap>
<sitemap><loc>https://www.joongdo.co.kr/sitemap/2024-02.xml</loc><lastmod>2024-02-29</lastmod></sitemap>
</sitemapindex>"""

URLSET = b"""<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://www.joongdo.co.kr/web/view.php?key=20240301010000003</loc><lastmod>2024-03-01</lastmod></url>
<url><loc>https://www.joongdo.co.kr/web/view.php?key=20240302010000004</loc><lastmod>2024-03-02</lastmod></url>
</urlset>"""


def xml_response(url: str, body: bytes):
    from scrapy.http import XmlResponse

    return XmlResponse(url, body=body, request=Request(url))


def article_urls(requests) -> list[str]:
    return [r.cb_kwargs["article_url"] for r in requests if r.meta["newsdesk_kind"] == "article"]


def test_rss_gives_own_article_links_newest_first_canonical():
    sp = spider()
    reqs = collect(sp.parse_feed(xml_response("https://www.joongdo.co.kr/rss.xml", RSS)))
    assert article_urls(reqs) == [
        "https://www.joongdo.co.kr/web/view.php?key=20240301010000003",
        "https://www.joongdo.co.kr/web/view.php?key=20240201010000002",
        "https://www.joongdo.co.kr/web/view.php?key=20240101010000001",
    ]
    assert sp.crawler.stats.get_value("newsdesk/discovered/feed") == 3


def test_atom_feed_with_naive_dates_is_read_as_kst():
    reqs = collect(spider().parse_feed(xml_response("https://www.joongdo.co.kr/atom.xml", ATOM)))
    assert article_urls(reqs)[0].endswith("key=20240301010000003")


def test_sitemap_index_follows_newest_children_within_the_limit():
    sp = spider({"NEWSDESK_MAX_SITEMAPS": 2})
    reqs = collect(sp.parse_sitemap(xml_response("https://www.joongdo.co.kr/sitemap.xml", SITEMAP_INDEX), depth=0))
    assert [r.url for r in reqs] == ["https://www.joongdo.co.kr/sitemap/2024-03.xml", "https://www.joongdo.co.kr/sitemap/2024-02.xml"]
    assert collect(sp.parse_sitemap(xml_response("https://www.joongdo.co.kr/sitemap.xml", SITEMAP_INDEX), depth=1)) == []


def test_sitemap_urlset_newest_first_and_garbage_counted():
    sp = spider()
    reqs = collect(sp.parse_sitemap(xml_response("https://www.joongdo.co.kr/sitemap/2024-03.xml", URLSET), depth=1))
    assert article_urls(reqs) == [
        "https://www.joongdo.co.kr/web/view.php?key=20240302010000004",
        "https://www.joongdo.co.kr/web/view.php?key=20240301010000003",
    ]
    assert collect(sp.parse_sitemap(xml_response("https://www.joongdo.co.kr/s.xml", b"not xml at all"), depth=0)) == []
    assert sp.crawler.stats.get_value("newsdesk/sitemaps_unreadable") == 1


def test_empty_feed_is_counted():
    sp = spider()
    assert collect(sp.parse_feed(xml_response("https://www.joongdo.co.kr/rss.xml", b"<rss><channel></channel></rss>"))) == []
    assert sp.crawler.stats.get_value("newsdesk/feeds_without_items") == 1


def incremental_spider(known: dict, **settings) -> OutletSpider:
    """A spider whose store answers from `known` (url -> published, or (published, last_seen))."""
    from datetime import datetime, timedelta, timezone

    sp = spider({"NEWSDESK_INCREMENTAL": True, **settings})
    long_ago = datetime.now(timezone.utc) - timedelta(days=1)

    async def fake_states(urls):
        out = {}
        for u in urls:
            if u in known:
                value = known[u]
                published, last_seen = value if isinstance(value, tuple) else (value, long_ago)
                out[u] = {"published": published, "last_seen": last_seen}
        return out

    sp.known_states = fake_states
    return sp


def test_stored_articles_are_skipped_and_paging_stops_at_a_known_page():
    from datetime import datetime, timedelta, timezone

    url = "https://www.joongdo.co.kr/web/section.php?ncid=N01"
    old = datetime(2024, 3, 12, tzinfo=timezone.utc)
    recent = datetime.now(timezone.utc) - timedelta(hours=3)
    known = {
        "https://www.joongdo.co.kr/web/view.php?key=20250114010004127": recent,  # within 48 h, seen a day ago: revisited
        "https://www.joongdo.co.kr/web/view.php?key=20240905010002281": old,
        "https://www.joongdo.co.kr/web/view.php?key=20240312010003418": (recent, datetime.now(timezone.utc)),  # just fetched
    }
    sp = incremental_spider(known)
    reqs = requests_from(sp, "list_N01.html", url)
    assert article_urls(reqs) == ["https://www.joongdo.co.kr/web/view.php?key=20250114010004127"]
    assert [r for r in reqs if r.meta["newsdesk_kind"] == "list"]  # one article was fetched: keep paging
    stats = sp.crawler.stats
    assert stats.get_value("newsdesk/incremental/skipped_known") == 2
    assert stats.get_value("newsdesk/incremental/revisits") == 1

    all_old = incremental_spider({u: old for u in known})
    assert stats.get_value("newsdesk/incremental/skipped_known") == 2  # the old one and the one just fetched
    reqs = requests_from(all_old, "list_N01.html", url)
    assert reqs == []  # nothing new on page 1: page 2 is not requested
    assert all_old.crawler.stats.get_value("newsdesk/incremental/paging_stopped") == 1


def test_a_store_outage_fetches_everything_rather_than_nothing():
    sp = spider({"NEWSDESK_INCREMENTAL": True})

    async def broken(urls):
        raise ConnectionError("store down")

    sp.known_states = broken
    reqs = requests_from(sp, "list_N01.html", "https://www.joongdo.co.kr/web/section.php?ncid=N01")
    assert len(article_urls(reqs)) == 3
    assert sp.crawler.stats.get_value("newsdesk/incremental/lookup_errors") == 1


def test_articles_are_parsed_here_once_the_parse_workers_cannot_start():
    from twisted.internet import defer

    from crawler.pages.parse import PageCrash

    class GivesUp:
        """A pool whose workers turn out not to start while the first page waits."""
        unusable = None
        reason = "3 parse worker processes in a row died before their first page"

        def parse(self, *args):
            self.unusable = self.reason
            return defer.fail(PageCrash(self.reason))

    sp = spider({"NEWSDESK_PARSE_PROCESSES": 1})
    sp._parser = GivesUp()
    page = Path(__file__).resolve().parents[1] / "fixtures" / "joongdo" / "art_20240312010003418.html"
    url = "https://www.joongdo.co.kr/web/view.php?key=20240312010003418"
    resp = HtmlResponse(url, body=page.read_bytes(), encoding="utf-8")
    first = collect(sp.parse_article(resp, article_url=url))  # failed on the pool, parsed here
    later = collect(sp.parse_article(resp, article_url=url))  # not sent to the pool at all
    assert len(first) == len(later) == 1 and first[0].title and first[0] == later[0]
    assert sp.crawler.stats.get_value("newsdesk/parse_errors") is None
    assert sp.crawler.stats.get_value("newsdesk/parse_workers_unusable") == GivesUp.reason


def spider_with_pipelines(settings: dict | None = None) -> OutletSpider:
    """A spider whose crawler has Scrapy's item pipeline manager built from `settings`."""
    from types import SimpleNamespace

    from scrapy.core.scraper import Scraper

    from settings import base

    sp = spider({"ITEM_PIPELINES": base.ITEM_PIPELINES, **(settings or {})})
    sp.crawler.engine = SimpleNamespace(scraper=Scraper(sp.crawler))  # what the engine holds
    return sp


@pytest.mark.parametrize(("settings", "expected"), [
    ({}, ["normalize", "places", "signature"]),
    ({"NEWSDESK_DEDUP_ENABLED": False}, ["normalize", "places"]),  # DedupPipeline not configured
    ({"NEWSDESK_STORE_ENABLED": False}, ["normalize", "places"]),  # nor without a store
    ({"ITEM_PIPELINES": {"pipelines.normalize.NormalizePipeline": None, "pipelines.places.PlacesPipeline": None,
                         "pipelines.dedup.DedupPipeline": 300}},
     ["signature"]),
    ({"ITEM_PIPELINES": {}}, []),
])
def test_the_parse_worker_does_what_the_enabled_pipelines_declare(settings, expected):
    from pipelines.dedup import DedupPipeline
    from pipelines.normalize import NormalizePipeline
    from pipelines.places import PlacesPipeline

    steps = spider_with_pipelines(settings)._prepare_in_worker
    assert [step.name for step in steps] == expected
    declared = {"normalize": NormalizePipeline.prepare_step, "places": PlacesPipeline.prepare_step,
                "signature": DedupPipeline.prepare_step}
    assert all(step is declared[step.name] for step in steps)


def test_without_an_item_pipeline_manager_the_worker_only_parses():
    assert spider()._prepare_in_worker == ()


def test_the_pool_is_given_the_pipelines_steps_with_each_page():
    from twisted.internet import defer

    from crawler.pages.parse import parse_page

    class Recording:
        unusable = None

        def __init__(self):
            self.calls = []

        def parse(self, *args):
            self.calls.append(args)
            return defer.succeed(parse_page(*args))

    sp = spider_with_pipelines()
    sp._parser = pool = Recording()
    page = Path(__file__).resolve().parents[1] / "fixtures" / "joongdo" / "art_20240312010003418.html"
    url = "https://www.joongdo.co.kr/web/view.php?key=20240312010003418"
    resp = HtmlResponse(url, body=page.read_bytes(), encoding="utf-8")
    items = collect(sp.parse_article(resp, article_url=url))
    assert len(pool.calls) == 1 and pool.calls[0][-1] == sp._prepare_in_worker
    assert [step.name for step in pool.calls[0][-1]] == ["normalize", "places", "signature"]
    assert len(items) == 1 and sorted(items[0].preparation) == ["normalize", "places", "signature"]


def test_a_doubtful_fallback_is_counted_and_is_no_drift_field():
    """A page the fallback doubts (here: a redesigned page with one short line of text) is
    stored with provenance["quality"] and counted; "quality" is not a field that fell back."""
    sp = spider({"NEWSDESK_PARSE_PROCESSES": 0})
    url = "https://www.joongdo.co.kr/web/view.php?key=20240312010003418"
    body = "<html><head><title>짧은 기사 - 중도일보</title></head><body><h1>짧은 기사</h1><p>한 줄뿐이다.</p></body></html>"
    items = collect(sp.parse_article(HtmlResponse(url, body=body.encode(), encoding="utf-8"), article_url=url))
    assert len(items) == 1 and str(items[0].provenance.get("quality", "")).startswith("low")
    stats = sp.crawler.stats
    assert stats.get_value("newsdesk/extract/generic_low_confidence") == 1
    assert stats.get_value("newsdesk/fallback/quality") is None
    assert stats.get_value("newsdesk/fallback/articles") == 1  # the template missed: drift still sees it
