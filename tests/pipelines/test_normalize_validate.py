"""Normalize and validate pipelines, built the way Scrapy builds them (from a crawler)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from scrapy.utils.test import get_crawler

from crawler.items import Article
from crawler.text.dates import KST
from itemadapter import ItemAdapter

from pipelines.normalize import NormalizePipeline, body_hash, content_hash, split_authors
from pipelines.validate import ArticleDropped, ValidatePipeline

BODY = "세종시는 23일 산학연클러스터지원센터에서 시청 실·국·과장 간부급을 대상으로 워크숍을 진행했다. " * 3


def make(**overrides) -> Article:
    fields = dict(
        outlet="joongdo",
        url="https://www.joongdo.co.kr/web/view.php?key=20190823010009999",
        canonical_url="https://www.joongdo.co.kr/web/view.php?key=20190823010009999",
        title="세종형 스마트시티 사업 성공 디딤돌 놓는다",
        body=BODY,
        published=datetime(2019, 8, 23, 19, 1, tzinfo=KST),
    )
    fields.update(overrides)
    return Article(**fields)


@pytest.fixture
def crawler():
    c = get_crawler()
    c.stats.open_spider()
    return c


def test_normalize_text_dates_authors_hash(crawler):
    pipe = NormalizePipeline.from_crawler(crawler)
    item = make(
        title="  세종형\u00a0스마트시티   사업 ",
        body="첫 문단입니다.\n\n\n  둘째   문단입니다. \n",
        published=datetime(2019, 8, 23, 10, 1),  # naive: read as KST and counted
        modified=datetime(2019, 8, 23, 12, 0, tzinfo=timezone.utc),
        authors=["오희룡 기자", "홍길동·김철수 기자", "오희룡"],
    )
    pipe.process_item(item)
    assert item.title == "세종형 스마트시티 사업"
    assert item.body == "첫 문단입니다.\n\n둘째 문단입니다."
    assert item.published == datetime(2019, 8, 23, 10, 1, tzinfo=KST)
    assert item.published.utcoffset() == timedelta(hours=9)
    assert item.modified == datetime(2019, 8, 23, 21, 0, tzinfo=KST)
    assert item.authors == ["오희룡", "홍길동", "김철수"]
    assert item.content_hash == content_hash(ItemAdapter(item).asdict())
    assert item.body_hash == body_hash("첫 문단입니다.\n\n둘째 문단입니다.")
    assert crawler.stats.get_value("newsdesk/normalize/naive_published_as_kst") == 1


def test_hashes_ignore_whitespace_but_not_content():
    base = {"title": "제목", "body": "본문 입니다", "authors": ["오희룡"], "print_edition": None}
    assert content_hash(base) == content_hash({**base, "title": " 제목 ", "body": "본문  입니다"})
    assert content_hash(base) != content_hash({**base, "body": "본문 입니까"})
    # a print edition added after the paper runs is a change worth storing
    assert content_hash(base) != content_hash({**base, "print_edition": {"date": "2019-08-26", "page": 3}})
    assert content_hash(base) != content_hash({**base, "authors": ["오희룡", "김철수"]})
    assert body_hash("가 나\n\n다") == body_hash("가나다") != body_hash("가나라")


def test_malformed_fields_are_dropped_with_a_reason(crawler):
    pipe = NormalizePipeline.from_crawler(crawler)
    with pytest.raises(ArticleDropped) as info:
        pipe.process_item(make(published="2019-08-23 19:01"))
    assert info.value.reason == "malformed_fields"
    assert crawler.stats.get_value("newsdesk/dropped/malformed_fields") == 1


def test_subtitle_equal_to_title_is_dropped_and_canonical_follows_the_outlet(crawler):
    item = make(subtitle="세종형 스마트시티 사업 성공 디딤돌 놓는다",
                canonical_url="http://m.joongdo.co.kr/main/view.php?key=20190823010009999&utm_source=x")
    NormalizePipeline.from_crawler(crawler).process_item(item)
    assert item.subtitle is None
    assert item.canonical_url == "https://www.joongdo.co.kr/web/view.php?key=20190823010009999"


def test_split_authors_keeps_order_and_drops_titles():
    assert split_authors(["김양수 선임기자", "김양수"]) == ["김양수"]
    assert split_authors([]) == []


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"title": ""}, "missing_title"),
        ({"body": "짧은 본문"}, "body_too_short"),
        ({"published": None}, "missing_published"),
        ({"published": datetime.now(KST) + timedelta(days=2)}, "published_in_future"),
        ({"published": datetime(1970, 1, 1, tzinfo=KST)}, "published_too_old"),
        ({"canonical_url": ""}, "missing_canonical_url"),
    ],
)
def test_validate_drops_with_named_reason(crawler, overrides, reason):
    pipe = ValidatePipeline.from_crawler(crawler)
    with pytest.raises(ArticleDropped) as info:
        pipe.process_item(make(**overrides))
    assert info.value.reason == reason
    assert crawler.stats.get_value(f"newsdesk/dropped/{reason}") == 1


def test_photo_story_with_a_short_body_is_kept(crawler):
    from crawler.items import Image

    pipe = ValidatePipeline.from_crawler(crawler)
    item = make(body="", images=[Image(src="https://dn.joongdo.co.kr/a.jpg", caption="장 담그기 가장 좋은 시기")])
    assert pipe.process_item(item) is item
    assert crawler.stats.get_value("newsdesk/validate/photo_story") == 1


def test_validate_passes_good_article_and_counts_odd_modified(crawler):
    pipe = ValidatePipeline.from_crawler(crawler)
    item = make(modified=datetime(2019, 8, 22, tzinfo=KST))
    assert pipe.process_item(item) is item
    assert crawler.stats.get_value("newsdesk/validate/modified_before_published") == 1
    assert not any(k.startswith("newsdesk/dropped/") for k in crawler.stats.get_stats())
