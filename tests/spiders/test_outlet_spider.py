"""Navigation: which requests the spider makes from saved list pages (no network)."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler.spiders.base import OutletSpider, with_query_param
from crawler.spiders.outlets import JoongdoSpider

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "joongdo"
BASE = "http://127.0.0.1:8999"


def spider(**kwargs) -> OutletSpider:
    crawler = get_crawler(JoongdoSpider, settings_dict={"NEWSDESK_MAX_LIST_PAGES": 3})
    crawler.stats.open_spider()
    return JoongdoSpider.from_crawler(crawler, **kwargs)


def list_response(name: str, url: str) -> HtmlResponse:
    body = (FIXTURES / name).read_bytes()
    return HtmlResponse(url, body=body, encoding="utf-8", request=Request(url))


def requests_from(sp: OutletSpider, name: str, url: str, page: int = 1) -> list[Request]:
    return list(sp.parse_list(list_response(name, url), list_url=url, page=page))


def test_list_page_yields_canonical_article_requests_once_and_next_page():
    sp = spider()
    url = "https://www.joongdo.co.kr/web/section.php?ncid=N01"
    reqs = requests_from(sp, "list_N01.html", url)
    articles = [r for r in reqs if r.meta["newsdesk_kind"] == "article"]
    lists = [r for r in reqs if r.meta["newsdesk_kind"] == "list"]
    urls = [r.cb_kwargs["article_url"] for r in articles]
    assert len(urls) == len(set(urls)) >= 4
    assert all(u.startswith("https://www.joongdo.co.kr/web/view.php?key=") for u in urls)
    # the seed is linked as /main/view.php and http:// too, but requested once
    assert urls.count("https://www.joongdo.co.kr/web/view.php?key=20190823010011746") == 1
    assert [r.url for r in lists] == ["https://www.joongdo.co.kr/web/section.php?ncid=N01&page=2"]


def test_base_url_fetches_locally_but_keeps_real_urls():
    sp = spider(base_url=BASE + "/ignored/path")
    local = f"{BASE}/web/section.php?ncid=N01"
    # when crawling a copy, responses come from the local host
    reqs = list(sp.parse_list(list_response("list_N01.html", local), list_url="https://www.joongdo.co.kr/web/section.php?ncid=N01", page=1))
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
    assert list(sp.parse_list(resp, list_url=url, page=1)) == []
    assert sp.crawler.stats.get_value("newsdesk/list_pages_without_articles") == 1


def test_article_parse_error_is_counted_and_logged(monkeypatch, caplog):
    sp = spider()

    def broken(self):
        raise RuntimeError("template changed")

    monkeypatch.setattr("crawler.pages.template.TemplateArticlePage.to_article", broken)
    url = "https://www.joongdo.co.kr/web/view.php?key=20190823010011746"
    resp = HtmlResponse(url, body=b"<html></html>", encoding="utf-8")
    assert list(sp.parse_article(resp, article_url=url)) == []
    assert sp.crawler.stats.get_value("newsdesk/parse_errors") == 1
    assert "cannot parse article" in caplog.text


@pytest.mark.parametrize("bad", [{"base_url": "ftp://x"}, {"max_articles": "many"}, {"max_list_pages": "-1"}])
def test_bad_arguments_are_rejected_with_the_name(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        spider(**bad)


def test_with_query_param_replaces_existing():
    assert with_query_param("https://a/b?ncid=N01&page=1", "page", "3") == "https://a/b?ncid=N01&page=3"
